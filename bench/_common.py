"""Shared plumbing for the benchmarks: the machine, the servers under test, a simulator process, statistics.

Every benchmark spawns the real server the way an MCP client does (over stdio) and points it at a
simulated Zerobyte running in its own process, so the figures include the transport and real HTTP but
no simulator work competes with the client for the bench process's interpreter.
"""

from __future__ import annotations

import compileall
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from mcp import StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
KEY = "zb_bench_key_0123456789"

SIM_SCRIPT = """
import json, sys
from mcp_server.simulator import Simulator, SimulatorServer, seed_demo, seed_scale
spec = json.loads(sys.argv[1])
sim = Simulator(api_keys=[spec["key"]])
ids = {}
if spec.get("demo"):
    ids["demo"] = seed_demo(sim)
if spec.get("scale"):
    ids["scale"] = seed_scale(sim, **spec["scale"])
with SimulatorServer(sim) as running:
    print(json.dumps({"url": running.url, "ids": ids}), flush=True)
    sys.stdin.read()
"""


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "?"),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "mcp": metadata.version("mcp"),
        "pydantic": metadata.version("pydantic"),
        "httpx": metadata.version("httpx"),
        "zerobyte-mcp": metadata.version("zerobyte-mcp"),
    }


def compile_package() -> None:
    """Write fresh bytecode for mcp_server, as ``pip install`` does.

    Without it a module edited since its last import is recompiled on every start (and never cached when
    PYTHONDONTWRITEBYTECODE is set), which would be charged to our cold start but never happens to users.
    """
    compileall.compile_dir(str(ROOT / "mcp_server"), quiet=1)


def server_command() -> list[str]:
    """The installed ``zerobyte-mcp`` script next to this interpreter, else ``python -m mcp_server``."""
    script = Path(sys.executable).with_name("zerobyte-mcp")
    if script.exists():
        return [str(script)]
    found = shutil.which("zerobyte-mcp")
    return [found] if found else [sys.executable, "-m", "mcp_server"]


def server_env(url: str = "http://127.0.0.1:9", **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # XDG_CONFIG_HOME: a user's own config.toml must not change what is measured. XDG_CACHE_HOME: each server
    # starts with an empty snapshot catalog (a catalog kept from an earlier run would answer from memory).
    env.update(
        ZEROBYTE_URL=url,
        ZEROBYTE_API_KEY=KEY,
        ZEROBYTE_MCP_LOG_LEVEL="WARNING",
        XDG_CONFIG_HOME=str(ROOT / "bench"),
        XDG_CACHE_HOME=tempfile.mkdtemp(prefix="zerobyte-mcp-bench-cache-"),
        **extra,
    )
    for name in ("ZEROBYTE_API_KEY_FILE", "ZEROBYTE_MCP_CONFIG"):
        env.pop(name, None)
    return env


def server_params(url: str = "http://127.0.0.1:9", *, access: str = "read-only") -> StdioServerParameters:
    command = server_command()
    return StdioServerParameters(
        command=command[0], args=[*command[1:], "--access", access], env=server_env(url), cwd=str(ROOT / "bench")
    )


@contextmanager
def simulator(*, demo: bool = False, scale: dict[str, int] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """A seeded simulator in its own process; yields (base url, ids the seeders returned)."""
    spec = {"key": KEY, "demo": demo, "scale": scale}
    proc = subprocess.Popen(
        [sys.executable, "-c", SIM_SCRIPT, json.dumps(spec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process did not start")
        info = json.loads(line)
        yield info["url"], info["ids"]
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def children_running(marker: str) -> list[int]:
    """Pids of this process's children (and their children) whose command line contains ``marker``."""
    found: list[int] = []
    pending = [os.getpid()]
    while pending:
        parent = pending.pop()
        try:
            kids = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            pending.append(kid)
            try:
                cmdline = Path(f"/proc/{kid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline:
                found.append(kid)
    return found


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak resident set) of a process, in MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples is the 198th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
