"""Validation of every identifier and path before it can reach a URL.

Ids are checked against the exact shape Zerobyte issues and then percent-quoted with no safe
characters, so no argument (``../auth/api-keys``, ``%2F..``, whitespace, a 10 KB string) can change
which route is called. Each check raises :class:`InvalidArgument` naming the argument.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote

from .errors import InvalidArgument

__all__ = [
    "MAX_PATH_LENGTH",
    "check_absolute_path",
    "check_destination_id",
    "check_job_id",
    "check_short_id",
    "check_snapshot_id",
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
    if not _SHORT_ID.fullmatch(text):
        raise InvalidArgument(argument, f"{_show(text)} is not a Zerobyte short id (letters, digits, '_' and '-' only)")
    return text


def check_job_id(argument: str, value: object) -> str:
    """A backup job reference: its shortId or its numeric id (Zerobyte accepts both in paths)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise InvalidArgument(argument, "must be a positive id")
        return str(value)
    text = _text(argument, value)
    if not _JOB_ID.fullmatch(text):
        raise InvalidArgument(argument, f"{_show(text)} is not a backup job id (its shortId, e.g. 'dl2FvHvs')")
    return text


def check_snapshot_id(argument: str, value: object) -> str:
    """A restic snapshot id: 8-hex short_id or the 64-hex full id (prefixes of 4+ accepted by restic)."""
    text = _text(argument, value)
    if not _SNAPSHOT_ID.fullmatch(text):
        raise InvalidArgument(argument, f"{_show(text)} is not a snapshot id (hex, e.g. '5ddc91c0')")
    return text.lower()


def check_task_id(argument: str, value: object) -> str:
    """A task id (UUID)."""
    text = _text(argument, value)
    if not _TASK_ID.fullmatch(text):
        raise InvalidArgument(argument, f"{_show(text)} is not a task id (a UUID like 01a21f51-07ec-7000-91f2-…)")
    return text.lower()


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


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
