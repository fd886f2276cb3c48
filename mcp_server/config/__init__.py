"""Settings for zerobyte-mcp: where to find Zerobyte, with which key, and how much an agent may do.

Settings come from defaults, then a TOML file, then the environment, then command-line flags; each value
remembers where it came from so `zerobyte-mcp check` can show it. Every mistake a user can make here becomes a
`ConfigError` whose message names the setting and its source and never contains a secret.

TOML layout (see config.example.toml; relative paths are relative to the file's folder, "~" is expanded):

    url, api_key, api_key_file, access, confirm_destructive, confirm_ttl_seconds, audit_log, max_response_chars
    [timeouts] connect, read, heavy
    [tls]      verify, ca_bundle
    [tools]    allow, deny, toolsets_allow, toolsets_deny
    [restore]  allowed_roots
    [volumes]  allowed_roots
    [tasks]    wait_seconds
    [catalog]  path
    [http]     host, port, path, token, token_file, allow_unauthenticated, allowed_hosts, allowed_origins
    [logging]  level, json

Secrets given two ways (api_key / api_key_file, http token / token_file): the highest layer that sets either
wins (flag over environment over file); within one layer the file wins over the literal value.
Empty environment variables count as unset.
"""

from __future__ import annotations

import math
import os
import posixpath
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final, Literal, TypeAlias, get_args
from urllib.parse import urlsplit

from mcp_server.redact import REDACTED, redact_text

__all__ = [
    "ACCESS_LEVELS",
    "AccessLevel",
    "ConfigError",
    "Secret",
    "Settings",
    "default_catalog_path",
    "load_settings",
]

AccessLevel = Literal["read-only", "operate", "full"]
ACCESS_LEVELS: Final[tuple[str, ...]] = get_args(AccessLevel)

_LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_MIN_HTTP_TOKEN_LENGTH: Final = 16
_KEY_PREFIX_HELP: Final = "Zerobyte API keys look like zb_…; create one in Zerobyte → Settings → API keys"
_MISSING_KEY: Final = (
    "No Zerobyte API key: set ZEROBYTE_API_KEY or ZEROBYTE_API_KEY_FILE, or api_key_file in config.toml"
)


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


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Validated settings. Build with `load_settings()`; tests may construct one directly."""

    url: str
    api_key: Secret | None = None
    api_key_file: Path | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    heavy_timeout: float = 300.0
    verify_tls: bool = True
    ca_bundle: Path | None = None
    access: AccessLevel = "read-only"
    tools_allow: tuple[str, ...] = ()
    tools_deny: tuple[str, ...] = ()
    toolsets_allow: tuple[str, ...] = ()
    toolsets_deny: tuple[str, ...] = ()
    confirm_destructive: bool = True
    confirm_ttl_seconds: int = 300
    restore_allowed_roots: tuple[str, ...] = ()
    volume_allowed_roots: tuple[str, ...] = ()
    audit_log: Path | None = None
    catalog_path: Path | None = None  # None: no catalog (load_settings fills in the XDG cache default)
    log_level: str = "INFO"
    log_json: bool = False
    task_wait_seconds: float = 120.0
    max_response_chars: int = 32000
    http_host: str = "127.0.0.1"
    http_port: int = 8765
    http_path: str = "/mcp"
    http_token: Secret | None = None
    http_token_file: Path | None = None
    http_allow_unauthenticated: bool = False
    http_allowed_hosts: tuple[str, ...] = ()
    http_allowed_origins: tuple[str, ...] = ()
    config_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def read_api_key(self) -> Secret:
        """The API key now: re-reads `api_key_file` on every call, so a rotated key works without a restart."""
        if self.api_key_file is not None:
            origin = self.sources.get("api_key_file", "settings")
            return _read_api_key_file(self.api_key_file, origin)
        if self.api_key is None:
            raise ConfigError(_MISSING_KEY)
        return self.api_key

    def read_http_token(self) -> Secret | None:
        """The HTTP bearer token now (re-reads `http_token_file`), or None when none is configured."""
        if self.http_token_file is not None:
            origin = self.sources.get("http_token_file", "settings")
            return _read_http_token_file(self.http_token_file, origin)
        return self.http_token

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, shown value, source) rows for `zerobyte-mcp check`; secrets show as "<redacted>"."""
        rows: list[tuple[str, str, str]] = []
        for f in fields(self):
            if f.name == "sources":
                continue
            rows.append((f.name, _show(f.name, getattr(self, f.name)), self.sources.get(f.name, "default")))
        return rows


