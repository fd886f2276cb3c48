"""The compact notations agents read and write, each parser beside its formatter.

Read tools show a volume's ``source``, a repository's ``location``, a job's ``retention`` and extra
settings as ``key=value``; the create/update tools accept exactly what the read tools show and it means
the same thing (``parse(format(x)) == x``, property-tested per backend). Keeping both directions in one
module is what stops them drifting apart: ``azure://acct/c`` was once shown but parsed as the account
``azure://acct``. Schedules have their own module (:mod:`mcp_server.cron`).

Parse failures raise :class:`NotationError`, whose message names the expected form and that nothing was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

from mcp.server.mcpserver.exceptions import ToolError

from ..safety.redact import redact_text
from ..zerobyte.ids import check_absolute_path

__all__ = [
    "LOCATION_FORMS",
    "SOURCE_FORMS",
    "SOURCE_HELP",
    "NotationError",
    "OptionKind",
    "format_location",
    "format_options",
    "format_retention",
    "format_source",
    "given",
    "parse_location",
    "parse_options",
    "parse_retention",
    "parse_source",
]


class NotationError(ToolError):
    """An argument that does not fit its notation; the message says the expected form."""


def clip(text: str) -> str:
    """An echo of a refused argument: secrets redacted, at most 60 characters."""
    shown = redact_text(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# --- key=value options ----------------------------------------------------------------------------

OptionKind = Literal["str", "int", "bool", "list"]


def parse_options(items: Iterable[str] | None, allowed: Mapping[str, OptionKind], what: str) -> dict[str, Any]:
    """``key=value`` strings -> typed values; unknown keys and bad values are refused naming the allowed keys."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, eq, raw = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        keys = ", ".join(allowed) or "none"
        if not eq or key not in allowed:
            raise NotationError(
                f"options: {clip(item)!r} is not one of {keys} (as key=value) for {what}; nothing was sent."
            )
        kind = allowed[key]
        value = raw.strip()
        if kind == "int":
            if not re.fullmatch(r"-?\d{1,6}", value):
                raise NotationError(f"options: {key} must be a whole number; nothing was sent.")
            out[key] = int(value)
        elif kind == "bool":
            if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise NotationError(f"options: {key} must be true or false; nothing was sent.")
            out[key] = value.lower() in ("true", "yes", "1")
        elif kind == "list":
            out[key] = [part.strip() for part in value.split(",") if part.strip()]
        else:
            out[key] = value
    return out


def format_options(values: Mapping[str, Any]) -> list[str]:
    """Typed values -> ``key=value`` strings that :func:`parse_options` reads back to the same values."""
    out: list[str] = []
    for key, value in values.items():
        if isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, list | tuple):
            shown = ",".join(str(v) for v in value)
        else:
            shown = str(value)
        out.append(f"{key}={shown}")
    return out


# --- retention ------------------------------------------------------------------------------------

KEEP_KEYS = {
    "last": "keepLast",
    "hourly": "keepHourly",
    "daily": "keepDaily",
    "weekly": "keepWeekly",
    "monthly": "keepMonthly",
    "yearly": "keepYearly",
    "within": "keepWithinDuration",
}
DURATION = re.compile(r"(\d+[ymdh])+")


def parse_retention(text: str) -> dict[str, Any]:
    """'last 5, daily 7, within 30d' -> {keepLast: 5, keepDaily: 7, keepWithinDuration: '30d'}.

    A rule with 0 (or an empty duration) maps to None: "remove this rule". 'none' or 'keep all' -> {}."""
    cleaned = text.strip().lower()
    if cleaned in ("", "none", "keep all", "all", "forever"):
        return {}
    out: dict[str, Any] = {}
    for part in re.split(r"[,;]", cleaned):
        words = [w for w in re.split(r"[\s=:]+", part.strip()) if w and w != "keep"]
        if not words:
            continue
        rule = next((w for w in words if w in KEEP_KEYS), None)
        values = [w for w in words if w != rule]
        if rule is None or len(values) != 1:
            raise NotationError(
                f"retention {part.strip()!r} is not a rule like 'daily 7' (rules: last, hourly, daily, weekly, "
                "monthly, yearly, within 30d); nothing was sent."
            )
        value = values[0]
        if rule == "within":
            if value != "0" and not DURATION.fullmatch(value):
                raise NotationError(
                    f"retention 'within {value}' needs a duration like 30d, 6m or 1y2m; nothing was sent."
                )
            out[KEEP_KEYS[rule]] = None if value == "0" else value
        else:
            if not value.isdigit():
                raise NotationError(f"retention '{rule} {value}' needs a whole number; nothing was sent.")
            out[KEEP_KEYS[rule]] = int(value) or None
    return out


