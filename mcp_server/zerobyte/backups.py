"""The client's backup routes: backup jobs, their runs, mirrors and notifications, and notification destinations.

A backup job ties a volume to a repository on a schedule. Zerobyte's PATCH of a job and PUT of its
mirror or notification list replace the whole object, so callers merge first (the tools do). Runs,
forgets and mirror syncs start tasks, except on ≤ v0.41, which answers {success:true} and offers the
legacy stop and progress routes instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from .base import Routes, on_destination, on_job, parse, parse_list
from .errors import InvalidArgument, Subject
from .http import HttpCore
from .ids import check_job_id, check_short_id, check_snapshot_ids
from .models import (
    BackupJob,
    DestinationAssignment,
    Message,
    Mirror,
    MirrorCompatibility,
    MirrorStatus,
    NotificationDestination,
    TaskStarted,
)

__all__ = ["BackupJobRoutes", "NotificationRoutes"]

M = TypeVar("M", bound=BaseModel)


class BackupJobRoutes(Routes):
    async def list_backup_jobs(self) -> list[BackupJob]:
        return await self._get_list("/backups", BackupJob)

    async def get_backup_job(self, job_id: str | int) -> BackupJob:
        jid, what = on_job(job_id)
        return await self._get(HttpCore.path("/backups/{j}", j=jid), BackupJob, what=what)

    async def get_backup_job_for_volume(self, volume_id: str) -> BackupJob | None:
        vid = check_short_id("volume_id", volume_id)
        data = await self.http.request("GET", HttpCore.path("/backups/volume/{v}", v=vid))
        return None if data is None else parse(BackupJob, data, "GET", "/backups/volume/{id}")

    async def create_backup_job(self, body: Mapping[str, Any]) -> BackupJob:
        return await self._send("POST", "/backups", BackupJob, body=dict(body))

    async def update_backup_job(self, job_id: str | int, body: Mapping[str, Any]) -> BackupJob:
        """PATCH with a *complete* body: Zerobyte requires repositoryId and cronExpression and resets
        maxRetries/retryDelay when they are omitted; callers merge first."""
        jid, what = on_job(job_id)
        missing = [k for k in ("repositoryId", "cronExpression") if k not in body]
        if missing:
            raise InvalidArgument("body", f"PATCH needs {', '.join(missing)} (merge with the current job first)")
        return await self._send("PATCH", HttpCore.path("/backups/{j}", j=jid), BackupJob, body=dict(body), what=what)

    async def delete_backup_job(self, job_id: str | int) -> None:
        jid, what = on_job(job_id)
        await self.http.request("DELETE", HttpCore.path("/backups/{j}", j=jid), what=what)

    async def run_backup(self, job_id: str | int) -> TaskStarted | None:
        """Start a backup; ``None`` on Zerobyte ≤ v0.41, which answers {success:true} with no task."""
        jid, what = on_job(job_id)
        return await self._start("POST", HttpCore.path("/backups/{j}/run", j=jid), "/backups/{id}/run", what=what)

    async def stop_backup(self, job_id: str | int) -> None:
        """Legacy (≤ v0.41) stop route; newer servers cancel the task instead."""
        jid, what = on_job(job_id)
        await self.http.request("POST", HttpCore.path("/backups/{j}/stop", j=jid), what=what)

    async def get_backup_progress(self, job_id: str | int) -> Any:
        """Legacy (≤ v0.41) progress route."""
        jid, what = on_job(job_id)
        return await self.http.request("GET", HttpCore.path("/backups/{j}/progress", j=jid), what=what)

    async def run_forget(self, job_id: str | int) -> TaskStarted | None:
        jid, what = on_job(job_id)
        path = HttpCore.path("/backups/{j}/forget", j=jid)
        return await self._start("POST", path, "/backups/{id}/forget", what=what)

    async def get_job_notifications(self, job_id: str | int) -> list[DestinationAssignment]:
        jid, what = on_job(job_id)
        path = HttpCore.path("/backups/{j}/notifications", j=jid)
        return await self._get_list(path, DestinationAssignment, what=what)

    async def set_job_notifications(
        self, job_id: str | int, assignments: Iterable[Mapping[str, Any]]
    ) -> list[DestinationAssignment]:
        """Replaces the whole list (merge first)."""
        return await self._replace_list(job_id, "notifications", "assignments", assignments, DestinationAssignment)

    async def get_job_mirrors(self, job_id: str | int) -> list[Mirror]:
        jid, what = on_job(job_id)
        return await self._get_list(HttpCore.path("/backups/{j}/mirrors", j=jid), Mirror, what=what)

    async def set_job_mirrors(self, job_id: str | int, mirrors: Iterable[Mapping[str, Any]]) -> list[Mirror]:
        """Replaces the whole list (merge first)."""
        return await self._replace_list(job_id, "mirrors", "mirrors", mirrors, Mirror)

    async def _replace_list(
        self, job_id: str | int, tail: str, key: str, items: Iterable[Mapping[str, Any]], model: type[M]
    ) -> list[M]:
        """PUT ``{key: items}`` to ``/backups/{id}/<tail>``, which replaces that list of the job."""
        jid, what = on_job(job_id)
        data = await self.http.request(
            "PUT",
            HttpCore.path("/backups/{j}/" + tail, j=jid),
            json_body={key: [dict(item) for item in items]},
            what=what,
        )
        return parse_list(model, data, "PUT", "/backups/{id}/" + tail)

    async def get_mirror_compatibility(self, job_id: str | int) -> list[MirrorCompatibility]:
        jid, what = on_job(job_id)
        path = HttpCore.path("/backups/{j}/mirrors/compatibility", j=jid)
        return await self._get_list(path, MirrorCompatibility, what=what)

    async def get_mirror_status(self, job_id: str | int, mirror_repository_id: str) -> MirrorStatus:
        jid, mid, what = _on_mirror(job_id, mirror_repository_id)
        path = HttpCore.path("/backups/{j}/mirrors/{m}/status", j=jid, m=mid)
        return await self._get(path, MirrorStatus, what=what, heavy=True)

    async def sync_mirror(
        self, job_id: str | int, mirror_repository_id: str, snapshot_ids: Iterable[str] | None = None
    ) -> TaskStarted | None:
        jid, mid, what = _on_mirror(job_id, mirror_repository_id)
        body: dict[str, Any] = {}
        if snapshot_ids is not None:
            body["snapshotIds"] = check_snapshot_ids("snapshot_ids", snapshot_ids)
        path = HttpCore.path("/backups/{j}/mirrors/{m}/sync", j=jid, m=mid)
        return await self._start("POST", path, "/backups/{id}/mirrors/{m}/sync", what=what, body=body)

    async def reorder_backup_jobs(self, job_short_ids: Iterable[str]) -> None:
        ids = [check_short_id("job_short_ids", j) for j in job_short_ids]
        await self.http.request("POST", "/backups/reorder", json_body={"scheduleShortIds": ids})


class NotificationRoutes(Routes):
    async def list_destinations(self) -> list[NotificationDestination]:
        return await self._get_list("/notifications/destinations", NotificationDestination)

    async def get_destination(self, destination_id: int | str) -> NotificationDestination:
        did, what = on_destination(destination_id)
        path = HttpCore.path("/notifications/destinations/{d}", d=did)
        return await self._get(path, NotificationDestination, what=what)

    async def create_destination(self, name: str, config: Mapping[str, Any]) -> NotificationDestination:
        return await self._send(
            "POST", "/notifications/destinations", NotificationDestination, body={"name": name, "config": dict(config)}
        )

    async def update_destination(
        self, destination_id: int | str, changes: Mapping[str, Any]
    ) -> NotificationDestination:
        did, what = on_destination(destination_id)
        path = HttpCore.path("/notifications/destinations/{d}", d=did)
        return await self._send("PATCH", path, NotificationDestination, body=dict(changes), what=what)

    async def delete_destination(self, destination_id: int | str) -> Message:
        did, what = on_destination(destination_id)
        path = HttpCore.path("/notifications/destinations/{d}", d=did)
        return await self._send("DELETE", path, Message, what=what)

    async def test_destination(self, destination_id: int | str) -> bool:
        did, what = on_destination(destination_id)
        path = HttpCore.path("/notifications/destinations/{d}/test", d=did)
        data = await self.http.request("POST", path, what=what)
        return bool(isinstance(data, dict) and data.get("success"))


def _on_mirror(job_id: str | int, mirror_repository_id: str) -> tuple[str, str, Subject]:
    jid = check_job_id("job_id", job_id)
    mid = check_short_id("mirror_repository_id", mirror_repository_id)
    return jid, mid, Subject("mirror", f"Mirror {mid!r} of backup job {jid!r}")
