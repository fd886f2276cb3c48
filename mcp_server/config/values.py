"""What each setting accepts: the table of settings (field, converter, TOML location) and the converters.

A value arrives as a :class:`Raw` (what the user wrote, and where); its converter returns the typed value or
raises :class:`ConfigError` naming the setting and its source, never showing a secret. :class:`Secret` and
:class:`ConfigError` live here because every other config module needs them.
"""

from __future__ import annotations

import math
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypeAlias, get_args
from urllib.parse import urlsplit

from mcp_server.safety.redact import REDACTED, redact_text

AccessLevel = Literal["read-only", "operate", "full"]
ACCESS_LEVELS: Final[tuple[str, ...]] = get_args(AccessLevel)

_LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or wrong. The message is for the user: it names the setting and its source."""


class Secret:
    """A string that never shows itself in repr, str, logs or tracebacks; `.reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Raw:
    """One value as the user gave it, before conversion."""

    value: object
    where: str  # how a message names it: "[http] port in /x/config.toml", "ZEROBYTE_URL (from environment)"
    source: str  # what `check` shows: "config file /x/config.toml", "environment ZEROBYTE_URL"
    base: Path  # relative paths are resolved against this folder
    home: str | None  # "~" expands to this (from the env mapping, so tests never see the real home)
    text: bool  # came as a string from the environment or a flag, so "8765" may mean 8765


Converter: TypeAlias = Callable[[Raw], object]


def describe(value: object, *, secret: bool = False) -> str:
    """How a message shows a wrong value: its kind, and the value itself unless it is a secret."""
    if isinstance(value, bool):
        kind, shown = "a boolean", "true" if value else "false"
    elif isinstance(value, int | float):
        kind, shown = "a number", str(value)
    elif isinstance(value, str):
        kind, shown = "a string", repr(redact_text(value)[:80])
    elif isinstance(value, list | tuple):
        return "a list"
    elif isinstance(value, dict):
        return "a table"
    else:
        return f"a {type(value).__name__}"
    return kind if secret else f"{kind} ({shown})" if kind == "a string" else shown


def _wrong(raw: Raw, expected: str, *, secret: bool = False) -> ConfigError:
    return ConfigError(f"{raw.where} must be {expected}, got {describe(raw.value, secret=secret)}")


def expand(text: str, home: str | None) -> str:
    """``~`` and ``~/...`` against ``home`` (the env mapping's HOME), else as the OS expands them."""
    if home and (text == "~" or text.startswith("~/")):
        return home + text[1:]
    return os.path.expanduser(text)


def absolute(path: str, base: Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else base / candidate


def _to_str(raw: Raw) -> str:
    if not isinstance(raw.value, str) or not raw.value.strip():
        raise _wrong(raw, "a non-empty string")
    return raw.value.strip()


def _to_secret(raw: Raw) -> Secret:
    if isinstance(raw.value, Secret):
        return raw.value
    if not isinstance(raw.value, str) or not raw.value.strip():
        raise _wrong(raw, "a non-empty string", secret=True)
    return Secret(raw.value.strip())


def _to_path(raw: Raw) -> Path:
    if isinstance(raw.value, os.PathLike):
        text = os.fspath(raw.value)
    elif isinstance(raw.value, str) and raw.value.strip():
        text = raw.value.strip()
    else:
        raise _wrong(raw, "a file path (a non-empty string)")
    return absolute(expand(str(text), raw.home), raw.base)


def _to_audit_log(raw: Raw) -> Path | None:
    """A file, or "stderr" (also "-") to interleave audit lines with the log, only when asked."""
    if isinstance(raw.value, str) and raw.value.strip().lower() in ("stderr", "-"):
        return None
    return _to_path(raw)


def _to_bool(raw: Raw) -> bool:
    if isinstance(raw.value, bool):
        return raw.value
    if raw.text and isinstance(raw.value, str):
        word = raw.value.strip().lower()
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
    raise _wrong(raw, "true or false")


def _parsed(raw: Raw, parse: Callable[[str], object], expected: str) -> object:
    """The value; a string from the environment or a flag is parsed first (so "8765" may mean 8765)."""
    if raw.text and isinstance(raw.value, str):
        try:
            return parse(raw.value.strip())
        except ValueError:
            raise _wrong(raw, expected) from None
    return raw.value


def _seconds(expected: str, fits: Callable[[float], bool]) -> Converter:
    """A finite number of seconds that ``fits``; ``expected`` says which in the message."""

    def convert(raw: Raw) -> float:
        value = _parsed(raw, float, expected)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not fits(value):
            raise _wrong(raw, expected)
        return float(value)

    return convert


def _int_between(low: int, high: int, expected: str) -> Converter:
    def convert(raw: Raw) -> int:
        value = _parsed(raw, int, expected)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _wrong(raw, expected)
        return value

    return convert


def _one_of(choices: tuple[str, ...], spelling: Callable[[str], str]) -> Converter:
    """One word of ``choices``, whatever its case (``spelling`` gives the case the choices are written in)."""

    def convert(raw: Raw) -> str:
        value = spelling(raw.value.strip()) if isinstance(raw.value, str) else raw.value
        if value not in choices:
            raise _wrong(raw, "one of " + ", ".join(choices))
        assert isinstance(value, str)
        return value

    return convert


def _to_url(raw: Raw) -> str:
    text = _to_str(raw)
    shown = redact_text(text)
    example = "for example https://zerobyte.example.com"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"{raw.where} is not a valid URL ({shown!r}); {example}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(f"{raw.where} must start with http:// or https://, got {shown!r}; {example}")
    if not parts.hostname:
        raise ConfigError(f"{raw.where} has no host name ({shown!r}); {example}")
    if "@" in parts.netloc:
        raise ConfigError(
            f"{raw.where} must not contain a user name or password; Zerobyte authenticates with the API key"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{raw.where} must not contain ?query or #fragment parts ({shown!r}); {example}")
    path = parts.path.rstrip("/")
    # Users paste the API base from the docs; the client adds /api/v1 itself.
    if path.endswith("/api/v1"):
        path = path.removesuffix("/api/v1").rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc}{path}"


def _to_http_path(raw: Raw) -> str:
    text = _to_str(raw)
    if not text.startswith("/") or any(ch in text for ch in "?# "):
        raise _wrong(raw, "a URL path starting with / (like /mcp)")
    return text.rstrip("/") or "/"


def _string_items(raw: Raw, expected: str) -> list[str]:
    value = raw.value
    if raw.text and isinstance(value, str):
        return [item.strip() for item in value.replace(os.pathsep, ",").split(",") if item.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise _wrong(raw, expected)
    return [item.strip() for item in value if item.strip()]


def _to_str_tuple(raw: Raw) -> tuple[str, ...]:
    value = raw.value
    if raw.text and isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return tuple(dict.fromkeys(_string_items(raw, "a list of strings")))


def _to_roots(raw: Raw) -> tuple[str, ...]:
    roots: list[str] = []
    for item in _string_items(raw, "a list of absolute paths"):
        if not item.startswith("/"):
            raise ConfigError(
                f"{raw.where}: {item!r} is not an absolute path; restore roots are folders on the Zerobyte "
                "server, like /srv/restore"
            )
        normal = "/" + posixpath.normpath(item).lstrip("/")
        if normal not in roots:
            roots.append(normal)
    return tuple(roots)


@dataclass(frozen=True)
class Spec:
    convert: Converter
    toml: tuple[str | None, str]


_POSITIVE_SECONDS: Final = _seconds("a number of seconds greater than 0", lambda value: value > 0)

# Every setting a file, the environment or a flag may give: Settings field -> converter, (TOML table, key).
SPECS: Final[dict[str, Spec]] = {
    "url": Spec(_to_url, (None, "url")),
    "api_key": Spec(_to_secret, (None, "api_key")),
    "api_key_file": Spec(_to_path, (None, "api_key_file")),
    "connect_timeout": Spec(_POSITIVE_SECONDS, ("timeouts", "connect")),
    "read_timeout": Spec(_POSITIVE_SECONDS, ("timeouts", "read")),
    "heavy_timeout": Spec(_POSITIVE_SECONDS, ("timeouts", "heavy")),
    "verify_tls": Spec(_to_bool, ("tls", "verify")),
    "ca_bundle": Spec(_to_path, ("tls", "ca_bundle")),
    "access": Spec(_one_of(ACCESS_LEVELS, str.lower), (None, "access")),
    "tools_allow": Spec(_to_str_tuple, ("tools", "allow")),
    "tools_deny": Spec(_to_str_tuple, ("tools", "deny")),
    "toolsets_allow": Spec(_to_str_tuple, ("tools", "toolsets_allow")),
    "toolsets_deny": Spec(_to_str_tuple, ("tools", "toolsets_deny")),
    "confirm_destructive": Spec(_to_bool, (None, "confirm_destructive")),
    "confirm_ttl_seconds": Spec(
        _int_between(1, 86_400, "a whole number of seconds from 1 to 86400"), (None, "confirm_ttl_seconds")
    ),
    "restore_allowed_roots": Spec(_to_roots, ("restore", "allowed_roots")),
    "volume_allowed_roots": Spec(_to_roots, ("volumes", "allowed_roots")),
    "audit_log": Spec(_to_audit_log, (None, "audit_log")),
    "catalog_path": Spec(_to_path, ("catalog", "path")),
    "log_level": Spec(_one_of(_LOG_LEVELS, str.upper), ("logging", "level")),
    "log_json": Spec(_to_bool, ("logging", "json")),
    "task_wait_seconds": Spec(
        _seconds("a number of seconds, 0 or more", lambda value: value >= 0), ("tasks", "wait_seconds")
    ),
    "max_response_chars": Spec(
        _int_between(1000, 10_000_000, "a whole number from 1000 to 10000000"), (None, "max_response_chars")
    ),
    "http_host": Spec(_to_str, ("http", "host")),
    "http_port": Spec(_int_between(0, 65_535, "a port number from 0 (any free port) to 65535"), ("http", "port")),
    "http_path": Spec(_to_http_path, ("http", "path")),
    "http_token": Spec(_to_secret, ("http", "token")),
    "http_token_file": Spec(_to_path, ("http", "token_file")),
    "http_allow_unauthenticated": Spec(_to_bool, ("http", "allow_unauthenticated")),
    "http_allowed_hosts": Spec(_to_str_tuple, ("http", "allowed_hosts")),
    "http_allowed_origins": Spec(_to_str_tuple, ("http", "allowed_origins")),
}
TOML_FIELDS: Final = {spec.toml: name for name, spec in SPECS.items()}
TOML_LOCATION: Final = {name: spec.toml for name, spec in SPECS.items()}
TOML_TABLES: Final = tuple(dict.fromkeys(table for table, _ in TOML_FIELDS if table is not None))
