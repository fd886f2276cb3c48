"""Pydantic models of Zerobyte's /api/v1 answers, tolerant by design.

Zerobyte changes inside v1 and returns raw database rows for several objects, so every model accepts
unknown fields (``extra="allow"``) and nearly every field is optional. Field names are Zerobyte's own
(camelCase, or restic's snake_case) so a reader can match them to the API reference. Times are epoch
milliseconds unless a field says ISO. Secrets stay in ``config`` dicts here: redaction happens in the
layer that shows data to an agent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .restic import ResticText

__all__ = [
    "ACTIVE_TASK_STATUSES",
    "NOTIFY_EVENTS",
    "TERMINAL_TASK_STATUSES",
    "BackupJob",
    "DestinationAssignment",
    "Directory",
    "FilesystemBrowse",
    "Message",
    "Mirror",
    "MirrorCompatibility",
    "MirrorStatus",
    "MissingSnapshot",
    "MountResult",
    "NotificationDestination",
    "RcloneRemote",
    "Repository",
    "ResticStats",
    "RestoreStarted",
    "RetentionPolicy",
    "Snapshot",
    "SnapshotFilesPage",
    "SnapshotNode",
    "SnapshotRef",
    "StatFs",
    "SuccessFlag",
    "SystemInfo",
    "SystemUpdates",
    "Task",
    "TaskHistoryItem",
    "TaskHistoryPage",
    "TaskStarted",
    "TestConnectionResult",
    "UnlockResult",
    "Volume",
    "VolumeDetail",
    "VolumeFile",
    "VolumeFilesPage",
]

TERMINAL_TASK_STATUSES = frozenset({"succeeded", "failed", "cancelled", "stale"})
ACTIVE_TASK_STATUSES = frozenset({"queued", "running", "cancelling"})
# The events Zerobyte notifies a destination of, in its order, each with its flag on a DestinationAssignment.
NOTIFY_EVENTS = (
    ("start", "notifyOnStart"),
    ("success", "notifyOnSuccess"),
    ("warning", "notifyOnWarning"),
    ("failure", "notifyOnFailure"),
)


class _Open(BaseModel):
    """Base: unknown fields kept, so a newer Zerobyte does not break parsing."""

    # defer_build: each model's validator is built on its first use, not at import (cold start budget).
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


# --- volumes ---------------------------------------------------------------------------------------


class Volume(_Open):
    id: int | None = None
    shortId: str
    name: str
    type: str | None = None
    status: str | None = None
    lastError: ResticText = None
    lastHealthCheck: float | None = None
    createdAt: float | None = None
    updatedAt: float | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    autoRemount: bool | None = None
    path: str | None = None


class StatFs(_Open):
    total: float = 0
    used: float = 0
    free: float = 0


class VolumeDetail(_Open):
    volume: Volume
    statfs: StatFs | None = None


class VolumeFile(_Open):
    name: str
    path: str
    type: str
    size: int | None = None
    modifiedAt: float | None = None


class VolumeFilesPage(_Open):
    files: list[VolumeFile]
    path: str | None = None
    offset: int = 0
    limit: int | None = None
    total: int | None = None
    hasMore: bool = False


class MountResult(_Open):
    status: str | None = None
    error: str | None = None


class TestConnectionResult(_Open):
    success: bool
    message: str | None = None


class Directory(_Open):
    name: str
    path: str
    type: str | None = None
    modifiedAt: float | None = None


class FilesystemBrowse(_Open):
    directories: list[Directory]
    path: str | None = None


# --- repositories and snapshots ---------------------------------------------------------------------


class ResticStats(_Open):
    total_size: float | None = None
    total_uncompressed_size: float | None = None
    compression_ratio: float | None = None
    compression_progress: float | None = None
    compression_space_saving: float | None = None
    snapshots_count: int | None = None


class Repository(_Open):
    id: str | None = None
    shortId: str
    name: str
    type: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    compressionMode: str | None = None
    status: str | None = None
    lastChecked: float | None = None
    lastError: ResticText = None
    doctorResult: dict[str, Any] | None = None
    stats: ResticStats | None = None
    statsUpdatedAt: float | None = None
    createdAt: float | None = None
    updatedAt: float | None = None


class RcloneRemote(_Open):
    name: str
    type: str | None = None


class Snapshot(_Open):
    short_id: str
    id: str | None = None
    time: float
    paths: list[str] = Field(default_factory=list)
    size: float | None = None
    duration: float | None = None
    tags: list[str] = Field(default_factory=list)
    retentionCategories: list[str] = Field(default_factory=list)
    summary: dict[str, Any] | None = None
    hostname: str | None = None


class SnapshotRef(_Open):
    id: str | None = None
    short_id: str | None = None
    time: str | None = None
    hostname: str | None = None
    paths: list[str] = Field(default_factory=list)


class SnapshotNode(_Open):
    name: str
    type: str
    path: str
    size: int | None = None
    mode: int | None = None
    mtime: str | None = None
    atime: str | None = None
    ctime: str | None = None
    uid: int | None = None
    gid: int | None = None


class SnapshotFilesPage(_Open):
    snapshot: SnapshotRef | None = None
    files: list[SnapshotNode]
    offset: int = 0
    limit: int | None = None
    total: int | None = None
    hasMore: bool = False


class UnlockResult(_Open):
    success: bool | None = None
    message: str | None = None


class RestoreStarted(_Open):
    restoreId: str
    status: str | None = None


# --- backup jobs ----------------------------------------------------------------------------------


class RetentionPolicy(_Open):
    keepLast: int | None = None
    keepHourly: int | None = None
    keepDaily: int | None = None
    keepWeekly: int | None = None
    keepMonthly: int | None = None
    keepYearly: int | None = None
    keepWithinDuration: str | None = None


# v0.41's stop route writes the abort's DOMException text; v0.42's task cancel writes tasks.lifecycle.ts's message.
STOPPED_RUN_MESSAGES = (
    "backup was stopped by the user",
    "the operation was aborted",
    "operation aborted",
    "task was cancelled",
)
RESTARTED_RUN_MESSAGE = "zerobyte was restarted during the last"


class BackupJob(_Open):
    """A backup schedule ("backup job" in the UI)."""

    id: int
    shortId: str
    name: str
    volumeId: int | str | None = None
    repositoryId: str | None = None
    enabled: bool = True
    cronExpression: str | None = None
    retentionPolicy: RetentionPolicy | None = None
    excludePatterns: list[str] | None = None
    excludeIfPresent: list[str] | None = None
    includePaths: list[str] | None = None
    includePatterns: list[str] | None = None
    oneFileSystem: bool | None = None
    customResticParams: list[str] | None = None
    compressionMode: str | None = None
    backupWebhooks: dict[str, Any] | None = None
    maxRetries: int | None = None
    retryDelay: float | None = None
    lastBackupAt: float | None = None
    lastBackupStatus: str | None = None
    lastBackupError: ResticText = None
    nextBackupAt: float | None = None
    createdAt: float | None = None
    updatedAt: float | None = None
    volume: Volume | None = None
    repository: Repository | None = None

    @property
    def last_outcome(self) -> str | None:
        """How the last run ended: success, warning, error, cancelled, stale or in_progress (None: never ran).

        Zerobyte records a run stopped from outside (the web UI's stop, ``/backups/{id}/stop``, a cancelled task)
        and one cut short by a restart as a *warning* with a fixed message (backup-lifecycle.ts
        handleBackupCancellation; backups.service.ts RESTART_BACKUP_ERROR): neither made a snapshot.
        """
        status = self.lastBackupStatus
        if status == "warning":
            text = (self.lastBackupError or "").strip().lower()
            if text.startswith(STOPPED_RUN_MESSAGES):
                return "cancelled"
            if text.startswith(RESTARTED_RUN_MESSAGE):
                return "stale"
        return status

    # A job row names its volume by numeric id and its repository by UUID (the short ids travel in the
    # embedded objects only, when present); either form identifies the object.
    def reads(self, volume: Volume) -> bool:
        """Whether this job backs up ``volume``."""
        if self.volume is not None:
            return self.volume.shortId == volume.shortId
        return self.volumeId is not None and str(self.volumeId) in (str(volume.id), volume.shortId)

    def writes_to(self, repository: Repository) -> bool:
        """Whether this job backs up into ``repository``."""
        if self.repository is not None:
            return self.repository.shortId == repository.shortId
        return self.repositoryId is not None and self.repositoryId in (repository.id, repository.shortId)


class NotificationDestination(_Open):
    id: int
    name: str
    enabled: bool | None = None
    status: str | None = None
    lastChecked: float | None = None
    lastError: str | None = None
    type: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    createdAt: float | None = None
    updatedAt: float | None = None


class DestinationAssignment(_Open):
    scheduleId: int | str | None = None
    destinationId: int
    notifyOnStart: bool = False
    notifyOnSuccess: bool = False
    notifyOnWarning: bool = False
    notifyOnFailure: bool = False
    createdAt: float | None = None
    destination: NotificationDestination | None = None

    @property
    def events(self) -> list[str]:
        """The run events this link notifies, in Zerobyte's order."""
        return [event for event, flag in NOTIFY_EVENTS if getattr(self, flag)]


class Mirror(_Open):
    id: int | None = None
    scheduleId: int | str | None = None
    repositoryId: str
    enabled: bool = True
    lastSyncTask: dict[str, Any] | None = None
    # v0.41 keeps the copy state on the row (no mirrorSync task): success, error or in_progress.
    lastCopyAt: float | None = None
    lastCopyStatus: str | None = None
    lastCopyError: str | None = None
    createdAt: float | None = None
    repository: Repository | None = None

    @property
    def last_sync(self) -> dict[str, Any]:
        """The last copy as ``{status, finishedAt, error}`` on every version ({} before the first one).

        v0.42 points to the mirrorSync task; v0.41 and older keep the copy state on the row itself.
        """
        if self.lastSyncTask:
            return self.lastSyncTask
        if self.lastCopyStatus is not None:
            return {"status": self.lastCopyStatus, "finishedAt": self.lastCopyAt, "error": self.lastCopyError}
        return {}


class MirrorCompatibility(_Open):
    repositoryId: str
    compatible: bool
    reason: str | None = None


class MissingSnapshot(_Open):
    short_id: str
    time: str | float | None = None
    size: float | None = None


class MirrorStatus(_Open):
    sourceCount: int | None = None
    mirrorCount: int | None = None
    missingSnapshots: list[MissingSnapshot] = Field(default_factory=list)


# --- tasks ---------------------------------------------------------------------------------------


class Task(_Open):
    """A TaskDTO: long-running work (backup, restore, forget, doctor, mirrorSync, deleteSnapshots, tagSnapshots)."""

    id: str
    kind: str
    status: str
    resourceType: str | None = None
    resourceId: str | None = None
    operationKey: str | None = None
    targetAgentId: str | None = None
    input: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: ResticText = None
    cancellationRequested: bool | None = None
    createdAt: float | None = None
    startedAt: float | None = None
    updatedAt: float | None = None
    finishedAt: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_TASK_STATUSES


class TaskStarted(_Open):
    """The 202 answer of run/forget/sync/doctor/delete/tag (``taskId``) and restore (``restoreId``)."""

    taskId: str
    status: str | None = None


class TaskHistoryItem(_Open):
    id: str
    kind: str
    status: str
    outcome: str | None = None
    createdAt: float | None = None
    startedAt: float | None = None
    finishedAt: float | None = None
    message: ResticText = None
    target: dict[str, Any] | None = None


class TaskHistoryPage(_Open):
    items: list[TaskHistoryItem]
    page: int = 1
    pageSize: int = 25
    totalItems: int = 0
    totalPages: int = 0


# --- system and misc -------------------------------------------------------------------------------


class SystemInfo(_Open):
    runtime: str | None = None
    capabilities: dict[str, Any] = Field(default_factory=dict)


class SystemUpdates(_Open):
    currentVersion: str | None = None
    latestVersion: str | None = None
    hasUpdate: bool = False
    missedReleases: list[dict[str, Any]] = Field(default_factory=list)


class Message(_Open):
    message: str | None = None


class SuccessFlag(_Open):
    success: bool = True
