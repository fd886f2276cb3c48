"""Task routes and event streams: active tasks, history, one task, cancel, SSE."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable

from starlette.responses import Response, StreamingResponse

from .. import validation as v
from .._util import (
    Json,
)
from ..model import Task, fail, sse_frame
from .common import (
    STATE_DROP_SSE,
    Ctx,
    json_response,
    zod_error,
)

# ==================================================================================================
# tasks and events
# ==================================================================================================


def _task_filter(ctx: Ctx) -> Callable[[Json], bool]:
    q = ctx.query
    issues: list[Json] = []
    if "kind" in q and q["kind"] not in v.TASK_KINDS:
        v.Enum(v.TASK_KINDS).parse(q["kind"], ["kind"], issues)
    if "resourceType" in q and q["resourceType"] not in ("backup_schedule", "repository"):
        v.Enum(("backup_schedule", "repository")).parse(q["resourceType"], ["resourceType"], issues)
    if ("resourceType" in q) != ("resourceId" in q):
        issues.append(
            {
                "code": "custom",
                "path": ["resourceId"],
                "message": "resourceType and resourceId must be provided together",
            }
        )
    if issues:
        raise zod_error(issues, dict(q))

    def wants(dto: Json) -> bool:
        return (
            ("kind" not in q or dto["kind"] == q["kind"])
            and ("resourceType" not in q or dto["resourceType"] == q["resourceType"])
            and ("resourceId" not in q or dto["resourceId"] == q["resourceId"])
            and ("operationKey" not in q or dto["operationKey"] == q["operationKey"])
        )

    return wants


def _newest_first(tasks: list[Task]) -> list[Task]:
    return sorted(tasks, key=lambda t: (t.created_at, t.seq), reverse=True)


def list_tasks(ctx: Ctx) -> Response:
    wants = _task_filter(ctx)
    tasks = _newest_first([t for t in ctx.sim.tasks.values() if t.active])
    return json_response([d for d in (t.dto() for t in tasks) if wants(d)])


def task_history(ctx: Ctx) -> Response:
    sim = ctx.sim
    q = ctx.query
    issues: list[Json] = []
    if "kind" in q:
        v.Enum(v.TASK_KINDS).parse(q["kind"], ["kind"], issues)
    if "outcome" in q:
        v.Enum(v.HISTORY_OUTCOMES).parse(q["outcome"], ["outcome"], issues)
    page = 1
    if "page" in q:
        try:
            page = int(q["page"])
            if page <= 0 or str(page) != q["page"].strip().lstrip("+"):
                raise ValueError
        except ValueError:
            issues.append(v.bound_issue("too_small", "number", 0, ["page"], inclusive=False))
    if issues:
        raise zod_error(issues, dict(q))
    items = _newest_first(list(sim.tasks.values()))
    if "kind" in q:
        items = [t for t in items if t.kind == q["kind"]]
    if "outcome" in q:
        items = [t for t in items if t.history_outcome() == q["outcome"]]
    size = 25
    total = len(items)
    page_items = items[(page - 1) * size : page * size]
    return json_response(
        {
            "organizationId": sim.organization_id,
            "items": [_history_item(t) for t in page_items],
            "page": page,
            "pageSize": size,
            "totalItems": total,
            "totalPages": math.ceil(total / size),
        }
    )


def _history_item(task: Task) -> Json:
    item = task.lifecycle_item()
    if task.resource_type == "backup_schedule" and task.kind in ("backup", "mirrorSync", "forget"):
        target: Json = {
            "kind": "backupSchedule",
            "label": task.target_display_name,
            "secondary": None,
            "scheduleShortId": task.input.get("scheduleShortId", task.resource_id),
        }
    elif task.resource_type == "repository" and task.kind == "restore":
        target = {
            "kind": "repository",
            "label": task.input.get("snapshotId", ""),
            "secondary": task.target_display_name,
            "repositoryShortId": task.resource_id,
            "snapshotId": task.input.get("snapshotId"),
        }
    elif task.resource_type == "repository":
        target = {
            "kind": "repository",
            "label": task.target_display_name,
            "secondary": None,
            "repositoryShortId": task.resource_id,
            "snapshotId": None,
        }
    else:
        target = {"kind": "unavailable", "label": task.target_display_name, "secondary": None}
    return {**item, "target": target, "createdAt": task.created_at}


def _task_or_404(ctx: Ctx) -> Task:
    task = ctx.sim.tasks.get(ctx.params["taskId"])
    if task is None:
        raise fail(404, "Task not found")
    return task


def get_task(ctx: Ctx) -> Response:
    return json_response(_task_or_404(ctx).dto())


def cancel_task(ctx: Ctx) -> Response:
    task = _task_or_404(ctx)
    # v0.41 runs backups outside the task lifecycle: only /backups/{id}/stop stops them (tasks.controller.ts).
    legacy_backup = ctx.sim.legacy and task.kind == "backup"
    if not task.active or not task.cancellable or legacy_backup:
        raise fail(409, "Task is not cancellable or is no longer running")
    ctx.sim.request_cancel(task)
    return json_response({"status": "cancelling"}, 202)


def _sse(ctx: Ctx, initial: Callable[[], list[str]], wants: Callable[[str, Json], bool]) -> Response:
    sim = ctx.sim
    state = ctx.request.scope.get("state") or {}
    drop_after = state.get(STATE_DROP_SSE)
    owner = ctx.owner

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        sub = sim.subscribe(loop, queue, wants, owner)
        sent = 0
        try:
            interval = max(0.01, sim.heartbeat_interval)
            with sim.lock:
                frames = [sse_frame("connected", {"type": "connected", "timestamp": sim.now_ms()}), *initial()]
            frames.append(sse_frame("heartbeat", {"timestamp": sim.now_ms()}))
            for frame in frames:
                yield frame
                sent += 1
                if drop_after is not None and sent >= drop_after:
                    return
            next_beat = loop.time() + interval
            while True:
                timeout = next_beat - loop.time()
                if timeout <= 0:
                    item: str | None = sse_frame("heartbeat", {"timestamp": sim.now_ms()})
                    next_beat = loop.time() + interval
                else:
                    try:
                        item = await asyncio.wait_for(queue.get(), timeout)
                    except TimeoutError:
                        continue
                if item is None:
                    return
                yield item
                sent += 1
                if drop_after is not None and sent >= drop_after:
                    return
        finally:
            sim.unsubscribe(sub)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


def task_events(ctx: Ctx) -> Response:
    task = _task_or_404(ctx)
    task_id = task.id

    def initial() -> list[str]:
        return [sse_frame("task:changed", ctx.sim.tasks[task_id].dto())]

    return _sse(ctx, initial, lambda ev, data: ev == "task:changed" and data.get("id") == task_id)


def tasks_events(ctx: Ctx) -> Response:
    match = _task_filter(ctx)

    def initial() -> list[str]:
        active = _newest_first([t for t in ctx.sim.tasks.values() if t.active])
        return [sse_frame("tasks:snapshot", [d for d in (t.dto() for t in active) if match(d)])]

    return _sse(ctx, initial, lambda ev, data: ev == "task:changed" and match(data))


def org_events(ctx: Ctx) -> Response:
    return _sse(ctx, list, lambda ev, data: ev != "task:changed")