def load_settings(
    *,
    config_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
    require_key: bool = True,
) -> Settings:
    """Read defaults, the config file, the environment (`env`, default os.environ) and `overrides`.

    `overrides` are command-line values keyed by Settings field name (None values are ignored); their source reads
    "command line --<name>", with "http_" dropped (http_port -> --port). Raises ConfigError.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    cwd = Path.cwd()
    config_file, config_source = _find_config_file(config_path, environ, cwd)

    layers: list[dict[str, _Raw]] = []
    if config_file is not None:
        layers.append(_file_layer(config_file, environ))
    layers.append(_env_layer(environ, cwd))
    layers.append(_override_layer(overrides or {}, environ, cwd))

    chosen: dict[str, _Raw] = {}
    for layer in layers:
        chosen.update((name, raw) for name, raw in layer.items() if name not in _PAIRED)
    for literal, from_file in _PAIRED_SECRETS:
        for layer in reversed(layers):
            if from_file in layer:
                chosen[from_file] = layer[from_file]
                break
            if literal in layer:
                chosen[literal] = layer[literal]
                break

    values: dict[str, object] = {}
    sources: dict[str, str] = {f.name: "default" for f in fields(Settings) if f.name != "sources"}
    for name, raw in chosen.items():
        values[name] = _SPECS[name].convert(raw)
        sources[name] = raw.source
    if config_file is not None:
        values["config_file"] = config_file
        sources["config_file"] = config_source

    if "url" not in values:
        raise ConfigError(_missing_url_message(config_file, environ, cwd))

    if "audit_log" not in values:
        values["audit_log"] = default_audit_log(environ)
    _resolve_api_key(values, sources, chosen, require_key=require_key)
    _resolve_http_token(values, sources, chosen)
    ca_bundle = values.get("ca_bundle")
    if isinstance(ca_bundle, Path) and not ca_bundle.is_file():
        raise ConfigError(f"{chosen['ca_bundle'].where} names {ca_bundle}, which is not a file")

    if "catalog_path" not in values:
        values["catalog_path"] = default_catalog_path(environ)
    values["sources"] = types.MappingProxyType(sources)
    return Settings(**values)  # type: ignore[arg-type]


# --- sources and layers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    """One value as the user gave it, before conversion."""

    value: object
    where: str  # how a message names it: "[http] port in /x/config.toml", "ZEROBYTE_URL (from environment)"
    source: str  # what `check` shows: "config file /x/config.toml", "environment ZEROBYTE_URL"
    base: Path  # relative paths are resolved against this folder
    home: str | None  # "~" expands to this (from the env mapping, so tests never see the real home)
    text: bool  # came as a string from the environment or a flag, so "8765" may mean 8765


_Converter: TypeAlias = Callable[[_Raw], object]


def _find_config_file(
    config_path: str | os.PathLike[str] | None, environ: Mapping[str, str], cwd: Path
) -> tuple[Path | None, str]:
    home = environ.get("HOME") or None
    if config_path is not None:
        path = _absolute(_expand(os.fspath(config_path), home), cwd)
        if not path.is_file():
            raise ConfigError(f"Config file {path} (given with --config) {_missing(path)}")
        return path, "command line --config"
    named = environ.get("ZEROBYTE_MCP_CONFIG")
    if named:
        path = _absolute(_expand(named, home), cwd)
        if not path.is_file():
            raise ConfigError(f"Config file {path} (named by ZEROBYTE_MCP_CONFIG in the environment) {_missing(path)}")
        return path, "environment ZEROBYTE_MCP_CONFIG"
    local = cwd / "config.toml"
    if local.is_file():
        return local, "found in the current folder"
    user = _user_config_file(environ)
    if user.is_file():
        return user, "found in the user config folder"
    return None, "none found"


def default_catalog_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/zerobyte-mcp/catalog.sqlite`` (``~/.cache`` when unset)."""
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()) / ".cache"
    return base / "zerobyte-mcp" / "catalog.sqlite"


