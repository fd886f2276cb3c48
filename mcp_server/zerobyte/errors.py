"""Every way a call to Zerobyte can fail, as one small exception tree.

Each exception's ``str()`` is an agent-facing sentence: what happened and what to do next. The tools
layer shows it as is, so messages never contain the API key or an echoed request body.

    ZerobyteError
    ├── InvalidArgument            bad id/path/value refused before any request was sent
    ├── ZerobyteUnreachable        connection refused, DNS, TLS, timeout, reset
    ├── ZerobyteProtocolError      an answer we cannot read (HTML from a proxy, truncated or mistyped JSON)
    └── ZerobyteHTTPError          Zerobyte answered with an error status
        ├── BadRequest             400 (zod issues summarised as field: message)
        ├── AuthenticationFailed   401 key invalid, expired or revoked
        ├── BrowserSessionRequired 401 the route refuses API keys
        ├── Forbidden              403 (organization context or role)
        ├── NotFound               404 (an object, or a route this Zerobyte version lacks)
        ├── Conflict               409 (already running, not cancellable, duplicate)
        ├── PayloadTooLarge        413
        ├── RateLimited            429 (text/plain, Retry-After)
        └── ServerError            5xx (restic's details included)
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "BrowserSessionRequired",
    "Conflict",
    "Forbidden",
    "InvalidArgument",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "Resource",
    "ServerError",
    "Subject",
    "ZerobyteError",
    "ZerobyteHTTPError",
    "ZerobyteProtocolError",
    "ZerobyteUnreachable",
]


class ZerobyteError(Exception):
    """Base of every failure the Zerobyte client raises; ``str()`` is the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgument(ZerobyteError, ValueError):
    """An argument was refused before any request was made (nothing changed)."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"Invalid {argument}: {problem}")
        self.argument = argument


class ZerobyteUnreachable(ZerobyteError):
    """No usable HTTP answer: connection refused, DNS, TLS, timeout or connection reset."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # "refused" | "dns" | "tls" | "timeout" | "reset" | "network"


class ZerobyteProtocolError(ZerobyteError):
    """Zerobyte (or a proxy) answered with something that is not the expected JSON."""


class ZerobyteHTTPError(ZerobyteError):
    """Zerobyte answered with an HTTP error status."""

    def __init__(
        self, message: str, *, status: int, method: str, route: str, upstream_message: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.route = route
        self.upstream_message = upstream_message


class BadRequest(ZerobyteHTTPError):
    """400: Zerobyte rejected the request body or query; ``issues`` holds "field: message" lines."""

    issues: tuple[str, ...] = ()


class AuthenticationFailed(ZerobyteHTTPError):
    """401 "Invalid or expired session": the key is unknown, revoked, disabled or expired."""


class BrowserSessionRequired(ZerobyteHTTPError):
    """401 "Browser session required": this route never accepts API keys."""


class Forbidden(ZerobyteHTTPError):
    """403: organization context lost, or the org role is too low."""


Resource = Literal[
    "backup_job", "repository", "volume", "snapshot", "file", "directory", "task", "notification_destination", "mirror"
]


class Subject(NamedTuple):
    """What a request is about: the kind of object, and how a message names it ("Backup job 'x'")."""

    resource: Resource
    text: str


class NotFound(ZerobyteHTTPError):
    """404: the object does not exist (or, with ``route_missing``, the route does not).

    ``resource`` is the kind of object that was not found, when the request named one.
    """

    route_missing: bool = False
    resource: Resource | None = None


class Conflict(ZerobyteHTTPError):
    """409: already running, not cancellable, or a duplicate name."""


class PayloadTooLarge(ZerobyteHTTPError):
    """413: the request body is above Zerobyte's 10 MiB limit."""


class RateLimited(ZerobyteHTTPError):
    """429: Zerobyte's per-IP rate limit (1000 requests per 5 minutes) was reached."""

    retry_after: float | None = None


class ServerError(ZerobyteHTTPError):
    """5xx: Zerobyte (often restic underneath) failed."""

    details: str | None = None
