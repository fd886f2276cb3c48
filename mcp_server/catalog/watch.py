"""Index each new snapshot soon after its backup finishes, while the server runs.

Zerobyte's organization event stream says when a backup ends: v0.42 sends ``task:history-changed`` for the
backup task (its schedule is read from the task), v0.41 sends ``backup:completed`` with the schedule's id.
The newest snapshot of that job's repository is then queued for the background indexer, so the next
question about it is answered from the catalog. A few requests per backup; the stream is reopened with a
growing pause when it drops, and given up on a Zerobyte without it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio

from ..zerobyte import NotFound, ZerobyteError
from .indexer import Indexer

__all__ = ["watch_backups"]

log = logging.getLogger(__name__)


async def watch_backups(indexer: Indexer, *, first_delay: float = 5.0) -> None:
    client = indexer.client
    delay = first_delay
    while True:
        try:
            async with client.org_events() as events:
                delay = first_delay
                async for event in events:
                    schedule = _finished_backup(event.event, event.data)
                    if schedule is None:
                        continue
                    if schedule.startswith("task:"):
                        task = await client.get_task(schedule[5:])
                        schedule = task.resourceId or ""
                    if schedule:
                        await _queue_newest(indexer, schedule)
        except NotFound as exc:
            if exc.route_missing:
                log.info("this Zerobyte has no event stream: new snapshots are indexed when asked about")
                return
        except ZerobyteError as exc:
            log.info("event stream closed (%s); reopening in %.0f s", exc, delay)
        await anyio.sleep(delay)
        delay = min(delay * 2, 300.0)


def _finished_backup(name: str, data: str) -> str | None:
    """The schedule of a successful backup ("task:<id>" when only its task is named), or None."""
    try:
        payload: Any = json.loads(data)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if name == "backup:completed" and payload.get("status") in ("success", "warning"):
        schedule = payload.get("scheduleId")
        return str(schedule) if schedule else None
    item = payload.get("item")
    if (
        name == "task:history-changed"
        and isinstance(item, dict)
        and (item.get("kind"), item.get("status")) == ("backup", "succeeded")
        and item.get("id")
    ):
        return f"task:{item['id']}"
    return None


async def _queue_newest(indexer: Indexer, schedule: str) -> None:
    client = indexer.client
    try:
        job = await client.get_backup_job(schedule)
        repository = await client.job_repository(job)
        if repository is None:
            return
        snaps = await client.list_snapshots(repository, backup_job_id=job.shortId)
    except ZerobyteError as exc:
        log.info("new snapshot of job %s not queued for indexing: %s", schedule, exc)
        return
    if not snaps:
        return
    newest = max(snaps, key=lambda s: s.time)
    known = indexer.known(repository, snaps)
    if newest.short_id not in known or not known[newest.short_id].complete:
        log.info("queueing snapshot %s of %s for indexing (backup finished)", newest.short_id, repository)
        indexer.want(repository, [newest])
