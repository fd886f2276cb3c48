"""The client's repository routes: restic repositories, their statistics and their maintenance.

A repository is where snapshots are stored (local, S3, SFTP, rclone...). Refreshing statistics, unlocking
and creating run restic before Zerobyte answers, so they use the long timeout; doctor runs as a task.
The snapshots inside a repository have their own group, :mod:`.snapshots`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .base import Routes, on_repository, parse
from .http import HttpCore
from .models import BackupJob, Message, RcloneRemote, Repository, ResticStats, TaskStarted, UnlockResult

__all__ = ["RepositoryRoutes"]


class RepositoryRoutes(Routes):
    async def list_repositories(self) -> list[Repository]:
        return await self._get_list("/repositories", Repository)

    async def job_repository(
        self, job: BackupJob, repositories: Callable[[], Awaitable[list[Repository]]] | None = None
    ) -> str | None:
        """The short id of the repository ``job`` writes to (None if it names none, or one that is gone).

        Tool arguments use short ids, but a job row may name its repository by UUID only: then the
        repositories are listed (``repositories`` lets a caller reuse a listing it already has).
        """
        if job.repository is not None:
            return job.repository.shortId
        if job.repositoryId is None:
            return None
        for repository in await (repositories or self.list_repositories)():
            if job.writes_to(repository):
                return repository.shortId
        return None

    async def get_repository(self, repository_id: str) -> Repository:
        rid, what = on_repository(repository_id)
        return await self._get(HttpCore.path("/repositories/{r}", r=rid), Repository, what=what)

    async def create_repository(
        self, name: str, config: Mapping[str, Any], *, compression_mode: str | None = None
    ) -> Repository:
        body: dict[str, Any] = {"name": name, "config": dict(config)}
        if compression_mode is not None:
            body["compressionMode"] = compression_mode
        data = await self.http.request("POST", "/repositories", json_body=body, heavy=True)
        # The DTO promises {id, shortId, name}; the real answer is {message, repository: <full row>}.
        row = data.get("repository", data) if isinstance(data, dict) else data
        return parse(Repository, row, "POST", "/repositories")

    async def update_repository(self, repository_id: str, changes: Mapping[str, Any]) -> Repository:
        rid, what = on_repository(repository_id)
        return await self._send(
            "PATCH", HttpCore.path("/repositories/{r}", r=rid), Repository, body=dict(changes), what=what
        )

    async def delete_repository(self, repository_id: str) -> Message:
        rid, what = on_repository(repository_id)
        return await self._send("DELETE", HttpCore.path("/repositories/{r}", r=rid), Message, what=what)

    async def list_rclone_remotes(self) -> list[RcloneRemote]:
        return await self._get_list("/repositories/rclone-remotes", RcloneRemote)

    async def get_repository_stats(self, repository_id: str) -> ResticStats:
        rid, what = on_repository(repository_id)
        return await self._get(HttpCore.path("/repositories/{r}/stats", r=rid), ResticStats, what=what)

    async def refresh_repository_stats(self, repository_id: str) -> ResticStats:
        rid, what = on_repository(repository_id)
        path = HttpCore.path("/repositories/{r}/stats/refresh", r=rid)
        return await self._send("POST", path, ResticStats, heavy=True, what=what)

    async def unlock_repository(self, repository_id: str) -> UnlockResult:
        rid, what = on_repository(repository_id)
        path = HttpCore.path("/repositories/{r}/unlock", r=rid)
        return await self._send("POST", path, UnlockResult, heavy=True, what=what)

    async def start_doctor(self, repository_id: str) -> TaskStarted | None:
        """Start doctor; ``None`` on Zerobyte v0.40, which runs it before answering {message, repositoryId}."""
        rid, what = on_repository(repository_id)
        path = HttpCore.path("/repositories/{r}/doctor", r=rid)
        return await self._start("POST", path, "/repositories/{id}/doctor", what=what)