def _missing(path: Path) -> str:
    return "is not a file" if path.exists() else "does not exist"


def _user_config_file(environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()) / ".config"
    return base / "zerobyte-mcp" / "config.toml"


def _missing_url_message(config_file: Path | None, environ: Mapping[str, str], cwd: Path) -> str:
    if config_file is not None:
        where = f"url in {config_file}"
    else:
        where = f"url in a config file (none found at {cwd / 'config.toml'} or {_user_config_file(environ)})"
    return f"No Zerobyte URL: set ZEROBYTE_URL or {where}, for example https://zerobyte.example.com"


def _file_layer(path: Path, environ: Mapping[str, str]) -> dict[str, _Raw]:
    import tomllib  # here, not at the top: a start-up without a config file need not pay for it

    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror or exc}") from None

    layer: dict[str, _Raw] = {}
    source = f"config file {path}"
    home = environ.get("HOME") or None

    def add(table: str | None, key: str, value: object) -> None:
        name = _TOML_FIELDS.get((table, key))
        if name is None:
            raise ConfigError(_unknown_setting_message(table, key, path))
        where = f"[{table}] {key} in {path}" if table else f"{key} in {path}"
        layer[name] = _Raw(value, where, source, path.parent, home, text=False)

    for key, value in document.items():
        if key in _TOML_TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{key} in {path} must be a table ([{key}]), got {_describe(value)}")
            for inner, inner_value in value.items():
                add(key, inner, inner_value)
        elif (None, key) in _TOML_FIELDS:
            add(None, key, value)
        elif isinstance(value, dict):
            raise ConfigError(_unknown_table_message(key, path))
        else:
            raise ConfigError(_unknown_setting_message(None, key, path))
    return layer


_ENV_VARS: Final = {
    "ZEROBYTE_URL": "url",
    "ZEROBYTE_API_KEY": "api_key",
    "ZEROBYTE_API_KEY_FILE": "api_key_file",
    "ZEROBYTE_MCP_ACCESS": "access",
    "ZEROBYTE_MCP_LOG_LEVEL": "log_level",
    "ZEROBYTE_MCP_HTTP_TOKEN": "http_token",
    "ZEROBYTE_MCP_HTTP_TOKEN_FILE": "http_token_file",
    "ZEROBYTE_MCP_AUDIT_LOG": "audit_log",
    "ZEROBYTE_MCP_CATALOG": "catalog_path",
    "ZEROBYTE_MCP_CONFIRM_DESTRUCTIVE": "confirm_destructive",
    "ZEROBYTE_MCP_RESTORE_ROOTS": "restore_allowed_roots",
    "ZEROBYTE_MCP_VOLUME_ROOTS": "volume_allowed_roots",
}


def _env_layer(environ: Mapping[str, str], cwd: Path) -> dict[str, _Raw]:
    home = environ.get("HOME") or None
    layer: dict[str, _Raw] = {}
    for var, name in _ENV_VARS.items():
        value = environ.get(var)
        if value:
            layer[name] = _Raw(value, f"{var} (from environment)", f"environment {var}", cwd, home, text=True)
    return layer


def _override_layer(overrides: Mapping[str, object], environ: Mapping[str, str], cwd: Path) -> dict[str, _Raw]:
    home = environ.get("HOME") or None
    layer: dict[str, _Raw] = {}
    for name, value in overrides.items():
        if value is None:
            continue
        # The CLI spells the HTTP flags without their prefix (--host, --port).
        flag = "--" + name.removeprefix("http_").replace("_", "-")
        if name not in _SPECS:
            raise ConfigError(f"Unknown setting {flag} (from command line)")
        text = isinstance(value, str)
        layer[name] = _Raw(value, f"{flag} (from command line)", f"command line {flag}", cwd, home, text=text)
    return layer


def _unknown_setting_message(table: str | None, key: str, path: Path) -> str:
    place = f"[{table}]" if table else "the top level"
    return f"Unknown setting {key!r} in {place} of {path}{_suggestion(table, key)}"


