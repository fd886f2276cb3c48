"""Per-call overhead: a read tool over stdio vs the same Zerobyte request made directly with httpx.

The server runs as a subprocess (as an MCP client starts it) against a seeded simulator in its own
process. Each iteration times ``list_repositories`` through the server (JSON-RPC over stdio, argument
validation, the Zerobyte client, output shaping, the SDK's output validation), then the same tool of a
bare ``MCPServer`` that makes the same request and returns the body as text (the SDK's own floor), then
the one HTTP request the tool makes (``GET /api/v1/repositories``) sent directly. The difference to
the direct request is what the MCP layer and our code add. Both protocol eras are measured. Budget:
<= 2 ms median added per call. The first call is shown apart: it also loads httpx, the TLS trust
store and the answer models' validators, which start-up leaves for later to keep the cold start short.

Usage: python -m bench.per_call [--calls 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client, StdioServerParameters

from bench._common import KEY, compile_package, median, percentile, server_env, server_params, simulator, table

BUDGET_MS = 2.0
TOOL = "list_repositories"
ROUTE = "/repositories"
WARMUP = 20
BARE = '''
import os
from contextlib import asynccontextmanager
import httpx
from mcp.server import MCPServer
from mcp.server.mcpserver import Context


@asynccontextmanager
async def lifespan(_):
    headers = {"x-api-key": os.environ["ZEROBYTE_API_KEY"]}
    async with httpx.AsyncClient(base_url=os.environ["ZEROBYTE_URL"] + "/api/v1", headers=headers) as http:
        yield http


server = MCPServer("bare", lifespan=lifespan, log_level="WARNING")


@server.tool()
async def list_repositories(ctx: Context) -> str:
    """The repositories, as Zerobyte sends them."""
    response = await ctx.request_context.lifespan_context.get("/repositories")
    return response.text


server.run("stdio")
'''


async def _measure_mode(url: str, bare_file: Path, mode: str, calls: int) -> dict[str, Any]:
    """Interleaved: our tool, the bare server's tool, the direct request; ``calls`` times each."""
    ms: dict[str, list[float]] = {"tool": [], "bare": [], "direct": []}
    first_ms = 0.0
    bare_params = StdioServerParameters(command=sys.executable, args=[str(bare_file)], env=server_env(url))
    async with (
        Client(server_params(url), mode=mode) as client,
        Client(bare_params, mode=mode) as bare,
        httpx.AsyncClient(base_url=f"{url}/api/v1", headers={"x-api-key": KEY}) as http,
    ):
        for i in range(WARMUP + calls):
            marks = [time.perf_counter()]
            result = await client.call_tool(TOOL, {})
            marks.append(time.perf_counter())
            baseline = await bare.call_tool(TOOL, {})
            marks.append(time.perf_counter())
            response = await http.get(ROUTE)
            marks.append(time.perf_counter())
            if result.is_error or baseline.is_error or response.status_code != 200:
                problem = f"{result.content} / {baseline.content} / HTTP {response.status_code}"
                raise RuntimeError(f"{TOOL} failed: {problem}")
            if i == 0:
                first_ms = 1000 * (marks[1] - marks[0])
            if i >= WARMUP:  # the first calls build validators and open connections
                for n, name in enumerate(("tool", "bare", "direct")):
                    ms[name].append(1000 * (marks[n + 1] - marks[n]))
    med = {name: median(v) for name, v in ms.items()}
    p99 = {name: percentile(v, 99) for name, v in ms.items()}
    # Paired per iteration, so a burst of load on the machine hits both sides of each difference.
    added = [tool - direct for tool, direct in zip(ms["tool"], ms["direct"], strict=True)]
    floor = [bare - direct for bare, direct in zip(ms["bare"], ms["direct"], strict=True)]
    return {
        "mode": mode,
        "calls": calls,
        "tool_median_ms": round(med["tool"], 2),
        "bare_median_ms": round(med["bare"], 2),
        "direct_median_ms": round(med["direct"], 2),
        "added_median_ms": round(median(added), 2),
        "added_p99_ms": round(percentile(added, 99), 2),
        "sdk_floor_median_ms": round(median(floor), 2),
        "sdk_floor_p99_ms": round(percentile(floor, 99), 2),
        "tool_p99_ms": round(p99["tool"], 2),
        "bare_p99_ms": round(p99["bare"], 2),
        "direct_p99_ms": round(p99["direct"], 2),
        "ratio": round(med["tool"] / med["direct"], 2),
        "first_call_ms": round(first_ms, 1),
    }


def measure(calls: int = 300) -> list[dict[str, Any]]:
    compile_package()
    with simulator(demo=True) as (url, _), tempfile.TemporaryDirectory() as tmp:
        bare_file = Path(tmp) / "bare_tool.py"
        bare_file.write_text(BARE)
        return [anyio.run(_measure_mode, url, bare_file, mode, calls) for mode in ("legacy", "auto")]


def render(results: list[dict[str, Any]]) -> str:
    headers = (
        "client mode",
        "calls",
        "direct httpx median / p99 ms",
        "bare MCPServer tool median / p99 ms",
        f"zerobyte-mcp {TOOL} median / p99 ms",
        "SDK floor: bare - direct median / p99 ms",
        "added: ours - direct median / p99 ms",
        "ratio (median)",
        "first call ms",
    )
    rows = [
        (
            r["mode"],
            r["calls"],
            f"{r['direct_median_ms']:.2f} / {r['direct_p99_ms']:.2f}",
            f"{r['bare_median_ms']:.2f} / {r['bare_p99_ms']:.2f}",
            f"{r['tool_median_ms']:.2f} / {r['tool_p99_ms']:.2f}",
            f"{r['sdk_floor_median_ms']:.2f} / {r['sdk_floor_p99_ms']:.2f}",
            f"{r['added_median_ms']:.2f} / {r['added_p99_ms']:.2f}",
            f"{r['ratio']:.2f}x",
            r["first_call_ms"],
        )
        for r in results
    ]
    return table(headers, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    print(render(measure(args.calls)))


if __name__ == "__main__":
    main()
