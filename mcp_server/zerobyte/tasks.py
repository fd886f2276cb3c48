"""The client's task routes: active tasks, task history, event streams, and following a task to its end.

Zerobyte runs long work (backups, restores, forgets, mirror syncs, doctor, snapshot deletes) as tasks
and reports their progress over Server-Sent Events. It never closes that stream and replays nothing
after a drop, so :meth:`TaskRoutes.follow_task` closes it at the terminal event and re-reads the task
after every drop. v0.40 has no tasks API and v0.41 no task history (:mod:`.system` detects which).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from pydantic import ValidationError

from .base import Routes, on_task
from .errors import InvalidArgument, NotFound, ZerobyteProtocolError, ZerobyteUnreachable
from .http import HttpCore, SSEEvent
from .ids import check_short_id
from .models import Task, TaskHistoryPage

__all__ = ["TaskCallback", "TaskRoutes"]

log = logging.getLogger(__name__)

TaskCallback = Callable[[Task], Awaitable[None]]


class TaskRoutes(Routes):
    async def list_tasks(
        self, *, kind: str | None = None, resource_type: str | None = None, resource_id: str | None = None
    ) -> list[Task]:
        """Active tasks only (queued, running, cancelling), newest first."""
        if (resource_type is None) != (resource_id is None):
            raise InvalidArgument("resource_type", "resource_type and resource_id must be given together")
        params: dict[str, Any] = {"kind": kind, "resourceType": resource_type}
        if resource_id is not None:
            params["resourceId"] = check_short_id("resource_id", resource_id)
        return await self._get_list("/tasks", Task, params=params)

    async def get_task(self, task_id: str) -> Task:
        tid, what = on_task(task_id)
        return await self._get(HttpCore.path("/tasks/{t}", t=tid), Task, what=what)

    async def cancel_task(self, task_id: str) -> str | None:
        tid, what = on_task(task_id)
        data = await self.http.request("POST", HttpCore.path("/tasks/{t}/cancel", t=tid), what=what)
        return data.get("status") if isinstance(data, dict) else None

    async def task_history(
        self, *, kind: str | None = None, outcome: str | None = None, page: int | None = None
    ) -> TaskHistoryPage:
        """Finished and running tasks, newest first, 25 per page."""
        if page is not None and (not isinstance(page, int) or page < 1):
            raise InvalidArgument("page", "must be 1 or more")
        return await self._get(
            "/tasks/history", TaskHistoryPage, params={"kind": kind, "outcome": outcome, "page": page}
        )

    @asynccontextmanager
    async def task_events(self, task_id: str) -> AsyncIterator[AsyncIterator[SSEEvent]]:
        tid, what = on_task(task_id)
        async with self.http.sse(HttpCore.path("/tasks/{t}/events", t=tid), what=what) as events:
            yield events

    @asynccontextmanager
    async def org_events(self) -> AsyncIterator[AsyncIterator[SSEEvent]]:
        """The organization's event stream (volume, notification, task-history and dump events)."""
        async with self.http.sse("/events") as events:
            yield events

    async def follow_task(
        self,
        task_id: str,
        on_update: TaskCallback | None = None,
        *,
        poll_interval: float = 1.0,
        max_reconnects: int = 3,
    ) -> Task:
        """Follow a task to a terminal status over SSE; fall back to GET /tasks/{id} when the stream drops.

        Zerobyte never closes the stream and replays nothing after a disconnect, so the stream is
        closed here at the terminal event and the state is re-read after every drop.
        """
        import httpx

        tid, _ = on_task(task_id)
        reconnects = 0
        last: Task | None = None
        while True:
            if reconnects <= max_reconnects:
                try:
                    async with self.task_events(tid) as events:
                        async for event in events:
                            if event.event != "task:changed":
                                continue  # connected, heartbeat
                            task = _task_from_event(event.data)
                            if task is None or task.id.lower() != tid:
                                continue
                            last = task
                            if on_update is not None:
                                await on_update(task)
                            if task.terminal:
                                return task
                    log.info("task %s: event stream ended before a terminal status", tid)
                except (ZerobyteUnreachable, ZerobyteProtocolError, httpx.HTTPError) as exc:
                    log.info("task %s: event stream dropped (%s); re-reading the task", tid, type(exc).__name__)
                except NotFound as exc:
                    if not exc.route_missing:
                        raise
                    reconnects = max_reconnects  # no SSE on this server: poll
                reconnects += 1
            else:
                await anyio.sleep(poll_interval)
            task = await self.get_task(tid)
            if last is None or task.model_dump() != last.model_dump():
                last = task
                if on_update is not None:
                    await on_update(task)
            if task.terminal:
                return task


def _task_from_event(data: str) -> Task | None:
    try:
        return Task.model_validate(json.loads(data))
    except (ValueError, ValidationError):
        log.warning("ignoring a malformed task event")
        return None