def _unknown_table_message(key: str, path: Path) -> str:
    import difflib  # error paths only (cold start)

    close = difflib.get_close_matches(key, _TOML_TABLES, n=1)
    hint = f"; did you mean [{close[0]}]?" if close else f"; tables are {', '.join(f'[{t}]' for t in _TOML_TABLES)}"
    return f"Unknown table [{key}] in {path}{hint}"


def _suggestion(table: str | None, key: str) -> str:
    # A field name or a key from another table ("log_level" at the top, "port" under [tls]) has a known home.
    home = _TOML_LOCATION.get(key)
    if home is None:
        elsewhere = [(t, k) for (t, k) in _TOML_FIELDS if k == key and t != table]
        home = elsewhere[0] if elsewhere else None
    if home is not None and home != (table, key):
        return f"; did you mean {_location(home)}?"
    import difflib  # error paths only (cold start)

    siblings = [k for (t, k) in _TOML_FIELDS if t == table]
    close = difflib.get_close_matches(key, siblings, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    close = difflib.get_close_matches(key, [k for (_, k) in _TOML_FIELDS], n=1)
    if close:
        loc = next(loc for loc in _TOML_FIELDS if loc[1] == close[0])
        return f"; did you mean {_location(loc)}?"
    return f"; valid settings there: {', '.join(siblings)}"


def _location(loc: tuple[str | None, str]) -> str:
    table, key = loc
    return f"[{table}] {key}" if table else f"{key!r} at the top level"


# --- secrets given as a value or a file -----------------------------------------------------------------------


def _resolve_api_key(
    values: dict[str, object], sources: dict[str, str], chosen: Mapping[str, _Raw], *, require_key: bool
) -> None:
    key_file, key = values.get("api_key_file"), values.get("api_key")
    if isinstance(key_file, Path):
        values["api_key"] = _read_api_key_file(key_file, sources["api_key_file"])
        sources["api_key"] = f"file {key_file}"
    elif isinstance(key, Secret):
        _check_api_key(key.reveal(), chosen["api_key"].where)
    elif require_key:
        raise ConfigError(_MISSING_KEY)


def _resolve_http_token(values: dict[str, object], sources: dict[str, str], chosen: Mapping[str, _Raw]) -> None:
    token_file, token = values.get("http_token_file"), values.get("http_token")
    if isinstance(token_file, Path):
        values["http_token"] = _read_http_token_file(token_file, sources["http_token_file"])
        sources["http_token"] = f"file {token_file}"
    elif isinstance(token, Secret):
        _check_http_token(token.reveal(), chosen["http_token"].where)


def _read_secret_file(path: Path, what: str, origin: str) -> str:
    where = f"{what} file {path} (set by {origin})"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not readable as UTF-8 text"
        raise ConfigError(f"Cannot read {where}: {reason}") from None
    value = text.strip()
    if not value:
        raise ConfigError(f"{where[0].upper()}{where[1:]} is empty")
    return value


def _read_api_key_file(path: Path, origin: str) -> Secret:
    value = _read_secret_file(path, "API key", origin)
    _check_api_key(value, f"API key file {path} (set by {origin})")
    return Secret(value)


def _read_http_token_file(path: Path, origin: str) -> Secret:
    value = _read_secret_file(path, "HTTP token", origin)
    _check_http_token(value, f"HTTP token file {path} (set by {origin})")
    return Secret(value)


def _check_api_key(value: str, where: str) -> None:
    if not value.startswith("zb_"):
        raise ConfigError(f"{where} does not start with zb_: {_KEY_PREFIX_HELP}")
    if any(ch.isspace() for ch in value):
        raise ConfigError(f"{where} contains spaces or line breaks: it should hold only the key")


def _check_http_token(value: str, where: str) -> None:
    if len(value) < _MIN_HTTP_TOKEN_LENGTH or any(ch.isspace() for ch in value):
        raise ConfigError(
            f"{where} must be at least {_MIN_HTTP_TOKEN_LENGTH} characters without spaces; make one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


# --- conversion -----------------------------------------------------------------------------------------------


def _describe(value: object, *, secret: bool = False) -> str:
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


def _wrong(raw: _Raw, expected: str, *, secret: bool = False) -> ConfigError:
    return ConfigError(f"{raw.where} must be {expected}, got {_describe(raw.value, secret=secret)}")


def _expand(text: str, home: str | None) -> str:
    if home and (text == "~" or text.startswith("~/")):
        return home + text[1:]
    return os.path.expanduser(text)


def _absolute(path: str, base: Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else base / candidate


def _to_str(raw: _Raw) -> str:
    if not isinstance(raw.value, str) or not raw.value.strip():
        raise _wrong(raw, "a non-empty string")
    return raw.value.strip()


def _to_secret(raw: _Raw) -> Secret:
    if isinstance(raw.value, Secret):
        return raw.value
    if not isinstance(raw.value, str) or not raw.value.strip():
        raise _wrong(raw, "a non-empty string", secret=True)
    return Secret(raw.value.strip())


def _to_path(raw: _Raw) -> Path:
    if isinstance(raw.value, os.PathLike):
        text = os.fspath(raw.value)
    elif isinstance(raw.value, str) and raw.value.strip():
        text = raw.value.strip()
    else:
        raise _wrong(raw, "a file path (a non-empty string)")
    return _absolute(_expand(str(text), raw.home), raw.base)


def _to_audit_log(raw: _Raw) -> Path | None:
    """A file, or "stderr" (also "-") to interleave audit lines with the log, only when asked."""
    if isinstance(raw.value, str) and raw.value.strip().lower() in ("stderr", "-"):
        return None
    return _to_path(raw)


def secret_file_warnings(settings: Settings) -> list[str]:
    """One warning per secret file that others on the machine may read (the key gives Zerobyte's full rights)."""
    warnings = []
    for what, path in (("api_key_file", settings.api_key_file), ("http token_file", settings.http_token_file)):
        if path is None:
            continue
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue
        if mode & 0o077:
            who = " and ".join(w for w, bits in (("group", 0o070), ("others", 0o007)) if mode & bits)
            warnings.append(f"{what} {path} can be read by {who} (mode {mode:03o}): run chmod 600 {path}")
    return warnings


def default_audit_log(environ: Mapping[str, str]) -> Path:
    """$XDG_STATE_HOME/zerobyte-mcp/audit.jsonl (~/.local/state/... without it): its own file, not stderr, so
    nothing logged on stderr (a request path, an upstream error) can pass for an audit line."""
    state = environ.get("XDG_STATE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".local" / "state")
    return Path(state) / "zerobyte-mcp" / "audit.jsonl"


def _to_bool(raw: _Raw) -> bool:
    if isinstance(raw.value, bool):
        return raw.value
    if raw.text and isinstance(raw.value, str):
        word = raw.value.strip().lower()
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
    raise _wrong(raw, "true or false")


def _to_number(raw: _Raw, expected: str) -> float:
    value = raw.value
    if raw.text and isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _wrong(raw, expected) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _wrong(raw, expected)
    return float(value)


def _positive_float(raw: _Raw) -> float:
    value = _to_number(raw, "a number of seconds greater than 0")
    if value <= 0:
        raise _wrong(raw, "a number of seconds greater than 0")
    return value


def _non_negative_float(raw: _Raw) -> float:
    value = _to_number(raw, "a number of seconds, 0 or more")
    if value < 0:
        raise _wrong(raw, "a number of seconds, 0 or more")
    return value


def _int_between(low: int, high: int, expected: str) -> _Converter:
    def convert(raw: _Raw) -> int:
        value = raw.value
        if raw.text and isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _wrong(raw, expected) from None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _wrong(raw, expected)
        return value

    return convert


def _to_access(raw: _Raw) -> str:
    value = raw.value.strip().lower() if isinstance(raw.value, str) else raw.value
    if value not in ACCESS_LEVELS:
        raise _wrong(raw, "one of " + ", ".join(ACCESS_LEVELS))
    return value


def _to_log_level(raw: _Raw) -> str:
    value = raw.value.strip().upper() if isinstance(raw.value, str) else raw.value
    if value not in _LOG_LEVELS:
        raise _wrong(raw, "one of " + ", ".join(_LOG_LEVELS))
    return value


def _to_url(raw: _Raw) -> str:
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


def _to_http_path(raw: _Raw) -> str:
    text = _to_str(raw)
    if not text.startswith("/") or any(ch in text for ch in "?# "):
        raise _wrong(raw, "a URL path starting with / (like /mcp)")
    return text.rstrip("/") or "/"


def _string_items(raw: _Raw, expected: str) -> list[str]:
    value = raw.value
    if raw.text and isinstance(value, str):
        return [item.strip() for item in value.replace(os.pathsep, ",").split(",") if item.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise _wrong(raw, expected)
    return [item.strip() for item in value if item.strip()]


def _to_str_tuple(raw: _Raw) -> tuple[str, ...]:
    value = raw.value
    if raw.text and isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return tuple(dict.fromkeys(_string_items(raw, "a list of strings")))


def _to_roots(raw: _Raw) -> tuple[str, ...]:
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
class _Spec:
    convert: _Converter
    toml: tuple[str | None, str]


_SPECS: Final[dict[str, _Spec]] = {
    "url": _Spec(_to_url, (None, "url")),
    "api_key": _Spec(_to_secret, (None, "api_key")),
    "api_key_file": _Spec(_to_path, (None, "api_key_file")),
    "connect_timeout": _Spec(_positive_float, ("timeouts", "connect")),
    "read_timeout": _Spec(_positive_float, ("timeouts", "read")),
    "heavy_timeout": _Spec(_positive_float, ("timeouts", "heavy")),
    "verify_tls": _Spec(_to_bool, ("tls", "verify")),
    "ca_bundle": _Spec(_to_path, ("tls", "ca_bundle")),
    "access": _Spec(_to_access, (None, "access")),
    "tools_allow": _Spec(_to_str_tuple, ("tools", "allow")),
    "tools_deny": _Spec(_to_str_tuple, ("tools", "deny")),
    "toolsets_allow": _Spec(_to_str_tuple, ("tools", "toolsets_allow")),
    "toolsets_deny": _Spec(_to_str_tuple, ("tools", "toolsets_deny")),
    "confirm_destructive": _Spec(_to_bool, (None, "confirm_destructive")),
    "confirm_ttl_seconds": _Spec(
        _int_between(1, 86_400, "a whole number of seconds from 1 to 86400"), (None, "confirm_ttl_seconds")
    ),
    "restore_allowed_roots": _Spec(_to_roots, ("restore", "allowed_roots")),
    "volume_allowed_roots": _Spec(_to_roots, ("volumes", "allowed_roots")),
    "audit_log": _Spec(_to_audit_log, (None, "audit_log")),
    "catalog_path": _Spec(_to_path, ("catalog", "path")),
    "log_level": _Spec(_to_log_level, ("logging", "level")),
    "log_json": _Spec(_to_bool, ("logging", "json")),
    "task_wait_seconds": _Spec(_non_negative_float, ("tasks", "wait_seconds")),
    "max_response_chars": _Spec(
        _int_between(1000, 10_000_000, "a whole number from 1000 to 10000000"), (None, "max_response_chars")
    ),
    "http_host": _Spec(_to_str, ("http", "host")),
    "http_port": _Spec(_int_between(0, 65_535, "a port number from 0 (any free port) to 65535"), ("http", "port")),
    "http_path": _Spec(_to_http_path, ("http", "path")),
    "http_token": _Spec(_to_secret, ("http", "token")),
    "http_token_file": _Spec(_to_path, ("http", "token_file")),
    "http_allow_unauthenticated": _Spec(_to_bool, ("http", "allow_unauthenticated")),
    "http_allowed_hosts": _Spec(_to_str_tuple, ("http", "allowed_hosts")),
    "http_allowed_origins": _Spec(_to_str_tuple, ("http", "allowed_origins")),
}
_TOML_FIELDS: Final = {spec.toml: name for name, spec in _SPECS.items()}
_TOML_LOCATION: Final = {name: spec.toml for name, spec in _SPECS.items()}
_TOML_TABLES: Final = tuple(dict.fromkeys(table for table, _ in _TOML_FIELDS if table is not None))
_PAIRED_SECRETS: Final = (("api_key", "api_key_file"), ("http_token", "http_token_file"))
_PAIRED: Final = frozenset(name for pair in _PAIRED_SECRETS for name in pair)


def _show(name: str, value: object) -> str:
    if isinstance(value, Secret):
        return REDACTED
    if value is None:
        return "stderr" if name == "audit_log" else "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(none)"
    return str(value)
