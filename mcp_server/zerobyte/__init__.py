"""Typed async client for Zerobyte's /api/v1 (API-key auth), its models and its errors."""

from .client import Capabilities, DumpResult, ZerobyteClient
from .errors import (
    AuthenticationFailed,
    BadRequest,
    BrowserSessionRequired,
    Conflict,
    Forbidden,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ZerobyteError,
    ZerobyteHTTPError,
    ZerobyteProtocolError,
    ZerobyteUnreachable,
)
from .http import Timeouts

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "BrowserSessionRequired",
    "Capabilities",
    "Conflict",
    "DumpResult",
    "Forbidden",
    "InvalidArgument",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "ServerError",
    "Timeouts",
    "ZerobyteClient",
    "ZerobyteError",
    "ZerobyteHTTPError",
    "ZerobyteProtocolError",
    "ZerobyteUnreachable",
]
