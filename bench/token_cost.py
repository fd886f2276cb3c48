"""Token cost of tools/list per access level (JSON characters and characters / 4), tool by tool.

Usage: python bench/token_cost.py [--level read-only] [--tool NAME]   (--tool prints that tool's JSON)
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import anyio
from mcp import Client

from mcp_server.config import Secret, Settings
from mcp_server.server import create_server

LEVELS = ("read-only", "operate", "full")


async def tools_json(level: str) -> list[dict[str, Any]]:
    settings = Settings(url="http://127.0.0.1:9", api_key=Secret("zb_bench_key_000000000"), access=level)  # type: ignore[arg-type]
    async with Client(create_server(settings), mode="legacy") as client:
        listed = await client.list_tools()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--level", choices=LEVELS)
    parser.add_argument("--tool")
    args = parser.parse_args()
    print("| access level | tools | JSON chars | tokens (chars/4) |")
    print("|---|---|---|---|")
    for level in LEVELS:
        tools = await tools_json(level)
        total = size({"tools": tools})
        print(f"| {level} | {len(tools)} | {total} | {total // 4} |")
    if args.level:
        tools = await tools_json(args.level)
        print()
        for tool in sorted(tools, key=size, reverse=True):
            parts = {k: size(v) for k, v in tool.items() if k != "name"}
            print(f"{size(tool):6d} {tool['name']:<32} {parts}")
        if args.tool:
            print(json.dumps([t for t in tools if t["name"] == args.tool], indent=1))


if __name__ == "__main__":
    anyio.run(main)
