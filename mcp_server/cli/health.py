"""``zerobyte-mcp health [--json]`` and HTTP ``GET /status``: the ``backup_health`` verdict for machines.

Cron jobs, monitoring plugins, dashboards and uptime monitors have no MCP client, yet want the answer an agent
gets from ``backup_health``. They get exactly that answer: this module calls the tool itself, through the SDK's
in-memory client, on a read-only server that offers only that tool. So the verdict, its wording and its
redaction are the tool's and whatever the tool learns to report, this reports too. Exit codes follow the
monitoring-plugin convention: 0 ok, 1 warning, 2 critical, 3 unknown (no verdict: Zerobyte unreachable, the key
refused, bad settings).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any, Final, TextIO

import anyio

from ..config import ConfigError, Settings
from ..safety.redact import redact_text

__all__ = ["EXIT_CODES", "HEALTH_TOOL", "exit_code", "health_verdict", "render_plain", "run_health", "unknown"]

HEALTH_TOOL: Final = "backup_health"
EXIT_CODES: Final = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}
# Agent guidance the tool adds when a next step names a tool this (one-tool) server does not offer: not a fact
# about the backups, so machines do not get it.
_AGENT_ONLY: Final = ("unavailable_tools",)
_PROBLEM_LISTS: Final = ("repositories", "volumes", "recent_failures")


def health_settings(settings: Settings) -> Settings:
    """The user's connection settings, serving only the read-only ``backup_health`` (whatever the access level)."""
    return dataclasses.replace(
        settings,
        access="read-only",
        tools_allow=(HEALTH_TOOL,),
        tools_deny=(),
        toolsets_allow=(),
        toolsets_deny=(),
    )


def unknown(reason: str) -> dict[str, Any]:
    """The verdict when there is none: the same shape, ``verdict`` "unknown" and the reason as the summary."""
    return {
        "verdict": "unknown",
        "summary": f"UNKNOWN: {reason}",
        "checked_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def exit_code(verdict: dict[str, Any]) -> int:
    return EXIT_CODES.get(str(verdict.get("verdict")), 3)


class HealthProbe:
    """Asks ``backup_health`` through an in-memory MCP client; the server is built once and reused."""

    def __init__(self, settings: Settings) -> None:
        self._settings = health_settings(settings)
        self._server: Any = None

    async def verdict(self) -> dict[str, Any]:
        """The tool's structured answer, or :func:`unknown` with the reason; never raises for a Zerobyte problem."""
        from mcp import Client

        from ..server import create_server

        try:
            self._settings.read_api_key()  # a missing or unreadable key file: say so before building anything
            if self._server is None:
                self._server = create_server(self._settings)
            async with Client(self._server) as client:
                result = await client.call_tool(HEALTH_TOOL, {})
        except ConfigError as exc:
            return unknown(redact_text(str(exc)))
        except Exception as exc:  # the outermost edge of a probe: a verdict of "unknown", never a traceback
            return unknown(redact_text(f"internal error asking {HEALTH_TOOL}: {type(exc).__name__}: {exc}"))
        text = " ".join(getattr(block, "text", "") for block in result.content).strip()
        if result.is_error or not isinstance(result.structured_content, dict):
            return unknown(text or f"{HEALTH_TOOL} gave no answer")
        return {k: v for k, v in result.structured_content.items() if k not in _AGENT_ONLY}


async def health_verdict(settings: Settings) -> dict[str, Any]:
    """One verdict for ``settings`` (see :class:`HealthProbe`)."""
    return await HealthProbe(settings).verdict()


def run_health(settings: Settings | None, *, as_json: bool, out: TextIO, err: TextIO, reason: str = "") -> int:
    """Print the verdict (JSON or plugin-style text) to ``out``, the reason for an unknown one to ``err``; return
    the exit code. ``settings`` None: the settings could not be loaded and ``reason`` says why."""
    verdict = unknown(reason) if settings is None else anyio.run(health_verdict, settings)
    code = exit_code(verdict)
    if code == 3:
        print(f"zerobyte-mcp health: {verdict['summary']}", file=err, flush=True)
    if as_json:
        print(json.dumps(verdict, separators=(",", ":"), ensure_ascii=False), file=out, flush=True)
    elif code != 3:
        print(render_plain(verdict), file=out, flush=True)
    return code


def render_plain(verdict: dict[str, Any]) -> str:
    """A monitoring plugin's output: the summary and counts as performance data, then one line per problem.

    Made to be read in a cron mail: a failed backup already named on its job's line is not repeated, and a next
    step said once is referred to, not repeated."""
    counts: dict[str, Any] = verdict.get("counts") or {}
    perf = " ".join(f"{k}={v}" for k, v in counts.items() if isinstance(v, int))
    lines = [f"ZEROBYTE {verdict['summary']}" + (f" | {perf}" if perf else "")]
    said: set[str] = set()
    listed: set[str] = set()
    for job in verdict.get("jobs") or []:
        if job.get("state") in ("ok", "disabled", "running"):
            continue
        listed.add(f"({job.get('id')})")
        lines.append(_problem("job", job, job.get("state"), said))
    for kind, label in (("repositories", "repository"), ("volumes", "volume"), ("recent_failures", "failed task")):
        for item in verdict.get(kind) or []:
            if (
                kind == "recent_failures"
                and item.get("kind") == "backup"
                and str(item.get("target")).endswith(tuple(listed))
            ):
                continue  # the job's own line says it
            lines.append(_problem(label, item, item.get("status") or item.get("outcome"), said))
    for item in verdict.get("drills") or []:
        lines.append(_problem("restore drill of job", item, item.get("problem"), said))
    for note in verdict.get("notes") or []:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _problem(label: str, item: dict[str, Any], state: Any, said: set[str]) -> str:
    name = item.get("name") or item.get("target") or item.get("kind") or ""
    ident = item.get("id") or item.get("task_id") or ""
    what = item.get("reason") or item.get("message") or ""
    line = f"{label} {name!r} ({ident}): {state}" + (f": {what}" if what else "")
    step = item.get("next_step")
    if not step:
        return line
    if step in said:
        return line + "; next: as above"
    said.add(step)
    return line + f"; next: {step}"
