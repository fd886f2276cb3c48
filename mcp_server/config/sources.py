"""Where settings come from: the config file (found or named), the environment and command-line flags.

Each source becomes a layer, a mapping from Settings field to the :class:`~.values.Raw` value the user
wrote and where; `load_settings` stacks the layers. The default places of our files (config, catalog,
audit log) follow the XDG base directories. A mistyped key or table in the file gets a "did you mean".
``tomllib`` is imported only when a file is read, so a start-up without one does not pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from .values import SPECS, TOML_FIELDS, TOML_LOCATION, TOML_TABLES, ConfigError, Raw, absolute, describe, expand

_ENV_VARS: Final = {
    "ZEROBYTE_URL": "url",
    "ZEROBYTE_API_KEY": "api_key",
    "ZEROBYTE_API_KEY_FILE": "api_key_file",
    "ZEROBYTE_MCP_ACCESS": "access",
    "ZEROBYTE_MCP_LOG_LEVEL": "log_level",
    "ZEROBYTE_MCP_HTTP_TOKEN": "http_token",
    "ZEROBYTE_MCP_HTTP_TOKEN_FILE": "http_token_file",
    "ZEROBYTE_MCP_HTTP_ALLOWED_HOSTS": "http_allowed_hosts",
    "ZEROBYTE_MCP_AUDIT_LOG": "audit_log",
    "ZEROBYTE_MCP_CATALOG": "catalog_path",
    "ZEROBYTE_MCP_CONFIRM_DESTRUCTIVE": "confirm_destructive",
    "ZEROBYTE_MCP_RESTORE_ROOTS": "restore_allowed_roots",
    "ZEROBYTE_MCP_VOLUME_ROOTS": "volume_allowed_roots",
}


# --- default places -------------------------------------------------------------------------------------------


def _xdg_folder(environ: Mapping[str, str], variable: str, *fallback: str) -> Path:
    """Our folder under the XDG base directory ``variable``; ``~/<fallback>`` when it is unset or relative."""
    xdg = environ.get(variable)
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()).joinpath(*fallback)
    return base / "zerobyte-mcp"


def default_catalog_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/zerobyte-mcp/catalog.sqlite`` (``~/.cache`` when unset)."""
    return _xdg_folder(environ, "XDG_CACHE_HOME", ".cache") / "catalog.sqlite"


def default_audit_log(environ: Mapping[str, str]) -> Path:
    """$XDG_STATE_HOME/zerobyte-mcp/audit.jsonl (~/.local/state/... without it): its own file, not stderr, so
    nothing logged on stderr (a request path, an upstream error) can pass for an audit line."""
    return _xdg_folder(environ, "XDG_STATE_HOME", ".local", "state") / "audit.jsonl"


def _user_config_file(environ: Mapping[str, str]) -> Path:
    return _xdg_folder(environ, "XDG_CONFIG_HOME", ".config") / "config.toml"


# --- the config file ------------------------------------------------------------------------------------------


def find_config_file(
    config_path: str | os.PathLike[str] | None, environ: Mapping[str, str], cwd: Path
) -> tuple[Path | None, str]:
    """The file named by --config or ZEROBYTE_MCP_CONFIG, else ./config.toml, else the user's; and how it was
    found (what `check` shows as its source)."""
    home = environ.get("HOME") or None
    if config_path is not None:
        path = absolute(expand(os.fspath(config_path), home), cwd)
        if not path.is_file():
            raise ConfigError(f"Config file {path} (given with --config) {_missing(path)}")
        return path, "command line --config"
    named = environ.get("ZEROBYTE_MCP_CONFIG")
    if named:
        path = absolute(expand(named, home), cwd)
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


def _missing(path: Path) -> str:
    return "is not a file" if path.exists() else "does not exist"


def missing_url_message(config_file: Path | None, environ: Mapping[str, str], cwd: Path) -> str:
    if config_file is not None:
        where = f"url in {config_file}"
    else:
        where = f"url in a config file (none found at {cwd / 'config.toml'} or {_user_config_file(environ)})"
    return f"No Zerobyte URL: set ZEROBYTE_URL or {where}, for example https://zerobyte.example.com"