def format_retention(policy: Mapping[str, Any] | None) -> str | None:
    """A retention policy (Zerobyte's keep* fields) -> 'last 5, daily 7, within 30d'; None when it keeps all."""
    if not policy:
        return None
    parts = [f"{rule} {policy[key]}" for rule, key in KEEP_KEYS.items() if policy.get(key)]
    return ", ".join(parts) or None


# --- ssh-style logins (sftp volumes and repositories) -----------------------------------------------


def _parse_ssh(text: str) -> tuple[str, str, int | None, str] | None:
    """'user@host:/path' or 'sftp://user@host:2222/path' -> (user, host, port, path); None if neither."""
    if text.startswith("sftp://"):
        url = urlsplit(text)
        try:
            port = url.port
        except ValueError:
            return None
        if not url.hostname or not url.username:
            return None
        return unquote(url.username), url.hostname, port, url.path or "/"
    login, _, rest = text.partition("@")
    host, colon, path = rest.partition(":")
    if not login or not host or not colon or not path:
        return None
    return unquote(login), host, None, path


def _ssh_fields(text: str, user_field: str, bad: NotationError) -> dict[str, Any]:
    """An SSH login -> sftp config fields; the login's field is ``username`` on volumes, ``user`` on repositories."""
    login = _parse_ssh(text)
    if login is None:
        raise bad
    user, host, port, path = login
    return given(host=host, **{user_field: user}, path=path, port=port)


def _host_folder(what: str, text: str, bad: NotationError) -> dict[str, Any]:
    """An absolute folder on the Zerobyte host (a directory volume's source, a local repository's location)."""
    if not text.startswith("/"):
        raise bad
    return {"path": check_absolute_path(what, text, allow_root=False)}


def _format_ssh(user: Any, host: Any, port: Any, path: Any) -> str:
    path = str(path or "/")
    if port is None or not path.startswith("/"):
        # The short form cannot carry a port; a path relative to the login's home has no URL form.
        return f"{quote(str(user), safe='')}@{host}:{path}"
    return f"sftp://{quote(str(user), safe='')}@{host}:{port}{path}"


# --- volume sources -------------------------------------------------------------------------------

SOURCE_HELP = "/dir, host:/export, //host/share, https://dav, user@host:/dir, remote:path"
SOURCE_FORMS = {
    "directory": "an absolute folder on the Zerobyte host, e.g. /srv/photos",
    "nfs": "server:/export/path, e.g. nas.lan:/volume1/photos",
    "smb": "//server/share, e.g. //nas.lan/photos",
    "webdav": "a URL, e.g. https://cloud.example.com/remote.php/dav/files/me",
    "sftp": "user@host:/path or sftp://user@host:2222/path",
    "rclone": "remote:path, e.g. gdrive:Photos",
}


def _bad_source(backend: str, source: str) -> NotationError:
    return NotationError(
        f"source {clip(source)!r} does not fit the {backend} backend: expected {SOURCE_FORMS[backend]}. "
        "Nothing was sent."
    )


def parse_source(backend: str, source: str) -> dict[str, Any]:
    """A volume ``source`` in the notation list_volumes shows -> Zerobyte's volume config fields."""
    text = source.strip()
    if backend == "directory":
        return _host_folder("source", text, _bad_source(backend, source))
    if backend == "nfs":
        server, colon, export = text.partition(":")
        if not colon or not server or not export.startswith("/"):
            raise _bad_source(backend, source)
        return {"server": server, "exportPath": export}
    if backend == "smb":
        parts = [p for p in text.replace("\\", "/").split("/") if p]
        if not text.replace("\\", "/").startswith("//") or len(parts) < 2:
            raise _bad_source(backend, source)
        user, _, host = parts[0].rpartition("@")
        return given(server=host, share="/".join(parts[1:]), username=unquote(user) or None)
    if backend == "webdav":
        url = urlsplit(text)
        try:
            port = url.port
        except ValueError:
            raise _bad_source(backend, source) from None
        if url.scheme not in ("http", "https") or not url.hostname:
            raise _bad_source(backend, source)
        port = port or (443 if url.scheme == "https" else 80)
        fields = {"server": url.hostname, "path": url.path or "/", "port": port, "ssl": url.scheme == "https"}
        auth = given(username=unquote(url.username or "") or None, password=unquote(url.password or "") or None)
        return fields | auth
    if backend == "sftp":
        return _ssh_fields(text, "username", _bad_source(backend, source))
    if backend == "rclone":
        remote, colon, path = text.partition(":")
        if not colon or not remote or "/" in remote:
            raise _bad_source(backend, source)
        return {"remote": remote, "path": path or "/"}
    raise NotationError(f"backend {backend!r} is not one of {', '.join(SOURCE_FORMS)}; nothing was sent.")


