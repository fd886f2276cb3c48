"""``zerobyte-mcp drill [--job NAME] [--json]``: a restore drill for cron and monitors.

The same code path as the ``drill_backup`` tool: this calls the tool itself through the SDK's in-memory
client, on a read-only server offering only that tool (as ``health`` does for ``backup_health``). Exit codes:
0 restorable, 1 incomplete, 2 failed, 3 unknown (no drill: Zerobyte unreachable, the key refused, bad settings).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Final, TextIO

import anyio

from ..config import ConfigError, Settings
from ..safety.redact import redact_text
from .health import unknown

__all__ = ["DRILL_EXIT_CODES", "DRILL_TOOL", "drill_verdict", "render_drill", "run_drill_command"]

DRILL_TOOL: Final = "drill_backup"
DRILL_EXIT_CODES: Final = {"restorable": 0, "incomplete": 1, "failed": 2, "unknown": 3}


async def drill_verdict(settings: Settings, arguments: dict[str, Any]) -> dict[str, Any]:
    """The tool's structured answer, or ``unknown`` with the reason; never raises for a Zerobyte problem."""
    from mcp import Client

    from ..server import create_server

    only = dataclasses.replace(
        settings, access="read-only", tools_allow=(DRILL_TOOL,), tools_deny=(), toolsets_allow=(), toolsets_deny=()
    )
    try:
        only.read_api_key()
        async with Client(create_server(only)) as client:
            result = await client.call_tool(DRILL_TOOL, arguments)
    except ConfigError as exc:
        return unknown(redact_text(str(exc)))
    except Exception as exc:  # the outermost edge: a verdict of "unknown", never a traceback
        return unknown(redact_text(f"internal error asking {DRILL_TOOL}: {type(exc).__name__}: {exc}"))
    text = " ".join(getattr(block, "text", "") for block in result.content).strip()
    if result.is_error or not isinstance(result.structured_content, dict):
        return unknown(text or f"{DRILL_TOOL} gave no answer")
    return {k: v for k, v in result.structured_content.items() if k != "unavailable_tools"}


def run_drill_command(
    settings: Settings | None,
    *,
    job: str | None,
    max_bytes: int | None,
    max_seconds: int | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
    reason: str = "",
) -> int:
    arguments: dict[str, Any] = {}
    if job:
        arguments["backup_job_id"] = job
    if max_bytes is not None:
        arguments["max_bytes"] = max_bytes
    if max_seconds is not None:
        arguments["max_seconds"] = max_seconds
    verdict = unknown(reason) if settings is None else anyio.run(drill_verdict, settings, arguments)
    code = DRILL_EXIT_CODES.get(str(verdict.get("verdict")), 3)
    if code == 3:
        print(f"zerobyte-mcp drill: {verdict['summary']}", file=err, flush=True)
    if as_json:
        print(json.dumps(verdict, separators=(",", ":"), ensure_ascii=False), file=out, flush=True)
    elif code != 3:
        print(render_drill(verdict), file=out, flush=True)
    return code


def render_drill(verdict: dict[str, Any]) -> str:
    """The summary, then one line per snapshot that is not restorable, with its reason and next step."""
    lines = [f"ZEROBYTE DRILL {verdict.get('summary', '')}"]
    for snap in verdict.get("snapshots") or []:
        if snap.get("verdict") == "restorable":
            continue
        where = f"snapshot {snap.get('snapshot')}" if snap.get("snapshot") else f"repository {snap.get('repository')}"
        job = f" of {snap['job']!r}" if snap.get("job") else ""
        line = f"{where}{job}: {snap.get('verdict')}: {snap.get('reason', '')}"
        if snap.get("next_step"):
            line += f"; next: {snap['next_step']}"
        lines.append(line)
    return "\n".join(lines)
