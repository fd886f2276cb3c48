"""What the simulator remembers and says: Zerobyte's constants, errors, snapshots, tasks and event frames.

Exists so the state, the task engine, the runners and the routes share one data model with no behaviour
of its own beyond shaping rows into the DTOs a real Zerobyte sends.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._util import (
    Json,
)
from .files import Node, SnapshotTree

ACTIVE_STATUSES = ("queued", "running", "cancelling")
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled", "stale")
RESTART_TASK_ERROR = "Zerobyte was restarted before this task completed"
RESTART_BACKUP_ERROR = "Zerobyte was restarted during the last scheduled backup"
DEFAULT_LOCK_ERROR = (
    "unable to create lock in backend: repository is already locked by PID 4711 on zerobyte by root "
    "(UID 0, GID 0)\nlock was created at 2026-11-27 03:00:02 (6h12m0s ago)\nstorage ID 8c1f2e3d\n"
    "the `unlock` command can be used to remove stale locks"
)
DEFAULT_WARNING_DETAILS = (
    "error: open /srv/data/private/.cache: permission denied\nWarning: at least one source file could not be read"
)
CANCEL_MESSAGES = {
    "backup": "Task was cancelled by the user",
    "restore": "Task was cancelled by the user",
    "doctor": "Doctor operation cancelled",
    "mirrorSync": "Mirror sync was cancelled",
    "forget": "Retention policy application was cancelled",
}
CANCELLABLE_KINDS = ("backup", "restore", "doctor", "mirrorSync", "forget")
BLOCKED_RESTORE_PREFIXES = ("/tmp", "/var/tmp", "/app", "/var/lib/zerobyte", "/proc", "/sys", "/dev")
ORG_OWNER_USER_ID = "IStydEBdHMTuuCx8jkkOH2qevmu1Aket"
# A backup job's options that an update replaces when given, in the order its DTO lists them
SCHEDULE_OPTION_KEYS = (
    "excludePatterns",
    "excludeIfPresent",
    "includePaths",
    "includePatterns",
    "oneFileSystem",
    "customResticParams",
    "compressionMode",
    "backupWebhooks",
)


_VOLUME_DEFAULTS: dict[str, Json] = {
    "nfs": {"server": "nas.lan", "exportPath": "/export/data", "port": 2049, "version": "4.1"},
    "smb": {"server": "nas.lan", "share": "data", "mapToContainerUidGid": False, "vers": "auto", "port": 445},
    "webdav": {"server": "dav.lan", "path": "/remote.php/dav/files/backup", "port": 443, "ssl": True},
    "rclone": {"remote": "gdrive", "path": "/backup"},
    "sftp": {
        "host": "files.lan",
        "port": 22,
        "username": "backup",
        "path": "/data",
        "skipHostKeyCheck": False,
        "allowLegacySshRsa": False,
        "allowUnsafeSymlinkTargets": False,
    },
}
_REPOSITORY_DEFAULTS: dict[str, Json] = {
    "local": {"path": "/var/lib/zerobyte/repositories"},
    "s3": {
        "endpoint": "https://s3.amazonaws.com",
        "bucket": "zerobyte",
        "accessKeyId": "AKIAEXAMPLE",
        "secretAccessKey": "example-secret",
    },
    "r2": {
        "endpoint": "https://example.r2.cloudflarestorage.com",
        "bucket": "zerobyte",
        "accessKeyId": "r2-key",
        "secretAccessKey": "r2-secret",
    },
    "gcs": {"bucket": "zerobyte", "projectId": "homelab", "credentialsJson": '{"type": "service_account"}'},
    "azure": {"container": "zerobyte", "accountName": "homelab", "accountKey": "example-key"},
    "rclone": {"remote": "gdrive", "path": "/restic"},
    "rest": {"url": "https://restic.example.org:8000/zerobyte"},
    "sftp": {
        "host": "backup.lan",
        "port": 22,
        "user": "restic",
        "path": "/srv/restic",
        "privateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nexample\n-----END OPENSSH PRIVATE KEY-----",
        "skipHostKeyCheck": False,
        "allowLegacySshRsa": False,
    },
}


class ApiError(Exception):
    """An error answer: ``status`` with a JSON ``body`` (``{"message": ...}`` unless stated)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def fail(status: int, message: str) -> ApiError:
    return ApiError(status, {"message": message})


class _TaskStop(Exception):
    """Raised inside a task runner when the task was cancelled or abandoned (restart)."""


class _TaskFailed(Exception):
    pass


@dataclass
class RecordedRequest:
    """One request the simulator received (the ``x-api-key`` value is replaced by ``<redacted>``)."""

    method: str
    path: str
    query: dict[str, str]
    query_string: str
    headers: dict[str, str]
    body: Any
    time: float
    client: str = ""
    raw_body: bytes = b""

    @property
    def is_write(self) -> bool:
        return self.method.upper() not in ("GET", "HEAD", "OPTIONS")


