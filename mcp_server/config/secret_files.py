"""Secrets given as a value or as a file that holds it: the Zerobyte API key and the HTTP bearer token.

A file is read (and its content checked) when the settings load and again whenever the secret is used,
so a rotated key works without a restart. Each secret has a shape a check enforces (an API key starts
with ``zb_``; a token is long enough), and every message names the file and who set it, never the value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .values import ConfigError, Raw, Secret

_MIN_HTTP_TOKEN_LENGTH: Final = 16
_KEY_PREFIX_HELP: Final = "Zerobyte API keys look like zb_…; create one in Zerobyte → Settings → API keys"
MISSING_KEY: Final = (
    "No Zerobyte API key: set ZEROBYTE_API_KEY or ZEROBYTE_API_KEY_FILE, or api_key_file in config.toml"
)


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


@dataclass(frozen=True)
class SecretSetting:
    """A secret given by the setting ``literal`` or by ``file``; ``check(value, where)`` enforces its shape."""

    literal: str
    file: str
    what: str  # how messages name it: "API key"
    check: Callable[[str, str], None]


API_KEY: Final = SecretSetting("api_key", "api_key_file", "API key", _check_api_key)
HTTP_TOKEN: Final = SecretSetting("http_token", "http_token_file", "HTTP token", _check_http_token)
SECRET_SETTINGS: Final = (API_KEY, HTTP_TOKEN)


def read_secret_file(secret: SecretSetting, path: Path, origin: str) -> Secret:
    """The checked content of ``path`` (surrounding white space removed); ``origin`` says who named the file."""
    where = f"{secret.what} file {path} (set by {origin})"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not readable as UTF-8 text"
        raise ConfigError(f"Cannot read {where}: {reason}") from None
    value = text.strip()
    if not value:
        raise ConfigError(f"{where[0].upper()}{where[1:]} is empty")
    secret.check(value, where)
    return Secret(value)


def resolve_secret(
    secret: SecretSetting, values: dict[str, object], sources: dict[str, str], chosen: Mapping[str, Raw]
) -> bool:
    """Read the file or check the value (whichever was chosen) into ``values``; False when neither is set."""
    from_file, literal = values.get(secret.file), values.get(secret.literal)
    if isinstance(from_file, Path):
        values[secret.literal] = read_secret_file(secret, from_file, sources[secret.file])
        sources[secret.literal] = f"file {from_file}"
    elif isinstance(literal, Secret):
        secret.check(literal.reveal(), chosen[secret.literal].where)
    else:
        return False
    return True


def readable_by_others(files: Mapping[str, Path | None]) -> list[str]:
    """One warning per secret file that others on the machine may read (the key gives Zerobyte's full rights)."""
    warnings = []
    for what, path in files.items():
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
