"""Scale: how the main read tools' latency and the server's memory grow with the Zerobyte behind them.

For each size (100 -> 1,000 -> 10,000 snapshots of 1k -> 10k -> 100k files, 500 history entries) a
simulator is seeded with ``seed_scale`` in its own process and a fresh server is spawned over stdio.
Each call is timed from the client (median of a few repetitions); the server's peak resident set
(VmHWM in /proc) is read once it has answered tools/list (idle) and again after the calls.

Usage: python -m bench.scale [--repeat 3] [--sizes 100:1000,1000:10000,10000:100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from bench._common import (
    children_running,
    compile_package,
    median,
    memory_mib,
    server_env,
    server_params,
    simulator,
    table,
)
from bench.cold_start import BARE

SIZES = ((100, 1_000), (1_000, 10_000), (10_000, 100_000))
HISTORY = 500


def calls_for(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, tool, arguments) for one seeded world."""
    repo = ids["repository"]
    last_dir = (ids["files"] - 1) // 1000
    path = f"{ids['path']}/bulk/dir_{last_dir:04d}/file_{ids['files'] - 1:06d}.bin"
    return [
        ("list_snapshots (first page)", "list_snapshots", {"repository_id": repo}),
        ("find_file (absolute path)", "find_file", {"pattern": path, "repository_id": repo}),
        ("find_file (file name, walks trees)", "find_file", {"pattern": path.rsplit("/", 1)[1], "repository_id": repo}),
        ("backup_health", "backup_health", {}),
    ]


async def _run_size(url: str, ids: dict[str, Any], repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {"snapshots": ids["snapshots"], "files": ids["files"], "latency_ms": {}, "notes": {}}
    async with Client(server_params(url), mode="legacy") as client:
        await client.list_tools()
        pid = _server_pid()
        out["idle"] = memory_mib(pid)
        # The first call also loads httpx, the TLS store and validators (see per_call.py): not a size effect.
        await client.call_tool("list_repositories", {})
        for label, tool, args in calls_for(ids):
            times: list[float] = []
            for _ in range(repeat):
                started = time.perf_counter()
                result = await client.call_tool(tool, args)
                times.append(1000 * (time.perf_counter() - started))
                if result.is_error:
                    raise RuntimeError(f"{tool} failed at {ids['snapshots']} snapshots: {result.content}")
            out["latency_ms"][label] = round(median(times), 1)
            data = result.structured_content or {}
            if tool == "find_file":
                out["notes"][label] = (
                    f"{data.get('total_versions', 0)} version(s), {data.get('snapshots_searched')} snapshot(s) "
                    f"searched, complete={data.get('complete')}"
                )
        out["after"] = memory_mib(pid)
    return out


def _server_pid() -> int:
    pids = children_running(" --access ")  # the server's command line; the simulator's has no such option
    if len(pids) != 1:
        raise RuntimeError(f"expected one server process, found {pids}")
    return pids[0]


async def _bare_idle(n_tools: int) -> dict[str, float]:
    """Idle memory of a bare MCPServer with ``n_tools`` trivial tools, for comparison."""
    with tempfile.TemporaryDirectory() as tmp:
        bare_file = Path(tmp) / "bare_idle.py"
        bare_file.write_text(BARE.format(n=n_tools))
        params = StdioServerParameters(command=sys.executable, args=[str(bare_file)], env=server_env())
        async with Client(params, mode="legacy") as client:
            await client.list_tools()
            pids = children_running(bare_file.name)
            return memory_mib(pids[0])


async def _tool_count() -> int:
    async with Client(server_params(), mode="legacy") as client:
        return len((await client.list_tools()).tools)


def measure(repeat: int = 3, sizes: tuple[tuple[int, int], ...] = SIZES) -> dict[str, Any]:
    compile_package()
    results = []
    for snapshots, files in sizes:
        scale = {"snapshots": snapshots, "files": files, "history": HISTORY}
        with simulator(scale=scale) as (url, ids):
            results.append(anyio.run(_run_size, url, ids["scale"], repeat))
    return {"sizes": results, "bare_idle": anyio.run(_bare_idle, anyio.run(_tool_count))}


def render(figures: dict[str, Any]) -> str:
    results = figures["sizes"]
    labels = list(results[0]["latency_ms"])
    headers = ["snapshots / files", *[f"{label} ms" for label in labels], "server RSS idle / peak MiB"]
    rows = [
        [
            f"{r['snapshots']:,} / {r['files']:,}",
            *[r["latency_ms"][label] for label in labels],
            f"{r['idle']['VmHWM']} / {r['after']['VmHWM']}",
        ]
        for r in results
    ]
    notes = [f"- {r['snapshots']:,} snapshots, {label}: {note}" for r in results for label, note in r["notes"].items()]
    bare = figures["bare_idle"]
    notes.append(f"- a bare MCPServer with as many trivial tools, idle: {bare['VmHWM']} MiB peak resident")
    return table(headers, rows) + "\n\n" + "\n".join(notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", help="snapshots:files pairs, comma-separated")
    args = parser.parse_args()
    sizes: tuple[tuple[int, int], ...] = SIZES
    if args.sizes:
        sizes = tuple((int(s), int(f)) for s, f in (pair.split(":") for pair in args.sizes.split(",")))
    print(render(measure(args.repeat, sizes)))


if __name__ == "__main__":
    main()