@dataclass
class Snapshot:
    """A restic snapshot held by a repository."""

    id: str
    time_ms: int
    paths: list[str]
    tags: list[str]
    hostname: str
    size: int
    duration: int
    summary: Json | None
    tree: Node

    @property
    def short_id(self) -> str:
        return self.id[:8]

    def view(self) -> SnapshotTree:
        return SnapshotTree(self.tree, self.paths[0] if self.paths else "/")

    def list_item(self, categories: list[str]) -> Json:
        item: Json = {
            "short_id": self.short_id,
            "duration": self.duration,
            "paths": list(self.paths),
            "tags": list(self.tags),
            "size": self.size,
            "time": self.time_ms,
            "retentionCategories": categories,
        }
        if self.summary is not None:
            item["summary"] = dict(self.summary)
        return item

    def detail(self) -> Json:
        item: Json = {
            "short_id": self.short_id,
            "duration": self.duration,
            "time": self.time_ms,
            "paths": list(self.paths),
            "hostname": self.hostname,
            "size": self.size,
            "tags": list(self.tags),
            "retentionCategories": [],
        }
        if self.summary is not None:
            item["summary"] = dict(self.summary)
        return item

    def matches(self, ident: str) -> bool:
        return bool(ident) and (self.id == ident or self.short_id == ident)

    def matches_prefix(self, ident: str) -> bool:
        return bool(ident) and self.id.startswith(ident)


@dataclass
class Task:
    """A Zerobyte task row plus the simulator's control state."""

    id: str
    kind: str
    resource_type: str
    resource_id: str
    operation_key: str | None
    target_agent_id: str | None
    input: Json
    target_display_name: str
    created_at: int
    status: str = "queued"
    progress: Json | None = None
    result: Json | None = None
    error: str | None = None
    cancellation_requested: bool = False
    started_at: int | None = None
    updated_at: int = 0
    finished_at: int | None = None
    outcome: str | None = None
    seq: int = 0
    locks: list[tuple[str, bool]] = field(default_factory=list)  # (repository uuid, exclusive)
    stop: threading.Event = field(default_factory=threading.Event)
    fast_forward: bool = False
    abandoned: bool = False
    cancel_message: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def cancellable(self) -> bool:
        return self.kind in CANCELLABLE_KINDS

    def dto(self) -> Json:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "resourceType": self.resource_type,
            "resourceId": self.resource_id,
            "operationKey": self.operation_key,
            "targetAgentId": self.target_agent_id,
            "input": json.loads(json.dumps(self.input)),
            "progress": json.loads(json.dumps(self.progress)) if self.progress is not None else None,
            "result": json.loads(json.dumps(self.result)) if self.result is not None else None,
            "error": self.error,
            "cancellationRequested": self.cancellation_requested,
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "updatedAt": self.updated_at,
            "finishedAt": self.finished_at,
        }

    def history_outcome(self) -> str | None:
        return "running" if self.active else self.outcome

    def history_message(self) -> str | None:
        outcome = self.history_outcome()
        if self.error:
            return self.error
        if outcome == "warning" and self.result and self.result.get("kind") == "backup":
            return self.result.get("warningDetails") or "Backup completed with warnings."
        if outcome == "error":
            if self.result and self.result.get("kind") == "doctor":
                if self.result.get("lastError"):
                    return str(self.result["lastError"])
                for step in (self.result.get("doctorResult") or {}).get("steps", []):
                    if not step.get("success") and step.get("error"):
                        return str(step["error"])
            return "Task failed."
        if outcome == "cancelled":
            return "Task was cancelled."
        if outcome == "stale":
            return "Task stopped reporting before it completed."
        return None

    def lifecycle_item(self) -> Json:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "outcome": self.history_outcome(),
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "message": self.history_message(),
        }


@dataclass(frozen=True)
class RateState:
    """One counted request: the draft-6 ``RateLimit-*`` header values (``remaining`` < 0 = refused)."""

    limit: int
    window: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "ratelimit-policy": f"{self.limit};w={self.window}",
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(max(0, self.remaining)),
            "ratelimit-reset": str(self.reset),
        }


@dataclass
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None]
    wants: Callable[[str, Json], bool]
    owner: object


def sse_frame(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"


def _completed_outcome(result: Json) -> str:
    if result.get("kind") == "backup" and (result.get("exitCode") != 0 or result.get("warningDetails") is not None):
        return "warning"
    if result.get("kind") == "doctor" and (
        result.get("repositoryStatus") == "error" or not (result.get("doctorResult") or {}).get("success")
    ):
        return "error"
    return "success"
