"""The transport under the Zerobyte client: one ``httpx.AsyncClient``, retries, JSON and event streams.

:class:`HttpCore` owns the connection pool and the API key, sends each request to ``/api/v1``, reads
the answer as JSON (or streams it: dumps, Server-Sent Events) and notes Zerobyte's rate-limit headers.
Idempotent GETs are retried with bounded backoff; other methods are never retried, except once after a
401 when the key file holds a new key (a 401 means Zerobyte did nothing). Which exception a failure
becomes is decided in :mod:`.failures`.
"""

from __future__ import annotations

import functools
import json
import logging
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from .errors import Subject, ZerobyteError, ZerobyteHTTPError, ZerobyteProtocolError, ZerobyteUnreachable
from .failures import (
    API_PREFIX,
    causes,
    describe_body,
    http_error,
    looks_numeric,
    lost_answer,
    retry_after,
    unreachable,
    upstream_message,
)
from .ids import quote_segment

if TYPE_CHECKING:
    # Imported where first used: httpx costs ~15 ms of every cold start, and the server answers the MCP
    # handshake without it.
    import httpx

# When click is installed (the MCP SDK requires it), ``import httpx`` also imports httpx's command-line client
# (click, rich's progress and syntax, pygments' lexer map): about three times httpx's own import, in the first
# tools/list (it probes Zerobyte), for a CLI this process never runs. With a None entry httpx defines its
# stand-in ``main`` instead. Only while httpx is not imported yet: a loaded httpx is left as it is.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

__all__ = ["AnswerHook", "HttpCore", "KeySource", "RateLimit", "SSEEvent", "Timeouts"]

log = logging.getLogger(__name__)

_NO_BODY: Any = object()
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
LOCK_RETRIES = 6  # reads retried while restic reports the repository locked: 0.5 + 1 + 2 + 3 x 3 s


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0
    heavy: float = 300.0


@dataclass(frozen=True)
class RateLimit:
    """Zerobyte's ``RateLimit-*`` headers from the last answer (draft-7: policy "1000;w=300")."""

    limit: int
    window_seconds: float
    remaining: int | None
    reset_seconds: float | None

    @property
    def per_minute(self) -> float:
        return self.limit * 60.0 / self.window_seconds if self.window_seconds > 0 else float(self.limit)


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: str


KeySource = Callable[[], str]
# Called with (method, status) once per request, with the status of Zerobyte's final answer (after retries):
# the audit log takes the status of a tool's writes from here instead of each tool noting it by hand.
AnswerHook = Callable[[str, int], None]


@functools.cache
def _tls_context(verify: str | bool) -> ssl.SSLContext:
    """One TLS context per trust setting and process: loading a trust store costs ~80 ms, paid per client
    otherwise (httpx builds one per client, even for an http:// URL). A CA path becomes a context because
    httpx 0.28 deprecates verify=<CA file path>."""
    import httpx

    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else httpx.create_ssl_context()


def _speaks_tls(base_url: str) -> bool:
    """Whether a request to ``base_url`` can ever make a TLS handshake: an https:// URL, or an https:// proxy
    from the environment (httpx's ``trust_env``) in front of an http:// one."""
    from urllib.request import getproxies

    proxies = getproxies().values()
    return base_url.lower().startswith("https:") or any(p.lower().startswith("https:") for p in proxies)


