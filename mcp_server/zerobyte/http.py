"""The HTTP layer under the Zerobyte client: one ``httpx.AsyncClient``, retries, and error mapping.

Zerobyte answers failures in five body shapes (``{message}``, zod ``{success,error,data}``, mount
``{status,error}``, text 404, text 429) and proxies add HTML pages; this module turns each into one
exception from :mod:`.errors` with advice a model can act on. Idempotent GETs are retried with bounded
backoff; other methods are never retried, except once after a 401 when the key file holds a new key
(a 401 means Zerobyte did nothing).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import anyio

from ..redact import redact_text
from .errors import (
    AuthenticationFailed,
    BadRequest,
    BrowserSessionRequired,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Subject,
    ZerobyteError,
    ZerobyteHTTPError,
    ZerobyteProtocolError,
    ZerobyteUnreachable,
)
from .ids import quote_segment

if TYPE_CHECKING:
    # Imported where first used: httpx costs ~15 ms of every cold start, and the server answers the MCP
    # handshake and tools/list without it.
    import httpx

__all__ = ["API_PREFIX", "AnswerHook", "HttpCore", "RateLimit", "SSEEvent", "Timeouts", "lost_answer"]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
_NO_BODY: Any = object()
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
KEY_ADVICE = "create one in Zerobyte → Settings → API keys and update ZEROBYTE_API_KEY or the key file"


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

    @property
    def _client(self) -> httpx.AsyncClient:
        # Built on first use, not in __init__: loading the TLS trust store takes tens of milliseconds, and the
        # server's lifespan builds this object before it can answer the MCP handshake (cold start budget).
        if self._pool is None:
            import httpx

            verify = (
                _tls_context(self._verify) if isinstance(self._verify, str) or self._verify is True else self._verify
            )
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
            if idempotent and attempt < self._max_attempts and response.status_code in _RETRY_STATUSES:
                delay = self._delay(attempt)
                if response.status_code == 429:
                    after = _retry_after(response)
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
        if _message(response) == "Browser session required":
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

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        body = response.content
        if not body.strip():
            return None
        ctype = response.headers.get("content-type", "")
        if (
            "json" not in ctype
            and body.lstrip()[:1] not in (b"{", b"[", b"n", b"t", b"f", b'"')
            and not _looks_numeric(body)
        ):
            raise ZerobyteProtocolError(
                f"Zerobyte answered {method} {API_PREFIX}{path} with {_describe_body(response)} instead of JSON: "
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

    def _unreachable(self, exc: httpx.HTTPError, method: str, path: str) -> ZerobyteUnreachable:
        import httpx

        url = self.base_url
        where = f"{method} {API_PREFIX}{path}"
        if isinstance(exc, httpx.TimeoutException):
            if isinstance(exc, httpx.ConnectTimeout):
                return ZerobyteUnreachable(
                    f"Timed out connecting to Zerobyte at {url} ({self.timeouts.connect:g} s): check ZEROBYTE_URL, "
                    "the network and any firewall.",
                    kind="timeout",
                )
            return ZerobyteUnreachable(
                f"Zerobyte at {url} did not answer {where} in time: it may be busy (a repository lock or a long "
                "restic operation)."
                + (" Retry later, or raise timeouts.read / timeouts.heavy." if method == "GET" else "")
                + lost_answer(method),
                kind="timeout",
            )
        chain = _causes(exc)
        if any(isinstance(c, ssl.SSLCertVerificationError) for c in chain) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            reason = next((str(c.verify_message) for c in chain if isinstance(c, ssl.SSLCertVerificationError)), "")
            return ZerobyteUnreachable(
                f"TLS certificate of {url} could not be verified ({reason or 'verification failed'}): set "
                "tls.ca_bundle to the CA that signed it, or tls.verify = false for a self-signed certificate "
                "you trust.",
                kind="tls",
            )
        if any(isinstance(c, ssl.SSLError) for c in chain):
            return ZerobyteUnreachable(
                f"TLS handshake with {url} failed: check that the URL's scheme (http/https) and port are right.",
                kind="tls",
            )
        if any(isinstance(c, socket.gaierror) for c in chain) or _dns_text(str(exc)):
            return ZerobyteUnreachable(
                f"Cannot resolve the host of {url} (DNS lookup failed): check ZEROBYTE_URL.", kind="dns"
            )
        if any(isinstance(c, ConnectionRefusedError) for c in chain) or "refused" in str(exc).lower():
            return ZerobyteUnreachable(
                f"Cannot connect to Zerobyte at {url}: connection refused. Is Zerobyte running, and are the host and "
                "port in ZEROBYTE_URL right?",
                kind="refused",
            )
        if isinstance(exc, httpx.ConnectError):
            return ZerobyteUnreachable(
                f"Cannot connect to Zerobyte at {url} ({_short(exc)}): check ZEROBYTE_URL and the network.",
                kind="network",
            )
        return ZerobyteUnreachable(
            f"The connection to Zerobyte at {url} broke during {where} ({type(exc).__name__}): the server or a proxy "
            "closed it. "
            + ("Retry; if it persists, check Zerobyte's logs." if method == "GET" else lost_answer(method).lstrip()),
            kind="reset",
        )

    def _error(self, response: httpx.Response, method: str, path: str, what: Subject | None) -> ZerobyteError:
        status = response.status_code
        route = f"{API_PREFIX}{path}"
        body = _json_or_none(response)
        upstream = _message(response, body)
        kw: dict[str, Any] = {"status": status, "method": method, "route": route, "upstream_message": upstream}
        if status == 401:
            if upstream == "Browser session required":
                return BrowserSessionRequired(
                    f"Zerobyte refuses API keys on {method} {route} (401 Browser session required): this action is "
                    "only possible in the Zerobyte web UI.",
                    **kw,
                )
            return AuthenticationFailed(
                f"API key rejected (401): it is invalid, expired or revoked; {KEY_ADVICE}.",
                **kw,
            )
        if status == 403:
            if upstream == "Invalid organization context":
                return Forbidden(
                    "API key refused (403 Invalid organization context): the key's user is no longer a member of the "
                    "organization the key belongs to; an owner must re-add the user, then a new key is needed.",
                    **kw,
                )
            return Forbidden(f"Zerobyte refused {method} {route} (403 {upstream or 'Forbidden'}).", **kw)
        if status == 404:
            if body is None and _is_text(response):
                if path in ("/tasks", "/events") or path.startswith("/tasks/"):
                    # Zerobyte v0.40.0 (the first release with API keys) has no tasks API at all.
                    message = (
                        "This Zerobyte (v0.40) has no tasks API, so tasks cannot be listed, followed or cancelled; "
                        "upgrade Zerobyte to v0.41+ for that."
                    )
                else:
                    message = (
                        f"This Zerobyte has no route {method} {route} (404): it may be an older version; run "
                        "`zerobyte-mcp check` to see what it supports."
                    )
                err = NotFound(message, **kw)
                err.route_missing = True
                return err
            missing = NotFound(
                f"{what.text if what else 'The object'} was not found (404: {upstream or 'Not found'}).", **kw
            )
            missing.resource = what.resource if what else None
            return missing
        if status == 409:
            return Conflict(f"Zerobyte refused: {upstream or 'conflict'} (409).", **kw)
        if status == 400:
            issues = _zod_issues(body)
            if issues:
                err400 = BadRequest("Zerobyte rejected the request (400): " + "; ".join(issues) + ".", **kw)
                err400.issues = tuple(issues)
                return err400
            return BadRequest(f"Zerobyte rejected the request (400): {upstream or 'bad request'}.", **kw)
        if status == 413:
            return PayloadTooLarge("Request body too large (413): Zerobyte accepts at most 10 MiB.", **kw)
        if status == 429:
            after = _retry_after(response)
            when = f"retry after {math.ceil(after)} s" if after is not None else "retry in a few minutes"
            err429 = RateLimited(
                f"Zerobyte's rate limit was reached (429: 1000 requests per 5 minutes per client IP); {when}.", **kw
            )
            err429.retry_after = after
            return err429
        if status >= 500:
            # Zerobyte's own 5xx are JSON ({message}); a text or HTML 502/503/504 comes from a proxy.
            if body is None and (status in (502, 503, 504) or not _is_text(response, strict=True)):
                return ServerError(
                    f"Zerobyte or a proxy in front of it answered {status} with {_describe_body(response)}: check that "
                    f"Zerobyte is running behind {self.base_url}{_gateway_hint(status)}."
                    + (lost_answer(method) if status in (502, 504) else ""),
                    **kw,
                )
            details = body.get("details") if isinstance(body, dict) else None
            if isinstance(details, str) and "no matching ID found" in details:
                # restic 0.17+ on an unknown snapshot id: the real server answers 500, it means "not found"
                gone = NotFound(
                    f"{what.text if what else 'The snapshot'} was not found (restic: no snapshot has that id).", **kw
                )
                gone.resource = what.resource if what else None
                return gone
            text = upstream or (body.get("error") if isinstance(body, dict) else None) or "internal error"
            msg = f"Zerobyte failed ({status}): {text}"
            if isinstance(details, str) and details.strip():
                # restic's output can hold repository URLs with credentials and password=... pairs.
                msg += f". restic said: {_trim(redact_text(details.strip()), 600)}"
            if not msg.endswith("."):
                msg += "."
            err5 = ServerError(msg + _next_step(text, details), **kw)
            err5.details = details if isinstance(details, str) else None
            return err5
        return ZerobyteHTTPError(f"Zerobyte answered {status} to {method} {route}: {upstream or 'error'}.", **kw)


# --- helpers -----------------------------------------------------------------------------------------


def lost_answer(method: str) -> str:
    """Advice for a write whose answer was lost: it may have been applied, so a blind retry could do it twice."""
    if method == "GET":
        return ""
    return (
        f" The {method} may have been applied before its answer was lost: check the current state "
        "(the matching list/get tool, list_active_tasks) before retrying, so it is not done twice."
    )


def _clean_params(params: Mapping[str, str | int | None] | None) -> dict[str, str] | None:
    if not params:
        return None
    return {k: str(v) for k, v in params.items() if v is not None}


def _retryable_exception(exc: httpx.HTTPError) -> bool:
    import httpx

    return isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.RemoteProtocolError | httpx.ReadError | httpx.PoolTimeout
    ) and not any(isinstance(c, ssl.SSLError | socket.gaierror) for c in _causes(exc))


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 10:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def _dns_text(text: str) -> bool:
    lowered = text.lower()
    return any(
        s in lowered for s in ("name or service not known", "nodename nor servname", "getaddrinfo", "no address")
    )


def _short(exc: BaseException) -> str:
    return _trim(str(exc) or type(exc).__name__, 160)


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content.strip() else None
    except ValueError:
        return None


def _is_text(response: httpx.Response, *, strict: bool = False) -> bool:
    ctype = str(response.headers.get("content-type", ""))
    if strict:
        return ctype.startswith("text/plain")
    return ctype.startswith("text/plain") or not ctype


def _message(response: httpx.Response, body: Any = None) -> str | None:
    if body is None:
        body = _json_or_none(response)
    if isinstance(body, dict):
        msg = body.get("message")
        if isinstance(msg, str):
            return redact_text(msg)
        err = body.get("error")
        if isinstance(err, str):
            return redact_text(err)
        return None
    if isinstance(body, str):
        return redact_text(body)
    if _is_text(response, strict=True):
        return redact_text(_trim(response.text.strip(), 200)) or None
    return None


def _zod_issues(body: Any) -> list[str]:
    """Summarise zod issues as "field: message"; the echoed ``data`` is never read (it can hold secrets)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), list):
        return []
    out: list[str] = []
    for issue in body["error"][:8]:
        if not isinstance(issue, dict):
            continue
        path = issue.get("path")
        where = ".".join(str(p) for p in path) if isinstance(path, list) and path else "body"
        msg = issue.get("message")
        out.append(f"{where}: {redact_text(str(msg)) if msg else issue.get('code', 'invalid')}")
    return out


def _int_header(response: httpx.Response, name: str) -> int | None:
    raw = response.headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw.strip().split(",")[0])
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _describe_body(response: httpx.Response) -> str:
    ctype = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    head = response.content[:200].lower()
    if b"<html" in head or b"<!doctype" in head or ctype == "text/html":
        return "an HTML page"
    return f"a {ctype} body"


def _looks_numeric(body: bytes) -> bool:
    return body.strip()[:1].isdigit() or body.strip()[:1] == b"-"


def _gateway_hint(status: int) -> str:
    if status in (502, 504):
        return " (the proxy could not reach it or it timed out)"
    if status == 503:
        return " (it may be starting or overloaded; retry shortly)"
    return ""


def _next_step(message: str, details: object) -> str:
    text = f"{message} {details if isinstance(details, str) else ''}".lower()
    if "lock" in text:
        return " Next: unlock the repository (or run doctor) once no backup is running."
    if "wrong password" in text or "no key found" in text:
        return " The repository's password changed or its keys/data are missing."
    if "no space left" in text:
        return " The destination disk is full: free space or apply retention."
    if "not mounted" in text:
        return " Mount the volume (or check its health) and retry."
    return ""


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
