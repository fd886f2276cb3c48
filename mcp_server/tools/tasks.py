"""Task tools: what Zerobyte is doing now, how a task ended, and the history of finished work.

The views (real outcome, progress, next step) live in ``task_views.py``, shared with the health report
and with the operation tools that follow the task they start.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..answers.task_views import (
    ActiveTaskList,
    TaskHistory,
    TaskView,
    gather_active_tasks,
    gather_task_history,
    task_view,
    where_tasks_are,
)
from ..zerobyte import NotFound
from .base import Ctx, ToolFailure, app_of, client_of, tool

__all__ = ["get_task", "list_active_tasks", "task_history"]

TaskKind = Literal["backup", "restore", "forget", "doctor", "mirrorSync", "deleteSnapshots", "tagSnapshots"]
Outcome = Literal["running", "success", "warning", "error", "cancelled", "stale"]


@tool(title="List active tasks")
async def list_active_tasks(
    ctx: Ctx,
    kind: TaskKind | None = None,
    backup_job_id: str | None = None,
    repository_id: str | None = None,
) -> ActiveTaskList:
    """What Zerobyte is doing now: queued, running, cancelling tasks with progress (%, bytes, files, ETA)."""
    caps = await app_of(ctx).get_capabilities()
    if not caps.tasks_api:
        raise ToolFailure(
            "This Zerobyte (v0.40) has no tasks API: running backups show as last_status 'in_progress' "
            "in list_backup_jobs; upgrade Zerobyte to v0.41+ to list tasks."
        )
    return await gather_active_tasks(
        client_of(ctx), kind=kind, backup_job_id=backup_job_id, repository_id=repository_id
    )


@tool(title="Get task")
async def get_task(
    ctx: Ctx,
    task_id: str,
) -> TaskView:
    """One task: status, real outcome (a succeeded backup may be a warning), progress, result, error."""
    try:
        return task_view(await client_of(ctx).get_task(task_id))
    except NotFound as exc:
        if exc.route_missing:
            raise
        caps = await app_of(ctx).get_capabilities()
        raise ToolFailure(f"{exc} {where_tasks_are(caps.task_history)}.") from None


@tool(title="Task history")
async def task_history(
    ctx: Ctx,
    kind: TaskKind | None = None,
    outcome: Outcome | None = None,
    page: Annotated[int, Field(ge=1)] = 1,
) -> TaskHistory:
    """Finished and running tasks, newest first, 25 a page: kind, outcome, target, times, message."""
    caps = await app_of(ctx).get_capabilities()
    if not caps.task_history:
        raise ToolFailure(
            "This Zerobyte (v0.41 or older) has no task history. Use list_backup_jobs for each job's "
            "last status and error, or upgrade Zerobyte to v0.42+."
        )
    return await gather_task_history(client_of(ctx), kind=kind, outcome=outcome, page=page)
