"""Where the cold start goes: each start-up phase timed in fresh processes, ours beside the SDK's own.

``cold_start.py`` gives the end-to-end figure; this splits it into the SDK import (both servers pay
it), our imports, ``create_server`` (tool registration), and the lifespan (the Zerobyte client), next
to a bare ``MCPServer`` registering the same number of trivial tools. Each phase is the median over
fresh interpreters, so a busy machine skews it less than a single ``-X importtime`` run.

Usage: python -m bench.startup_phases [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench._common import compile_package, median, table

PHASES = """
import json, time
marks = [time.perf_counter()]
from mcp.server import MCPServer
import anyio
marks.append(time.perf_counter())
from mcp_server import cli
from mcp_server.config import load_settings
settings = load_settings(env={"ZEROBYTE_URL": "http://127.0.0.1:9", "ZEROBYTE_API_KEY": "zb_bench_key_0123456789"})
marks.append(time.perf_counter())
from mcp_server.server import create_server
from mcp_server.tools.registry import Registry
Registry.offered(settings)
import mcp_server.resources, mcp_server.prompts
marks.append(time.perf_counter())
server = create_server(settings)
marks.append(time.perf_counter())
async def lifespan():
    start = time.perf_counter()
    async with server.settings.lifespan(server):
        marks.append(marks[-1] + time.perf_counter() - start)
anyio.run(lifespan)
bare = MCPServer("bare")
def make(i):
    async def tool(a: int, b: int = 1, note: str = "") -> int:
        '''A trivial tool.'''
        return a + b
    return tool
count = len(anyio.run(server.list_tools))
start = time.perf_counter()
for i in range(count):
    bare.add_tool(make(i), name=f"tool_{i:02d}")
marks.append(marks[-1] + time.perf_counter() - start)
print(json.dumps([1000 * (b - a) for a, b in zip(marks, marks[1:])]))
"""
NAMES = (
    "SDK import (both pay)",
    "our cli + settings",
    "our server + tool modules import",
    "create_server (ours: tools, resources, prompts)",
    "lifespan enter (ours)",
    "bare: register the same number of tools",
)


def measure(runs: int) -> dict[str, float]:
    compile_package()
    samples: list[list[float]] = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", PHASES], capture_output=True, text=True, check=True)
        samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {name: round(median([s[i] for s in samples]), 1) for i, name in enumerate(NAMES)}


def render(phases: dict[str, float]) -> str:
    ours = sum(ms for name, ms in phases.items() if "ours" in name or name.startswith("our "))
    rows: list[tuple[str, object]] = [(name, ms) for name, ms in phases.items()]
    rows.append(("**ours in total** (cli .. lifespan)", round(ours, 1)))
    rows.append(("**ours beyond the bare server's own tool registration**", round(ours - phases[NAMES[-1]], 1)))
    return table(("phase", "median ms"), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    print(render(measure(args.runs)))


if __name__ == "__main__":
    main()
