"""Checks .ci/package.sh runs on the built package (standard library only, except where a check says otherwise).

wheel WHEEL REPO             the wheel holds every file tracked under mcp_server/ (code, py.typed, data files
                             such as MCP App pages), the license, and nothing else (no tests)
stdio ZEROBYTE_MCP           one real stdio session with the SDK client of the installed package: initialize,
                             tools/list, one tool call (run with the fresh venv's python)
entry CONTAINERFILE          the container's exact ENTRYPOINT and HEALTHCHECK, run from the installed wheel against
                             a simulated Zerobyte with the key and token in files; /status with the token
registry SERVER_JSON SCHEMA  server.json against the MCP Registry's published server.schema.json (jsonschema)
bundle MCPB                  the .mcpb holds the manifest, the entry point, the package and no tests
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path


def fail(message: str) -> None:
    sys.exit(f"package check FAILED: {message}")


def tracked_package_files(repo: Path) -> set[str]:
    out = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "mcp_server"], capture_output=True, text=True, check=True
    ).stdout
    return {line for line in out.splitlines() if line and "__pycache__" not in line}


def check_wheel(wheel: str, repo: str) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = tracked_package_files(Path(repo))
    missing = sorted(wanted - names)
    if missing:
        fail(f"the wheel lacks {len(missing)} file(s) of the package (add their pattern to package-data): {missing}")
    tops = {n.split("/", 1)[0] for n in names}
    extra = sorted(t for t in tops if t != "mcp_server" and not t.endswith(".dist-info"))
    if extra:
        fail(f"the wheel ships more than the package: {extra}")
    strays = sorted(n for n in names if n.startswith("mcp_server/") and n not in wanted)
    if strays:
        fail(f"the wheel ships files that are not tracked under mcp_server/: {strays}")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        fail("the wheel has no LICENSE")
    if "mcp_server/py.typed" not in names:
        fail("the wheel has no py.typed")
    data = sorted(n for n in names if n.startswith("mcp_server/") and not n.endswith(".py"))
    print(f"ok   wheel: {len(names)} files, every tracked package file, no tests; data files: {data}")


def check_stdio(command: str) -> None:
    import anyio
    from mcp import Client, StdioServerParameters

    async def session() -> None:
        params = StdioServerParameters(
            command=command, args=["--demo"], env={**os.environ, "ZEROBYTE_MCP_LOG_LEVEL": "WARNING"}
        )
        async with Client(params, mode="legacy") as client:
            info = client.server_info
            protocol = client.protocol_version
            tools = (await client.list_tools()).tools
            result = await client.call_tool("backup_health", {})
        names = {t.name for t in tools}
        if info is None or info.name != "zerobyte":
            fail(f"initialize answered {info!r}")
        if "backup_health" not in names or len(names) < 10:
            fail(f"tools/list gave {sorted(names)}")
        verdict = (result.structured_content or {}).get("verdict")
        if result.is_error or verdict not in ("ok", "warning", "critical"):
            fail(f"backup_health answered {result.content!r}")
        print(
            f"ok   stdio session ({protocol}): {info.name} {info.version}, {len(names)} tools, "
            f"backup_health verdict {verdict}"
        )

    anyio.run(session)


def _instruction(containerfile: Path, keyword: str) -> list[str]:
    """The JSON-array form of an instruction (continuation lines joined; options such as --interval dropped)."""
    text = containerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith(keyword + " "):
            rest = line[len(keyword) :].strip()
            if keyword == "HEALTHCHECK":
                rest = rest.split(" CMD ", 1)[1].strip()
            value: list[str] = json.loads(rest)
            return value
    fail(f"{containerfile} has no {keyword}")
    raise AssertionError


def check_entry(containerfile: str) -> None:
    from mcp_server.simulator import Simulator, SimulatorServer, seed_demo

    entry = _instruction(Path(containerfile), "ENTRYPOINT")
    health = _instruction(Path(containerfile), "HEALTHCHECK")
    port = int(entry[entry.index("--port") + 1])
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            fail(f"port {port} (the image's) is in use here")
    key, token = "zb_container_check_key_0123456789", "container-check-token-0123456789abcdef"
    sim = Simulator(api_keys=[key])
    seed_demo(sim)
    with SimulatorServer(sim) as zerobyte, tempfile.TemporaryDirectory() as tmp:
        secrets = Path(tmp)
        (secrets / "key").write_text(key + "\n")
        (secrets / "token").write_text(token + "\n")
        for f in secrets.iterdir():
            f.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROBYTE")}
        env.update(
            ZEROBYTE_URL=zerobyte.url,
            ZEROBYTE_API_KEY_FILE=str(secrets / "key"),
            ZEROBYTE_MCP_HTTP_TOKEN_FILE=str(secrets / "token"),
            XDG_CACHE_HOME=str(secrets / "cache"),
            XDG_STATE_HOME=str(secrets / "state"),
        )
        command = [str(Path(sys.executable).parent / entry[0]), *entry[1:]]
        server = subprocess.Popen(
            command, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                probe = subprocess.run([sys.executable, *health[1:]], capture_output=True, check=False)
                if probe.returncode == 0:
                    break
                if server.poll() is not None or time.monotonic() > deadline:
                    fail(f"the HEALTHCHECK never passed; server said: {server.stdout.read() if server.stdout else ''}")
                time.sleep(0.3)
            try:
                urllib.request.urlopen(f"{base}/status", timeout=10)
                fail("/status answered without the token")
            except urllib.error.HTTPError as exc:
                if exc.code != 401:
                    fail(f"/status without the token: HTTP {exc.code}, expected 401")
            request = urllib.request.Request(f"{base}/status", headers={"Authorization": f"Bearer {token}"})
            body = urllib.request.urlopen(request, timeout=30).read().decode()
            verdict = json.loads(body)
            if verdict.get("verdict") not in ("ok", "warning", "critical") or key in body or token in body:
                fail(f"/status answered {body[:300]}")
        finally:
            server.terminate()
            out, _ = server.communicate(timeout=15)
        if key in out or token in out:
            fail("the server logged a secret")
    print(
        f"ok   container entry {' '.join(entry)}: HEALTHCHECK passes, /status needs the token and says "
        f"{verdict['verdict']!r}; the key and token came from files"
    )


def check_registry(server_json: str, schema_path: str) -> None:
    import jsonschema

    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    document = json.loads(Path(server_json).read_text(encoding="utf-8"))
    if document.get("$schema") != schema.get("$id"):
        fail(f"server.json names schema {document.get('$schema')!r}, the checked one is {schema.get('$id')!r}")
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    if errors:
        fail("server.json: " + "; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors))
    print(f"ok   server.json is valid against {schema['$id']}")


def check_bundle(mcpb: str) -> None:
    names = set(zipfile.ZipFile(mcpb).namelist())
    for needed in (
        "manifest.json",
        "server.py",
        "pyproject.toml",
        "LICENSE",
        "mcp_server/__init__.py",
        "mcp_server/py.typed",
    ):
        if needed not in names:
            fail(f"the bundle lacks {needed}")
    bad = sorted(n for n in names if n.startswith(("tests/", ".venv/")) or "__pycache__" in n)
    if bad:
        fail(f"the bundle ships {bad[:5]}")
    print(f"ok   bundle {Path(mcpb).name}: {len(names)} files, {Path(mcpb).stat().st_size} bytes")


if __name__ == "__main__":
    what, *args = sys.argv[1:]
    {
        "wheel": check_wheel,
        "stdio": check_stdio,
        "entry": check_entry,
        "registry": check_registry,
        "bundle": check_bundle,
    }[what](*args)
