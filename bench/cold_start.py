"""Cold start: spawn the server over stdio, initialize, list tools — ours vs a bare MCPServer.

Both servers are spawned fresh each run by the SDK's stdio client in the same process, alternating,
so machine noise hits both alike; the ratio is the figure that matters (budget: ours adds <= 10%).
Besides wall time, the server process's own CPU time (user + sys, read when the client reaps it) is
reported: it is steadier than wall time on a busy machine. Also prints the top import costs of our
package (``python -X importtime``), to show what is ours and what is the SDK's.

Usage: python -m bench.cold_start [--runs 10] [--mode legacy|auto|both] [--baseline-tree DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from bench._common import compile_package, median, server_env, server_params, simulator, table

BUDGET_PCT = 10.0
BARE = """
from mcp.server import MCPServer
server = MCPServer("bare", log_level="WARNING")  # as ours runs in the bench (ZEROBYTE_MCP_LOG_LEVEL)
def make(i):
    async def tool(a: int, b: int = 1, note: str = "") -> int:
        '''A trivial tool.'''
        return a + b
    return tool
for i in range({n}):
    server.add_tool(make(i), name=f"tool_{{i:02d}}")
server.run("stdio")
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _time(params: StdioServerParameters, mode: str) -> tuple[float, float, int]:
    """(wall seconds to a complete tools/list, server CPU seconds, number of tools)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    async with Client(params, mode=mode) as client:
        tools = await client.list_tools()
        wall = time.perf_counter() - started
    return wall, _children_cpu() - cpu, len(tools.tools)


def _tree_params(tree: Path, url: str) -> StdioServerParameters:
    """Another checkout of the project (e.g. ``git archive <commit> | tar -x -C DIR``), run from source."""
    compileall.compile_dir(str(tree / "mcp_server"), quiet=1)
    env = server_env(url, PYTHONPATH=str(tree))
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server", "--access", "read-only"], env=env, cwd=str(tree)
    )


def measure(runs: int, mode: str = "legacy", baseline_tree: Path | None = None) -> dict[str, Any]:
    """Median wall and server CPU of ours and of a bare server with as many tools (and of an older tree).

    Ours talks to a reachable Zerobyte (a simulator in its own process), as when deployed: the first tools/list
    asks it what it supports. Against an unreachable URL that question would wait out the client's retries.
    """
    compile_package()
    with simulator() as (url, _), tempfile.TemporaryDirectory() as tmp:
        servers = {"ours": server_params(url)}
        _, _, n_tools = anyio.run(_time, servers["ours"], mode)
        if baseline_tree is not None:
            servers["baseline"] = _tree_params(baseline_tree, url)
        bare_file = Path(tmp) / "bare.py"
        bare_file.write_text(BARE.format(n=n_tools))
        servers["bare"] = StdioServerParameters(command=sys.executable, args=[str(bare_file)], env=server_env())
        for params in servers.values():
            anyio.run(_time, params, mode)  # warm the page cache for all
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
        for _ in range(runs):
            for name, params in servers.items():
                wall, cpu, _ = anyio.run(_time, params, mode)
                samples[name].append((wall, cpu))
    wall_ms = {name: 1000 * median([w for w, _ in s]) for name, s in samples.items()}
    cpu_ms = {name: 1000 * median([c for _, c in s]) for name, s in samples.items()}
    result: dict[str, Any] = {"mode": mode, "tools": n_tools, "runs": runs}
    for name in servers:
        result[f"{name}_median_ms"] = round(wall_ms[name])
        result[f"{name}_cpu_ms"] = round(cpu_ms[name])
        if name != "bare":
            prefix = "" if name == "ours" else f"{name}_"
            result[f"{prefix}added_ms"] = round(wall_ms[name] - wall_ms["bare"])
            result[f"{prefix}added_pct"] = round(100 * (wall_ms[name] / wall_ms["bare"] - 1), 1)
            result[f"{prefix}added_cpu_pct"] = round(100 * (cpu_ms[name] / cpu_ms["bare"] - 1), 1)
    return result


def render(results: list[dict[str, Any]]) -> str:
    rows: list[tuple[object, ...]] = []
    for r in results:
        for label, prefix in (("zerobyte-mcp", ""), ("baseline tree", "baseline_")):
            name = "ours" if not prefix else "baseline"
            if f"{name}_median_ms" not in r:
                continue
            rows.append(
                (
                    label,
                    r["mode"],
                    r["tools"],
                    r["runs"],
                    r["bare_median_ms"],
                    r[f"{name}_median_ms"],
                    f"{r[f'{prefix}added_ms']:+d} ms ({r[f'{prefix}added_pct']:+.1f}%)",
                    f"{r['bare_cpu_ms']} / {r[f'{name}_cpu_ms']} ({r[f'{prefix}added_cpu_pct']:+.1f}%)",
                )
            )
    headers = (
        "server",
        "client mode",
        "tools",
        "runs",
        "bare MCPServer ms",
        "server ms",
        "added (median)",
        "server CPU ms bare / server",
    )
    return table(headers, rows)


def import_costs(top: int = 12) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) of the slowest imports of our package, tool modules included."""
    from mcp_server.tools.catalogue import CATALOGUE

    # importlib.import_module (how the registry imports) is invisible to -X importtime: import by statement.
    modules = dict.fromkeys(e.module for e in CATALOGUE)
    code = "import mcp_server.cli, mcp_server.server\n" + "\n".join(f"import mcp_server.tools.{m}" for m in modules)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    rows: list[tuple[str, int, int]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        rows.append((parts[2], int(parts[0]), int(parts[1])))
    ours = [r for r in rows if r[0].startswith("mcp_server")]
    ours.sort(key=lambda r: -r[1])
    return ours[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--mode", choices=["legacy", "auto", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    parser.add_argument("--baseline-tree", type=Path, help="also time an older source tree (e.g. a git archive)")
    args = parser.parse_args()
    modes = ["legacy", "auto"] if args.mode == "both" else [args.mode]
    results = [measure(args.runs, mode, args.baseline_tree) for mode in modes]
    print(render(results))
    if args.json:
        print(json.dumps(results))
    print()
    print("slowest imports of our package (self ms, one -X importtime run; see startup_phases.py for medians):")
    for name, self_us, cum_us in import_costs():
        print(f"  {name:<40} self {self_us / 1000:7.1f}  cum {cum_us / 1000:7.1f}")


if __name__ == "__main__":
    main()
