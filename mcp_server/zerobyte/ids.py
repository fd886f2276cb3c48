"""Validation of every identifier and path before it can reach a URL.

Ids are checked against the exact shape Zerobyte issues and then percent-quoted with no safe
characters, so no argument (``../auth/api-keys``, ``%2F..``, whitespace, a 10 KB string) can change
which route is called. Each check raises :class:`InvalidArgument` naming the argument.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from urllib.parse import quote

from .errors import InvalidArgument

__all__ = [
    "MAX_PATH_LENGTH",
    "check_absolute_path",
    "check_destination_id",
    "check_job_id",
    "check_short_id",
    "check_snapshot_id",
    "check_snapshot_ids",
    "check_task_id",
    "quote_segment",
]

MAX_PATH_LENGTH = 4096
_SHORT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SNAPSHOT_ID = re.compile(r"[0-9a-fA-F]{4,64}")
_TASK_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UUID = _TASK_ID


def _text(argument: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(argument, f"expected a string, got {type(value).__name__}")
    if value == "":
        raise InvalidArgument(argument, "must not be empty")
    if len(value) > 256:
        raise InvalidArgument(argument, f"too long ({len(value)} characters)")
    return value


def check_short_id(argument: str, value: object, *, allow_uuid: bool = False) -> str:
    """A volume or repository shortId (8 URL-safe characters in practice); optionally a UUID."""
    text = _text(argument, value)
    if allow_uuid and _UUID.fullmatch(text):
        return text
    return _matching(argument, text, _SHORT_ID, "a Zerobyte short id (letters, digits, '_' and '-' only)")


def check_job_id(argument: str, value: object) -> str:
    """A backup job reference: its shortId or its numeric id (Zerobyte accepts both in paths)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise InvalidArgument(argument, "must be a positive id")
        return str(value)
    return _matching(argument, _text(argument, value), _JOB_ID, "a backup job id (its shortId, e.g. 'dl2FvHvs')")


def check_snapshot_id(argument: str, value: object) -> str:
    """A restic snapshot id: 8-hex short_id or the 64-hex full id (prefixes of 4+ accepted by restic)."""
    text = _text(argument, value)
    return _matching(argument, text, _SNAPSHOT_ID, "a snapshot id (hex, e.g. '5ddc91c0')").lower()


def check_snapshot_ids(argument: str, values: Iterable[str]) -> list[str]:
    """1 to 1000 snapshot ids; a bare string is refused rather than read as a list of characters."""
    if isinstance(values, str):
        raise InvalidArgument(argument, "expected a list of snapshot ids")
    ids = [check_snapshot_id(argument, v) for v in values]
    if not ids:
        raise InvalidArgument(argument, "must list at least one snapshot id")
    if len(ids) > 1000:
        raise InvalidArgument(argument, "at most 1000 snapshot ids at once")
    return ids


def check_task_id(argument: str, value: object) -> str:
    """A task id (UUID)."""
    text = _text(argument, value)
    return _matching(argument, text, _TASK_ID, "a task id (a UUID like 01a21f51-07ec-7000-91f2-…)").lower()


def check_destination_id(argument: str, value: object) -> int:
    """A notification destination id (a positive integer)."""
    if isinstance(value, bool):
        raise InvalidArgument(argument, "expected an integer id")
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        value = int(value)
    if not isinstance(value, int) or value < 1 or value > 2**31:
        raise InvalidArgument(argument, "expected a positive integer id (see list_notification_destinations)")
    return value


def check_absolute_path(argument: str, value: object, *, allow_root: bool = True) -> str:
    """An absolute POSIX path, normalised; '..' segments, NUL and control characters are refused."""
    if not isinstance(value, str):
        raise InvalidArgument(argument, f"expected a string, got {type(value).__name__}")
    if not value:
        raise InvalidArgument(argument, "must not be empty")
    if len(value) > MAX_PATH_LENGTH:
        raise InvalidArgument(argument, f"too long ({len(value)} characters)")
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        raise InvalidArgument(argument, "contains control characters")
    if not value.startswith("/"):
        raise InvalidArgument(argument, f"{_show(value)} must be an absolute path starting with '/'")
    if ".." in value.split("/"):
        raise InvalidArgument(argument, f"{_show(value)} must not contain '..'")
    normal = posixpath.normpath(value)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    if not allow_root and normal == "/":
        raise InvalidArgument(argument, "must not be '/'")
    return normal


def quote_segment(value: str | int) -> str:
    """Percent-quote one path segment with no safe characters (a '/' can never split it)."""
    return quote(str(value), safe="")


def _matching(argument: str, text: str, shape: re.Pattern[str], expected: str) -> str:
    if not shape.fullmatch(text):
        raise InvalidArgument(argument, f"{_show(text)} is not {expected}")
    return text


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
