"""Single-use confirmation tokens: the memory behind "preview first, act on the second call".

A destructive call without elicitation returns a preview and a token bound to the tool, its exact
arguments and a digest of the previewed effect (``confirm.py`` decides when). This module only issues
and redeems such tokens; it knows nothing of MCP, so the per-process store can live in ``AppContext``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = [
    "MAX_ISSUED",
    "TOKEN_PREFIX",
    "ConfirmationStore",
    "Previewed",
    "TokenRejected",
    "canonical",
    "now",
    "utc_text",
]

TOKEN_PREFIX = "zbc1"
MAX_ISSUED = 10_000


def now() -> float:
    """The clock tokens are checked against (tests move it forward)."""
    return time.time()


class Previewed(Protocol):
    """What a token is bound to besides tool and arguments: the previewed effect, as a digest."""

    def digest(self) -> str: ...


class TokenRejected(Exception):
    """A confirm_token that does not authorise this call; ``str()`` tells the agent what to do."""


@dataclass(frozen=True)
class _Issued:
    tool: str
    arguments: str
    preview: str
    expires: float


class ConfirmationStore:
    """Issues and redeems single-use confirmation tokens.

    Token: ``zbc1.<expires unix s>.<nonce>.<mac>``, mac = HMAC-SHA256 (per-process random key) over
    tool, canonical JSON of the arguments (without the token), digest of the preview, expiry and nonce.
    Used nonces are remembered until they expire; issued ones are remembered to explain a mismatch.
    """

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._key = secrets.token_bytes(32)
        self._issued: dict[str, _Issued] = {}
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, *, tool: str, arguments: Mapping[str, Any], preview: Previewed) -> tuple[str, float]:
        expires = int(now() + self.ttl) + 1
        nonce = secrets.token_urlsafe(12)
        args = canonical(arguments)
        mac = self._mac(tool, args, preview.digest(), expires, nonce)
        with self._lock:
            self._purge()
            if len(self._issued) >= MAX_ISSUED:
                self._issued.pop(next(iter(self._issued)))
            self._issued[nonce] = _Issued(tool, args, preview.digest(), float(expires))
        return f"{TOKEN_PREFIX}.{expires}.{nonce}.{mac}", float(expires)

    def redeem(self, token: str, *, tool: str, arguments: Mapping[str, Any], preview: Previewed) -> None:
        """Accept the token for exactly this call (and burn it), or raise :class:`TokenRejected`."""
        again = f"Call {tool} without confirm_token to get a fresh preview, and show it to the user."
        parts = token.strip().split(".")
        if len(parts) != 4 or parts[0] != TOKEN_PREFIX or not parts[1].isdigit():
            raise TokenRejected(f"confirm_token is not a token this server issued. {again}")
        _, expires_text, nonce, mac = parts
        expires = int(expires_text)
        args = canonical(arguments)
        expected = self._mac(tool, args, preview.digest(), expires, nonce)
        with self._lock:
            self._purge()
            if not hmac.compare_digest(expected, mac):
                raise TokenRejected(self._mismatch(nonce, tool, args, preview) + " " + again)
            if nonce in self._used:
                raise TokenRejected(f"This confirm_token was already used; each token works once. {again}")
            if now() > expires:
                raise TokenRejected(
                    f"This confirm_token expired at {utc_text(expires)} (tokens last {self.ttl:g} s). {again}"
                )
            self._used[nonce] = float(expires)
            self._issued.pop(nonce, None)

    def _mismatch(self, nonce: str, tool: str, args: str, preview: Previewed) -> str:
        issued = self._issued.get(nonce)
        if issued is None:
            return "confirm_token is not valid (altered, forged, or issued before this server restarted)."
        if issued.tool != tool:
            return f"This confirm_token was issued for {issued.tool}, not {tool}."
        if issued.arguments != args:
            return f"This confirm_token was issued for {tool} with other arguments; a token only fits its preview."
        if issued.preview != preview.digest():
            return "What this call would do has changed since the preview (the data moved on)."
        return "confirm_token is not valid."

    def _mac(self, tool: str, args: str, preview: str, expires: int, nonce: str) -> str:
        message = "\n".join((TOKEN_PREFIX, tool, args, preview, str(expires), nonce)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _purge(self) -> None:
        t = now()
        for nonce in [n for n, exp in self._used.items() if exp < t]:
            del self._used[nonce]
        for nonce in [n for n, rec in self._issued.items() if rec.expires < t]:
            del self._issued[nonce]


def canonical(value: Any) -> str:
    """Canonical JSON: equal values give equal text, so digests and MACs compare."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def utc_text(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
