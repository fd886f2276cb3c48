"""Typed async methods for every /api/v1 route an API key may call.

Each method validates its ids before building a URL, names the object in its 404 message, and parses
the answer into the tolerant models of :mod:`.models`. The client knows nothing of MCP. Org-member
management and browser-only routes are deliberately absent.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import InvalidArgument, NotFound, Subject, ZerobyteError, ZerobyteProtocolError, ZerobyteUnreachable
from .failures import lost_answer
from .http import AnswerHook, HttpCore, KeySource, SSEEvent, Timeouts
from .ids import (
    check_absolute_path,
    check_destination_id,
    check_job_id,
    check_short_id,
    check_snapshot_id,
    check_task_id,
)
from .models import (
    BackupJob,
    DestinationAssignment,
    FilesystemBrowse,
    Message,
    Mirror,
    MirrorCompatibility,
    MirrorStatus,
    MountResult,
    NotificationDestination,
    RcloneRemote,
    Repository,
    ResticStats,
    RestoreStarted,
    Snapshot,
    SnapshotFilesPage,
    SystemInfo,
    SystemUpdates,
    Task,
    TaskHistoryPage,
    TaskStarted,
    TestConnectionResult,
    UnlockResult,
    Volume,
    VolumeDetail,
    VolumeFilesPage,
)

if TYPE_CHECKING:
    import httpx  # imported where used, as in .http (cold start)

__all__ = ["Capabilities", "DumpResult", "ZerobyteClient"]

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


SNAPSHOT_FILES_PAGE_CAP = 500
TaskCallback = Callable[[Task], Awaitable[None]]


@dataclass
class Capabilities:
    """What this Zerobyte supports, detected by route (version strings are unreliable)."""

    tasks_api: bool = True
    task_history: bool = True
    legacy_backup_control: bool = False  # v0.40/v0.41: run answers {success:true}; /stop and /progress exist
    version: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DumpResult:
    data: bytes
    truncated: bool
    content_type: str | None


class ZerobyteClient:
    """Async client for Zerobyte's /api/v1 with an ``x-api-key``; use as an async context manager."""

    def __init__(
        self,
        base_url: str,
        api_key: str | KeySource,
        *,
        reload_key: KeySource | None = None,
        timeouts: Timeouts | None = None,
        verify: bool | str = True,
        transport: httpx.AsyncBaseTransport | None = None,
        max_attempts: int = 3,
        backoff: float = 0.25,
        on_answer: AnswerHook | None = None,
    ) -> None:
        source: KeySource = (lambda: api_key) if isinstance(api_key, str) else api_key
        self.http = HttpCore(
            base_url,
            source,
            reload_key=reload_key,
            timeouts=timeouts,
            verify=verify,
            transport=transport,
            max_attempts=max_attempts,
            backoff=backoff,
            on_answer=on_answer,
        )
        self.capabilities: Capabilities | None = None

    @property
    def base_url(self) -> str:
        return self.http.base_url

    async def __aenter__(self) -> ZerobyteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- plumbing -----------------------------------------------------------------------------------

    async def _get(
        self,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, Any] | None = None,
        what: Subject | None = None,
        heavy: bool = False,
    ) -> M:
        return _parse(model, await self.http.request("GET", path, params=params, what=what, heavy=heavy), "GET", path)

    async def _get_list(
        self, path: str, model: type[M], *, params: Mapping[str, Any] | None = None, what: Subject | None = None
    ) -> list[M]:
        return _parse_list(model, await self.http.request("GET", path, params=params, what=what), "GET", path)

    async def _send(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        body: Any = None,
        what: Subject | None = None,
        heavy: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> M:
        kwargs: dict[str, Any] = {"what": what, "heavy": heavy, "params": params}
        if body is not None:
            kwargs["json_body"] = body
        return _parse(model, await self.http.request(method, path, **kwargs), method, path)

    # --- system ---------------------------------------------------------------------------------------

    async def system_info(self) -> SystemInfo:
        return await self._get("/system/info", SystemInfo)

    async def system_updates(self) -> SystemUpdates:
        return await self._get("/system/updates", SystemUpdates)

    async def registration_status(self) -> bool:
        data = await self.http.request("GET", "/system/registration-status")
        return bool(isinstance(data, dict) and data.get("enabled"))

    async def password_login_status(self) -> bool:
        """True when password login is disabled."""
        data = await self.http.request("GET", "/system/password-login-status")
        return bool(isinstance(data, dict) and data.get("disabled"))

    async def dev_panel_enabled(self) -> bool:
        data = await self.http.request("GET", "/system/dev-panel")
        return bool(isinstance(data, dict) and data.get("enabled"))

    async def auth_status(self) -> bool:
        """Public route: whether the instance has users (reachability without a key)."""
        data = await self.http.request("GET", "/auth/status")
        return bool(isinstance(data, dict) and data.get("hasUsers"))

    async def detect_capabilities(self) -> Capabilities:
        """Probe routes that differ between v0.40/v0.41 and v0.42+ (tasks API, task history)."""
        caps = Capabilities()
        try:
            caps.version = (await self.system_updates()).currentVersion
        except NotFound:
            caps.version = None
        try:
            await self.http.request("GET", "/tasks/history", params={"page": 1})
        except NotFound:
            # v0.41 has no history route but routes the path to /tasks/{taskId}: 404 "Task not found".
            caps.task_history = False
            caps.legacy_backup_control = True
            caps.notes.append("no task history (Zerobyte ≤ v0.41): history tools are not available")
        try:
            await self.http.request("GET", "/tasks")
        except NotFound as exc:
            if not exc.route_missing:
                raise
            caps.tasks_api = False
            caps.notes.append("no tasks API (Zerobyte v0.40): backups are followed through the job's status")
        self.capabilities = caps
        return caps

    # --- volumes --------------------------------------------------------------------------------------

    async def list_volumes(self) -> list[Volume]:
        return await self._get_list("/volumes", Volume)

    async def get_volume(self, volume_id: str) -> VolumeDetail:
        vid = check_short_id("volume_id", volume_id)
        return await self._get(
            HttpCore.path("/volumes/{v}", v=vid), VolumeDetail, what=Subject("volume", f"Volume {vid!r}")
        )

    async def create_volume(self, name: str, config: Mapping[str, Any]) -> Volume:
        # Zerobyte mounts synchronously before answering: a slow NFS/SMB mount needs the long timeout.
        return await self._send("POST", "/volumes", Volume, body={"name": name, "config": dict(config)}, heavy=True)

    async def update_volume(self, volume_id: str, changes: Mapping[str, Any]) -> Volume:
        vid = check_short_id("volume_id", volume_id)
        return await self._send(
            "PUT",
            HttpCore.path("/volumes/{v}", v=vid),
            Volume,
            body=dict(changes),
            what=Subject("volume", f"Volume {vid!r}"),
            heavy=True,
        )

    async def delete_volume(self, volume_id: str) -> Message:
        vid = check_short_id("volume_id", volume_id)
        return await self._send(
            "DELETE", HttpCore.path("/volumes/{v}", v=vid), Message, what=Subject("volume", f"Volume {vid!r}")
        )

    async def test_volume_connection(self, config: Mapping[str, Any]) -> TestConnectionResult:
        return await self._send(
            "POST", "/volumes/test-connection", TestConnectionResult, body={"config": dict(config)}, heavy=True
        )

    async def mount_volume(self, volume_id: str) -> MountResult:
        return await self._volume_action(volume_id, "mount")

    async def unmount_volume(self, volume_id: str) -> MountResult:
        return await self._volume_action(volume_id, "unmount")

    async def health_check_volume(self, volume_id: str) -> MountResult:
        return await self._volume_action(volume_id, "health-check")

    async def _volume_action(self, volume_id: str, action: str) -> MountResult:
        vid = check_short_id("volume_id", volume_id)
        path = HttpCore.path("/volumes/{v}/" + action, v=vid)
        try:
            return await self._send("POST", path, MountResult, what=Subject("volume", f"Volume {vid!r}"), heavy=True)
        except ZerobyteError as exc:
            # Mount/unmount failures answer 500 {status:"error", error}: a result, not a crash.
            upstream = getattr(exc, "upstream_message", None)
            if getattr(exc, "status", None) == 500 and upstream:
                return MountResult(status="error", error=upstream)
            raise

    async def list_volume_files(
        self, volume_id: str, path: str | None = None, *, offset: int | None = None, limit: int | None = None
    ) -> VolumeFilesPage:
        """One directory of a volume (path relative to the volume root), paged (Zerobyte caps at 500)."""
        vid = check_short_id("volume_id", volume_id)
        params = _page_params(offset, limit, 500)
        if path is not None and path not in ("", "/"):
            params["path"] = check_absolute_path("path", path if path.startswith("/") else "/" + path)
        return await self._get(
            HttpCore.path("/volumes/{v}/files", v=vid),
            VolumeFilesPage,
            params=params,
            what=Subject("volume", f"Volume {vid!r}"),
        )

    async def browse_filesystem(self, path: str = "/") -> FilesystemBrowse:
        return await self._get(
            "/volumes/filesystem/browse",
            FilesystemBrowse,
            params={"path": check_absolute_path("path", path)},
            what=Subject("directory", f"Directory {path!r}"),
        )

    # --- repositories ---------------------------------------------------------------------------------

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
        rid = check_short_id("repository_id", repository_id)
        return await self._get(
            HttpCore.path("/repositories/{r}", r=rid), Repository, what=Subject("repository", f"Repository {rid!r}")
        )

    async def create_repository(
        self, name: str, config: Mapping[str, Any], *, compression_mode: str | None = None
    ) -> Repository:
        body: dict[str, Any] = {"name": name, "config": dict(config)}
        if compression_mode is not None:
            body["compressionMode"] = compression_mode
        data = await self.http.request("POST", "/repositories", json_body=body, heavy=True)
        # The DTO promises {id, shortId, name}; the real answer is {message, repository: <full row>}.
        row = data.get("repository", data) if isinstance(data, dict) else data
        return _parse(Repository, row, "POST", "/repositories")

    async def update_repository(self, repository_id: str, changes: Mapping[str, Any]) -> Repository:
        rid = check_short_id("repository_id", repository_id)
        return await self._send(
            "PATCH",
            HttpCore.path("/repositories/{r}", r=rid),
            Repository,
            body=dict(changes),
            what=Subject("repository", f"Repository {rid!r}"),
        )

    async def delete_repository(self, repository_id: str) -> Message:
        rid = check_short_id("repository_id", repository_id)
        return await self._send(
            "DELETE",
            HttpCore.path("/repositories/{r}", r=rid),
            Message,
            what=Subject("repository", f"Repository {rid!r}"),
        )

    async def list_rclone_remotes(self) -> list[RcloneRemote]:
        return await self._get_list("/repositories/rclone-remotes", RcloneRemote)

    async def get_repository_stats(self, repository_id: str) -> ResticStats:
        rid = check_short_id("repository_id", repository_id)
        return await self._get(
            HttpCore.path("/repositories/{r}/stats", r=rid),
            ResticStats,
            what=Subject("repository", f"Repository {rid!r}"),
        )

    async def refresh_repository_stats(self, repository_id: str) -> ResticStats:
        rid = check_short_id("repository_id", repository_id)
        return await self._send(
            "POST",
            HttpCore.path("/repositories/{r}/stats/refresh", r=rid),
            ResticStats,
            heavy=True,
            what=Subject("repository", f"Repository {rid!r}"),
        )

    async def unlock_repository(self, repository_id: str) -> UnlockResult:
        rid = check_short_id("repository_id", repository_id)
        return await self._send(
            "POST",
            HttpCore.path("/repositories/{r}/unlock", r=rid),
            UnlockResult,
            heavy=True,
            what=Subject("repository", f"Repository {rid!r}"),
        )

    async def start_doctor(self, repository_id: str) -> TaskStarted | None:
        """Start doctor; ``None`` on Zerobyte v0.40, which runs it before answering {message, repositoryId}."""
        rid = check_short_id("repository_id", repository_id)
        data = await self.http.request(
            "POST", HttpCore.path("/repositories/{r}/doctor", r=rid), what=Subject("repository", f"Repository {rid!r}")
        )
        return _task_started_or_none(data, "POST", "/repositories/{id}/doctor")

    # --- snapshots ------------------------------------------------------------------------------------

    async def list_snapshots(self, repository_id: str, *, backup_job_id: str | None = None) -> list[Snapshot]:
        """All snapshots of a repository, oldest first (Zerobyte has no paging or time filter)."""
        rid = check_short_id("repository_id", repository_id)
        params = {"backupId": check_short_id("backup_job_id", backup_job_id)} if backup_job_id else None
        return await self._get_list(
            HttpCore.path("/repositories/{r}/snapshots", r=rid),
            Snapshot,
            params=params,
            what=Subject("repository", f"Repository {rid!r}"),
        )

    async def refresh_snapshots(self, repository_id: str) -> Message:
        rid = check_short_id("repository_id", repository_id)
        return await self._send(
            "POST",
            HttpCore.path("/repositories/{r}/snapshots/refresh", r=rid),
            Message,
            heavy=True,
            what=Subject("repository", f"Repository {rid!r}"),
        )

    async def get_snapshot(self, repository_id: str, snapshot_id: str) -> Snapshot:
        rid = check_short_id("repository_id", repository_id)
        sid = check_snapshot_id("snapshot_id", snapshot_id)
        return await self._get(
            HttpCore.path("/repositories/{r}/snapshots/{s}", r=rid, s=sid),
            Snapshot,
            what=Subject("snapshot", f"Snapshot {sid!r} in repository {rid!r}"),
        )

    async def list_snapshot_files(
        self,
        repository_id: str,
        snapshot_id: str,
        path: str | None,
        *,
        offset: int | None = None,
        limit: int | None = None,
    ) -> SnapshotFilesPage:
        """Children of ``path`` in a snapshot (no path = recursive walk of everything: avoid)."""
        rid = check_short_id("repository_id", repository_id)
        sid = check_snapshot_id("snapshot_id", snapshot_id)
        params = _page_params(offset, limit, SNAPSHOT_FILES_PAGE_CAP)
        if path is not None:
            params["path"] = _decoded_twice(check_absolute_path("path", path))
        return await self._get(
            HttpCore.path("/repositories/{r}/snapshots/{s}/files", r=rid, s=sid),
            SnapshotFilesPage,
            params=params,
            what=Subject("snapshot", f"Snapshot {sid!r} in repository {rid!r}"),
        )

    async def dump_snapshot(
        self, repository_id: str, snapshot_id: str, path: str, *, kind: Literal["file", "dir"], max_bytes: int
    ) -> DumpResult:
        """Read a file (or a folder as tar) from a snapshot, stopping after ``max_bytes``."""
        import httpx

        rid = check_short_id("repository_id", repository_id)
        sid = check_snapshot_id("snapshot_id", snapshot_id)
        clean = check_absolute_path("path", path)
        if kind not in ("file", "dir"):
            raise InvalidArgument("kind", "must be 'file' or 'dir'")
        chunks: list[bytes] = []
        size = 0
        truncated = False
        async with self.http.stream(
            "GET",
            HttpCore.path("/repositories/{r}/snapshots/{s}/dump", r=rid, s=sid),
            params={"path": _decoded_twice(clean), "kind": kind},
            what=Subject("file", f"{clean!r} in snapshot {sid!r}"),
        ) as response:
            ctype = response.headers.get("content-type")
            try:
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > max_bytes:
                        truncated = True
                        break
            except httpx.HTTPError as exc:
                raise ZerobyteUnreachable(
                    f"The download of {clean!r} from snapshot {sid} broke mid-transfer ({type(exc).__name__}): retry.",
                    kind="reset",
                ) from exc
        data = b"".join(chunks)
        return DumpResult(data=data[:max_bytes], truncated=truncated, content_type=ctype)

    @asynccontextmanager
    async def stream_snapshot_dump(
        self, repository_id: str, snapshot_id: str, path: str, *, kind: Literal["file", "dir"], read_timeout: float
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """The dump of ``path`` as a stream of chunks, never held whole (a folder is a tar of everything in it)."""
        import httpx

        rid = check_short_id("repository_id", repository_id)
        sid = check_snapshot_id("snapshot_id", snapshot_id)
        clean = check_absolute_path("path", path)
        if kind not in ("file", "dir"):
            raise InvalidArgument("kind", "must be 'file' or 'dir'")
        async with self.http.stream(
            "GET",
            HttpCore.path("/repositories/{r}/snapshots/{s}/dump", r=rid, s=sid),
            params={"path": _decoded_twice(clean), "kind": kind},
            read_timeout=read_timeout,
            what=Subject("file", f"{clean!r} in snapshot {sid!r}"),
        ) as response:

            async def chunks() -> AsyncIterator[bytes]:
                try:
                    async for chunk in response.aiter_bytes(65536):
                        yield chunk
                except httpx.HTTPError as exc:
                    raise ZerobyteUnreachable(
                        f"The download of {clean!r} from snapshot {sid} broke mid-transfer ({type(exc).__name__}).",
                        kind="reset",
                    ) from exc

            yield chunks()

    async def restore(self, repository_id: str, body: Mapping[str, Any]) -> TaskStarted:
        rid = check_short_id("repository_id", repository_id)
        started = await self._send(
            "POST",
            HttpCore.path("/repositories/{r}/restore", r=rid),
            RestoreStarted,
            body=dict(body),
            what=Subject("repository", f"Repository {rid!r}"),
        )
        return TaskStarted(taskId=started.restoreId, status=started.status)

    async def delete_snapshot(self, repository_id: str, snapshot_id: str) -> TaskStarted | None:
        """Start deleting one snapshot; ``None`` on Zerobyte v0.40, which deletes before answering {message}."""
        rid = check_short_id("repository_id", repository_id)
        sid = check_snapshot_id("snapshot_id", snapshot_id)
        data = await self.http.request(
            "DELETE",
            HttpCore.path("/repositories/{r}/snapshots/{s}", r=rid, s=sid),
            what=Subject("repository", f"Repository {rid!r}"),
        )
        return _task_started_or_none(data, "DELETE", "/repositories/{id}/snapshots/{snapshotId}")

    async def delete_snapshots(self, repository_id: str, snapshot_ids: Iterable[str]) -> TaskStarted | None:
        """Start deleting snapshots; ``None`` on Zerobyte v0.40, which deletes before answering {message}."""
        rid = check_short_id("repository_id", repository_id)
        ids = _snapshot_ids(snapshot_ids)
        data = await self.http.request(
            "DELETE",
            HttpCore.path("/repositories/{r}/snapshots", r=rid),
            json_body={"snapshotIds": ids},
            what=Subject("repository", f"Repository {rid!r}"),
        )
        return _task_started_or_none(data, "DELETE", "/repositories/{id}/snapshots")

    async def tag_snapshots(
        self,
        repository_id: str,
        snapshot_ids: Iterable[str],
        *,
        add: Iterable[str] | None = None,
        remove: Iterable[str] | None = None,
        set_tags: Iterable[str] | None = None,
    ) -> TaskStarted | None:
        """Start retagging; ``None`` on Zerobyte v0.40, which retags before answering {message}."""
        rid = check_short_id("repository_id", repository_id)
        body: dict[str, Any] = {"snapshotIds": _snapshot_ids(snapshot_ids)}
        for key, values in (("add", add), ("remove", remove), ("set", set_tags)):
            if values is not None:
                body[key] = list(values)
        data = await self.http.request(
            "POST",
            HttpCore.path("/repositories/{r}/snapshots/tag", r=rid),
            json_body=body,
            what=Subject("repository", f"Repository {rid!r}"),
        )
        return _task_started_or_none(data, "POST", "/repositories/{id}/snapshots/tag")

    # --- backup jobs ----------------------------------------------------------------------------------

    async def list_backup_jobs(self) -> list[BackupJob]:
        return await self._get_list("/backups", BackupJob)

    async def get_backup_job(self, job_id: str | int) -> BackupJob:
        jid = check_job_id("job_id", job_id)
        return await self._get(
            HttpCore.path("/backups/{j}", j=jid), BackupJob, what=Subject("backup_job", f"Backup job {jid!r}")
        )

    async def get_backup_job_for_volume(self, volume_id: str) -> BackupJob | None:
        vid = check_short_id("volume_id", volume_id)
        data = await self.http.request("GET", HttpCore.path("/backups/volume/{v}", v=vid))
        return None if data is None else _parse(BackupJob, data, "GET", "/backups/volume/{id}")

    async def create_backup_job(self, body: Mapping[str, Any]) -> BackupJob:
        return await self._send("POST", "/backups", BackupJob, body=dict(body))

    async def update_backup_job(self, job_id: str | int, body: Mapping[str, Any]) -> BackupJob:
        """PATCH with a *complete* body: Zerobyte requires repositoryId and cronExpression and resets
        maxRetries/retryDelay when they are omitted; callers merge first."""
        jid = check_job_id("job_id", job_id)
        missing = [k for k in ("repositoryId", "cronExpression") if k not in body]
        if missing:
            raise InvalidArgument("body", f"PATCH needs {', '.join(missing)} (merge with the current job first)")
        return await self._send(
            "PATCH",
            HttpCore.path("/backups/{j}", j=jid),
            BackupJob,
            body=dict(body),
            what=Subject("backup_job", f"Backup job {jid!r}"),
        )

    async def delete_backup_job(self, job_id: str | int) -> None:
        jid = check_job_id("job_id", job_id)
        await self.http.request(
            "DELETE", HttpCore.path("/backups/{j}", j=jid), what=Subject("backup_job", f"Backup job {jid!r}")
        )

    async def run_backup(self, job_id: str | int) -> TaskStarted | None:
        """Start a backup; ``None`` on Zerobyte ≤ v0.41, which answers {success:true} with no task."""
        jid = check_job_id("job_id", job_id)
        data = await self.http.request(
            "POST", HttpCore.path("/backups/{j}/run", j=jid), what=Subject("backup_job", f"Backup job {jid!r}")
        )
        return _task_started_or_none(data, "POST", "/backups/{id}/run")

    async def stop_backup(self, job_id: str | int) -> None:
        """Legacy (≤ v0.41) stop route; newer servers cancel the task instead."""
        jid = check_job_id("job_id", job_id)
        await self.http.request(
            "POST", HttpCore.path("/backups/{j}/stop", j=jid), what=Subject("backup_job", f"Backup job {jid!r}")
        )

    async def get_backup_progress(self, job_id: str | int) -> Any:
        """Legacy (≤ v0.41) progress route."""
        jid = check_job_id("job_id", job_id)
        return await self.http.request(
            "GET", HttpCore.path("/backups/{j}/progress", j=jid), what=Subject("backup_job", f"Backup job {jid!r}")
        )

    async def run_forget(self, job_id: str | int) -> TaskStarted | None:
        jid = check_job_id("job_id", job_id)
        data = await self.http.request(
            "POST", HttpCore.path("/backups/{j}/forget", j=jid), what=Subject("backup_job", f"Backup job {jid!r}")
        )
        return _task_started_or_none(data, "POST", "/backups/{id}/forget")

    async def get_job_notifications(self, job_id: str | int) -> list[DestinationAssignment]:
        jid = check_job_id("job_id", job_id)
        return await self._get_list(
            HttpCore.path("/backups/{j}/notifications", j=jid),
            DestinationAssignment,
            what=Subject("backup_job", f"Backup job {jid!r}"),
        )

    async def set_job_notifications(
        self, job_id: str | int, assignments: Iterable[Mapping[str, Any]]
    ) -> list[DestinationAssignment]:
        """Replaces the whole list (merge first)."""
        jid = check_job_id("job_id", job_id)
        data = await self.http.request(
            "PUT",
            HttpCore.path("/backups/{j}/notifications", j=jid),
            json_body={"assignments": [dict(a) for a in assignments]},
            what=Subject("backup_job", f"Backup job {jid!r}"),
        )
        return _parse_list(DestinationAssignment, data, "PUT", "/backups/{id}/notifications")

    async def get_job_mirrors(self, job_id: str | int) -> list[Mirror]:
        jid = check_job_id("job_id", job_id)
        return await self._get_list(
            HttpCore.path("/backups/{j}/mirrors", j=jid), Mirror, what=Subject("backup_job", f"Backup job {jid!r}")
        )

    async def set_job_mirrors(self, job_id: str | int, mirrors: Iterable[Mapping[str, Any]]) -> list[Mirror]:
        """Replaces the whole list (merge first)."""
        jid = check_job_id("job_id", job_id)
        data = await self.http.request(
            "PUT",
            HttpCore.path("/backups/{j}/mirrors", j=jid),
            json_body={"mirrors": [dict(m) for m in mirrors]},
            what=Subject("backup_job", f"Backup job {jid!r}"),
        )
        return _parse_list(Mirror, data, "PUT", "/backups/{id}/mirrors")

    async def get_mirror_compatibility(self, job_id: str | int) -> list[MirrorCompatibility]:
        jid = check_job_id("job_id", job_id)
        return await self._get_list(
            HttpCore.path("/backups/{j}/mirrors/compatibility", j=jid),
            MirrorCompatibility,
            what=Subject("backup_job", f"Backup job {jid!r}"),
        )

    async def get_mirror_status(self, job_id: str | int, mirror_repository_id: str) -> MirrorStatus:
        jid = check_job_id("job_id", job_id)
        mid = check_short_id("mirror_repository_id", mirror_repository_id)
        return await self._get(
            HttpCore.path("/backups/{j}/mirrors/{m}/status", j=jid, m=mid),
            MirrorStatus,
            what=Subject("mirror", f"Mirror {mid!r} of backup job {jid!r}"),
            heavy=True,
        )

    async def sync_mirror(
        self, job_id: str | int, mirror_repository_id: str, snapshot_ids: Iterable[str] | None = None
    ) -> TaskStarted | None:
        jid = check_job_id("job_id", job_id)
        mid = check_short_id("mirror_repository_id", mirror_repository_id)
        body: dict[str, Any] = {}
        if snapshot_ids is not None:
            body["snapshotIds"] = _snapshot_ids(snapshot_ids)
        data = await self.http.request(
            "POST",
            HttpCore.path("/backups/{j}/mirrors/{m}/sync", j=jid, m=mid),
            json_body=body,
            what=Subject("mirror", f"Mirror {mid!r} of backup job {jid!r}"),
        )
        return _task_started_or_none(data, "POST", "/backups/{id}/mirrors/{m}/sync")

    async def reorder_backup_jobs(self, job_short_ids: Iterable[str]) -> None:
        ids = [check_short_id("job_short_ids", j) for j in job_short_ids]
        await self.http.request("POST", "/backups/reorder", json_body={"scheduleShortIds": ids})

    # --- notification destinations ------------------------------------------------------------------

    async def list_destinations(self) -> list[NotificationDestination]:
        return await self._get_list("/notifications/destinations", NotificationDestination)

    async def get_destination(self, destination_id: int | str) -> NotificationDestination:
        did = check_destination_id("destination_id", destination_id)
        return await self._get(
            HttpCore.path("/notifications/destinations/{d}", d=did),
            NotificationDestination,
            what=Subject("notification_destination", f"Notification destination {did}"),
        )

    async def create_destination(self, name: str, config: Mapping[str, Any]) -> NotificationDestination:
        return await self._send(
            "POST", "/notifications/destinations", NotificationDestination, body={"name": name, "config": dict(config)}
        )

    async def update_destination(
        self, destination_id: int | str, changes: Mapping[str, Any]
    ) -> NotificationDestination:
        did = check_destination_id("destination_id", destination_id)
        return await self._send(
            "PATCH",
            HttpCore.path("/notifications/destinations/{d}", d=did),
            NotificationDestination,
            body=dict(changes),
            what=Subject("notification_destination", f"Notification destination {did}"),
        )

    async def delete_destination(self, destination_id: int | str) -> Message:
        did = check_destination_id("destination_id", destination_id)
        return await self._send(
            "DELETE",
            HttpCore.path("/notifications/destinations/{d}", d=did),
            Message,
            what=Subject("notification_destination", f"Notification destination {did}"),
        )

    async def test_destination(self, destination_id: int | str) -> bool:
        did = check_destination_id("destination_id", destination_id)
        data = await self.http.request(
            "POST",
            HttpCore.path("/notifications/destinations/{d}/test", d=did),
            what=Subject("notification_destination", f"Notification destination {did}"),
        )
        return bool(isinstance(data, dict) and data.get("success"))

    # --- tasks ----------------------------------------------------------------------------------------

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
        tid = check_task_id("task_id", task_id)
        return await self._get(HttpCore.path("/tasks/{t}", t=tid), Task, what=Subject("task", f"Task {tid}"))

    async def cancel_task(self, task_id: str) -> str | None:
        tid = check_task_id("task_id", task_id)
        data = await self.http.request(
            "POST", HttpCore.path("/tasks/{t}/cancel", t=tid), what=Subject("task", f"Task {tid}")
        )
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
        tid = check_task_id("task_id", task_id)
        async with self.http.sse(
            HttpCore.path("/tasks/{t}/events", t=tid), what=Subject("task", f"Task {tid}")
        ) as events:
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

        tid = check_task_id("task_id", task_id)
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


# --- helpers -------------------------------------------------------------------------------------


def _parse(model: type[M], data: Any, method: str, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _shape_error(exc, method, path) from None


def _parse_list(model: type[M], data: Any, method: str, path: str) -> list[M]:
    try:
        items: list[M] = _list_adapter(model).validate_python(data)
    except ValidationError as exc:
        raise _shape_error(exc, method, path) from None
    return items


@functools.cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    # Building an adapter generates its validator (~1 ms, most of a list call's own cost): once per model.
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _shape_error(exc: ValidationError, method: str, path: str) -> ZerobyteProtocolError:
    errors = exc.errors()
    loc = ".".join(str(p) for p in errors[0]["loc"]) if errors else "body"
    msg = errors[0]["msg"] if errors else "invalid"
    return ZerobyteProtocolError(
        f"Zerobyte answered {method} /api/v1{path} with data of an unexpected shape "
        f"({loc}: {msg}; {exc.error_count()} problem(s)): this Zerobyte version may not be "
        "supported, or a proxy altered the answer." + lost_answer(method)
    )


def _task_started_or_none(data: Any, method: str, path: str) -> TaskStarted | None:
    """None for the answers of servers that run without a task: ≤ v0.41 backup/forget/sync {success:true};
    v0.40 doctor {message, repositoryId} and snapshot delete/tag {message}, done before the answer."""
    if isinstance(data, dict) and "taskId" not in data and (data.get("success") is True or "message" in data):
        return None
    return _parse(TaskStarted, data, method, path)


def _task_from_event(data: str) -> Task | None:
    try:
        return Task.model_validate(json.loads(data))
    except (ValueError, ValidationError):
        log.warning("ignoring a malformed task event")
        return None


def _snapshot_ids(values: Iterable[str]) -> list[str]:
    if isinstance(values, str):
        raise InvalidArgument("snapshot_ids", "expected a list of snapshot ids")
    ids = [check_snapshot_id("snapshot_ids", v) for v in values]
    if not ids:
        raise InvalidArgument("snapshot_ids", "must list at least one snapshot id")
    if len(ids) > 1000:
        raise InvalidArgument("snapshot_ids", "at most 1000 snapshot ids at once")
    return ids


def _decoded_twice(path: str) -> str:
    """A snapshot path for the files/dump query, which Zerobyte URL-decodes a second time.

    Without this, a name holding '%' is a 500 "URI malformed" or another file, and '%2e%2e' becomes '..'.
    """
    return path.replace("%", "%25")


def _page_params(offset: int | None, limit: int | None, cap: int) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if offset is not None:
        params["offset"] = _nonneg("offset", offset)
    if limit is not None:
        params["limit"] = _limit(limit, cap)
    return params


def _nonneg(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidArgument(name, "must be a non-negative integer")
    return value


def _limit(value: int, cap: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgument("limit", "must be a positive integer")
    return min(value, cap)
