"""How a failed exchange with Zerobyte becomes one exception of :mod:`.errors`.

Zerobyte answers failures in five body shapes (``{message}``, zod ``{success,error,data}``, mount
``{status,error}``, text 404, text 429) and proxies add HTML pages; a request can also get no answer at
all (refused, DNS, TLS, timeout, reset). :func:`http_error` and :func:`unreachable` turn each case into
one exception whose message says what happened and what to do next; the helpers read bodies and headers
without ever echoing a secret. The transport that calls them is :mod:`.http`.
"""

from __future__ import annotations

import json
import math
import socket
import ssl
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from ..safety.redact import redact_text
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
    ZerobyteUnreachable,
)

if TYPE_CHECKING:
    import httpx  # imported where used, as in .http (cold start)

__all__ = [
    "API_PREFIX",
    "causes",
    "describe_body",
    "http_error",
    "looks_numeric",
    "lost_answer",
    "retry_after",
    "unreachable",
    "upstream_message",
]

API_PREFIX = "/api/v1"
KEY_ADVICE = "create one in Zerobyte → Settings → API keys and update ZEROBYTE_API_KEY or the key file"


def http_error(
    response: httpx.Response, method: str, path: str, what: Subject | None, *, base_url: str
) -> ZerobyteError:
    """The exception for an error status, from whichever of Zerobyte's body shapes (or a proxy's page) it has."""
    status = response.status_code
    route = f"{API_PREFIX}{path}"
    body = _json_or_none(response)
    upstream = upstream_message(response, body)
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
            return _route_missing(method, path, kw)
        return _not_found(what, "The object", f"404: {upstream or 'Not found'}", kw)
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
        after = retry_after(response)
        when = f"retry after {math.ceil(after)} s" if after is not None else "retry in a few minutes"
        err429 = RateLimited(
            f"Zerobyte's rate limit was reached (429: 1000 requests per 5 minutes per client IP); {when}.", **kw
        )
        err429.retry_after = after
        return err429
    if status >= 500:
        return _server_error(response, body, what, kw, base_url=base_url)
    return ZerobyteHTTPError(f"Zerobyte answered {status} to {method} {route}: {upstream or 'error'}.", **kw)


def _route_missing(method: str, path: str, kw: dict[str, Any]) -> NotFound:
    """A text 404: the route does not exist on this Zerobyte version (an object's 404 is JSON)."""
    if path in ("/tasks", "/events") or path.startswith("/tasks/"):
        # Zerobyte v0.40.0 (the first release with API keys) has no tasks API at all.
        message = (
            "This Zerobyte (v0.40) has no tasks API, so tasks cannot be listed, followed or cancelled; "
            "upgrade Zerobyte to v0.41+ for that."
        )
    else:
        message = (
            f"This Zerobyte has no route {kw['method']} {kw['route']} (404): it may be an older version; run "
            "`zerobyte-mcp check` to see what it supports."
        )
    err = NotFound(message, **kw)
    err.route_missing = True
    return err


def _not_found(what: Subject | None, unnamed: str, reason: str, kw: dict[str, Any]) -> NotFound:
    missing = NotFound(f"{what.text if what else unnamed} was not found ({reason}).", **kw)
    missing.resource = what.resource if what else None
    return missing


def _server_error(
    response: httpx.Response, body: Any, what: Subject | None, kw: dict[str, Any], *, base_url: str
) -> ZerobyteError:
    status, method, upstream = kw["status"], kw["method"], kw["upstream_message"]
    # Zerobyte's own 5xx are JSON ({message}); a text or HTML 502/503/504 comes from a proxy.
    if body is None and (status in (502, 503, 504) or not _is_text(response, strict=True)):
        return ServerError(
            f"Zerobyte or a proxy in front of it answered {status} with {describe_body(response)}: check that "
            f"Zerobyte is running behind {base_url}{_gateway_hint(status)}."
            + (lost_answer(method) if status in (502, 504) else ""),
            **kw,
        )
    details = body.get("details") if isinstance(body, dict) else None
    if isinstance(details, str) and "no matching ID found" in details:
        # restic 0.17+ on an unknown snapshot id: the real server answers 500, it means "not found"
        return _not_found(what, "The snapshot", "restic: no snapshot has that id", kw)
    text = upstream or (body.get("error") if isinstance(body, dict) else None) or "internal error"
    msg = f"Zerobyte failed ({status}): {text}"
    if isinstance(details, str) and details.strip():
        # restic's output can hold repository URLs with credentials and password=... pairs.
        msg += f". restic said: {_trim(redact_text(details.strip()), 600)}"
    if not msg.endswith("."):
        msg += "."
    err = ServerError(msg + _next_step(text, details), **kw)
    err.details = details if isinstance(details, str) else None
    return err


def unreachable(
    exc: httpx.HTTPError, method: str, path: str, *, base_url: str, connect_timeout: float
) -> ZerobyteUnreachable:
    """The exception for a request that got no usable answer, with the likely cause and what to check."""
    import httpx

    url = base_url
    where = f"{method} {API_PREFIX}{path}"
    if isinstance(exc, httpx.TimeoutException):
        if isinstance(exc, httpx.ConnectTimeout):
            return ZerobyteUnreachable(
                f"Timed out connecting to Zerobyte at {url} ({connect_timeout:g} s): check ZEROBYTE_URL, "
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
    chain = causes(exc)
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


# --- helpers -----------------------------------------------------------------------------------------


def lost_answer(method: str) -> str:
    """Advice for a write whose answer was lost: it may have been applied, so a blind retry could do it twice."""
    if method == "GET":
        return ""
    return (
        f" The {method} may have been applied before its answer was lost: check the current state "
        "(the matching list/get tool, list_active_tasks) before retrying, so it is not done twice."
    )


def causes(exc: BaseException) -> list[BaseException]:
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


def upstream_message(response: httpx.Response, body: Any = None) -> str | None:
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


def retry_after(response: httpx.Response) -> float | None:
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


def describe_body(response: httpx.Response) -> str:
    ctype = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    head = response.content[:200].lower()
    if b"<html" in head or b"<!doctype" in head or ctype == "text/html":
        return "an HTML page"
    return f"a {ctype} body"


def looks_numeric(body: bytes) -> bool:
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