def format_source(config: Mapping[str, Any]) -> str | None:
    """A volume's config -> its ``source`` as :func:`parse_source` reads it (None for an unknown backend)."""
    backend = config.get("backend")
    if backend == "directory":
        return str(config.get("path") or "") or None
    if backend == "nfs":
        return f"{config.get('server')}:{config.get('exportPath')}"
    if backend == "smb":
        return f"//{config.get('server')}/{config.get('share')}"
    if backend == "webdav":
        scheme = "https" if config.get("ssl") else "http"
        port = config.get("port")
        netloc = str(config.get("server"))
        if port is not None and int(port) != (443 if scheme == "https" else 80):
            netloc += f":{port}"
        path = str(config.get("path") or "/")
        return f"{scheme}://{netloc}{path if path.startswith('/') else '/' + path}"
    if backend == "sftp":
        return _format_ssh(config.get("username"), config.get("host"), config.get("port"), config.get("path"))
    if backend == "rclone":
        return f"{config.get('remote')}:{config.get('path')}"
    return None


# --- repository locations -------------------------------------------------------------------------

LOCATION_FORMS = {
    "local": "an absolute folder on the Zerobyte host, e.g. /srv/repos",
    "s3": "endpoint/bucket, e.g. s3.eu-west-1.amazonaws.com/my-backups",
    "r2": "endpoint/bucket, e.g. <account>.r2.cloudflarestorage.com/my-backups",
    "gcs": "project_id/bucket",
    "azure": "account_name/container",
    "rclone": "remote:path, e.g. b2:backups/zerobyte",
    "rest": "the rest-server URL, e.g. https://backup.lan:8000/photos",
    "sftp": "user@host:/path or sftp://user@host:2222/path",
}
_PAIR_FIELDS = {
    "s3": ("endpoint", "bucket"),
    "r2": ("endpoint", "bucket"),
    "gcs": ("projectId", "bucket"),
    "azure": ("accountName", "container"),
}
# Prefixes an agent may paste (restic's own 's3:' form, or a URI like 'azure://acct/container'): dropped.
_PREFIXES = {"s3": ("s3",), "r2": ("r2", "s3"), "gcs": ("gcs", "gs"), "azure": ("azure",)}


def _bad_location(backend: str, location: str) -> NotationError:
    return NotationError(
        f"location {clip(location)!r} does not fit the {backend} backend: expected {LOCATION_FORMS[backend]}. "
        "Nothing was sent."
    )


def _split_first(text: str) -> tuple[str, str]:
    """'endpoint/bucket/prefix' -> ('endpoint', 'bucket/prefix'); a URL scheme stays with the endpoint."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    head, _, tail = rest.strip("/").partition("/")
    return (f"{scheme}://{head}" if scheme else head), tail


def parse_location(backend: str, location: str) -> dict[str, Any]:
    """A repository ``location`` in the notation list_repositories shows -> Zerobyte's repository config fields."""
    text = location.strip()
    if backend == "local":
        return _host_folder("location", text, _bad_location(backend, location))
    if backend in _PAIR_FIELDS:
        text = re.sub(rf"^(?:{'|'.join(_PREFIXES[backend])}):(?://)?", "", text, flags=re.IGNORECASE)
        head, tail = _split_first(text)
        if not head or not tail or head.endswith("://"):
            raise _bad_location(backend, location)
        first, second = _PAIR_FIELDS[backend]
        return {first: head, second: tail}
    if backend == "rclone":
        remote, colon, path = text.partition(":")
        if not colon or not remote or not path:
            raise _bad_location(backend, location)
        return {"remote": remote, "path": path}
    if backend == "rest":
        url = urlsplit(text)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise _bad_location(backend, location)
        return {"url": text}
    if backend == "sftp":
        return _ssh_fields(text, "user", _bad_location(backend, location))
    raise NotationError(f"backend {backend!r} is not one of {', '.join(LOCATION_FORMS)}; nothing was sent.")


def format_location(config: Mapping[str, Any]) -> str | None:
    """A repository's config -> its ``location`` as :func:`parse_location` reads it (None when unknown)."""
    backend = config.get("backend")
    if backend in _PAIR_FIELDS:
        first, second = _PAIR_FIELDS[str(backend)]
        head = str(config.get(first) or "").rstrip("/")
        return f"{head}/{config.get(second)}" if head else str(config.get(second) or "") or None
    if backend == "local":
        return str(config.get("path") or "") or None
    if backend == "rclone":
        return f"{config.get('remote')}:{config.get('path')}"
    if backend == "rest":
        url = str(config.get("url") or "")
        path = str(config.get("path") or "").strip("/")
        return (f"{url.rstrip('/')}/{path}" if path else url) or None
    if backend == "sftp":
        return _format_ssh(config.get("user"), config.get("host"), config.get("port"), config.get("path"))
    return None