def _no_trust() -> ssl.SSLContext:
    """For a client that never makes a TLS handshake: verifying, with no CA to trust (fails closed if ever used).
    Passing it keeps httpx from loading the trust store for nothing (tens of ms of the first request)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class HttpCore:
    """Sends requests to ``<base_url>/api/v1``; owns the connection pool and the key."""

    def __init__(
        self,
        base_url: str,
        api_key: KeySource,
        *,
        reload_key: KeySource | None = None,
        timeouts: Timeouts | None = None,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        max_attempts: int = 3,
        backoff: float = 0.25,
        max_retry_after: float = 5.0,
        user_agent: str = "zerobyte-mcp",
        on_answer: AnswerHook | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._on_answer = on_answer
        self._key_source = api_key
        self._reload_key = reload_key
        self._key = api_key()
        self.timeouts = timeouts or Timeouts()
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._verify = verify
        self._transport = transport
        self._user_agent = user_agent
        self._pool: httpx.AsyncClient | None = None
        self.rate_limit: RateLimit | None = None
        # Requests sent that may change something (any method but GET): readers that reuse an earlier answer
        # (backup_health's lists) read again once this moved.
        self.writes = 0

    @property
    def _client(self) -> httpx.AsyncClient:
        # Built on first use, not in __init__: loading the TLS trust store takes tens of milliseconds, and the
        # server's lifespan builds this object before it can answer the MCP handshake (cold start budget).
        if self._pool is None:
            import httpx

            verify = self._verify
            if isinstance(verify, str) or verify is True:
                verify = _tls_context(verify) if _speaks_tls(self.base_url) else _no_trust()
            self._pool = httpx.AsyncClient(
                base_url=self.base_url + API_PREFIX,
                timeout=httpx.Timeout(self.timeouts.read, connect=self.timeouts.connect),
                verify=verify,
                transport=self._transport,
                headers={"accept": "application/json", "user-agent": self._user_agent},
                follow_redirects=False,
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            )
        return self._pool

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    # --- public entry points ------------------------------------------------------------------------

    @staticmethod
    def path(template: str, **segments: str | int) -> str:
        """Fill ``{name}`` placeholders with percent-quoted, already validated segments."""
        return template.format(**{k: quote_segment(v) for k, v in segments.items()})

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        json_body: Any = _NO_BODY,
        heavy: bool = False,
        what: Subject | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON body (``None`` for an empty body)."""
        if method != "GET":
            self.writes += 1
        try:
            response = await self._send(method, path, params=params, json_body=json_body, heavy=heavy, what=what)
        except ZerobyteHTTPError as exc:
            self._answered(method, exc.status)
            raise
        self._answered(method, response.status_code)
        return self._decode(response, method, path)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | None] | None = None,
        read_timeout: float | None = None,
        accept: str = "*/*",
        what: Subject | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Open a streamed GET (dump, SSE); error statuses are raised before the body is read."""
        import httpx

        if method != "GET":
            self.writes += 1
        clean = _clean_params(params)
        timeout = httpx.Timeout(read_timeout or self.timeouts.read, connect=self.timeouts.connect)
        for attempt in (1, 2):
            try:
                async with self._client.stream(
                    method, path, params=clean, headers=self._headers(accept), timeout=timeout
                ) as response:
                    self._note_rate_limit(response)
                    if response.status_code >= 400:
                        await response.aread()
                        if attempt == 1 and await self._should_retry_with_new_key(response):
                            continue
                        raise self._error(response, method, path, what)
                    yield response
                    return
            except httpx.HTTPError as exc:
                raise self._unreachable(exc, method, path) from exc

    @asynccontextmanager
    async def sse(
        self, path: str, *, params: Mapping[str, str | int | None] | None = None, what: Subject | None = None
    ) -> AsyncIterator[AsyncIterator[SSEEvent]]:
        """Open a Server-Sent Events stream; the caller closes it (Zerobyte never does)."""
        # Zerobyte sends a heartbeat every 5 s, so a silent minute means the stream is dead.
        async with self.stream(
            "GET",
            path,
            params=params,
            read_timeout=max(self.timeouts.read, 20.0),
            accept="text/event-stream",
            what=what,
        ) as response:
            yield _parse_sse(response)

    # --- internals ------------------------------------------------------------------------------------

    def _note_rate_limit(self, response: httpx.Response) -> None:
        limit = _int_header(response, "ratelimit-limit")
        if limit is None or limit <= 0:
            return
        window = 300.0
        policy = response.headers.get("ratelimit-policy", "")
        for part in policy.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key == "w":
                with suppress(ValueError):
                    window = max(1.0, float(value))
        reset = _int_header(response, "ratelimit-reset")
        self.rate_limit = RateLimit(
            limit, window, _int_header(response, "ratelimit-remaining"), float(reset) if reset is not None else None
        )

    def _answered(self, method: str, status: int) -> None:
        if self._on_answer is not None:
            self._on_answer(method, status)

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        return {"x-api-key": self._key, "accept": accept}

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | None] | None,
        json_body: Any,
        heavy: bool,
        what: Subject | None,
    ) -> httpx.Response:
        import httpx

        clean = _clean_params(params)
        timeout = httpx.Timeout(self.timeouts.heavy if heavy else self.timeouts.read, connect=self.timeouts.connect)
        idempotent = method == "GET"
        attempt = 0
        key_retried = False
        lock_tries = 0
        while True:
            attempt += 1
            kwargs: dict[str, Any] = {"params": clean, "headers": self._headers(), "timeout": timeout}
            if json_body is not _NO_BODY:
                kwargs["content"] = json.dumps(json_body, separators=(",", ":")).encode()
                kwargs["headers"]["content-type"] = "application/json"
            started = time.monotonic()
            try:
                response = await self._client.request(method, path, **kwargs)
                await response.aread()
            except httpx.HTTPError as exc:
                if idempotent and attempt < self._max_attempts and _retryable_exception(exc):
                    log.info("retrying %s %s after %s (attempt %d)", method, path, type(exc).__name__, attempt)
                    await anyio.sleep(self._delay(attempt))
                    continue
                raise self._unreachable(exc, method, path) from exc
            log.debug("%s %s -> %d in %.0f ms", method, path, response.status_code, 1000 * (time.monotonic() - started))
            self._note_rate_limit(response)
            if response.status_code < 400:
                return response
            if not key_retried and await self._should_retry_with_new_key(response):
                key_retried = True
                attempt -= 1
                continue
            if idempotent and lock_tries < LOCK_RETRIES and _repository_locked(response):
                # restic holds the repository for a moment (the forget Zerobyte runs after each backup, a mirror
                # copy): a read waits it out (~12 s at most). A stale lock outlasts that and is reported, with
                # the advice to unlock.
                lock_tries += 1
                log.info("retrying %s %s: the repository is locked by another restic run", method, path)
                await anyio.sleep(min(self._backoff * 2**lock_tries, 3.0))
                continue
            if idempotent and attempt < self._max_attempts and response.status_code in _RETRY_STATUSES:
                delay = self._delay(attempt)
                if response.status_code == 429:
                    after = retry_after(response)
                    if after is not None and after > self._max_retry_after:
                        raise self._error(response, method, path, what)
                    delay = max(delay, after or 0.0)
                log.info("retrying %s %s after HTTP %d (attempt %d)", method, path, response.status_code, attempt)
                await anyio.sleep(delay)
                continue
            raise self._error(response, method, path, what)

    def _delay(self, attempt: int) -> float:
        return float(min(self._backoff * (3 ** (attempt - 1)), 4.0))

    async def _should_retry_with_new_key(self, response: httpx.Response) -> bool:
        """After 'Invalid or expired session', re-read the key file; retry once if the key changed."""
        if response.status_code != 401 or self._reload_key is None:
            return False
        if upstream_message(response) == "Browser session required":
            return False
        try:
            fresh = await anyio.to_thread.run_sync(self._reload_key)
        except Exception as exc:  # the key file may be mid-rotation or gone; the 401 stands
            log.warning("could not re-read the API key file: %s", type(exc).__name__)
            return False
        if fresh and fresh != self._key:
            log.info("API key rejected; retrying once with the key re-read from its file")
            self._key = fresh
            return True
        return False

    def _unreachable(self, exc: httpx.HTTPError, method: str, path: str) -> ZerobyteUnreachable:
        return unreachable(exc, method, path, base_url=self.base_url, connect_timeout=self.timeouts.connect)

    def _error(self, response: httpx.Response, method: str, path: str, what: Subject | None) -> ZerobyteError:
        return http_error(response, method, path, what, base_url=self.base_url)

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        body = response.content
        if not body.strip():
            return None
        ctype = response.headers.get("content-type", "")
        if (
            "json" not in ctype
            and body.lstrip()[:1] not in (b"{", b"[", b"n", b"t", b"f", b'"')
            and not looks_numeric(body)
        ):
            raise ZerobyteProtocolError(
                f"Zerobyte answered {method} {API_PREFIX}{path} with {describe_body(response)} instead of JSON: "
                f"check that {self.base_url} is Zerobyte itself and not a login page or proxy." + lost_answer(method)
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ZerobyteProtocolError(
                f"Zerobyte answered {method} {API_PREFIX}{path} with malformed or truncated JSON "
                f"({len(body)} bytes; {exc.__class__.__name__} at position {getattr(exc, 'pos', '?')}): "
                + (
                    "retry; if it persists, check Zerobyte's logs or the proxy in front of it."
                    if method == "GET"
                    else "check Zerobyte's logs or the proxy in front of it." + lost_answer(method)
                )
            ) from None


# --- helpers -----------------------------------------------------------------------------------------


def _clean_params(params: Mapping[str, str | int | None] | None) -> dict[str, str] | None:
    if not params:
        return None
    return {k: str(v) for k, v in params.items() if v is not None}


def _repository_locked(response: httpx.Response) -> bool:
    """Zerobyte's 500 for a restic command that found the repository locked by another one."""
    return response.status_code == 500 and b"is already locked" in response.content


def _retryable_exception(exc: httpx.HTTPError) -> bool:
    import httpx

    return isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.RemoteProtocolError | httpx.ReadError | httpx.PoolTimeout
    ) and not any(isinstance(c, ssl.SSLError | socket.gaierror) for c in causes(exc))


def _int_header(response: httpx.Response, name: str) -> int | None:
    raw = response.headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw.strip().split(",")[0])
    except ValueError:
        return None


async def _parse_sse(response: httpx.Response) -> AsyncIterator[SSEEvent]:
    event = "message"
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield SSEEvent(event, "\n".join(data))
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
    if data:
        yield SSEEvent(event, "\n".join(data))