def file_layer(path: Path, environ: Mapping[str, str]) -> dict[str, Raw]:
    import tomllib  # here, not at the top: a start-up without a config file need not pay for it

    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror or exc}") from None

    layer: dict[str, Raw] = {}
    source = f"config file {path}"
    home = environ.get("HOME") or None

    def add(table: str | None, key: str, value: object) -> None:
        name = TOML_FIELDS.get((table, key))
        if name is None:
            raise ConfigError(_unknown_setting_message(table, key, path))
        where = f"[{table}] {key} in {path}" if table else f"{key} in {path}"
        layer[name] = Raw(value, where, source, path.parent, home, text=False)

    for key, value in document.items():
        if key in TOML_TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{key} in {path} must be a table ([{key}]), got {describe(value)}")
            for inner, inner_value in value.items():
                add(key, inner, inner_value)
        elif (None, key) in TOML_FIELDS:
            add(None, key, value)
        elif isinstance(value, dict):
            raise ConfigError(_unknown_table_message(key, path))
        else:
            raise ConfigError(_unknown_setting_message(None, key, path))
    return layer


def _unknown_setting_message(table: str | None, key: str, path: Path) -> str:
    place = f"[{table}]" if table else "the top level"
    return f"Unknown setting {key!r} in {place} of {path}{_suggestion(table, key)}"


def _unknown_table_message(key: str, path: Path) -> str:
    import difflib  # error paths only (cold start)

    close = difflib.get_close_matches(key, TOML_TABLES, n=1)
    hint = f"; did you mean [{close[0]}]?" if close else f"; tables are {', '.join(f'[{t}]' for t in TOML_TABLES)}"
    return f"Unknown table [{key}] in {path}{hint}"


def _suggestion(table: str | None, key: str) -> str:
    # A field name or a key from another table ("log_level" at the top, "port" under [tls]) has a known home.
    home = TOML_LOCATION.get(key)
    if home is None:
        elsewhere = [(t, k) for (t, k) in TOML_FIELDS if k == key and t != table]
        home = elsewhere[0] if elsewhere else None
    if home is not None and home != (table, key):
        return f"; did you mean {_location(home)}?"
    import difflib  # error paths only (cold start)

    siblings = [k for (t, k) in TOML_FIELDS if t == table]
    close = difflib.get_close_matches(key, siblings, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    close = difflib.get_close_matches(key, [k for (_, k) in TOML_FIELDS], n=1)
    if close:
        loc = next(loc for loc in TOML_FIELDS if loc[1] == close[0])
        return f"; did you mean {_location(loc)}?"
    return f"; valid settings there: {', '.join(siblings)}"


def _location(loc: tuple[str | None, str]) -> str:
    table, key = loc
    return f"[{table}] {key}" if table else f"{key!r} at the top level"


# --- the environment and the command line ---------------------------------------------------------------------


def env_layer(environ: Mapping[str, str], cwd: Path) -> dict[str, Raw]:
    home = environ.get("HOME") or None
    layer: dict[str, Raw] = {}
    for var, name in _ENV_VARS.items():
        value = environ.get(var)
        if value:
            layer[name] = Raw(value, f"{var} (from environment)", f"environment {var}", cwd, home, text=True)
    return layer


def override_layer(overrides: Mapping[str, object], environ: Mapping[str, str], cwd: Path) -> dict[str, Raw]:
    home = environ.get("HOME") or None
    layer: dict[str, Raw] = {}
    for name, value in overrides.items():
        if value is None:
            continue
        # The CLI spells the HTTP flags without their prefix (--host, --port).
        flag = "--" + name.removeprefix("http_").replace("_", "-")
        if name not in SPECS:
            raise ConfigError(f"Unknown setting {flag} (from command line)")
        text = isinstance(value, str)
        layer[name] = Raw(value, f"{flag} (from command line)", f"command line {flag}", cwd, home, text=text)
    return layer
