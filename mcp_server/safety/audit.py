"""The audit log: one JSON line per mutating tool call, for the human who owns the backups.

Every tool above the read level is audited by the tool wrapper (``tools/base.py``), so no write can
skip it: time, tool, arguments (redacted), Zerobyte's answer status, the task id, the outcome. Lines
go to their own file (mode 0600; by default ``$XDG_STATE_HOME/zerobyte-mcp/audit.jsonl``), or to stderr
only when the configuration says ``audit_log = "stderr"`` (never stdout: it is the MCP wire in stdio mode).
"""

from __future__ import annotations

import contextvars
import json
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .redact import redact, redact_text

__all__ = ["AuditLog", "AuditNote", "answered", "note"]


@dataclass
class AuditNote:
    """Facts a tool learns while it runs (Zerobyte status, task id) that belong in its audit line."""

    zerobyte_status: int | None = None
    task_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


_current: contextvars.ContextVar[AuditNote | None] = contextvars.ContextVar("zerobyte_audit_note", default=None)


def note(*, zerobyte_status: int | None = None, task_id: str | None = None, **details: Any) -> None:
    """Record facts for the audit line of the tool call in progress (no-op outside an audited call)."""
    current = _current.get()
    if current is None:
        return
    if zerobyte_status is not None:
        current.zerobyte_status = zerobyte_status
    if task_id is not None:
        current.task_id = task_id
    current.details.update(details)


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def answered(method: str, status: int) -> None:
    """The Zerobyte client's answer hook: the status of the audited call's write, without the tools noting it.

    Each write's final answer (after retries) replaces the previous one, so a line shows how the last write
    went: the create after its connection test, the run that started the task. Reads never count.
    """
    current = _current.get()
    if current is not None and method.upper() not in _READS:
        current.zerobyte_status = status


class AuditLog:
    """Appends JSON lines to a file, or to stderr when no file is configured."""

    def __init__(self, path: Path | None = None, *, stream: TextIO | None = None, secrets: tuple[str, ...] = ()):
        self.path = path
        self._stream = stream
        self._lock = threading.Lock()
        self._secrets = secrets

    def begin(self) -> tuple[AuditNote, contextvars.Token[AuditNote | None]]:
        current = AuditNote()
        return current, _current.set(current)

    def end(self, token: contextvars.Token[AuditNote | None]) -> None:
        _current.reset(token)

    def write(
        self,
        *,
        tool: str,
        arguments: Mapping[str, Any],
        outcome: str,
        message: str | None = None,
        current: AuditNote | None = None,
    ) -> None:
        record: dict[str, Any] = {
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "event": "tool_call",
            "tool": tool,
            "arguments": redact(dict(arguments)),
            "outcome": outcome,
        }
        if current is not None:
            if current.zerobyte_status is not None:
                record["zerobyte_status"] = current.zerobyte_status
            if current.task_id is not None:
                record["task_id"] = current.task_id
            if current.details:
                record["details"] = redact(current.details)
        if message:
            record["message"] = redact_text(message, self._secrets)
        line = redact_text(json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str), self._secrets)
        with self._lock:
            if self.path is not None:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                # Created owner-only: arguments are redacted, but what was done to which backup is private.
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
            else:
                stream = self._stream or sys.stderr
                stream.write(line + "\n")
                stream.flush()
