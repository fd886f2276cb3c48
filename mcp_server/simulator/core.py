"""The simulator's state: every row a Zerobyte server remembers, lookups, seeding helpers, the event bus.

Exists to hold volumes, repositories, snapshots, schedules, mirrors, notification destinations and tasks with
the same row shapes and quirks as the real server, plus the knobs tests turn (fault rules, outcomes of the next
backup, revoked keys...). The task engine (``engine.py``) and the task runners (``runners.py``) are given it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterable
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
from .files import Node, TreeSpec, build_tree
from .model import (
    _REPOSITORY_DEFAULTS,
    _VOLUME_DEFAULTS,
    BLOCKED_RESTORE_PREFIXES,
    DEFAULT_LOCK_ERROR,
    SCHEDULE_OPTION_KEYS,
    TERMINAL_STATUSES,
    RateState,
    RecordedRequest,
    Snapshot,
    Task,
    _Subscriber,
    sse_frame,
)
from .retention import PolicyItem, apply_policy


class SimulatorCore:
    """The state of a fake Zerobyte server; ``Simulator`` (``state.py``) composes it with a task engine and runners.

    Thread-safe: every mutation holds ``self.lock``.
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
        self._attach_parts()

    def _attach_parts(self) -> None:
        """Called once the state is built; ``Simulator`` gives its engine and task runners this state here."""

    # ------------------------------------------------------------------------------------------
    # basics
    # ------------------------------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _next(self, counter: str) -> int:
        self._counters[counter] += 1
        return self._counters[counter]

    def unseal(self, value: str) -> str:
        return self._box.unseal(value)

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
        *SCHEDULE_OPTION_KEYS,
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

    def _copy_snapshot(self, repo: Json, snap: Snapshot) -> Snapshot:
        """``restic copy``: the snapshot again in ``repo`` (same tree, time, paths, tags, host, summary; new id)."""
        return self._add_snapshot_obj(
            repo,
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
