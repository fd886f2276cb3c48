"""Starts our server over streamable HTTP and runs the Node test host (tests/app/run.mjs, shots.mjs) against it.

The host is test-only JavaScript: the official ``@modelcontextprotocol/ext-apps`` AppBridge and the MCP TS SDK
client (tests/app/package.json, installed with ``npm ci``) driving headless Chromium (Debian package
``chromium``). Nothing here is shipped.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
_URL = re.compile(r"MCP over streamable HTTP at (http://127\.0\.0\.1:\d+/mcp)")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is missing: the MCP App browser tests need Node.js 20+ (apt-get install nodejs npm)"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)"
    if not (HERE / "node_modules" / "@modelcontextprotocol" / "ext-apps").is_dir():
        return "tests/app/node_modules is missing: run `npm ci` in tests/app"
    return None


@dataclass(frozen=True)
class Served:
    url: str
    token: str


@contextmanager
def serve(
    folder: Path, *, access: str = "full", demo: bool = True, env: Mapping[str, str] | None = None
) -> Iterator[Served]:
    """Our server (``--demo`` unless ``env`` points it at a real Zerobyte) on a free loopback port."""
    token = secrets.token_urlsafe(24)
    folder.mkdir(parents=True, exist_ok=True)
    base = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "HOME": str(folder),
        "XDG_CONFIG_HOME": str(folder / "xdg-config"),
        "XDG_CACHE_HOME": str(folder / "xdg-cache"),
        "XDG_STATE_HOME": str(folder / "xdg-state"),
        "ZEROBYTE_MCP_LOG_LEVEL": "INFO",
    }
    if demo:
        base["ZEROBYTE_MCP_ACCESS"] = access
        base["ZEROBYTE_MCP_RESTORE_ROOTS"] = "/srv/restores"  # on the simulated Zerobyte host: nothing is written
    full_env = {**base, **(env or {}), "ZEROBYTE_MCP_HTTP_TOKEN": token}
    args = [sys.executable, "-m", "mcp_server", *(["--demo"] if demo else []), "--transport", "http", "--port", "0"]
    proc = subprocess.Popen(
        args,
        env=full_env,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found = threading.Event()
    url: list[str] = []
    log: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            match = _URL.search(line)
            if match and not url:
                url.append(match.group(1))
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        found.wait(60)
        if not url:
            raise RuntimeError("the HTTP server did not start:\n" + "".join(log[-20:]))
        yield Served(url[0], token)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(10)
        if proc.stderr is not None:
            proc.stderr.close()


def node(script: str, *args: str, served: Served, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run a Node script of tests/app against ``served``; its output is the checks it made."""
    env = {**os.environ, "MCP_URL": served.url, "MCP_TOKEN": served.token, "CHROMIUM": CHROMIUM}
    return subprocess.run(
        ["node", script, *args], cwd=HERE, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
