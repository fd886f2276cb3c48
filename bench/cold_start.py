"""Cold start: spawn the server over stdio, initialize, list tools — ours vs a bare MCPServer.

Both servers are spawned fresh each run by the SDK's stdio client in the same process, alternating,
so machine noise hits both alike; the ratio is the figure that matters. Also prints the top import
costs of our package (``python -X importtime``), to show what is ours and what is the SDK's.

Usage: python bench/cold_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

HERE = Path(__file__).resolve().parent
BARE = """
from mcp.server import MCPServer
server = MCPServer("bare")
def make(i):
    async def tool(a: int, b: int = 1, note: str = "") -> int:
        '''A trivial tool.'''
        return a + b
    return tool
for i in range({n}):
    server.add_tool(make(i), name=f"tool_{{i:02d}}")
server.run("stdio")
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ZEROBYTE_URL="http://127.0.0.1:9", ZEROBYTE_API_KEY="zb_bench_key_000000000", ZEROBYTE_MCP_LOG_LEVEL="WARNING"
    )
    env.pop("ZEROBYTE_API_KEY_FILE", None)
    return env


async def _time(params: StdioServerParameters, mode: str) -> tuple[float, int]:
    started = time.perf_counter()
    async with Client(params, mode=mode) as client:
        tools = await client.list_tools()
    return time.perf_counter() - started, len(tools.tools)


def measure(runs: int, mode: str = "legacy") -> dict[str, object]:
    ours = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=_env())
    _, n_tools = anyio.run(_time, ours, mode)
    with tempfile.TemporaryDirectory() as tmp:
        bare_file = Path(tmp) / "bare.py"
        bare_file.write_text(BARE.format(n=n_tools))
        bare = StdioServerParameters(command=sys.executable, args=[str(bare_file)], env=_env())
        anyio.run(_time, bare, mode)  # warm the page cache for both
        ours_times: list[float] = []
        bare_times: list[float] = []
        for _ in range(runs):
            ours_times.append(anyio.run(_time, ours, mode)[0])
            bare_times.append(anyio.run(_time, bare, mode)[0])
    ours_ms = 1000 * statistics.median(ours_times)
    bare_ms = 1000 * statistics.median(bare_times)
    return {
        "mode": mode,
        "tools": n_tools,
        "runs": runs,
        "ours_median_ms": round(ours_ms),
        "bare_median_ms": round(bare_ms),
        "added_pct": round(100 * (ours_ms / bare_ms - 1), 1),
    }


def import_costs(top: int = 12) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) of the slowest imports under `import mcp_server.cli` + server."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import mcp_server.cli, mcp_server.server, mcp_server.tools"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[str, int, int]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        rows.append((parts[2].strip(), int(parts[0]), int(parts[1])))
    ours = [r for r in rows if r[0].startswith("mcp_server")]
    ours.sort(key=lambda r: -r[2])
    return ours[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    result = measure(args.runs)
    print(json.dumps(result))
    print("top import costs of our package (cumulative ms):")
    for name, self_us, cum_us in import_costs():
        print(f"  {name:<40} self {self_us / 1000:7.1f}  cum {cum_us / 1000:7.1f}")


if __name__ == "__main__":
    main()
