"""What every route module shares: answer builders, the request context and Zerobyte's fixed headers."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import validation as v
from .._util import (
    Json,
)
from ..model import ApiError, Task, fail
from ..state import Simulator

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=UTF-8"
API = "/api/v1"
AUTH_MOUNTS = ("/volumes", "/repositories", "/backups", "/notifications", "/tasks", "/events")
STATE_DROP_SSE = "zb_drop_sse_after"
BODY_LIMIT = 10 * 1024 * 1024
WEB_UI = '<!DOCTYPE html><html lang="en"><head><title>Zerobyte</title></head><body><div id="root"></div></body></html>'
# hono/secure-headers defaults, sent by a production Zerobyte on every answer (see sample 69)
SECURE_HEADERS = {
    "x-content-type-options": "nosniff",
    "cross-origin-resource-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=15552000; includeSubDomains",
    "x-dns-prefetch-control": "off",
    "x-frame-options": "SAMEORIGIN",
    "x-xss-protection": "0",
    "vary": "Origin",
    "origin-agent-cluster": "?1",
    "x-download-options": "noopen",
    "x-permitted-cross-domain-policies": "none",
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(data, status_code=status, headers=headers, media_type=JSON_TYPE)


def text_response(body: str, status: int, headers: dict[str, str] | None = None) -> Response:
    hdrs = {"content-type": TEXT_TYPE, **(headers or {})}
    return Response(body.encode(), status_code=status, headers=hdrs)


def not_found_text() -> Response:
    return text_response("404 Not Found", 404)


def zod_error(issues: list[Json], data: Any) -> ApiError:
    return ApiError(400, {"data": data, "error": issues, "success": False})


def body_name(body: Json, empty: str) -> str:
    """The body's ``name``, trimmed as Zerobyte stores it; a name of blanks only answers 400 ``empty``."""
    name = str(body["name"]).strip()
    if not name:
        raise fail(400, empty)
    return name


def task_started(task: Task | None, done: Json) -> Response:
    """202 naming the task the request started; ``done`` (200) when an older Zerobyte did the work before the
    answer and made no task."""
    if task is None:
        return json_response(done)
    return json_response({"taskId": task.id, "status": "started"}, 202)


@dataclass
class Ctx:
    sim: Simulator
    request: Request
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    owner: object

    def validate(self, schema: v.Schema, value: Any | None = None) -> Any:
        data = self.body if value is None else value
        parsed, issues = v.validate(schema, data)
        if issues:
            raise zod_error(issues, data)
        return parsed


Handler = Callable[[Ctx], Response]


@dataclass
class RouteDef:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    auth: str  # "public" | "key" | "browser" | "docs"
    body: bool  # parse a JSON body (Hono's json validator semantics)
    only: str | None  # None: always; "modern"; "legacy"; "tasks" (v0.41+: not on v0.40)


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}$")


def int_query(ctx: Ctx, key: str, default: int) -> int:
    raw = ctx.query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if math.isnan(value) or not value.is_integer():
        issue = {
            "expected": "int",
            "code": "invalid_type",
            "received": "NaN" if math.isnan(value) else "number",
            "path": [key],
            "message": f"Invalid input: expected int, received {'NaN' if math.isnan(value) else 'number'}",
        }
        raise zod_error([issue], dict(ctx.query))
    return int(value)
