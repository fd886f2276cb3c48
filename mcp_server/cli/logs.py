"""Logging set-up: stderr only, optional JSON lines, and no secrets in any rendered record.

In stdio mode stdout carries the MCP protocol, so a single stray log line there breaks the client; every handler
here writes to stderr. Upstream error texts and request URLs end up in log messages, so a filter scrubs the
current secrets (and anything shaped like one) from each record before it is formatted.
"""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Final

from mcp_server.safety.redact import redact, redact_text

__all__ = ["JsonFormatter", "RedactingFilter", "escape_controls", "setup_logging"]

_NOISY_LOGGERS: Final = ("httpx", "httpcore", "uvicorn.access")
_TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)


def setup_logging(
    level: str = "INFO", *, json: bool = False, secrets: Callable[[], Iterable[str]] | None = None
) -> None:
    """Send all logging to stderr at `level`. Calling it again replaces the previous set-up."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter() if json else _TextFormatter(_TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if numeric <= logging.DEBUG else logging.WARNING)


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at emit time, so a later redirect (or pytest's capture) is honoured."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


class RedactingFilter(logging.Filter):
    """Renders each record's message with its args and scrubs secrets from it, its extras and its traceback."""

    def __init__(self, secrets: Callable[[], Iterable[str]] | None = None) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        known = self._current_secrets()
        record.msg = escape_controls(redact_text(record.getMessage(), known))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _indented(redact_text(record.exc_text, known))
        if record.stack_info:
            record.stack_info = _indented(redact_text(record.stack_info, known))
        for name, value in list(vars(record).items()):
            if name in _STANDARD_ATTRS or name.startswith("_"):
                continue
            shown = redact_text(value, known) if isinstance(value, str) else redact(value, secrets=known)
            setattr(record, name, escape_controls(shown) if isinstance(shown, str) else shown)
        return True

    def _current_secrets(self) -> list[str]:
        if self._secrets is None:
            return []
        try:
            return [s for s in self._secrets() if s]
        except Exception:
            # A failing secrets callback must not take logging (and the server) down; the pattern rules still apply.
            return []


# Every control character (line breaks included, and Unicode's own line separators) shown as an escape: a value
# an attacker chose (an HTTP path with %0A) must not start a line of its own that looks like an audit record.
_CONTROLS: Final = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x85: "\\x85",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def escape_controls(text: str) -> str:
    """``text`` on one line: control characters and line separators as backslash escapes."""
    return text.translate(_CONTROLS)


def _indented(text: str) -> str:
    """A traceback keeps its lines, but each one after the first is indented, so none can pass for a record."""
    first, *rest = escape_controls(text).split("\\n")
    return "\n".join([first, *(f"  {line}" for line in rest)])


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if not extras:
            return line
        head, newline, tail = line.partition("\n")
        fields = " ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in extras.items())
        return f"{head} {fields}{newline}{tail}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's extras, and exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in _extras(record).items():
            entry.setdefault(name, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return jsonlib.dumps(entry, default=str, ensure_ascii=False)
