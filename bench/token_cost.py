"""Token cost: tools/list per access level, and the main read tools' answers against a large Zerobyte.

tools/list is paid on every conversation; an answer is paid each time the tool is called. Both are
counted as JSON characters and characters / 4 (a rough token count). Answers are measured against a
simulator seeded with ``seed_scale`` (5,000 snapshots of 100,000 files, 500 history entries) with the
tools' default page sizes: the text content is what a model reads. Budget: tools/list at read-only
<= 3,000 tokens (12,000 chars, room left for the tools being added beside: keep the existing ones near 10,500).

Usage: python -m bench.token_cost [--level read-only] [--tool NAME]   (--tool prints that tool's JSON)
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import anyio
from mcp import Client
from mcp.types import TextContent

from bench._common import KEY, simulator, table
from mcp_server.config import Secret, Settings
from mcp_server.server import create_server

LEVELS = ("read-only", "operate", "full")
BUDGET_TOKENS = 3000
SCALE = {"snapshots": 5000, "files": 100_000, "history": 500}


def _settings(url: str, level: str) -> Settings:
    return Settings(url=url, api_key=Secret(KEY), access=level, log_level="WARNING")  # type: ignore[arg-type]


async def tools_json(level: str) -> list[dict[str, Any]]:
    async with Client(create_server(_settings("http://127.0.0.1:9", level)), mode="legacy") as client:
        listed = await client.list_tools()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


async def catalogue() -> list[dict[str, Any]]:
    """tools/list size per access level."""
    out = []
    for level in LEVELS:
        tools = await tools_json(level)
        chars = size({"tools": tools})
        out.append({"level": level, "tools": len(tools), "chars": chars, "tokens": chars // 4})
    return out


def answer_calls(ids: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    repo, snapshot = ids["repository"], ids["latest_snapshot"]
    folder = f"{ids['path']}/bulk/dir_0042"
    return [
        ("list_snapshots", {"repository_id": repo}),
        ("list_snapshot_files", {"repository_id": repo, "snapshot_id": snapshot, "path": folder}),
        ("find_file", {"pattern": f"{folder}/file_042123.bin", "repository_id": repo}),
        ("task_history", {}),
        ("backup_health", {}),
        ("list_backup_jobs", {}),
    ]


async def _answers(url: str, ids: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    async with Client(create_server(_settings(url, "read-only")), mode="legacy") as client:
        for tool, args in answer_calls(ids):
            result = await client.call_tool(tool, args)
            if result.is_error:
                raise RuntimeError(f"{tool} failed: {result.content}")
            text = "".join(c.text for c in result.content if isinstance(c, TextContent))
            shown = {k: v for k, v in args.items() if k in ("path", "pattern")}
            out.append(
                {
                    "tool": tool,
                    "args": shown,
                    "text_chars": len(text),
                    "tokens": len(text) // 4,
                    "structured_chars": size(result.structured_content or {}),
                }
            )
    return out


def answers() -> list[dict[str, Any]]:
    """Answer sizes of the main read tools at scale (default arguments, first page)."""
    with simulator(scale=SCALE) as (url, ids):
        return anyio.run(_answers, url, ids["scale"])


def render_catalogue(rows: list[dict[str, Any]]) -> str:
    return table(
        ("access level", "tools", "JSON chars", "tokens (chars/4)"),
        [(r["level"], r["tools"], f"{r['chars']:,}", f"{r['tokens']:,}") for r in rows],
    )


def render_answers(rows: list[dict[str, Any]]) -> str:
    return table(
        ("tool (first page, default limits)", "text chars", "tokens (chars/4)", "structuredContent chars"),
        [
            (
                f"{r['tool']} {json.dumps(r['args']) if r['args'] else ''}".strip(),
                f"{r['text_chars']:,}",
                f"{r['tokens']:,}",
                f"{r['structured_chars']:,}",
            )
            for r in rows
        ],
    )


async def _details(level: str, tool_name: str | None) -> None:
    tools = await tools_json(level)
    for tool in sorted(tools, key=size, reverse=True):
        parts = {k: size(v) for k, v in tool.items() if k != "name"}
        print(f"{size(tool):6d} {tool['name']:<32} {parts}")
    if tool_name:
        print(json.dumps([t for t in tools if t["name"] == tool_name], indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--level", choices=LEVELS, help="also list that level's tools by size")
    parser.add_argument("--tool", help="with --level: print this tool's JSON")
    parser.add_argument("--no-answers", action="store_true", help="skip the answers at scale")
    args = parser.parse_args()
    print(render_catalogue(anyio.run(catalogue)))
    if not args.no_answers:
        print()
        print(render_answers(answers()))
    if args.level:
        print()
        anyio.run(_details, args.level, args.tool)


if __name__ == "__main__":
    main()
