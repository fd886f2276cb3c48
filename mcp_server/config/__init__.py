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

This module holds the `Settings` model and `load_settings`, which stacks the layers; `values` says what each
setting accepts, `sources` reads the file, environment and flags, and `secret_files` reads and checks the key
and token files.
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final

from mcp_server.safety.redact import REDACTED

from .secret_files import (
    API_KEY,
    HTTP_TOKEN,
    MISSING_KEY,
    SECRET_SETTINGS,
    read_secret_file,
    readable_by_others,
    resolve_secret,
)
from .sources import (
    default_audit_log,
    default_catalog_path,
    env_layer,
    file_layer,
    find_config_file,
    missing_url_message,
    override_layer,
)
from .values import ACCESS_LEVELS, SPECS, AccessLevel, ConfigError, Raw, Secret

__all__ = [
    "ACCESS_LEVELS",
    "AccessLevel",
    "ConfigError",
    "Secret",
    "Settings",
    "default_catalog_path",
    "load_settings",
    "secret_file_warnings",
]

_PAIRED: Final = frozenset(name for secret in SECRET_SETTINGS for name in (secret.literal, secret.file))


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
            return read_secret_file(API_KEY, self.api_key_file, origin)
        if self.api_key is None:
            raise ConfigError(MISSING_KEY)
        return self.api_key

    def read_http_token(self) -> Secret | None:
        """The HTTP bearer token now (re-reads `http_token_file`), or None when none is configured."""
        if self.http_token_file is not None:
            origin = self.sources.get("http_token_file", "settings")
            return read_secret_file(HTTP_TOKEN, self.http_token_file, origin)
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
    config_file, config_source = find_config_file(config_path, environ, cwd)

    layers: list[dict[str, Raw]] = []
    if config_file is not None:
        layers.append(file_layer(config_file, environ))
    layers.append(env_layer(environ, cwd))
    layers.append(override_layer(overrides or {}, environ, cwd))

    chosen: dict[str, Raw] = {}
    for layer in layers:
        chosen.update((name, raw) for name, raw in layer.items() if name not in _PAIRED)
    for secret in SECRET_SETTINGS:
        # The highest layer that gives either wins; within it, the file wins over the value.
        for layer in reversed(layers):
            given = next((name for name in (secret.file, secret.literal) if name in layer), None)
            if given is not None:
                chosen[given] = layer[given]
                break

    values: dict[str, object] = {}
    sources: dict[str, str] = {f.name: "default" for f in fields(Settings) if f.name != "sources"}
    for name, raw in chosen.items():
        values[name] = SPECS[name].convert(raw)
        sources[name] = raw.source
    if config_file is not None:
        values["config_file"] = config_file
        sources["config_file"] = config_source

    if "url" not in values:
        raise ConfigError(missing_url_message(config_file, environ, cwd))

    if "audit_log" not in values:
        values["audit_log"] = default_audit_log(environ)
    if not resolve_secret(API_KEY, values, sources, chosen) and require_key:
        raise ConfigError(MISSING_KEY)
    resolve_secret(HTTP_TOKEN, values, sources, chosen)
    ca_bundle = values.get("ca_bundle")
    if isinstance(ca_bundle, Path) and not ca_bundle.is_file():
        raise ConfigError(f"{chosen['ca_bundle'].where} names {ca_bundle}, which is not a file")

    if "catalog_path" not in values:
        values["catalog_path"] = default_catalog_path(environ)
    values["sources"] = types.MappingProxyType(sources)
    return Settings(**values)  # type: ignore[arg-type]


def secret_file_warnings(settings: Settings) -> list[str]:
    """One warning per secret file that others on the machine may read (the key gives Zerobyte's full rights)."""
    return readable_by_others({"api_key_file": settings.api_key_file, "http token_file": settings.http_token_file})


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
