"""Small shared helpers for the simulator: id formats, timestamps and secret sealing.

Exists so every other simulator module produces identifiers and timestamps in exactly the formats
a real Zerobyte server uses (8-char base64url short ids, UUIDv7 strings, 64-hex restic snapshot ids,
epoch-millisecond integers, restic's nanosecond ISO strings, ``encv1:`` sealed secrets) without
repeating the formatting rules.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import random
from typing import Any

Json = dict[str, Any]
"""A JSON object as the API shows it."""

SHORT_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


class IdFactory:
    """Generates Zerobyte-shaped identifiers from one (optionally seeded) random source."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def short_id(self) -> str:
        return "".join(self._rng.choice(SHORT_ID_ALPHABET) for _ in range(8))

    def uuid7(self, ms: int) -> str:
        """A UUIDv7 like Zerobyte's: 48-bit millisecond prefix, version 7, ``rand_a`` zero."""
        ts = f"{ms & 0xFFFFFFFFFFFF:012x}"
        variant = self._rng.choice("89ab") + f"{self._rng.getrandbits(12):03x}"
        tail = f"{self._rng.getrandbits(48):012x}"
        return f"{ts[:8]}-{ts[8:12]}-7000-{variant}-{tail}"

    def snapshot_id(self) -> str:
        return f"{self._rng.getrandbits(256):064x}"

    def hexstr(self, n_bytes: int) -> str:
        return f"{self._rng.getrandbits(8 * n_bytes):0{2 * n_bytes}x}"

    def randint(self, lo: int, hi: int) -> int:
        return self._rng.randint(lo, hi)

    def random(self) -> float:
        return self._rng.random()


def iso_from_ms(ms: int | float, *, nanos: bool = True) -> str:
    """Restic-style UTC timestamp: ``2026-11-27T23:24:01.115214676Z`` (nanoseconds, deterministic tail)."""
    ms_int = int(ms)
    dt = _dt.datetime.fromtimestamp(ms_int / 1000, tz=_dt.UTC)
    millis = ms_int % 1000
    if not nanos:
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"
    tail = int(hashlib.blake2b(str(ms_int).encode(), digest_size=4).hexdigest(), 16) % 1_000_000
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}{tail:06d}Z"


def utc_parts(ms: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC)


def stable_hash(*parts: object) -> int:
    """A process-independent 64-bit hash (``hash()`` is salted per process)."""
    data = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class SecretBox:
    """Seals secrets the way Zerobyte shows them (``encv1:<salt>:<iv>:<ciphertext>:<tag>``).

    The plaintext is kept in memory so the simulator can tell an echoed sealed value from a new one,
    exactly like the real server decrypting with its ``APP_SECRET``.
    """

    PREFIX = "encv1:"

    def __init__(self, ids: IdFactory) -> None:
        self._ids = ids
        self._plain: dict[str, str] = {}

    def seal(self, value: str) -> str:
        if value.startswith(self.PREFIX):
            return value
        cipher = hashlib.sha256(("zb" + value).encode()).hexdigest()
        cipher = (cipher * (len(value) * 2 // len(cipher) + 1))[: max(2, len(value.encode()) * 2)]
        sealed = f"{self.PREFIX}{self._ids.hexstr(16)}:{self._ids.hexstr(12)}:{cipher}:{self._ids.hexstr(16)}"
        self._plain[sealed] = value
        return sealed

    def unseal(self, value: str) -> str:
        return self._plain.get(value, value)

    def is_sealed(self, value: object) -> bool:
        return isinstance(value, str) and value.startswith(self.PREFIX)


VOLUME_SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "smb": ("password",),
    "webdav": ("password",),
    "sftp": ("password", "privateKey"),
}
REPOSITORY_SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "s3": ("accessKeyId", "secretAccessKey"),
    "r2": ("accessKeyId", "secretAccessKey"),
    "gcs": ("credentialsJson",),
    "azure": ("accountKey",),
    "rest": ("username", "password"),
    "sftp": ("privateKey",),
}
REPOSITORY_COMMON_SECRETS = ("customPassword", "cacert")
NOTIFICATION_SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "email": ("password",),
    "slack": ("webhookUrl",),
    "discord": ("webhookUrl",),
    "gotify": ("token",),
    "ntfy": ("password", "accessToken"),
    "pushover": ("apiToken",),
    "telegram": ("botToken",),
    "custom": ("shoutrrrUrl",),
}


def seal_config(box: SecretBox, config: Json, fields: tuple[str, ...]) -> Json:
    out = dict(config)
    for key in fields:
        value = out.get(key)
        if isinstance(value, str) and value:
            out[key] = box.seal(value)
    return out


def unseal_config(box: SecretBox, config: Json) -> Json:
    return {k: box.unseal(v) if isinstance(v, str) else v for k, v in config.items()}
