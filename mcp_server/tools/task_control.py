"""Task control: wait for a Zerobyte task to end, or cancel it.

Offered at level operate beside the tools that start tasks (``wait_for_task`` only reads). The read-only
task tools (list, get, history) live in ``tasks``, which a read-only server imports: these two stay apart
so that it does not import the write machinery. Zerobyte v0.41 cannot cancel a backup as a task; its own
stop route ends the run instead.
"""

from __future__ import annotations

from ..answers.task_views import resource_names
from ..safety.audit import note
from ..zerobyte.errors import Conflict
from .acting import WaitSecondsArg
from .base import Ctx, ToolFailure, app_of, client_of, tool
from .follow import TaskOutcome, follow, outcome_of, wait_budget

__all__ = ["cancel_task", "wait_for_task"]

CANCEL_WAIT_SECONDS = 10.0
_CANCELLABLE = "backup, restore, doctor, retention and mirror sync"

TaskArg = str


@tool(title="Wait for a task", read_only=True)
async def wait_for_task(ctx: Ctx, task_id: TaskArg, wait_seconds: WaitSecondsArg = None) -> TaskOutcome:
    """Follow a task (with progress) until it ends or wait_seconds pass; returns its outcome."""
    client = client_of(ctx)
    names = await resource_names(client)
    outcome, _ = await follow(ctx, task_id, wait_seconds=wait_budget(ctx, wait_seconds), names=names)
    return outcome


@tool(title="Cancel a task", idempotent=True)
async def cancel_task(ctx: Ctx, task_id: TaskArg) -> TaskOutcome:
    """Stop a queued or running task (not snapshot delete/tag) and report how it ended."""
    client = client_of(ctx)
    caps = await app_of(ctx).get_capabilities()
    task = await client.get_task(task_id) if caps.legacy_backup_control else None
    if task is not None and task.kind == "backup" and not task.terminal:
        # v0.41 backups are not cancellable as tasks (409); its own stop route aborts the run in about a second.
        job_ref = (task.input or {}).get("scheduleShortId") or task.resourceId or ""
        try:
            await client.stop_backup(str(job_ref))
        except Conflict:
            pass  # no live run: Zerobyte marks the task stale, or it just ended
        else:
            note(task_id=task.id)
    else:
        try:
            await client.cancel_task(task_id)
        except Conflict:
            task = await client.get_task(task_id)
            view = outcome_of(task)
            if task.terminal:
                raise ToolFailure(
                    f"Task {task.id} ({task.kind}) already ended ({view.outcome}): nothing to cancel."
                ) from None
            stoppable = "backup, restore and doctor" if caps.legacy_backup_control else _CANCELLABLE
            raise ToolFailure(
                f"Zerobyte cannot stop a {task.kind} task midway (only {stoppable} tasks can be); it ends on its "
                f"own. Call wait_for_task(task_id='{task.id}') to see it end."
            ) from None
        note(task_id=task_id)
    names = await resource_names(client)
    outcome, final = await follow(
        ctx, task_id, wait_seconds=min(CANCEL_WAIT_SECONDS, wait_budget(ctx, None)), names=names
    )
    if final is None:
        outcome.next_step = (
            f"Cancellation requested; the task is still stopping. Call wait_for_task(task_id='{task_id}')."
        )
    return outcome
