"""Where the cold start goes: each start-up phase timed in fresh processes, ours beside the SDK's own.

``cold_start.py`` gives the end-to-end figure; this splits it into the SDK import (both servers pay
it), our imports, ``create_server`` (tool registration), the lifespan (the Zerobyte client), and what the
first tools/list adds (it asks Zerobyte what it supports: httpx, the connection pool and one request, to a
simulator in its own process), next to a bare ``MCPServer`` registering the same number of trivial tools.
Each phase is the median over fresh interpreters, so a busy machine skews it less than a single
``-X importtime`` run.

Usage: python -m bench.startup_phases [--runs 9] [--baseline-tree DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
from pathlib import Path

from bench._common import KEY, compile_package, median, simulator, table

PHASES = """
import json, sys, time
marks = [time.perf_counter()]
from mcp.server import MCPServer
import anyio
marks.append(time.perf_counter())
from mcp_server import cli
from mcp_server.config import load_settings
settings = load_settings(env={"ZEROBYTE_URL": sys.argv[1], "ZEROBYTE_API_KEY": sys.argv[2]})
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
    async with server.settings.lifespan(server) as app:
        marks.append(marks[-1] + time.perf_counter() - start)
        start = time.perf_counter()
        await app.get_capabilities()  # what the first tools/list adds (hide_unavailable_tools)
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
    "first tools/list: capability probe (ours)",
    "bare: register the same number of tools",
)


def measure(runs: int, baseline_tree: Path | None = None) -> dict[str, float]:
    """Median ms per phase; with ``baseline_tree`` (another checkout, run from source) the two alternate in one
    run and the baseline's phases come back too, named ``baseline: <phase>``."""
    compile_package()
    trees: dict[str, Path | None] = {"": None}
    if baseline_tree is not None:
        compileall.compile_dir(str(baseline_tree / "mcp_server"), quiet=1)
        trees["baseline: "] = baseline_tree
    samples: dict[str, list[list[float]]] = {prefix: [] for prefix in trees}
    with simulator() as (url, _):
        for _ in range(runs):
            for prefix, tree in trees.items():
                env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
                proc = subprocess.run(
                    [sys.executable, "-c", PHASES, url, KEY],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                    cwd=tree,
                )
                samples[prefix].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {
        prefix + name: round(median([s[i] for s in samples[prefix]]), 1)
        for prefix in trees
        for i, name in enumerate(NAMES)
    }


def render(phases: dict[str, float]) -> str:
    columns = ["median ms"] + (["baseline tree"] if any(k.startswith("baseline: ") for k in phases) else [])
    rows: list[tuple[object, ...]] = []
    totals: list[tuple[float, float]] = []
    for prefix in ("", "baseline: ")[: len(columns)]:
        ours = sum(phases[prefix + n] for n in NAMES if "ours" in n or n.startswith("our "))
        totals.append((round(ours, 1), round(ours - phases[prefix + NAMES[-1]], 1)))
    for name in NAMES:
        rows.append((name, *(phases[p + name] for p in ("", "baseline: ")[: len(columns)])))
    rows.append(("**ours in total** (cli .. first tools/list)", *(t[0] for t in totals)))
    rows.append(("**ours beyond the bare server's own tool registration**", *(t[1] for t in totals)))
    return table(("phase", *columns), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--baseline-tree", type=Path, help="also time an older source tree (e.g. a git archive)")
    args = parser.parse_args()
    print(render(measure(args.runs, args.baseline_tree)))


if __name__ == "__main__":
    main()
