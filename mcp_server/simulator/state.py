"""The simulator's state and behaviour: Zerobyte's data model, task engine and event bus.

Exists to hold everything a Zerobyte server remembers (volumes, repositories, snapshots, schedules,
mirrors, notification destinations, tasks) with the same row shapes, quirks and side effects, plus
the knobs tests turn (fault rules, outcomes of the next backup, revoked keys, restarts...). Long
operations run as real tasks on background threads: queued -> running -> terminal, with progress and
server-sent events, on the simulator's own clock. The HTTP layer lives in ``api.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import math
import posixpath
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import cron
from ._util import (
    NOTIFICATION_SECRET_FIELDS,
    REPOSITORY_COMMON_SECRETS,
    REPOSITORY_SECRET_FIELDS,
    VOLUME_SECRET_FIELDS,
    IdFactory,
    Json,
    SecretBox,
    iso_from_ms,
    seal_config,
)
from .cache import ServerCache, repo_prefix, retention_key
from .costs import CostModel
from .faults import Faults
from .files import Node, SnapshotTree, TreeSpec, build_tree
from .retention import PolicyItem, apply_policy

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


class Simulator:
    """A stateful fake Zerobyte server (``/api/v1``). Serve it with ``create_app``/``SimulatorServer``.

    Thread-safe: every mutation holds ``self.lock``; tasks run on background threads.
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str] = ("zb_test_key_0123456789",),
        legacy: bool = False,
        legacy_version: Literal["v0.40", "v0.41"] = "v0.41",
        task_seconds: float = 1.0,
        progress_interval: float = 0.1,
        heartbeat_interval: float = 5.0,
        clock: Callable[[], float] | None = None,
        seed: int | None = None,
        costs: CostModel | None = None,
    ) -> None:
        self.api_keys: set[str] = set(api_keys)
        self.legacy = legacy
        if legacy_version not in ("v0.40", "v0.41"):
            raise ValueError(f"legacy_version must be 'v0.40' or 'v0.41', not {legacy_version!r}")
        # v0.40.0 (the first release with API keys) has no tasks API: doctor, snapshot delete/tag and restore
        # answer synchronously and the task routes are route misses.
        self.tasks_api = not (legacy and legacy_version == "v0.40")
        self.task_seconds = task_seconds
        self.progress_interval = progress_interval
        self.heartbeat_interval = heartbeat_interval
        self.clock: Callable[[], float] = clock or time.time
        self.requests: list[RecordedRequest] = []
        self.faults = Faults()
        self.org_member_removed = False
        # knobs
        self.next_backup_outcome: str = "success"
        self.backup_outcomes: dict[str, str] = {}
        self.rate_limit: int | None = None
        self.rate_limit_window: float = 300.0
        # how long a real Zerobyte takes (restic runs, its cache, the ls limiter); None = answer at once
        self.costs = costs
        if costs is not None:
            self.rate_limit, self.rate_limit_window = costs.rate_limit, costs.rate_window
        self.app_version = ("v0.41.0" if self.tasks_api else "v0.40.0") if legacy else "dev"
        self.latest_version: str | None = None
        self.missing_paths: set[str] = set()
        self.mount_errors: dict[str, str] = {}
        self.repository_init_errors: dict[str, str] = {}
        self.notification_test_error: str | None = None
        self.doctor_outcome: Literal["healthy", "error"] = "healthy"
        self.rclone_remotes: list[Json] = []
        self.registration_enabled = False
        self.password_login_disabled = False
        self.dev_panel_enabled = False
        self.hostname = "zerobyte"
        self.trusted_origins: set[str] = set()
        self.restores: list[Json] = []
        # the real server refuses its own folders and the system temp folder (os.tmpdir()) as restore targets
        self.restore_blocked_roots: tuple[str, ...] = BLOCKED_RESTORE_PREFIXES
        self.lock = threading.RLock()
        self._ids = IdFactory(seed)
        self._box = SecretBox(self._ids)
        self.organization_id = self._ids.uuid7(self.now_ms())
        self.volumes: dict[int, Json] = {}
        self._trees: dict[int, Node] = {}
        self.repositories: dict[str, Json] = {}
        self._snapshots: dict[str, list[Snapshot]] = {}
        self._repo_lock_errors: dict[str, str] = {}
        self.schedules: dict[int, Json] = {}
        self.destinations: dict[int, Json] = {}
        self._assignments: list[Json] = []
        self._mirrors: dict[int, Json] = {}
        self.tasks: dict[str, Task] = {}
        self._subscribers: list[_Subscriber] = []
        self._rate_hits: dict[str, tuple[float, int]] = {}
        self._threads: list[threading.Thread] = []
        self._counters = {"volume": 0, "schedule": 0, "destination": 0, "mirror": 0, "task": 0}
        # Zerobyte's cache of restic answers (snapshot lists, file pages, retention categories)
        self.cache = ServerCache(self.now_ms)

    # ------------------------------------------------------------------------------------------
    # basics
    # ------------------------------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _next(self, counter: str) -> int:
        self._counters[counter] += 1
        return self._counters[counter]

    def seal(self, value: str) -> str:
        return self._box.seal(value)

    def unseal(self, value: str) -> str:
        return self._box.unseal(value)

    def rate_limited(self, client: str) -> float | None:
        """Count one request; return seconds until retry when over the limit, else None."""
        state = self.rate_count(client)
        return None if state is None or state.remaining >= 0 else float(max(1, state.reset))

    def rate_count(self, client: str) -> RateState | None:
        """Count one ``/api`` request of ``client`` in hono-rate-limiter's fixed window (None when off).

        As on the real server: the window starts at the client's first request and lasts
        ``rate_limit_window`` seconds; ``remaining`` goes negative once the limit is passed.
        """
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        with self.lock:
            start, hits = self._rate_hits.get(client, (now, 0))
            if now - start >= self.rate_limit_window:
                start, hits = now, 0
            hits += 1
            self._rate_hits[client] = (start, hits)
            reset = max(0, math.ceil(self.rate_limit_window - (now - start)))
            return RateState(self.rate_limit, round(self.rate_limit_window), self.rate_limit - hits, reset)

    def close(self) -> None:
        """Stop task threads (running tasks are abandoned as-is) and end all event streams."""
        with self.lock:
            for task in self.tasks.values():
                if task.active:
                    task.abandoned = True
                    task.stop.set()
        self.close_streams()
        for t in list(self._threads):
            t.join(timeout=2)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no task is active (tests). Returns False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not any(t.active for t in self.tasks.values()):
                    return True
            time.sleep(0.01)
        return False

    def wait_task(self, task_id: str, timeout: float = 10.0) -> Json:
        """Block until a task is terminal and return its DTO (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                task = self.tasks[task_id]
                if not task.active:
                    return task.dto()
            time.sleep(0.01)
        raise TimeoutError(f"task {task_id} still active")

    # ------------------------------------------------------------------------------------------
    # event bus (SSE)
    # ------------------------------------------------------------------------------------------
    def subscribe(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[str | None],
        wants: Callable[[str, Json], bool],
        owner: object = None,
    ) -> object:
        sub = _Subscriber(loop, queue, wants, owner)
        with self.lock:
            self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: object) -> None:
        with self.lock:
            self._subscribers = [s for s in self._subscribers if s is not sub]

    def close_streams(self, owner: object = None) -> None:
        """End SSE streams (all, or those of one app) as a server restart or shutdown would."""
        with self.lock:
            subs = [s for s in self._subscribers if owner is None or s.owner is owner]
        for sub in subs:
            self._deliver(sub, None)

    @staticmethod
    def _deliver(sub: _Subscriber, frame: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the stream's event loop is gone
            sub.loop.call_soon_threadsafe(sub.queue.put_nowait, frame)

    def publish(self, event: str, data: Json) -> None:
        frame = sse_frame(event, data)
        with self.lock:
            subs = list(self._subscribers)
        for sub in subs:
            if sub.wants(event, data):
                self._deliver(sub, frame)

    def _publish_task(self, task: Task, previous_outcome: str | Literal[False] | None = False) -> None:
        """task:changed to task streams; plus task:history-changed unless this is a progress tick."""
        self.publish("task:changed", task.dto())
        if previous_outcome is not False:
            self.publish(
                "task:history-changed",
                {
                    "organizationId": self.organization_id,
                    "previousOutcome": previous_outcome,
                    "item": task.lifecycle_item(),
                },
            )

    def _org_event(self, event: str, **data: Any) -> None:
        self.publish(event, {"organizationId": self.organization_id, **data})

    # ------------------------------------------------------------------------------------------
    # lookups
    # ------------------------------------------------------------------------------------------
    def find_volume(self, ident: str | int) -> Json | None:
        for row in self.volumes.values():
            if row["shortId"] == ident or row["id"] == ident or (isinstance(ident, str) and ident == str(row["id"])):
                return row
        return None

    def volume_by_short_id(self, short_id: str) -> Json | None:
        return next((r for r in self.volumes.values() if r["shortId"] == short_id), None)

    def volume_by_name(self, name: str) -> Json | None:
        return next((r for r in self.volumes.values() if r["name"] == name), None)

    def find_repository(self, ident: str) -> Json | None:
        return next((r for r in self.repositories.values() if ident in (r["id"], r["shortId"])), None)

    def repository_by_name(self, name: str) -> Json | None:
        return next((r for r in self.repositories.values() if r["name"] == name), None)

    def find_schedule(self, ident: str | int) -> Json | None:
        for row in self.schedules.values():
            if row["shortId"] == ident or row["id"] == ident or (isinstance(ident, str) and ident == str(row["id"])):
                return row
        return None

    def _resolve_volume(self, ident: str) -> Json:
        row = self.find_volume(ident) or self.volume_by_name(ident)
        if row is None:
            raise KeyError(f"no volume {ident!r}")
        return row

    def _resolve_repository(self, ident: str) -> Json:
        row = self.find_repository(ident) or self.repository_by_name(ident)
        if row is None:
            raise KeyError(f"no repository {ident!r}")
        return row

    def _resolve_schedule(self, ident: str) -> Json:
        row = self.find_schedule(ident) or next((r for r in self.schedules.values() if r["name"] == ident), None)
        if row is None:
            raise KeyError(f"no backup job {ident!r}")
        return row

    def volume_path(self, row: Json) -> str:
        config = row["config"]
        if config.get("backend") == "directory":
            return str(config.get("path") or "/")
        return f"/var/lib/zerobyte/volumes/{row['shortId']}/_data"

    def volume_tree(self, row: Json) -> Node:
        return self._trees[row["id"]]

    def snapshots_of(self, repo: Json) -> list[Snapshot]:
        return self._snapshots.setdefault(repo["id"], [])

    def find_snapshot(self, repo: Json, ident: str) -> Snapshot | None:
        return next((s for s in self.snapshots_of(repo) if s.matches(ident)), None)

    # ------------------------------------------------------------------------------------------
    # DTOs
    # ------------------------------------------------------------------------------------------
    def volume_row(self, row: Json, *, with_path: bool = False) -> Json:
        out = dict(row)
        out["config"] = dict(row["config"])
        if with_path:
            out["path"] = self.volume_path(row)
        return out

    @staticmethod
    def public_volume(row: Json) -> Json:
        keys = (
            "id",
            "shortId",
            "name",
            "config",
            "createdAt",
            "updatedAt",
            "lastHealthCheck",
            "type",
            "status",
            "lastError",
            "provisioningId",
            "autoRemount",
        )
        return {k: (dict(row[k]) if k == "config" else row[k]) for k in keys}

    @staticmethod
    def repository_row(row: Json) -> Json:
        out = dict(row)
        out["config"] = dict(row["config"])
        return out

    @staticmethod
    def schedule_repository(row: Json) -> Json:
        keys = (
            "id",
            "shortId",
            "provisioningId",
            "name",
            "type",
            "config",
            "compressionMode",
            "status",
            "lastChecked",
            "lastError",
            "doctorResult",
            "createdAt",
            "updatedAt",
        )
        return {k: (dict(row[k]) if k == "config" else row[k]) for k in keys}

    SCHEDULE_KEYS = (
        "id",
        "shortId",
        "name",
        "volumeId",
        "repositoryId",
        "enabled",
        "cronExpression",
        "retentionPolicy",
        "excludePatterns",
        "excludeIfPresent",
        "includePaths",
        "includePatterns",
        "oneFileSystem",
        "customResticParams",
        "compressionMode",
        "backupWebhooks",
        "maxRetries",
        "retryDelay",
        "lastBackupAt",
        "lastBackupStatus",
        "lastBackupError",
        "nextBackupAt",
        "createdAt",
        "updatedAt",
    )

    def schedule_dto(self, row: Json, *, full: bool = False) -> Json:
        out: Json = json.loads(json.dumps({k: row[k] for k in self.SCHEDULE_KEYS}))
        if self.legacy:
            del out["compressionMode"]  # per-job compression came with v0.42
        if full:
            volume = self.volumes.get(row["volumeId"])
            repo = self.repositories.get(row["repositoryId"])
            out["volume"] = self.public_volume(volume) if volume else None
            out["repository"] = self.schedule_repository(repo) if repo else None
        return out

    def mirror_dto(self, mirror: Json) -> Json:
        schedule = self.schedules[mirror["scheduleId"]]
        repo = self.repositories[mirror["repositoryId"]]
        last: Json | None = None
        task = self.tasks.get(mirror.get("lastSyncTaskId") or "")
        if task is not None and task.status in TERMINAL_STATUSES:
            last = {"id": task.id, "status": task.status, "error": task.error, "finishedAt": task.finished_at}
        # v0.41 has no mirror tasks: the last copy's outcome lives on the mirror row
        progress: Json = (
            {k: mirror.get(k) for k in ("lastCopyAt", "lastCopyStatus", "lastCopyError")}
            if self.legacy
            else {"lastSyncTask": last}
        )
        return {
            "id": mirror["id"],
            "scheduleId": schedule["shortId"],
            "repositoryId": repo["shortId"],
            "enabled": mirror["enabled"],
            **progress,
            "createdAt": mirror["createdAt"],
            "repository": self.repository_row(repo),
        }

    def assignment_dto(self, assignment: Json) -> Json:
        dest = self.destinations[assignment["destinationId"]]
        return {**assignment, "destination": dict(dest, config=dict(dest["config"]))}

    def invalidate_repository(self, repo: Json) -> None:
        """Drop the repository's cached restic answers, as Zerobyte's ``cache.delByPrefix`` does."""
        self.cache.del_prefix(repo_prefix(repo["id"]))

    @staticmethod
    def _policy_items(snaps: Iterable[Snapshot]) -> list[PolicyItem]:
        """Zerobyte runs ``restic forget --group-by tags --tag <job>``: one group per (sorted) tag set."""
        return [PolicyItem(s.id, s.time_ms, tuple(sorted(s.tags))) for s in snaps]

    def _schedule_for_categories(self, repo: Json, backup_id: str) -> Json | None:
        return next(
            (s for s in self.schedules.values() if s["shortId"] == backup_id and s["repositoryId"] == repo["id"]),
            None,
        ) or next((s for s in self.schedules.values() if s["shortId"] == backup_id), None)

    def wants_retention_dry_run(self, repo: Json, backup_id: str) -> bool:
        """Whether listing with ``backupId`` runs ``forget --dry-run`` (no cached categories, a policy set)."""
        if self.cache.has(retention_key(repo["id"], backup_id)):
            return False
        schedule = self._schedule_for_categories(repo, backup_id)
        return bool(schedule and schedule.get("retentionPolicy"))

    def snapshot_categories(self, repo: Json, backup_id: str | None) -> dict[str, list[str]]:
        """``retentionCategories`` by snapshot id: a ``forget --dry-run`` cached for a day per (repository,
        schedule) and not recomputed after a policy change until the repository's cache is cleared."""
        if not backup_id:
            return {}
        key = retention_key(repo["id"], backup_id)
        cached: dict[str, list[str]] | None = self.cache.get(key)
        if cached is not None:
            return cached
        schedule = self._schedule_for_categories(repo, backup_id)
        if schedule is None or not schedule.get("retentionPolicy"):
            return {}
        items = self._policy_items(s for s in self.snapshots_of(repo) if backup_id in s.tags)
        categories = apply_policy(items, schedule["retentionPolicy"])
        self.cache.set(key, categories)
        return categories

    def list_snapshots(self, repo: Json, backup_id: str | None = None) -> list[Json]:
        snaps = sorted(self.snapshots_of(repo), key=lambda s: s.time_ms)
        if backup_id:
            snaps = [s for s in snaps if backup_id in s.tags]
        cats = self.snapshot_categories(repo, backup_id)
        return [s.list_item(list(cats.get(s.id, []))) for s in snaps]

    def compute_stats(self, repo: Json) -> Json:
        snaps = self.snapshots_of(repo)
        seen: set[int] = set()
        raw = 0
        for s in snaps:
            if id(s.tree) not in seen:
                seen.add(id(s.tree))
                raw += s.size
        mode = repo.get("compressionMode") or "auto"
        factor = 1.0 if mode == "off" else 0.58 if mode == "max" else 0.64
        stored = int(raw * factor) + 1024 * len(snaps) if snaps else 0
        ratio = (raw / stored) if stored else 0
        return {
            "total_size": stored,
            "total_uncompressed_size": raw,
            "compression_ratio": ratio,
            "compression_progress": 100 if snaps else 0,
            "compression_space_saving": (1 - stored / raw) * 100 if raw and stored else 0,
            "snapshots_count": len(snaps),
        }

    def refresh_stats(self, repo: Json) -> Json:
        stats = self.compute_stats(repo)
        repo["stats"] = stats
        repo["statsUpdatedAt"] = self.now_ms()
        return dict(stats)

    # ------------------------------------------------------------------------------------------
    # seeding helpers (public)
    # ------------------------------------------------------------------------------------------
    def add_volume(
        self,
        name: str,
        *,
        path: str = "/srv/data",
        status: str = "mounted",
        files: TreeSpec | None = None,
        backend: str = "directory",
        config: Json | None = None,
        last_error: str | None = None,
        auto_remount: bool = True,
        created_at: int | None = None,
    ) -> Json:
        """Create a volume directly (no mount step). Returns ``VolumeRow + path``."""
        with self.lock:
            if config is None:
                config = {"path": path} if backend == "directory" else {}
            backend = str(config.get("backend", backend))
            config = {"backend": backend, **_VOLUME_DEFAULTS.get(backend, {}), **config}
            config = seal_config(self._box, config, VOLUME_SECRET_FIELDS.get(str(config.get("backend")), ()))
            row = self._insert_volume(
                name,
                config,
                status=status,
                last_error=last_error,
                auto_remount=auto_remount,
                created_at=created_at,
                files=files,
            )
            if status != "unmounted":
                row["lastHealthCheck"] = row["updatedAt"] = self.now_ms()
            return self.volume_row(row, with_path=True)

    def _insert_volume(
        self,
        name: str,
        config: Json,
        *,
        status: str,
        last_error: str | None,
        auto_remount: bool = True,
        created_at: int | None = None,
        files: TreeSpec | None = None,
        tree: Node | None = None,
    ) -> Json:
        now = self.now_ms()
        created = (created_at if created_at is not None else now) // 1000 * 1000
        vid = self._next("volume")
        row: Json = {
            "id": vid,
            "shortId": self._ids.short_id(),
            "provisioningId": None,
            "name": name,
            "type": config.get("backend", "directory"),
            "status": status,
            "lastError": last_error,
            "lastHealthCheck": created,
            "createdAt": created,
            "updatedAt": created,
            "config": config,
            "autoRemount": auto_remount,
            "agentId": "local",
            "organizationId": self.organization_id,
        }
        self.volumes[vid] = row
        self._trees[vid] = tree if tree is not None else build_tree(files or {}, mtime_ms=created)
        return row

    def set_volume_files(self, volume: str, tree: TreeSpec | Node) -> None:
        """Replace a volume's files (by shortId or name). Existing snapshots keep their own copy."""
        with self.lock:
            row = self._resolve_volume(volume)
            self._trees[row["id"]] = tree if isinstance(tree, Node) else build_tree(tree, mtime_ms=self.now_ms())

    def add_repository(
        self,
        name: str,
        *,
        backend: str = "local",
        config: Json | None = None,
        status: str = "healthy",
        last_error: str | None = None,
        compression_mode: str = "auto",
        created_at: int | None = None,
    ) -> Json:
        """Create a repository directly (no init). Returns the raw ``RepositoryRow``."""
        with self.lock:
            backend = str((config or {}).get("backend", backend))
            config = {"backend": backend, **_REPOSITORY_DEFAULTS.get(backend, {}), **(config or {})}
            row = self._insert_repository(name, config, compression_mode=compression_mode, created_at=created_at)
            if config["backend"] == "local" and not config.get("isExistingRepository"):
                row["config"]["path"] = f"{str(config.get('path', '')).rstrip('/')}/{row['shortId']}"
            row["status"] = status
            row["lastError"] = last_error
            row["lastChecked"] = row["createdAt"] if status != "unknown" else None
            return self.repository_row(row)

    def _seal_repo_config(self, config: Json) -> Json:
        fields = REPOSITORY_COMMON_SECRETS + REPOSITORY_SECRET_FIELDS.get(str(config.get("backend")), ())
        return seal_config(self._box, config, fields)

    def _insert_repository(
        self, name: str, config: Json, *, compression_mode: str = "auto", created_at: int | None = None
    ) -> Json:
        now = self.now_ms()
        created = (created_at if created_at is not None else now) // 1000 * 1000
        row: Json = {
            "id": self._ids.uuid7(created),
            "shortId": self._ids.short_id(),
            "provisioningId": None,
            "name": name.strip(),
            "type": config.get("backend"),
            "config": self._seal_repo_config(config),
            "compressionMode": compression_mode,
            "status": "unknown",
            "lastChecked": None,
            "lastError": None,
            "doctorResult": None,
            "stats": None,
            "statsUpdatedAt": None,
            "uploadLimitEnabled": False,
            "uploadLimitValue": 1,
            "uploadLimitUnit": "Mbps",
            "downloadLimitEnabled": False,
            "downloadLimitValue": 1,
            "downloadLimitUnit": "Mbps",
            "createdAt": created,
            "updatedAt": created,
            "organizationId": self.organization_id,
        }
        for prefix in ("upload", "download"):
            limit = config.get(f"{prefix}Limit")
            if isinstance(limit, dict):
                row[f"{prefix}LimitEnabled"] = bool(limit.get("enabled", False))
                row[f"{prefix}LimitValue"] = limit.get("value", 1)
                row[f"{prefix}LimitUnit"] = limit.get("unit", "Mbps")
        self.repositories[row["id"]] = row
        self._snapshots[row["id"]] = []
        return row

    def lock_repository(self, repository: str, message: str = DEFAULT_LOCK_ERROR) -> None:
        """Leave a stale restic lock: backups to it fail until unlock/doctor."""
        with self.lock:
            repo = self._resolve_repository(repository)
            self._repo_lock_errors[repo["id"]] = message

    def add_backup_job(
        self,
        name: str,
        *,
        volume: str,
        repository: str,
        cron: str = "0 2 * * *",
        enabled: bool = True,
        retention: Json | None = None,
        last_status: str | None = None,
        last_error: str | None = None,
        last_backup_at: int | None = None,
        next_backup_at: int | None = None,
        exclude_patterns: list[str] | None = None,
        include_paths: list[str] | None = None,
        backup_webhooks: Json | None = None,
        compression_mode: str | None = None,
        max_retries: int = 2,
        retry_delay: int = 15,
        created_at: int | None = None,
    ) -> Json:
        """Create a backup schedule (volume/repository by shortId or name). Returns the ``Schedule``."""
        with self.lock:
            vol = self._resolve_volume(volume)
            repo = self._resolve_repository(repository)
            row = self._insert_schedule(
                {
                    "name": name,
                    "enabled": enabled,
                    "cronExpression": cron,
                    "retentionPolicy": retention,
                    "excludePatterns": exclude_patterns or [],
                    "includePaths": include_paths or [],
                    "backupWebhooks": backup_webhooks,
                    "compressionMode": compression_mode,
                    "maxRetries": max_retries,
                    "retryDelay": retry_delay,
                },
                vol,
                repo,
                created_at=created_at,
            )
            row["lastBackupStatus"] = last_status
            row["lastBackupError"] = last_error
            row["lastBackupAt"] = last_backup_at
            if next_backup_at is not None:
                row["nextBackupAt"] = next_backup_at
            return self.schedule_dto(row)

    def _insert_schedule(self, body: Json, vol: Json, repo: Json, *, created_at: int | None = None) -> Json:
        now = self.now_ms()
        created = (created_at if created_at is not None else now) // 1000 * 1000
        sid = self._next("schedule")
        expr = str(body.get("cronExpression") or "")
        row: Json = {
            "id": sid,
            "shortId": self._ids.short_id(),
            "name": str(body["name"]).strip(),
            "volumeId": vol["id"],
            "repositoryId": repo["id"],
            "enabled": bool(body.get("enabled", True)),
            "cronExpression": expr,
            "retentionPolicy": body.get("retentionPolicy") or None,
            "excludePatterns": list(body.get("excludePatterns") or []),
            "excludeIfPresent": list(body.get("excludeIfPresent") or []),
            "includePaths": list(body.get("includePaths") or []),
            "includePatterns": list(body.get("includePatterns") or []),
            "oneFileSystem": bool(body.get("oneFileSystem", False)),
            "customResticParams": list(body.get("customResticParams") or []),
            "compressionMode": body.get("compressionMode"),
            "backupWebhooks": body.get("backupWebhooks"),
            "maxRetries": int(body.get("maxRetries", 2)),
            "retryDelay": int(body.get("retryDelay", 15)),
            "lastBackupAt": None,
            "lastBackupStatus": None,
            "lastBackupError": None,
            "nextBackupAt": cron.next_run(expr, now) if expr else None,
            "createdAt": created,
            "updatedAt": created,
            "sortOrder": sid,
        }
        self.schedules[sid] = row
        return row

    def add_snapshot(
        self,
        repository: str,
        *,
        job: str | None = None,
        time_ms: int,
        files: TreeSpec | None = None,
        tags: list[str] | None = None,
        hostname: str = "zerobyte",
        size: int | None = None,
        paths: list[str] | None = None,
        duration_ms: int | None = None,
        summary: bool = True,
        snapshot_id: str | None = None,
    ) -> Json:
        """Add a snapshot. ``job`` (schedule shortId or name) tags it and, without ``files``, captures
        that job's current volume files. Returns the snapshot detail plus its full ``id``."""
        with self.lock:
            repo = self._resolve_repository(repository)
            schedule = self._resolve_schedule(job) if job else None
            tree: Node
            if files is not None:
                tree = build_tree(files, mtime_ms=time_ms)
            elif schedule is not None:
                tree = self._trees[schedule["volumeId"]]
            else:
                tree = build_tree({}, mtime_ms=time_ms)
            if paths is None:
                vol = self.volumes.get(schedule["volumeId"]) if schedule else None
                paths = [self.volume_path(vol)] if vol else ["/srv/data"]
            all_tags = ([schedule["shortId"]] if schedule else []) + [t for t in (tags or []) if t]
            snap = self._add_snapshot_obj(
                repo,
                tree=tree,
                time_ms=time_ms,
                paths=paths,
                tags=all_tags,
                hostname=hostname,
                size=size,
                duration_ms=duration_ms,
                with_summary=summary,
                snapshot_id=snapshot_id,
            )
            self.invalidate_repository(repo)  # seeding stands for restic work the server has just seen
            return {"id": snap.id, **snap.detail()}

    def _add_snapshot_obj(
        self,
        repo: Json,
        *,
        tree: Node,
        time_ms: int,
        paths: list[str],
        tags: list[str],
        hostname: str = "zerobyte",
        size: int | None = None,
        duration_ms: int | None = None,
        with_summary: bool = True,
        snapshot_id: str | None = None,
        summary: Json | None = None,
    ) -> Snapshot:
        total_bytes = tree.total_bytes() if size is None else size
        duration = duration_ms if duration_ms is not None else 600 + self._ids.randint(0, 4000)
        if with_summary and summary is None:
            files = tree.file_count()
            summary = {
                "files_new": 0,
                "files_changed": 0,
                "files_unmodified": files,
                "dirs_new": 0,
                "dirs_changed": 1,
                "dirs_unmodified": max(0, tree.count() - files - 1),
                "data_blobs": 0,
                "tree_blobs": 1,
                "data_added": 2048 + self._ids.randint(0, 4096),
                "data_added_packed": 1024 + self._ids.randint(0, 2048),
                "total_files_processed": files,
                "total_bytes_processed": total_bytes,
                "backup_start": iso_from_ms(time_ms),
                "backup_end": iso_from_ms(time_ms + duration),
            }
        snap = Snapshot(
            id=snapshot_id or self._ids.snapshot_id(),
            time_ms=time_ms,
            paths=list(paths),
            tags=list(tags),
            hostname=hostname,
            size=total_bytes,
            duration=duration,
            summary=summary if with_summary else None,
            tree=tree,
        )
        self.snapshots_of(repo).append(snap)
        return snap

    def add_notification_destination(
        self,
        name: str,
        *,
        type: str = "generic",
        config: Json | None = None,
        enabled: bool = True,
        status: str = "unknown",
    ) -> Json:
        """Create a notification destination. Returns the raw ``DestinationRow`` (secrets sealed)."""
        with self.lock:
            if config is None:
                config = {"url": "https://hooks.example.net/zerobyte", "method": "POST"} if type == "generic" else {}
            row = self._insert_destination(name, {"type": type, **config}, enabled=enabled)
            row["status"] = status
            return dict(row, config=dict(row["config"]))

    def _insert_destination(self, name: str, config: Json, *, enabled: bool = True) -> Json:
        now = self.now_ms()
        did = self._next("destination")
        sealed = seal_config(self._box, config, NOTIFICATION_SECRET_FIELDS.get(str(config.get("type")), ()))
        row: Json = {
            "id": did,
            "name": name.strip(),
            "enabled": enabled,
            "status": "unknown",
            "lastChecked": None,
            "lastError": None,
            "type": config.get("type"),
            "config": sealed,
            "createdAt": now // 1000 * 1000,
            "updatedAt": now // 1000 * 1000,
            "organizationId": self.organization_id,
        }
        self.destinations[did] = row
        return row

    def assign_notification(
        self,
        job: str,
        destination_id: int,
        *,
        on_start: bool = False,
        on_success: bool = False,
        on_warning: bool = True,
        on_failure: bool = True,
    ) -> Json:
        with self.lock:
            schedule = self._resolve_schedule(job)
            assignment = {
                "scheduleId": schedule["id"],
                "destinationId": destination_id,
                "notifyOnStart": on_start,
                "notifyOnSuccess": on_success,
                "notifyOnWarning": on_warning,
                "notifyOnFailure": on_failure,
                "createdAt": self.now_ms(),
            }
            self._assignments.append(assignment)
            return self.assignment_dto(assignment)

    def add_mirror(self, job: str, repository: str, *, enabled: bool = True) -> Json:
        with self.lock:
            schedule = self._resolve_schedule(job)
            repo = self._resolve_repository(repository)
            mid = self._next("mirror")
            mirror = {
                "id": mid,
                "scheduleId": schedule["id"],
                "repositoryId": repo["id"],
                "enabled": enabled,
                "createdAt": self.now_ms(),
                "lastSyncTaskId": None,
            }
            self._mirrors[mid] = mirror
            return self.mirror_dto(mirror)

    def mirrors_of(self, schedule: Json) -> list[Json]:
        return sorted((m for m in self._mirrors.values() if m["scheduleId"] == schedule["id"]), key=lambda m: m["id"])

    def add_task(
        self,
        kind: str = "backup",
        *,
        job: str | None = None,
        repository: str | None = None,
        status: str = "succeeded",
        created_at: int | None = None,
        duration_ms: int = 45_000,
        error: str | None = None,
        result: Json | None = None,
        exit_code: int = 0,
        warning_details: str | None = None,
        snapshot_id: str | None = None,
        manual: bool = False,
    ) -> Json:
        """Record a finished (or stale/failed/cancelled) task, e.g. to seed history. Returns its TaskDTO."""
        with self.lock:
            created = created_at if created_at is not None else self.now_ms()
            task = self._new_task(
                kind, job=job, repository=repository, snapshot_id=snapshot_id, manual=manual, created_at=created
            )
            task.status = status
            task.started_at = created + 40
            task.finished_at = created + 40 + duration_ms if status in TERMINAL_STATUSES else None
            task.updated_at = task.finished_at or task.started_at
            if status == "queued":
                task.started_at = None
            if result is None and status == "succeeded":
                result = self._default_result(task, exit_code=exit_code, warning_details=warning_details)
            task.result = result
            if status == "failed":
                task.error = error or "Task failed"
            elif status == "cancelled":
                task.error = error or CANCEL_MESSAGES.get(kind, "Task was cancelled by the user")
                task.cancellation_requested = True
            elif status == "stale":
                task.error = error or RESTART_TASK_ERROR
            else:
                task.error = error
            task.outcome = {
                "failed": "error",
                "cancelled": "cancelled",
                "stale": "stale",
            }.get(status, _completed_outcome(result) if result else None)
            return task.dto()

    def add_history(
        self,
        count: int,
        *,
        job: str | None = None,
        start_ms: int | None = None,
        every_ms: int = 3_600_000,
        failure_every: int = 9,
        warning_every: int = 7,
    ) -> list[str]:
        """Seed ``count`` finished backup (+forget) tasks going back in time; some failed or warned."""
        with self.lock:
            schedule = self._resolve_schedule(job) if job else next(iter(self.schedules.values()), None)
            if schedule is None:
                raise KeyError("add_history needs a backup job")
            start = start_ms if start_ms is not None else self.now_ms() - count * every_ms
            ids: list[str] = []
            for i in range(count):
                created = start + i * every_ms
                if failure_every and i % failure_every == failure_every - 1:
                    dto = self.add_task(
                        "backup", job=schedule["shortId"], status="failed", created_at=created, error=DEFAULT_LOCK_ERROR
                    )
                elif warning_every and i % warning_every == warning_every - 1:
                    dto = self.add_task(
                        "backup",
                        job=schedule["shortId"],
                        created_at=created,
                        exit_code=3,
                        warning_details=DEFAULT_WARNING_DETAILS,
                    )
                else:
                    dto = self.add_task("backup", job=schedule["shortId"], created_at=created)
                ids.append(dto["id"])
            return ids

    def _default_result(self, task: Task, *, exit_code: int = 0, warning_details: str | None = None) -> Json:
        if task.kind == "backup":
            return {
                "kind": "backup",
                "exitCode": exit_code,
                "result": {
                    "files_new": self._ids.randint(0, 40),
                    "files_changed": self._ids.randint(0, 10),
                    "files_unmodified": self._ids.randint(100, 5000),
                    "dirs_new": 0,
                    "dirs_changed": 3,
                    "dirs_unmodified": 40,
                    "data_blobs": 12,
                    "tree_blobs": 4,
                    "data_added": self._ids.randint(10_000, 90_000_000),
                    "data_added_packed": self._ids.randint(5_000, 60_000_000),
                    "total_files_processed": 5000,
                    "total_bytes_processed": 8_000_000_000,
                    "total_duration": round(30 + self._ids.random() * 60, 6),
                    "snapshot_id": self._ids.snapshot_id(),
                    "message_type": "summary",
                },
                "warningDetails": warning_details,
            }
        if task.kind == "restore":
            return {
                "kind": "restore",
                "result": {
                    "message_type": "summary",
                    "total_files": 3,
                    "files_restored": 3,
                    "files_skipped": 0,
                    "total_bytes": 60,
                    "bytes_restored": 60,
                },
            }
        if task.kind == "deleteSnapshots":
            return {"kind": "deleteSnapshots", "deletedSnapshotIds": list(task.input.get("snapshotIds", []))}
        if task.kind == "tagSnapshots":
            return {"kind": "tagSnapshots", "taggedSnapshotIds": list(task.input.get("snapshotIds", []))}
        if task.kind == "doctor":
            return self._doctor_result(healthy=True)
        return {"kind": task.kind}

    # ------------------------------------------------------------------------------------------
    # tasks: creation and lifecycle
    # ------------------------------------------------------------------------------------------
    def _new_task(
        self,
        kind: str,
        *,
        job: str | None = None,
        repository: str | None = None,
        snapshot_id: str | None = None,
        manual: bool = True,
        created_at: int | None = None,
        input_extra: Json | None = None,
    ) -> Task:
        created = created_at if created_at is not None else self.now_ms()
        seq = self._next("task")
        schedule = self._resolve_schedule(job) if job else None
        repo = self._resolve_repository(repository) if repository else None
        if schedule is not None and repo is None:
            repo = self.repositories.get(schedule["repositoryId"])
        if kind in ("backup", "forget", "mirrorSync"):
            if schedule is None:
                raise KeyError(f"a {kind} task needs a backup job")
            resource_type = "backup_schedule"
            resource_id = str(schedule["id"]) if self.legacy else schedule["shortId"]
            display = schedule["name"]
            vol = self.volumes.get(schedule["volumeId"])
            agent: str | None = vol["agentId"] if vol and kind == "backup" else None
            op_key: str | None = None
            if kind == "backup":
                inp: Json = {
                    "kind": "backup",
                    "scheduleId": schedule["id"],
                    "scheduleShortId": schedule["shortId"],
                    "manual": manual,
                }
            elif kind == "forget":
                assert repo is not None
                op_key = repo["shortId"]
                inp = {
                    "kind": "forget",
                    "scheduleId": schedule["id"],
                    "scheduleShortId": schedule["shortId"],
                    "repositoryId": repo["shortId"],
                    "retentionPolicy": dict(schedule.get("retentionPolicy") or {}),
                    "trigger": "postBackup" if not manual else "manual",
                }
            else:
                assert repo is not None
                op_key = repo["shortId"]
                source = self.repositories.get(schedule["repositoryId"])
                inp = {
                    "kind": "mirrorSync",
                    "scheduleId": schedule["id"],
                    "scheduleShortId": schedule["shortId"],
                    "sourceRepositoryId": source["id"] if source else None,
                    "mirrorRepositoryId": repo["shortId"],
                }
        else:
            if repo is None:
                raise KeyError(f"a {kind} task needs a repository")
            resource_type = "repository"
            resource_id = repo["shortId"]
            display = repo["name"]
            agent = None
            op_key = snapshot_id if kind == "restore" else None
            inp = {"kind": kind, "repositoryId": repo["shortId"]}
            if kind == "restore":
                inp.update({"snapshotId": snapshot_id or "", "target": "/"})
            elif kind in ("deleteSnapshots", "tagSnapshots"):
                inp["snapshotIds"] = [snapshot_id] if snapshot_id else []
        if input_extra:
            inp.update(input_extra)
        task = Task(
            id=self._ids.uuid7(created),
            kind=kind,
            resource_type=resource_type,
            resource_id=resource_id,
            operation_key=op_key,
            target_agent_id=agent,
            input=inp,
            target_display_name=display,
            created_at=created,
            updated_at=created,
            seq=seq,
        )
        self.tasks[task.id] = task
        return task

    def active_task(self, kind: str, resource_id: str, operation_key: str | None = None) -> Task | None:
        for task in self.tasks.values():
            if (
                task.active
                and task.kind == kind
                and task.resource_id == resource_id
                and (operation_key is None or task.operation_key == operation_key)
            ):
                return task
        return None

    def _launch(self, task: Task, runner: Callable[[Task], None]) -> None:
        self._publish_task(task, previous_outcome=None)
        thread = threading.Thread(target=self._task_main, args=(task, runner), name=f"zb-sim-{task.kind}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _task_main(self, task: Task, runner: Callable[[Task], None]) -> None:
        try:
            self._wait_for_slot(task)
            runner(task)
        except _TaskStop:
            with self.lock:
                if task.abandoned or not task.active:
                    return
                message = task.cancel_message or CANCEL_MESSAGES.get(task.kind, "Task was cancelled by the user")
                self._finish(task, "cancelled", error=message)
        except _TaskFailed as exc:
            with self.lock:
                if task.abandoned or not task.active:
                    return
                self._finish(task, "failed", error=str(exc))
        except Exception as exc:  # a bug in a runner must not kill the thread silently
            with self.lock:
                if task.active and not task.abandoned:
                    self._finish(task, "failed", error=f"Simulator error: {exc!r}")

    def _conflicts(self, task: Task) -> bool:
        for other in self.tasks.values():
            if other is task or other.status not in ("running", "cancelling"):
                continue
            for repo_id, exclusive in task.locks:
                for other_repo, other_exclusive in other.locks:
                    if repo_id == other_repo and (exclusive or other_exclusive):
                        return True
        return False

    def _wait_for_slot(self, task: Task) -> None:
        """Stay queued while a conflicting task holds the repository, then become running."""
        time.sleep(min(0.02, self.task_seconds / 20))
        while True:
            with self.lock:
                if task.stop.is_set() and not task.fast_forward:
                    raise _TaskStop()
                if not self._conflicts(task):
                    now = self.now_ms()
                    task.status = "running"
                    task.started_at = now
                    task.updated_at = now
                    self._on_task_running(task)
                    self._publish_task(task, previous_outcome="running")
                    return
            task.stop.wait(0.01)

    def _on_task_running(self, task: Task) -> None:
        if task.kind == "doctor":
            repo = self.find_repository(task.resource_id)
            if repo is not None:
                repo["status"] = "doctor"

    @staticmethod
    def _skipping(task: Task) -> bool:
        return task.fast_forward and not task.abandoned

    def _sleep(self, task: Task, seconds: float) -> None:
        """Let task time pass; raise ``_TaskStop`` when cancelled or abandoned meanwhile."""
        if self._skipping(task):
            return
        if task.stop.wait(max(0.0, seconds)) and not self._skipping(task):
            raise _TaskStop()

    def _finish(self, task: Task, status: str, *, error: str | None = None, result: Json | None = None) -> None:
        """Move a task to a terminal status (caller holds the lock) and publish it."""
        now = self.now_ms()
        task.status = status
        task.error = error
        if result is not None:
            task.result = result
        task.finished_at = now
        task.updated_at = now
        if status == "succeeded":
            task.outcome = _completed_outcome(task.result or {})
        else:
            task.outcome = {"failed": "error", "cancelled": "cancelled", "stale": "stale"}[status]
        if status == "cancelled":
            task.cancellation_requested = True
            self._after_cancel(task, error or "")
        if status == "failed":
            self._after_failure(task, error or "")
        self._publish_task(task, previous_outcome="running")

    def _after_cancel(self, task: Task, message: str) -> None:
        if task.kind == "backup":
            schedule = self.find_schedule(task.input.get("scheduleId", -1))
            if schedule is not None:
                now = self.now_ms()
                schedule.update(lastBackupAt=now, lastBackupStatus="warning", lastBackupError=message, updatedAt=now)
        if task.kind == "doctor":
            repo = self.find_repository(task.resource_id)
            if repo is not None:
                repo["status"] = "cancelled"
            task.result = self._doctor_result(healthy=False, cancelled=True)

    def _after_failure(self, task: Task, message: str) -> None:
        if task.kind == "backup":
            schedule = self.find_schedule(task.input.get("scheduleId", -1))
            if schedule is not None:
                now = self.now_ms()
                schedule.update(lastBackupAt=now, lastBackupStatus="error", lastBackupError=message, updatedAt=now)

    def request_cancel(self, task: Task, *, message: str | None = None) -> None:
        """Ask a live task to stop (caller holds the lock and checked cancellability)."""
        now = self.now_ms()
        task.cancellation_requested = True
        if message:
            task.cancel_message = message
        if task.status == "queued":
            task.stop.set()
            return
        task.status = "cancelling"
        task.updated_at = now
        self._publish_task(task, previous_outcome="running")
        task.stop.set()

    def restart(self, *, finish_tasks: bool = False) -> None:
        """Simulate a Zerobyte restart: active tasks become ``stale`` (or, with ``finish_tasks``,
        run to completion at once), interrupted schedules get a warning, open event streams drop."""
        with self.lock:
            active = [t for t in self.tasks.values() if t.active]
            if finish_tasks:
                for task in active:
                    task.fast_forward = True
                    task.stop.set()
            else:
                now = self.now_ms()
                for task in active:
                    task.abandoned = True
                    task.stop.set()
                    task.status = "stale"
                    task.error = RESTART_TASK_ERROR
                    task.outcome = "stale"
                    task.finished_at = now
                    task.updated_at = now
                for schedule in self.schedules.values():
                    if schedule["lastBackupStatus"] == "in_progress":
                        schedule.update(lastBackupStatus="warning", lastBackupError=RESTART_BACKUP_ERROR, updatedAt=now)
                for repo in self.repositories.values():
                    if repo["status"] == "doctor":
                        repo["status"] = "unknown"
            self.cache.clear()  # startup clears Zerobyte's cache
        self.close_streams()
        if finish_tasks:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                with self.lock:
                    if not any(t.active for t in active):
                        break
                time.sleep(0.005)

    # ------------------------------------------------------------------------------------------
    # task starters (called by the HTTP layer with the lock held)
    # ------------------------------------------------------------------------------------------
    def start_backup(self, schedule: Json, *, manual: bool = True) -> Task:
        if self.active_task("backup", str(schedule["id"]) if self.legacy else schedule["shortId"]):
            raise fail(409, "Backup is already running for this schedule")
        task = self._new_task("backup", job=schedule["shortId"], manual=manual)
        task.locks = [(schedule["repositoryId"], False)]
        now = self.now_ms()
        expr = schedule["cronExpression"]
        schedule.update(
            lastBackupStatus="in_progress",
            lastBackupError=None,
            nextBackupAt=cron.next_run(expr, now) if expr else schedule["nextBackupAt"],
            updatedAt=now,
        )
        self._launch(task, self._run_backup)
        return task

    def _consume_outcome(self, schedule: Json) -> str:
        outcome = self.backup_outcomes.get(schedule["shortId"]) or self.backup_outcomes.get(schedule["name"])
        if outcome is None:
            outcome = self.next_backup_outcome
            self.next_backup_outcome = "success"
        return outcome

    def _run_backup(self, task: Task) -> None:
        with self.lock:
            schedule = self.find_schedule(task.input["scheduleId"])
            if schedule is None:
                raise _TaskFailed("Backup schedule not found")
            vol = self.volumes.get(schedule["volumeId"])
            if vol is None:
                raise _TaskFailed("Volume not found")
            tree = self._trees[vol["id"]]
            vol_path = self.volume_path(vol)
            total_files = tree.file_count()
            total_bytes = tree.total_bytes()
            sample_files = [p for p, _ in zip_first(tree.iter_files(), 8)]
        started = time.monotonic()
        steps = max(1, round(self.task_seconds / max(self.progress_interval, 0.001)))
        for step in range(1, steps + 1):
            self._sleep(task, self.task_seconds / steps)
            if step == steps:
                break
            frac = step / steps
            with self.lock:
                elapsed = time.monotonic() - started
                current = sample_files[step % len(sample_files)] if sample_files else ""
                task.progress = {
                    "kind": "backup",
                    "progress": {
                        "seconds_elapsed": int(elapsed),
                        "seconds_remaining": max(0, int(self.task_seconds - elapsed)),
                        "percent_done": frac,
                        "total_files": total_files,
                        "files_done": int(total_files * frac),
                        "total_bytes": total_bytes,
                        "bytes_done": int(total_bytes * frac),
                        "current_files": [f"{vol_path.rstrip('/')}{current}"] if current else [],
                        "message_type": "status",
                    },
                }
                task.updated_at = self.now_ms()
                if task.status == "running":
                    self._publish_task(task)
        with self.lock:
            if task.abandoned or not task.active:
                return
            if task.stop.is_set() and not task.fast_forward:
                raise _TaskStop()
            self._complete_backup(task, schedule, vol, time.monotonic() - started)

    def _complete_backup(self, task: Task, schedule: Json, vol: Json, elapsed: float) -> None:
        repo = self.repositories.get(schedule["repositoryId"])
        if repo is None:
            raise _TaskFailed("Repository not found")
        outcome = self._consume_outcome(schedule)
        lock_error = self._repo_lock_errors.get(repo["id"])
        if lock_error is not None:
            raise _TaskFailed(lock_error)
        if outcome not in ("success", "warning"):
            raise _TaskFailed(DEFAULT_LOCK_ERROR if outcome == "failed" else outcome)
        tree = self._trees[vol["id"]]
        start_ms = task.started_at or self.now_ms()
        duration_ms = max(1, int(elapsed * 1000))
        parent = max(
            (s for s in self.snapshots_of(repo) if schedule["shortId"] in s.tags),
            key=lambda s: s.time_ms,
            default=None,
        )
        ancestors = len([p for p in self.volume_path(vol).split("/") if p]) - 1
        counters = diff_trees(parent.tree if parent else None, tree, max(0, ancestors))
        snap_id = self._ids.snapshot_id()
        summary = {
            **counters,
            "total_files_processed": tree.file_count(),
            "total_bytes_processed": tree.total_bytes(),
            "backup_start": iso_from_ms(start_ms),
            "backup_end": iso_from_ms(start_ms + duration_ms),
        }
        self._add_snapshot_obj(
            repo,
            tree=tree,
            time_ms=start_ms + 60,
            paths=[self.volume_path(vol)],
            tags=[schedule["shortId"]],
            hostname=self.hostname,
            duration_ms=duration_ms,
            summary=summary,
            snapshot_id=snap_id,
        )
        warning = DEFAULT_WARNING_DETAILS if outcome == "warning" else None
        result_summary = {k: v for k, v in summary.items() if k not in ("backup_start", "backup_end")}
        result_summary.update(total_duration=round(elapsed, 9), snapshot_id=snap_id, message_type="summary")
        now = self.now_ms()
        expr = schedule["cronExpression"]
        schedule.update(
            lastBackupAt=now,
            lastBackupStatus="warning" if warning else "success",
            lastBackupError=warning,
            nextBackupAt=cron.next_run(expr, now) if expr else None,
            updatedAt=now,
        )
        self.invalidate_repository(repo)
        self.refresh_stats(repo)
        # follow-up tasks are queued before the backup turns terminal, as in the recorded event streams
        if schedule.get("retentionPolicy"):
            self.start_forget(schedule, trigger="postBackup")
        for mirror in self.mirrors_of(schedule):
            if mirror["enabled"] and mirror["repositoryId"] in self.repositories:
                with contextlib.suppress(ApiError):  # already syncing: the real server logs and moves on
                    self.start_mirror_sync(schedule, mirror, snapshot_ids=[snap_id])
        result = {
            "kind": "backup",
            "exitCode": 3 if warning else 0,
            "result": result_summary,
            "warningDetails": warning,
        }
        self._finish(task, "succeeded", result=result)

    def start_forget(self, schedule: Json, *, trigger: str = "manual") -> Task | None:
        repo = self.repositories[schedule["repositoryId"]]
        if self.legacy:
            self._apply_retention(repo, schedule)
            return None
        existing = self.active_task("forget", schedule["shortId"], repo["shortId"])
        if existing is not None:
            if trigger == "postBackup" and existing.status == "queued":
                existing.input["retentionPolicy"] = dict(schedule.get("retentionPolicy") or {})
                return existing
            if trigger == "manual":
                raise fail(409, "Retention policy is already being applied")
        task = self._new_task("forget", job=schedule["shortId"], manual=trigger == "manual")
        task.locks = [(repo["id"], True)]
        self._launch(task, self._run_forget)
        return task

    def _run_forget(self, task: Task) -> None:
        self._sleep(task, self.task_seconds / 2)
        with self.lock:
            schedule = self.find_schedule(task.input["scheduleId"])
            repo = self.find_repository(task.input["repositoryId"])
            if schedule is None or repo is None:
                raise _TaskFailed("Backup schedule not found")
            self._apply_retention(repo, schedule, policy=task.input.get("retentionPolicy"))
            self._finish(task, "succeeded", result={"kind": "forget"})

    def _apply_retention(self, repo: Json, schedule: Json, policy: Json | None = None) -> list[str]:
        policy = policy if policy is not None else schedule.get("retentionPolicy")
        tag = schedule["shortId"]
        snaps = [s for s in self.snapshots_of(repo) if tag in s.tags]
        keep = apply_policy(self._policy_items(snaps), policy)
        removed = [s.id for s in snaps if s.id not in keep]
        if removed:
            self._snapshots[repo["id"]] = [s for s in self.snapshots_of(repo) if s.id not in removed]
        self.invalidate_repository(repo)
        self.refresh_stats(repo)
        return removed

    def start_mirror_sync(self, schedule: Json, mirror: Json, *, snapshot_ids: list[str] | None = None) -> Task | None:
        repo = self.repositories[mirror["repositoryId"]]
        if self.active_task("mirrorSync", schedule["shortId"], repo["shortId"]):
            raise fail(409, "Mirror is already syncing")
        if self.legacy:  # v0.41 copies in the background and keeps the outcome on the mirror row
            self._copy_to_mirror(schedule, repo, snapshot_ids)
            mirror.update(lastCopyAt=self.now_ms(), lastCopyStatus="success", lastCopyError=None)
            return None
        extra: Json = {"snapshotIds": list(snapshot_ids)} if snapshot_ids else {}
        task = self._new_task("mirrorSync", job=schedule["shortId"], repository=repo["shortId"], input_extra=extra)
        task.locks = [(schedule["repositoryId"], False), (repo["id"], True)]
        mirror["lastSyncTaskId"] = task.id
        self._launch(task, self._run_mirror_sync)
        return task

    def _run_mirror_sync(self, task: Task) -> None:
        for phase, share in (("preparing", 0.2), ("copying", 0.6), ("retention", 0.2)):
            with self.lock:
                task.progress = {"kind": "mirrorSync", "phase": phase, "message": None}
                task.updated_at = self.now_ms()
                self._publish_task(task)
            self._sleep(task, self.task_seconds * share)
            if phase == "copying":
                with self.lock:
                    schedule = self.find_schedule(task.input["scheduleId"])
                    mirror_repo = self.find_repository(task.input["mirrorRepositoryId"])
                    if schedule is None or mirror_repo is None:
                        raise _TaskFailed("Mirror repository not found")
                    if mirror_repo["id"] in self._repo_lock_errors:
                        raise _TaskFailed(self._repo_lock_errors[mirror_repo["id"]])
                    self._copy_to_mirror(schedule, mirror_repo, task.input.get("snapshotIds"))
        with self.lock:
            self._finish(task, "succeeded", result={"kind": "mirrorSync"})

    def _copy_to_mirror(self, schedule: Json, mirror_repo: Json, snapshot_ids: list[str] | None) -> int:
        source = self.repositories.get(schedule["repositoryId"])
        if source is None:
            return 0
        have = {s.time_ms for s in self.snapshots_of(mirror_repo)}
        ordered = sorted(self.snapshots_of(source), key=lambda s: s.time_ms)
        if snapshot_ids:  # restic copy -- <ids>: explicit ids ignore the --tag filter
            wanted = [s for s in ordered if any(s.matches_prefix(i) for i in snapshot_ids)]
        else:  # restic copy --tag <job> -- latest: only the newest snapshot of the job
            wanted = [s for s in ordered if schedule["shortId"] in s.tags][-1:]
        copied = 0
        for snap in wanted:
            if snap.time_ms in have:
                continue
            self._add_snapshot_obj(
                mirror_repo,
                tree=snap.tree,
                time_ms=snap.time_ms,
                paths=snap.paths,
                tags=snap.tags,
                hostname=snap.hostname,
                size=snap.size,
                duration_ms=snap.duration,
                with_summary=snap.summary is not None,
                summary=dict(snap.summary) if snap.summary else None,
            )
            copied += 1
        self.invalidate_repository(mirror_repo)
        if schedule.get("retentionPolicy"):
            self._apply_retention(mirror_repo, schedule)
        else:
            self.refresh_stats(mirror_repo)
        return copied

    def start_restore(self, repo: Json, snapshot: Snapshot, body: Json, snapshot_ident: str) -> Task | str:
        """The restore task, or on v0.40 the restore id of a restore already done (no task to follow)."""
        if self.active_task("restore", repo["shortId"], snapshot_ident):
            raise fail(409, "A restore is already running for this snapshot")
        target = body.get("targetPath") or "/"
        if not self.tasks_api:
            restore_id = self._ids.uuid7(self.now_ms())
            plan = self._restore_plan(snapshot, body)
            self._write_restore(plan, body.get("overwrite") or "always")
            self.restores.append(
                {
                    "taskId": restore_id,
                    "repository": repo["shortId"],
                    "snapshotId": snapshot.id,
                    "target": target,
                    "files": [dest for _, dest, _ in plan],
                }
            )
            return restore_id
        task = self._new_task(
            "restore",
            repository=repo["shortId"],
            snapshot_id=snapshot_ident,
            input_extra={"target": target},
        )
        task.locks = [(repo["id"], False)]
        plan = self._restore_plan(snapshot, body)
        self._launch(task, lambda t: self._run_restore(t, repo, snapshot, body, plan))
        return task

    def _restore_plan(self, snapshot: Snapshot, body: Json) -> list[tuple[str, str, Node]]:
        """(source abs path, destination abs path, node) for every file the restore writes."""
        view = snapshot.view()
        includes = [
            posixpath.normpath(p) for p in (body.get("include") or [snapshot.paths[0] if snapshot.paths else "/"])
        ]
        excludes = list(body.get("exclude") or [])
        target = body.get("targetPath") or "/"
        custom = target not in ("", "/")
        ancestor = "/"
        if custom:
            if len(includes) == 1:
                node = view.resolve(includes[0])
                single_dir = node is not None and node.kind == "dir"
                ancestor = includes[0] if single_dir else posixpath.dirname(includes[0])
            else:
                ancestor = posixpath.commonpath(includes)
        out: list[tuple[str, str, Node]] = []
        for inc in includes:
            node = view.resolve(inc)
            if node is None:
                continue
            files = (
                [(inc, node)]
                if node.kind != "dir"
                else [(f"{inc.rstrip('/')}{rel}", n) for rel, n in node.iter_files()]
            )
            for src, n in files:
                if any(fnmatch.fnmatch(posixpath.basename(src), pat) or fnmatch.fnmatch(src, pat) for pat in excludes):
                    continue
                dest = src if not custom else posixpath.join(target, posixpath.relpath(src, ancestor))
                out.append((src, dest, n))
        return out

    def _run_restore(
        self, task: Task, repo: Json, snapshot: Snapshot, body: Json, plan: list[tuple[str, str, Node]]
    ) -> None:
        total_files = len(plan)
        total_bytes = sum(n.size for _, _, n in plan)
        started = time.monotonic()
        steps = max(1, round(self.task_seconds / max(self.progress_interval, 0.001)))
        for step in range(1, steps + 1):
            self._sleep(task, self.task_seconds / steps)
            if step == steps:
                break
            frac = step / steps
            with self.lock:
                task.progress = {
                    "kind": "restore",
                    "progress": {
                        "message_type": "status",
                        "seconds_elapsed": int(time.monotonic() - started),
                        "percent_done": frac,
                        "total_files": total_files,
                        "files_restored": int(total_files * frac),
                        "total_bytes": total_bytes,
                        "bytes_restored": int(total_bytes * frac),
                    },
                }
                task.updated_at = self.now_ms()
                if task.status == "running":
                    self._publish_task(task)
        with self.lock:
            if task.abandoned or not task.active:
                return
            if task.stop.is_set() and not task.fast_forward:
                raise _TaskStop()
            restored, skipped = self._write_restore(plan, body.get("overwrite") or "always")
            folders = _restored_folders(plan, body.get("targetPath") or "/")
            self.restores.append(
                {
                    "taskId": task.id,
                    "repository": repo["shortId"],
                    "snapshotId": snapshot.id,
                    "target": task.input.get("target"),
                    "files": [dest for _, dest, _ in plan],
                }
            )
            summary = restore_summary(restored, skipped, folders)
            self._finish(task, "succeeded", result={"kind": "restore", "result": summary})

    def _write_restore(self, plan: list[tuple[str, str, Node]], overwrite: str) -> tuple[list[Node], list[Node]]:
        """Write restored files into any volume whose path contains the destination; (restored, skipped).

        As restic does: a file whose content is already there is skipped in every mode; ``never`` also
        skips any existing file and ``if-newer`` one that is not older than the snapshot's.
        """
        restored: list[Node] = []
        skipped: list[Node] = []
        for _, dest, node in plan:
            vol = self._volume_containing(dest)
            if vol is None:
                restored.append(node)
                continue
            rel = posixpath.relpath(dest, self.volume_path(vol))
            tree = self._trees[vol["id"]]
            existing = tree.resolve(rel) if rel != "." else tree
            if existing is not None and (
                _same_file(existing, node)
                or overwrite == "never"
                or (overwrite == "if-newer" and existing.mtime_ms >= node.mtime_ms)
            ):
                skipped.append(node)
                continue
            self._trees[vol["id"]] = graft(tree, [p for p in rel.split("/") if p], node)
            restored.append(node)
        return restored, skipped

    def _volume_containing(self, path: str) -> Json | None:
        best: Json | None = None
        for vol in self.volumes.values():
            base = self.volume_path(vol).rstrip("/") or "/"
            if (path == base or path.startswith(base + "/")) and (
                best is None or len(base) > len(self.volume_path(best))
            ):
                best = vol
        return best

    def start_doctor(self, repo: Json) -> Task | None:
        """The doctor task; None on v0.40, where doctor runs before the answer."""
        if self.active_task("doctor", repo["shortId"]):
            raise fail(409, "Doctor operation already in progress")
        if not self.tasks_api:
            self._apply_doctor(repo)
            return None
        task = self._new_task("doctor", repository=repo["shortId"])
        task.locks = [(repo["id"], True)]
        self._launch(task, self._run_doctor)
        return task

    def _doctor_result(self, *, healthy: bool, cancelled: bool = False, unlocked: bool = False) -> Json:
        now = self.now_ms()
        error = None if healthy else "Fatal: repository contains errors"
        steps = [
            {
                "step": "unlock",
                "success": True,
                "output": "successfully removed 1 locks" if unlocked else "no locks to remove",
                "error": None,
            },
            {
                "step": "check",
                "success": healthy,
                "output": "using temporary cache\nload indexes\ncheck all packs\n"
                "check snapshots, trees and blobs\nno errors were found"
                if healthy
                else "load indexes\ncheck all packs\npack 3f2a1b: not referenced in any index",
                "error": error,
            },
        ]
        if not healthy and not cancelled:
            steps.append({"step": "repair_index", "success": True, "output": "rebuilding index\ndone", "error": None})
        return {
            "kind": "doctor",
            "repositoryStatus": "cancelled" if cancelled else "healthy" if healthy else "error",
            "lastChecked": now,
            "lastError": None if healthy or cancelled else error,
            "doctorResult": {"success": healthy and not cancelled, "steps": steps, "completedAt": now},
        }

    def _run_doctor(self, task: Task) -> None:
        self._sleep(task, self.task_seconds)
        with self.lock:
            repo = self.find_repository(task.resource_id)
            if repo is None:
                raise _TaskFailed("Repository not found")
            self._finish(task, "succeeded", result=self._apply_doctor(repo))

    def _apply_doctor(self, repo: Json) -> Json:
        unlocked = self._repo_lock_errors.pop(repo["id"], None) is not None
        healthy = self.doctor_outcome == "healthy"
        result = self._doctor_result(healthy=healthy, unlocked=unlocked)
        repo.update(
            status=result["repositoryStatus"],
            lastChecked=result["lastChecked"],
            lastError=result["lastError"],
            doctorResult=result["doctorResult"],
        )
        return result

    def start_delete_snapshots(self, repo: Json, snapshot_ids: list[str]) -> Task | None:
        """The delete task; None on v0.40, where the snapshots are gone before the answer."""
        if not self.tasks_api:
            self._apply_delete(repo, list(snapshot_ids))
            return None
        task = self._new_task(
            "deleteSnapshots", repository=repo["shortId"], input_extra={"snapshotIds": list(snapshot_ids)}
        )
        task.locks = [(repo["id"], True)]
        self._launch(task, self._run_delete)
        return task

    def _run_delete(self, task: Task) -> None:
        self._sleep(task, self.task_seconds / 2)
        with self.lock:
            repo = self.find_repository(task.resource_id)
            if repo is None:
                raise _TaskFailed("Repository not found")
            ids = list(task.input["snapshotIds"])
            self._apply_delete(repo, ids)
            self._finish(task, "succeeded", result={"kind": "deleteSnapshots", "deletedSnapshotIds": ids})

    def _apply_delete(self, repo: Json, ids: list[str]) -> None:
        self._snapshots[repo["id"]] = [s for s in self.snapshots_of(repo) if not any(s.matches_prefix(i) for i in ids)]
        self.invalidate_repository(repo)
        self.refresh_stats(repo)

    def start_tag(self, repo: Json, body: Json) -> Task | None:
        """The tag task; None on v0.40, where the snapshots are retagged before the answer."""
        extra: Json = {"snapshotIds": list(body["snapshotIds"])}
        for key in ("add", "remove", "set"):
            if key in body:
                extra[key] = list(body[key])
        if not self.tasks_api:
            self._apply_tag(repo, extra)
            return None
        task = self._new_task("tagSnapshots", repository=repo["shortId"], input_extra=extra)
        task.locks = [(repo["id"], True)]
        self._launch(task, self._run_tag)
        return task

    def _run_tag(self, task: Task) -> None:
        self._sleep(task, self.task_seconds / 2)
        with self.lock:
            repo = self.find_repository(task.resource_id)
            if repo is None:
                raise _TaskFailed("Repository not found")
            ids = list(task.input["snapshotIds"])
            self._apply_tag(repo, task.input)
            self._finish(task, "succeeded", result={"kind": "tagSnapshots", "taggedSnapshotIds": ids})

    def _apply_tag(self, repo: Json, spec: Json) -> None:
        ids = list(spec["snapshotIds"])
        for snap in self.snapshots_of(repo):
            if not any(snap.matches_prefix(i) for i in ids):
                continue
            tags = list(snap.tags)
            if "set" in spec:
                tags = list(spec["set"])
            for t in spec.get("add", []):
                if t not in tags:
                    tags.append(t)
            tags = [t for t in tags if t not in spec.get("remove", [])]
            if tags != snap.tags:
                snap.tags = tags
                snap.id = self._ids.snapshot_id()  # restic rewrites the snapshot: new id
        self.invalidate_repository(repo)

    # ------------------------------------------------------------------------------------------
    # volumes (mount simulation)
    # ------------------------------------------------------------------------------------------
    def mount_problem(self, row: Json) -> str | None:
        """Why mounting this volume fails (None = it mounts)."""
        if row["name"] in self.mount_errors:
            return self.mount_errors[row["name"]]
        if row["config"].get("backend") == "directory":
            path = str(row["config"].get("path") or "")
            if path in self.missing_paths or "does-not-exist" in path:
                return f"ENOENT: no such file or directory, access '{path}'"
        return None

    def mount(self, row: Json) -> str | None:
        problem = self.mount_problem(row)
        now = self.now_ms()
        row.update(
            status="error" if problem else "mounted",
            lastError=problem,
            lastHealthCheck=now,
            updatedAt=now,
        )
        self._org_event("volume:status_changed", volumeName=row["name"], status=row["status"])
        if not problem:
            self._org_event("volume:mounted", volumeName=row["name"])
        return problem


def _same_file(existing: Node, node: Node) -> bool:
    if existing is node:
        return True
    return existing.kind == node.kind == "file" and existing.size == node.size and existing.read() == node.read()


def _restored_folders(plan: list[tuple[str, str, Node]], target: str) -> int:
    """Folders restic restores (metadata) on the way to the planned files: those below the target root."""
    root = posixpath.normpath(target)
    folders: set[str] = set()
    for _, dest, _ in plan:
        parent = posixpath.dirname(dest)
        while parent not in ("/", root) and parent.startswith(root.rstrip("/") + "/"):
            folders.add(parent)
            parent = posixpath.dirname(parent)
    return len(folders)


def restore_summary(restored: list[Node], skipped: list[Node], folders: int = 0) -> Json:
    """The restore task's ``result.result`` as the real server reports it (checked on v0.42 and v0.41).

    restic's JSON summary omits zero counters; ``files_restored`` also counts the folders it restored on the
    way, ``total_files``/``total_bytes`` only the files it wrote. Zerobyte parses it with ``files_restored``
    required (``files_skipped`` defaults to 0): when restic restored nothing, the parse fails and Zerobyte
    reports its all-zero fallback, ``files_skipped`` included.
    """
    done = len(restored) + folders
    if not done:
        return {
            "message_type": "summary",
            "total_files": 0,
            "files_restored": 0,
            "files_skipped": 0,
            "bytes_skipped": 0,
        }
    written = sum(n.size for n in restored)
    kept = sum(n.size for n in skipped)
    summary: Json = {"message_type": "summary"}
    if restored:
        summary["total_files"] = len(restored)
    summary.update(files_restored=done, files_skipped=len(skipped))
    if written:
        summary.update(total_bytes=written, bytes_restored=written)
    if kept:
        summary["bytes_skipped"] = kept
    return summary


def zip_first(it: Iterable[Any], n: int) -> list[Any]:
    out: list[Any] = []
    for item in it:
        out.append(item)
        if len(out) >= n:
            break
    return out


def diff_trees(old: Node | None, new: Node, ancestors: int = 0) -> Json:
    """restic-like change counters between a parent snapshot tree and the new one.

    ``ancestors``: folders above the backed-up one (``/srv/data`` has one, ``/srv``), which restic
    stores and counts like the others.
    """
    if old is new:
        dirs = max(0, new.count() - new.file_count()) + ancestors
        return {
            "files_new": 0,
            "files_changed": 0,
            "files_unmodified": new.file_count(),
            "dirs_new": 0,
            "dirs_changed": 0,
            "dirs_unmodified": dirs + 1,
            "data_blobs": 0,
            "tree_blobs": 1,
            "data_added": 2767,
            "data_added_packed": 1703,
        }
    old_files = {p: (n.size, n.mtime_ms) for p, n in old.iter_files() if n.kind == "file"} if old is not None else {}
    new_count = changed = same = added = 0
    for path, node in new.iter_files():
        if node.kind != "file":
            continue
        before = old_files.get(path)
        if before is None:
            new_count += 1
            added += node.size
        elif before != (node.size, node.mtime_ms):
            changed += 1
            added += node.size
        else:
            same += 1
    dirs = max(0, new.count() - new.file_count()) + ancestors
    blobs = max(0, (added + (1 << 20) - 1) // (1 << 20))
    return {
        "files_new": new_count,
        "files_changed": changed,
        "files_unmodified": same,
        "dirs_new": 0 if old is not None else dirs + 1,
        "dirs_changed": dirs + 1 if old is not None and (new_count or changed) else 0,
        "dirs_unmodified": 0 if (new_count or changed or old is None) else dirs + 1,
        "data_blobs": blobs,
        "tree_blobs": dirs + 1,
        "data_added": added + 2048 * (dirs + 1),
        "data_added_packed": int(added * 0.64) + 1024 * (dirs + 1),
    }


def graft(root: Node, parts: list[str], node: Node) -> Node:
    """A copy of ``root`` with ``node`` placed at ``parts`` (parents created or shallow-copied)."""
    if not parts:
        return node.renamed(root.name)
    kids = {c.name: c for c in root.children()}
    head = parts[0]
    if len(parts) == 1:
        kids[head] = node if node.name == head else node.renamed(head)
    else:
        existing = kids.get(head)
        base = (
            existing
            if existing is not None and existing.kind == "dir"
            else Node(head, "dir", mtime_ms=node.mtime_ms, children=[])
        )
        kids[head] = graft(base, parts[1:], node)
    return Node(root.name, "dir", mtime_ms=root.mtime_ms, children=list(kids.values()))
