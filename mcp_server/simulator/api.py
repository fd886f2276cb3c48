"""The simulator's HTTP surface: Zerobyte's ``/api/v1`` routes, auth, errors, SSE and fault injection.

Exists to turn ``Simulator`` state into the exact wire behaviour of a real Zerobyte: the same status
codes, JSON shapes and headers, the two kinds of 401, zod-shaped 400s, text 404s for unknown routes,
500 for malformed JSON, 202 task starts, binary/tar dumps, never-ending event streams, rate limiting,
plus the test-only fault rules (latency, proxy errors, truncated/wrongly-typed JSON, resets).
``create_app`` returns a Starlette app; ``server.py`` serves it over real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._util import (
    Json,
)
from .costs import charge
from .faults import FaultRule, mutate_types
from .routes.backups import (
    backup_for_volume,
    backup_progress,
    create_backup,
    delete_backup,
    get_backup,
    get_mirrors,
    get_schedule_notifications,
    list_backups,
    mirror_compatibility,
    mirror_status,
    put_mirrors,
    put_schedule_notifications,
    reorder_backups,
    run_backup,
    run_forget,
    stop_backup,
    sync_mirror,
    update_backup,
)
from .routes.common import (
    API,
    AUTH_MOUNTS,
    BODY_LIMIT,
    JSON_TYPE,
    SECURE_HEADERS,
    STATE_DROP_SSE,
    TEXT_TYPE,
    WEB_UI,
    Ctx,
    Handler,
    RouteDef,
    _compile,
    json_response,
    not_found_text,
    text_response,
)
from .routes.notifications import (
    create_destination,
    delete_destination,
    get_destination,
    list_destinations,
    send_test_notification,
    update_destination,
)
from .routes.repositories import (
    create_repository,
    delete_repository,
    delete_snapshot,
    delete_snapshots,
    dump_snapshot,
    get_repository,
    list_repositories,
    list_snapshots,
    rclone_remotes,
    refresh_repository_stats,
    refresh_snapshots,
    repository_stats,
    restore_snapshot,
    snapshot_details,
    snapshot_files,
    start_doctor,
    tag_snapshots,
    unlock_repository,
    update_repository,
)
from .routes.system import (
    auth_status,
    desktop_session,
    dev_panel,
    docs_page,
    login_error,
    never,
    org_member_delete,
    org_member_role,
    org_members,
    password_login_status,
    registration_status,
    sso_providers,
    system_info,
    system_updates,
)
from .routes.tasks import (
    cancel_task,
    get_task,
    list_tasks,
    org_events,
    task_events,
    task_history,
    tasks_events,
)
from .routes.volumes import (
    browse_filesystem,
    check_volume_connection,
    create_volume,
    delete_volume,
    get_volume,
    health_check_volume,
    list_volume_files,
    list_volumes,
    mount_volume,
    unmount_volume,
    update_volume,
)
from .state import (
    ApiError,
    RecordedRequest,
    Simulator,
)


def openapi_doc(ctx: Ctx) -> Response:
    paths: dict[str, dict[str, Json]] = {}
    for route in ROUTES:
        if _hidden(ctx.sim, route):
            continue
        paths.setdefault(API + route.template, {})[route.method.lower()] = {"operationId": route.handler.__name__}
    return json_response(
        {
            "openapi": "3.1.0",
            "info": {"title": "Zerobyte API", "description": "API for managing volumes", "version": "1.0.0"},
            "servers": [{"url": "http://127.0.0.1:4096", "description": "Development Server"}],
            "paths": paths,
        }
    )


# ==================================================================================================
# route table
# ==================================================================================================


def _route(
    method: str,
    template: str,
    handler: Handler,
    *,
    auth: str = "key",
    body: bool = False,
    only: str | None = None,
) -> RouteDef:
    return RouteDef(method, template, _compile(template), handler, auth, body, only)


ROUTES: list[RouteDef] = [
    # auth
    _route("GET", "/auth/status", auth_status, auth="public"),
    _route("GET", "/auth/sso-providers", sso_providers, auth="public"),
    _route("GET", "/auth/login-error", login_error, auth="public"),
    _route("GET", "/auth/org-members", org_members),
    _route("PATCH", "/auth/org-members/{memberId}/role", org_member_role),
    _route("DELETE", "/auth/org-members/{memberId}", org_member_delete),
    _route("GET", "/auth/admin-users", never, auth="browser"),
    _route("DELETE", "/auth/admin-users/{userId}/accounts/{accountId}", never, auth="browser"),
    _route("GET", "/auth/deletion-impact/{userId}", never, auth="browser"),
    _route("GET", "/auth/api-keys", never, auth="browser"),
    _route("POST", "/auth/api-keys", never, auth="browser"),
    _route("DELETE", "/auth/api-keys/{keyId}", never, auth="browser"),
    _route("GET", "/auth/sso-settings", never, auth="browser"),
    _route("GET", "/auth/sso-invitations", never, auth="browser"),
    _route("POST", "/auth/sso-invitations/{invitationId}/verify", never, auth="browser"),
    _route("DELETE", "/auth/sso-providers/{providerId}", never, auth="browser"),
    _route("PATCH", "/auth/sso-providers/{providerId}/auto-linking", never, auth="browser"),
    _route("DELETE", "/auth/sso-invitations/{invitationId}", never, auth="browser"),
    # volumes
    _route("GET", "/volumes", list_volumes),
    _route("POST", "/volumes", create_volume, body=True),
    _route("POST", "/volumes/test-connection", check_volume_connection, body=True),
    _route("GET", "/volumes/filesystem/browse", browse_filesystem),
    _route("GET", "/volumes/{shortId}", get_volume),
    _route("PUT", "/volumes/{shortId}", update_volume, body=True),
    _route("DELETE", "/volumes/{shortId}", delete_volume),
    _route("POST", "/volumes/{shortId}/mount", mount_volume),
    _route("POST", "/volumes/{shortId}/unmount", unmount_volume),
    _route("POST", "/volumes/{shortId}/health-check", health_check_volume),
    _route("GET", "/volumes/{shortId}/files", list_volume_files),
    # repositories
    _route("GET", "/repositories", list_repositories),
    _route("POST", "/repositories", create_repository, body=True),
    _route("GET", "/repositories/rclone-remotes", rclone_remotes),
    _route("GET", "/repositories/{shortId}", get_repository),
    _route("PATCH", "/repositories/{shortId}", update_repository, body=True),
    _route("DELETE", "/repositories/{shortId}", delete_repository),
    _route("GET", "/repositories/{shortId}/stats", repository_stats),
    _route("POST", "/repositories/{shortId}/stats/refresh", refresh_repository_stats),
    _route("GET", "/repositories/{shortId}/snapshots", list_snapshots),
    _route("DELETE", "/repositories/{shortId}/snapshots", delete_snapshots, body=True),
    _route("POST", "/repositories/{shortId}/snapshots/refresh", refresh_snapshots),
    _route("POST", "/repositories/{shortId}/snapshots/tag", tag_snapshots, body=True),
    _route("GET", "/repositories/{shortId}/snapshots/{snapshotId}", snapshot_details),
    _route("DELETE", "/repositories/{shortId}/snapshots/{snapshotId}", delete_snapshot),
    _route("GET", "/repositories/{shortId}/snapshots/{snapshotId}/files", snapshot_files),
    _route("GET", "/repositories/{shortId}/snapshots/{snapshotId}/dump", dump_snapshot),
    _route("POST", "/repositories/{shortId}/restore", restore_snapshot, body=True),
    _route("POST", "/repositories/{shortId}/doctor", start_doctor),
    _route("POST", "/repositories/{shortId}/unlock", unlock_repository),
    _route("POST", "/repositories/{shortId}/exec", never, auth="browser"),
    # backups
    _route("GET", "/backups", list_backups),
    _route("POST", "/backups", create_backup, body=True),
    _route("POST", "/backups/reorder", reorder_backups, body=True),
    _route("GET", "/backups/volume/{volumeShortId}", backup_for_volume),
    _route("GET", "/backups/{shortId}", get_backup),
    _route("PATCH", "/backups/{shortId}", update_backup, body=True),
    _route("DELETE", "/backups/{shortId}", delete_backup),
    _route("POST", "/backups/{shortId}/run", run_backup),
    _route("POST", "/backups/{shortId}/stop", stop_backup, only="legacy"),
    _route("GET", "/backups/{shortId}/progress", backup_progress, only="legacy"),
    _route("POST", "/backups/{shortId}/forget", run_forget),
    _route("GET", "/backups/{shortId}/notifications", get_schedule_notifications),
    _route("PUT", "/backups/{shortId}/notifications", put_schedule_notifications, body=True),
    _route("GET", "/backups/{shortId}/mirrors", get_mirrors),
    _route("PUT", "/backups/{shortId}/mirrors", put_mirrors, body=True),
    _route("GET", "/backups/{shortId}/mirrors/compatibility", mirror_compatibility),
    _route("GET", "/backups/{shortId}/mirrors/{mirrorShortId}/status", mirror_status),
    _route("POST", "/backups/{shortId}/mirrors/{mirrorShortId}/sync", sync_mirror, body=True),
    # notifications
    _route("GET", "/notifications/destinations", list_destinations),
    _route("POST", "/notifications/destinations", create_destination, body=True),
    _route("GET", "/notifications/destinations/{id}", get_destination),
    _route("PATCH", "/notifications/destinations/{id}", update_destination, body=True),
    _route("DELETE", "/notifications/destinations/{id}", delete_destination),
    _route("POST", "/notifications/destinations/{id}/test", send_test_notification),
    # system
    _route("GET", "/system/info", system_info),
    _route("GET", "/system/updates", system_updates),
    _route("GET", "/system/registration-status", registration_status),
    _route("PUT", "/system/registration-status", never, auth="browser"),
    _route("POST", "/system/restic-password", never, auth="browser"),
    _route("GET", "/system/password-login-status", password_login_status),
    _route("PUT", "/system/password-login-status", never, auth="browser"),
    _route("GET", "/system/dev-panel", dev_panel),
    # tasks and events
    _route("GET", "/tasks", list_tasks, only="tasks"),
    _route("GET", "/tasks/events", tasks_events, only="tasks"),
    _route("GET", "/tasks/history", task_history, only="modern"),
    _route("GET", "/tasks/{taskId}/events", task_events, only="tasks"),
    _route("GET", "/tasks/{taskId}", get_task, only="tasks"),
    _route("POST", "/tasks/{taskId}/cancel", cancel_task, only="tasks"),
    _route("GET", "/events", org_events, only="tasks"),
    # desktop and docs
    _route("POST", "/desktop/session", desktop_session, auth="public"),
    _route("GET", "/openapi.json", openapi_doc, auth="docs"),
    _route("GET", "/docs", docs_page, auth="docs"),
]


# ==================================================================================================
# dispatch
# ==================================================================================================


def _auth_error(sim: Simulator, request: Request) -> Response | None:
    key = (request.headers.get("x-api-key") or "").strip()
    if not key or key not in sim.api_keys:
        return json_response({"message": "Invalid or expired session"}, 401)
    if sim.org_member_removed:
        return json_response({"message": "Invalid organization context"}, 403)
    return None


def _hidden(sim: Simulator, route: RouteDef) -> bool:
    """Routes this simulated Zerobyte version does not have."""
    if route.only == "tasks":
        return not sim.tasks_api
    return route.only == ("modern" if sim.legacy else "legacy")


def _match(sim: Simulator, method: str, sub: str) -> tuple[RouteDef | None, dict[str, str]]:
    """The route serving ``method`` on ``sub`` and its path parameters; (None, {}) when none does."""
    for route in ROUTES:
        if _hidden(sim, route):
            continue
        m = route.regex.match(sub)
        if m is not None and (route.method == method or (method == "HEAD" and route.method == "GET")):
            return route, {k: urllib.parse.unquote(val) for k, val in m.groupdict().items()}
    return None, {}


async def _dispatch(sim: Simulator, request: Request, owner: object) -> Response:
    path = request.url.path
    method = request.method.upper()
    if method == "OPTIONS":  # hono/cors answers every preflight before routing and auth
        headers = {
            "access-control-allow-methods": "GET,HEAD,PUT,POST,DELETE,PATCH",
            "vary": "Origin, Access-Control-Request-Headers",
        }
        requested = request.headers.get("access-control-request-headers")
        if requested:
            headers["access-control-allow-headers"] = requested
        origin = request.headers.get("origin")
        if origin and origin in sim.trusted_origins:
            headers["access-control-allow-origin"] = origin
        return Response(b"", status_code=204, headers=headers)
    if path == "/api/healthcheck" and method == "GET":
        return json_response({"status": "ok"})
    if path.startswith("/api/auth/"):
        if path.startswith("/api/auth/api-key/"):
            return json_response({"message": "API key management is only supported through API v1 routes"}, 404)
        if (request.headers.get("x-api-key") or "").strip():
            return json_response({"message": "API key authentication is only supported for API v1 routes"}, 401)
        if path == "/api/auth/get-session" and method == "GET":
            return json_response(None)
        return not_found_text()
    if not (path == API or path.startswith(API + "/")):
        if method in ("GET", "HEAD") and not path.startswith("/api/"):
            return Response(WEB_UI.encode(), media_type="text/html; charset=utf-8")  # the web UI's pages
        return not_found_text()
    sub = path[len(API) :] or "/"
    route, params = _match(sim, method, sub)
    if route is None:
        if any(sub == p or sub.startswith(p + "/") for p in AUTH_MOUNTS):
            denied = _auth_error(sim, request)
            if denied is not None:
                return denied
        return not_found_text()
    if route.auth in ("key", "browser") or (route.auth == "docs" and not sim.legacy):
        denied = _auth_error(sim, request)
        if denied is not None:
            return denied
        if route.auth == "browser":
            return json_response({"message": "Browser session required"}, 401)
    body: Any = None
    raw = await request.body()
    if len(raw) > BODY_LIMIT:
        return json_response({"message": "Request body too large"}, 413)
    if route.body:
        if "application/json" in (request.headers.get("content-type") or "").lower():
            try:
                body = json.loads(raw.decode("utf-8") if raw else "")
            except (ValueError, UnicodeDecodeError):
                return json_response({"message": "Malformed JSON in request body"}, 500)
        else:
            body = {}
    query = dict(urllib.parse.parse_qsl(request.url.query, keep_blank_values=True))
    ctx = Ctx(sim=sim, request=request, params=params, query=query, body=body, owner=owner)
    cost = None
    if sim.costs is not None:
        with sim.lock:
            cost = charge(sim, sim.costs, route.handler.__name__, params, query)
        if cost.slot is not None:
            async with cost.slot:
                await asyncio.sleep(cost.seconds)
        else:
            await asyncio.sleep(cost.seconds)
    try:
        with sim.lock:
            response = route.handler(ctx)
        if cost is not None and response.status_code == 200:
            for key in cost.warms:
                sim.cache.set(key)
        return response
    except ApiError as err:
        return json_response(err.body, err.status)
    except Exception as exc:  # mirror app.onError: anything else is a 500 {message}
        return json_response({"message": f"{type(exc).__name__}: {exc}"}, 500)


# ==================================================================================================
# outer ASGI layer: recording, faults, rate limit
# ==================================================================================================


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    """``send`` that adds ``extra`` headers to the response start."""
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *raw]}
        await send(message)

    return wrapped


class _Outer:
    """Records every request, applies fault rules and the rate limiter, then calls the app."""

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sim = self.sim
        chunks: list[bytes] = []
        disconnected = False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        self._record(scope, raw)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if disconnected:
                    return {"type": "http.disconnect"}
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        method = str(scope["method"]).upper()
        path = str(scope["path"])
        query = urllib.parse.unquote(urllib.parse.unquote(scope.get("query_string", b"").decode("latin-1")))
        rule = sim.faults.take(method, path, query)
        if rule is not None:
            if rule.latency:
                await asyncio.sleep(rule.latency)
            if rule.status is not None:
                await self._canned(rule, send)
                return
            if rule.drop_sse_after is not None:
                scope.setdefault("state", {})[STATE_DROP_SSE] = rule.drop_sse_after
        client = (scope.get("client") or ("", 0))[0]
        # Zerobyte's limiter covers /api only; the key is the socket address (X-Forwarded-For is overwritten)
        rate = sim.rate_count(str(client)) if path.startswith("/api/") else None
        if rate is not None and rate.remaining < 0:
            response = text_response(
                "Too many requests, please try again later.",
                429,
                {**SECURE_HEADERS, **rate.headers(), "retry-after": str(rate.reset)},
            )
            await response(scope, replay, send)
            return
        if rate is not None:
            send = _with_headers(send, rate.headers())
        if rule is not None and (rule.truncate_json or rule.wrong_types or rule.reset):
            await self._mangled(rule, scope, replay, send)
            return
        await self.app(scope, replay, send)

    def _record(self, scope: Scope, raw: bytes) -> None:
        headers: dict[str, str] = {}
        for k, val in scope.get("headers", []):
            name = k.decode("latin-1").lower()
            headers[name] = "<redacted>" if name == "x-api-key" else val.decode("latin-1")
        qs = scope.get("query_string", b"").decode("latin-1")
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        with self.sim.lock:
            self.sim.requests.append(
                RecordedRequest(
                    method=str(scope["method"]).upper(),
                    path=str(scope["path"]),
                    query=dict(urllib.parse.parse_qsl(qs, keep_blank_values=True)),
                    query_string=qs,
                    headers=headers,
                    body=body,
                    time=time.time(),
                    client=str((scope.get("client") or ("", 0))[0]),
                    raw_body=raw,
                )
            )

    @staticmethod
    async def _canned(rule: FaultRule, send: Send) -> None:
        body = rule.body
        if isinstance(body, bytes):
            data = body
            ctype = rule.content_type or "application/octet-stream"
        elif isinstance(body, str):
            data = body.encode()
            ctype = rule.content_type or TEXT_TYPE
        elif body is None:
            data = b""
            ctype = rule.content_type or TEXT_TYPE
        else:
            data = json.dumps(body).encode()
            ctype = rule.content_type or JSON_TYPE
        headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(data)).encode())]
        headers += [(k.lower().encode(), str(val).encode()) for k, val in rule.headers.items()]
        await send({"type": "http.response.start", "status": rule.status, "headers": headers})
        await send({"type": "http.response.body", "body": data, "more_body": False})

    async def _mangled(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        parts: list[bytes] = []
        passthrough = False

        async def capture(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                ctype = dict(message.get("headers", [])).get(b"content-type", b"")
                if ctype.startswith(b"text/event-stream"):
                    passthrough = True
                    await send(message)
                    return
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if passthrough or start is None:
            return
        body = b"".join(parts)
        headers = [(k, val) for k, val in start.get("headers", []) if k.lower() != b"content-length"]
        if rule.reset:
            cut = body[: max(1, len(body) // 2)] if body else b""
            headers.append((b"content-length", str(max(len(body), len(cut) + 1)).encode()))
            await send({"type": "http.response.start", "status": start["status"], "headers": headers})
            await send({"type": "http.response.body", "body": cut, "more_body": True})
            return  # uvicorn closes the connection: the response was never completed
        if rule.wrong_types:
            with contextlib.suppress(ValueError):
                body = json.dumps(mutate_types(json.loads(body))).encode()
        if rule.truncate_json:
            body = body[: max(1, len(body) // 2)]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def create_app(sim: Simulator) -> Starlette:
    """A Starlette app serving ``sim`` as a Zerobyte server (all routes, faults, recording)."""
    owner = object()

    async def endpoint(request: Request) -> Response:
        response = await _dispatch(sim, request, owner)
        for name, value in SECURE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(routes=[StarletteRoute("/{path:path}", endpoint, methods=methods)])
    app.state.zb_owner = owner
    app.add_middleware(_OuterMiddleware, sim=sim)
    return app


class _OuterMiddleware(_Outer):
    """``_Outer`` under the name Starlette's middleware stack instantiates."""
