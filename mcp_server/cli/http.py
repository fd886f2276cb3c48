"""Streamable HTTP transport: the same MCP server behind a bearer token, Host/Origin checks and a health endpoint.

``GET /status`` (behind the same token and checks) answers the ``backup_health`` verdict as JSON for dashboards
and uptime monitors, from the same code as ``zerobyte-mcp health --json`` (see health.py).

Over HTTP anyone who can reach the port acts with the user's Zerobyte key (which has its user's full rights), so
the app refuses to start without a token unless it listens on loopback and unauthenticated access was asked for
explicitly. The SDK's streamable HTTP app does the MCP part (both protocol eras, sessions); this module guards it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import socket
import time
from typing import Any, Final
from urllib.parse import parse_qs

import anyio
from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import ConfigError, Settings
from ..safety.redact import redact_text

__all__ = ["HEALTH_PATH", "STATUS_PATH", "HttpSetupError", "build_http_app", "is_loopback", "run_http"]

log = logging.getLogger(__name__)

HEALTH_PATH: Final = "/healthz"
STATUS_PATH: Final = "/status"
# A dashboard refreshing every few seconds gets the same verdict for this long instead of ~6 Zerobyte requests
# per refresh (backups change state over minutes, not seconds).
STATUS_TTL: Final = 30.0
REALM: Final = "zerobyte-mcp"
# A supervisor polling ?deep=1 every second must not spend Zerobyte's rate budget (1000 requests per 5 minutes
# per client IP) nor open a connection each time.
DEEP_HEALTH_TTL: Final = 5.0
_LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "[::1]")
_TOKEN_HELP: Final = (
    "set ZEROBYTE_MCP_HTTP_TOKEN_FILE (or token_file under [http] in config.toml) to a file holding a long random "
    "token, e.g. made with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


class HttpSetupError(ConfigError):
    """The HTTP settings are unsafe or incomplete; the message says what to set."""


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def build_http_app(server: MCPServer[Any], settings: Settings) -> Starlette:
    """The guarded Starlette app for ``server``; raises HttpSetupError/ConfigError when the settings are unsafe."""
    tokens = _TokenSource(settings)
    if tokens.configured:
        if settings.http_allow_unauthenticated:
            log.warning("http_allow_unauthenticated is ignored: a bearer token is configured and will be required")
    elif not is_loopback(settings.http_host):
        raise HttpSetupError(
            f"Refusing to listen on {settings.http_host} without a bearer token: anyone who can reach "
            f"port {settings.http_port} would act with your Zerobyte API key. Either {_TOKEN_HELP}, or listen on "
            "127.0.0.1 (the default) and put a reverse proxy in front."
        )
    elif not settings.http_allow_unauthenticated:
        raise HttpSetupError(
            f"HTTP mode needs a bearer token: {_TOKEN_HELP}. Clients then send 'Authorization: Bearer <token>'. "
            "For a quick local test only, set allow_unauthenticated = true under [http] in config.toml "
            "(accepted on loopback addresses only)."
        )
    else:
        log.warning(
            "HTTP without authentication on %s: every local process and user can use your Zerobyte key through "
            "this server",
            settings.http_host,
        )

    allowed_hosts = _allowed_hosts(settings)
    allowed_origins = _allowed_origins(settings)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )
    app = server.streamable_http_app(
        streamable_http_path=settings.http_path, transport_security=security, host=settings.http_host
    )
    app.add_middleware(
        _Guard,
        tokens=tokens,
        health=_Health(settings),
        status=_Status(settings),
        host_check=_Allowlist(allowed_hosts),
        origin_check=_Allowlist(allowed_origins),
    )
    return app


def run_http(server: MCPServer[Any], settings: Settings) -> int:
    """Serve ``server`` over streamable HTTP until SIGINT/SIGTERM; return the process exit code."""
    # Messages go through logging (stderr), so --log-json output stays one JSON object per line.
    try:
        app = build_http_app(server, settings)
    except ConfigError as exc:
        log.error("cannot start the HTTP server: %s", exc)
        return 2
    try:
        sock = _bind(settings.http_host, settings.http_port)
    except OSError as exc:
        log.error(
            "cannot listen on %s:%s: %s. Is another server using that port? Choose another with --port.",
            settings.http_host,
            settings.http_port,
            exc.strerror or exc,
        )
        return 1

    import uvicorn

    config = uvicorn.Config(
        app,
        # Records go through the root handler set up by logs.setup_logging (stderr, JSON option, secrets scrubbed)
        # instead of uvicorn's own handlers, which would bypass both.
        log_config=None,
        log_level=None,
        server_header=False,
        lifespan="on",
        # Open SSE streams would otherwise hold a SIGTERM for as long as a client keeps them.
        timeout_graceful_shutdown=3,
    )
    shown = f"[{settings.http_host}]" if ":" in settings.http_host else settings.http_host
    port = sock.getsockname()[1]  # the one the OS chose for --port 0
    base = f"http://{shown}:{port}"
    has_token = settings.http_token is not None or settings.http_token_file is not None
    guard = "bearer token required" if has_token else "NO authentication (loopback only)"
    log.info(
        "MCP over streamable HTTP at %s%s (%s); health: %s%s; backup verdict: %s%s",
        base,
        settings.http_path,
        guard,
        base,
        HEALTH_PATH,
        base,
        STATUS_PATH,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


# --- pieces ---------------------------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((name, port))
        # Listening now (not when uvicorn gets to it) lets a client that connects during start-up wait, not fail.
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _with_any_port(entry: str) -> list[str]:
    """'mcp.example.com' -> itself and 'mcp.example.com:*' (the SDK matches ports only through ':*')."""
    entry = entry.strip()
    if not entry:
        return []
    tail = entry.rsplit("]", 1)[-1] if entry.startswith("[") or "://[" in entry else entry.split("://", 1)[-1]
    if ":" in tail:
        return [entry]
    return [entry, f"{entry}:*"]


def _allowed_hosts(settings: Settings) -> list[str]:
    hosts: list[str] = []
    for name in _LOOPBACK_HOSTS:
        hosts += _with_any_port(name)
    bound = settings.http_host.strip().strip("[]")
    if bound and bound not in ("0.0.0.0", "::") and not is_loopback(bound):
        hosts += _with_any_port(f"[{bound}]" if ":" in bound else bound)
    for entry in settings.http_allowed_hosts:
        hosts += _with_any_port(entry)
    return list(dict.fromkeys(hosts))


def _allowed_origins(settings: Settings) -> list[str]:
    origins: list[str] = []
    for name in _LOOPBACK_HOSTS:
        origins += _with_any_port(f"http://{name}")
    for entry in settings.http_allowed_origins:
        origins += _with_any_port(entry.rstrip("/"))
    return list(dict.fromkeys(origins))


class _Allowlist:
    """Header values allowed exactly or, for entries ending in ':*', with any port (the SDK's own rule)."""

    def __init__(self, entries: list[str]) -> None:
        self._exact = frozenset(e.lower() for e in entries)
        self._any_port = tuple(e[:-1].lower() for e in entries if e.endswith(":*"))

    def allows(self, value: str) -> bool:
        value = value.lower()
        return value in self._exact or any(
            value.startswith(prefix) and value[len(prefix) :].isdigit() for prefix in self._any_port
        )


class _TokenSource:
    """The bearer token now; a token file is re-read when it changes, so a rotated token needs no restart."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stamp: tuple[int, int, int] | None = None
        token = settings.read_http_token()  # a bad token file is a startup error (ConfigError)
        self._token: str | None = None if token is None else token.reveal()
        if settings.http_token_file is not None:
            self._stamp = self._stat()
        self.configured = self._token is not None

    def _stat(self) -> tuple[int, int, int]:
        assert self._settings.http_token_file is not None
        st = os.stat(self._settings.http_token_file)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def current(self) -> str | None:
        """Raises OSError/ConfigError when a configured token file became unreadable or invalid."""
        if self._settings.http_token_file is None:
            return self._token
        stamp = self._stat()
        if stamp != self._stamp:
            token = self._settings.read_http_token()
            self._token = None if token is None else token.reveal()
            self._stamp = stamp
            log.info("HTTP bearer token re-read from %s", self._settings.http_token_file)
        return self._token


class _Health:
    """GET /healthz: {"status":"ok"} from this process; with ?deep=1 also reach Zerobyte with the key."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = anyio.Lock()
        self._cached: tuple[float, int, dict[str, Any]] | None = None

    async def deep(self) -> tuple[int, dict[str, Any]]:
        async with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < DEEP_HEALTH_TTL:
                return self._cached[1], self._cached[2]
            status, body = await self._probe()
            self._cached = (time.monotonic(), status, body)
            return status, body

    async def _probe(self) -> tuple[int, dict[str, Any]]:
        from ..server import make_client
        from ..zerobyte import AuthenticationFailed, ZerobyteError, ZerobyteUnreachable

        try:
            client = make_client(self._settings)
        except ConfigError as exc:
            return 503, {"status": "error", "zerobyte": "not configured", "message": redact_text(str(exc))}
        async with client:
            try:
                await client.system_info()
            except ZerobyteUnreachable as exc:
                return 503, {"status": "error", "zerobyte": "unreachable", "message": redact_text(str(exc))}
            except AuthenticationFailed as exc:
                return 503, {"status": "error", "zerobyte": "key refused", "message": redact_text(str(exc))}
            except ZerobyteError as exc:
                return 503, {"status": "error", "zerobyte": "error", "message": redact_text(str(exc))}
        return 200, {"status": "ok", "zerobyte": "ok"}


class _Status:
    """GET /status: the backup_health verdict as JSON (cached for STATUS_TTL; one probe at a time)."""

    def __init__(self, settings: Settings) -> None:
        from .health import HealthProbe

        self._probe = HealthProbe(settings)
        self._lock = anyio.Lock()
        self._cached: tuple[float, dict[str, Any]] | None = None

    async def verdict(self) -> dict[str, Any]:
        async with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < STATUS_TTL:
                return self._cached[1]
            body = await self._probe.verdict()
            self._cached = (time.monotonic(), body)
            return body


class _Guard:
    """Pure ASGI (streams pass through untouched): health, Host/Origin allowlists, then the bearer token."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: _TokenSource,
        health: _Health,
        status: _Status,
        host_check: _Allowlist,
        origin_check: _Allowlist,
    ) -> None:
        self.app = app
        self._tokens = tokens
        self._health = health
        self._status = status
        self._hosts = host_check
        self._origins = origin_check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path: str = scope["path"]
        if path == HEALTH_PATH:
            await self._serve_health(scope, receive, send, headers)
            return
        refusal = self._check_headers(headers) or self._check_token(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if path == STATUS_PATH:
            await self._serve_status(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _serve_status(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            response: Response = JSONResponse({"error": "use GET"}, status_code=405, headers={"Allow": "GET, HEAD"})
        else:
            # 200 whatever the verdict (a dashboard shows it; a monitor matches on "verdict"); no-store: it is live.
            response = JSONResponse(await self._status.verdict(), headers={"Cache-Control": "no-store"})
        await response(scope, receive, send)

    async def _serve_health(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await JSONResponse({"error": "use GET"}, status_code=405, headers={"Allow": "GET, HEAD"})(
                scope, receive, send
            )
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("deep", ["0"])[-1].lower() not in ("1", "true", "yes"):
            await JSONResponse({"status": "ok"})(scope, receive, send)
            return
        # A deep check spends a Zerobyte request with the user's key, so it is for token holders only.
        refusal = self._check_token(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        status, body = await self._health.deep()
        await JSONResponse(body, status_code=status)(scope, receive, send)

    def _check_headers(self, headers: dict[str, str]) -> Response | None:
        host = headers.get("host", "")
        if not self._hosts.allows(host):
            log.warning("HTTP 421: Host %r is not in the allowed hosts", host)
            return _problem(
                421,
                "invalid_host",
                f"Host {host!r} is not allowed (DNS-rebinding protection). If clients reach this server through "
                "a reverse proxy or another name, add that name to allowed_hosts under [http] in config.toml.",
            )
        origin = headers.get("origin")
        if origin and not self._origins.allows(origin):
            log.warning("HTTP 403: Origin %r is not in the allowed origins", origin)
            return _problem(
                403,
                "invalid_origin",
                f"Origin {origin!r} is not allowed (DNS-rebinding protection). To allow a browser app at that "
                "origin, add it to allowed_origins under [http] in config.toml.",
            )
        return None

    def _check_token(self, scope: Scope, headers: dict[str, str]) -> Response | None:
        if not self._tokens.configured:
            return None
        path: str = scope["path"]
        if path.startswith("/.well-known/"):
            # OAuth discovery probes get a plain 404 from the app: there is no authorization server to find.
            return None
        try:
            expected = self._tokens.current()
        except (OSError, ConfigError) as exc:
            log.error("HTTP 503: the bearer token file cannot be used: %s", exc)
            return _problem(503, "server_misconfigured", "The server's token file is unreadable; see its log.")
        scheme, _, given = headers.get("authorization", "").partition(" ")
        given = given.strip()
        client = _client_address(scope)
        if scheme.lower() != "bearer" or not given:
            log.warning("HTTP 401: no bearer token from %s for %s", client, path)
            return _unauthorized(None)
        if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("HTTP 401: wrong bearer token from %s for %s", client, path)
            return _unauthorized("invalid_token")
        return None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}" if client else "unknown client"


def _problem(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _unauthorized(error: str | None) -> Response:
    # RFC 6750 §3: no error code when the request carried no credentials at all.
    challenge = f'Bearer realm="{REALM}"'
    if error is None:
        description = (
            "This MCP server needs the header 'Authorization: Bearer <token>' with the token configured on the "
            "server (http_token / ZEROBYTE_MCP_HTTP_TOKEN / http_token_file)."
        )
        return _problem(401, "unauthorized", description, {"WWW-Authenticate": challenge})
    description = "The bearer token is not the one configured on this server."
    challenge += f', error="{error}", error_description="{description}"'
    return _problem(401, error, description, {"WWW-Authenticate": challenge})
