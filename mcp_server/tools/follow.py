"""Following a Zerobyte task from its start to its end, for the tools that start one.

Zerobyte answers 202 and works in the background, but an agent wants to know how the work ended.
This follows the task over SSE (``ZerobyteClient.follow_task``), forwards its progress as MCP progress
notifications, stops waiting after a bounded time (the task itself goes on), and describes the end
state with the same outcome rules as the task tools (``task_views.py``).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping

import anyio

from ..answers.output import human_bytes
from ..answers.task_views import TaskProgress, TaskView, task_progress, task_view, where_tasks_are
from ..context import Ctx, app_of, client_of
from ..safety.audit import note
from ..zerobyte import ZerobyteError
from ..zerobyte.errors import NotFound
from ..zerobyte.ids import check_task_id
from ..zerobyte.models import Task
from .base import ToolFailure

__all__ = ["MAX_WAIT_SECONDS", "TaskOutcome", "follow", "outcome_of", "progress_message", "wait_budget"]

log = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 900.0
# Progress values must strictly increase (MCP spec); a running task never reports 100 before its end.
_RUNNING_CAP = 99.9
_NUDGE = 0.01


# A followed task is described exactly like get_task describes one; a still-running task's next_step
# says how to keep following it.
TaskOutcome = TaskView


def wait_budget(ctx: Ctx, wait_seconds: float | None) -> float:
    """Seconds to follow a task: the call's value, else settings.task_wait_seconds, capped."""
    if wait_seconds is not None and not 0 <= wait_seconds <= MAX_WAIT_SECONDS:
        raise ToolFailure(f"wait_seconds must be from 0 to {MAX_WAIT_SECONDS:g}; the task goes on either way.")
    value = app_of(ctx).settings.task_wait_seconds if wait_seconds is None else wait_seconds
    return max(0.0, min(float(value), MAX_WAIT_SECONDS))


def outcome_of(task: Task, names: Mapping[str, str] | None = None, *, next_step: str | None = None) -> TaskOutcome:
    view = task_view(task, names)
    if next_step is not None:
        view.next_step = next_step
    return view


async def follow(
    ctx: Ctx,
    task_id: str,
    *,
    wait_seconds: float,
    names: Mapping[str, str] | None = None,
) -> tuple[TaskOutcome, Task | None]:
    """Follow ``task_id`` for at most ``wait_seconds``; return its view and the terminal task (None if still running).

    A cancelled MCP call stops the following only: the Zerobyte task goes on, and the audit line says so.
    """
    client = client_of(ctx)
    task_id = check_task_id("task_id", task_id)  # a refused id is the caller's mistake, not a task under way
    progress = _Progress(ctx)
    last: Task | None = None

    async def on_update(task: Task) -> None:
        nonlocal last
        last = task
        await progress.update(task)

    try:
        with anyio.move_on_after(wait_seconds):
            final = await client.follow_task(task_id, on_update)
            await progress.finish(final)
            return outcome_of(final, names), final
        task = last if last is not None else await client.get_task(task_id)
    except anyio.get_cancelled_exc_class():
        note(following="stopped: the MCP call was cancelled; the Zerobyte task goes on unless cancel_task is called")
        raise
    except ZerobyteError as exc:
        if isinstance(exc, NotFound) and exc.route_missing:  # Zerobyte v0.40: no tasks API, nothing is under way
            raise ToolFailure(str(exc)) from None
        if isinstance(exc, NotFound):  # no such task: nothing to check on later
            history = (await app_of(ctx).get_capabilities()).task_history
            raise ToolFailure(f"{exc} {where_tasks_are(history)}.") from None
        raise ToolFailure(
            f"Task {task_id} is under way in Zerobyte, but following it failed: {exc} "
            f"Call wait_for_task(task_id='{task_id}') to check on it."
        ) from None
    if task.terminal:
        return outcome_of(task, names), task
    step = (
        f"Still running after {wait_seconds:g} s; the task goes on in Zerobyte. Call wait_for_task "
        f"(task_id='{task.id}') to keep following it, or cancel_task to stop it."
    )
    return outcome_of(task, names, next_step=step), None


def progress_message(task: Task, progress: TaskProgress | None = None) -> str:
    """One line for a progress notification: percent, bytes, files, time left (or the phase)."""
    progress = progress if progress is not None else task_progress(task)
    if task.status == "queued":
        return f"{task.kind}: queued, waiting for the repository"
    if task.status == "cancelling":
        return f"{task.kind}: cancelling"
    parts: list[str] = []
    if progress is not None:
        if progress.percent is not None:
            parts.append(f"{progress.percent:g}%")
        if progress.done_bytes is not None:
            done = human_bytes(progress.done_bytes)
            parts.append(f"{done} of {human_bytes(progress.total_bytes)}" if progress.total_bytes else f"{done}")
        if progress.files_done is not None:
            total = f" of {progress.total_files:,}" if progress.total_files else ""
            parts.append(f"{progress.files_done:,}{total} files")
        if progress.eta_s is not None:
            parts.append(f"{_duration(progress.eta_s)} left")
        if progress.phase:
            parts.append(progress.phase)
    return f"{task.kind}: " + (" · ".join(parts) if parts else task.status)


# The last progress value sent in this MCP call. One call may follow several tasks (a backup, then the forget
# Zerobyte queues after it); the values must still strictly increase, so a later task's progress is sent
# only above what was already sent, and never again after 100.
_sent: contextvars.ContextVar[float] = contextvars.ContextVar("zerobyte_progress_sent", default=-1.0)


class _Progress:
    """Forwards task updates as MCP progress (0-100), strictly increasing, no repeats."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.last = _sent.get()
        self.message: str | None = None

    async def update(self, task: Task) -> None:
        if task.terminal:
            return
        info = task_progress(task)
        message = progress_message(task, info)
        value = min(info.percent, _RUNNING_CAP) if info is not None and info.percent is not None else 0.0
        if value <= self.last:
            if message == self.message:
                return
            value = min(self.last + _NUDGE, _RUNNING_CAP)
            if value <= self.last:
                return
        self.last, self.message = value, message
        await self._send(value, message)

    async def finish(self, task: Task) -> None:
        if self.last >= 100:
            return
        view = task_view(task)
        await self._send(100, f"{task.kind}: {task.status} ({view.outcome})")

    async def _send(self, value: float, message: str) -> None:
        self.last = value
        _sent.set(value)
        try:
            await self.ctx.report_progress(value, 100, message)
        except anyio.get_cancelled_exc_class():
            raise
        except Exception:  # a notification the client cannot take must not fail the task's answer
            log.debug("progress notification not delivered", exc_info=True)


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"~{s} s"
    if s < 3600:
        return f"~{s // 60} min"
    return f"~{s // 3600} h {s % 3600 // 60} min"
