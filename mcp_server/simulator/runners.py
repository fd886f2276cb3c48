"""What each Zerobyte task does in the simulator: backup (and the forget that follows), forget, mirror sync,
restore, doctor, snapshot delete and tag, with restic's semantics as observed on a real server.
"""

from __future__ import annotations

import contextlib
import fnmatch
import posixpath
import time
from collections.abc import Callable, Iterable
from typing import Any

from . import cron
from ._util import (
    Json,
    iso_from_ms,
)
from .core import SimulatorCore
from .engine import TaskEngine
from .files import Node
from .model import (
    CANCEL_MESSAGES,
    DEFAULT_LOCK_ERROR,
    DEFAULT_WARNING_DETAILS,
    RESTART_TASK_ERROR,
    TERMINAL_STATUSES,
    ApiError,
    Snapshot,
    Task,
    _completed_outcome,
    _TaskFailed,
    _TaskStop,
    fail,
)
from .retention import apply_policy


class TaskRunners:
    """The task starters the HTTP layer calls (with the lock held) and the work each task does.

    Given the simulator's state and the engine that runs its tasks; it owns neither.
    """

    def __init__(self, core: SimulatorCore, engine: TaskEngine) -> None:
        self.core = core
        self.engine = engine

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
        with self.core.lock:
            created = created_at if created_at is not None else self.core.now_ms()
            task = self.engine.new_task(
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
        with self.core.lock:
            schedule = self.core._resolve_schedule(job) if job else next(iter(self.core.schedules.values()), None)
            if schedule is None:
                raise KeyError("add_history needs a backup job")
            start = start_ms if start_ms is not None else self.core.now_ms() - count * every_ms
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
                    "files_new": self.core._ids.randint(0, 40),
                    "files_changed": self.core._ids.randint(0, 10),
                    "files_unmodified": self.core._ids.randint(100, 5000),
                    "dirs_new": 0,
                    "dirs_changed": 3,
                    "dirs_unmodified": 40,
                    "data_blobs": 12,
                    "tree_blobs": 4,
                    "data_added": self.core._ids.randint(10_000, 90_000_000),
                    "data_added_packed": self.core._ids.randint(5_000, 60_000_000),
                    "total_files_processed": 5000,
                    "total_bytes_processed": 8_000_000_000,
                    "total_duration": round(30 + self.core._ids.random() * 60, 6),
                    "snapshot_id": self.core._ids.snapshot_id(),
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
            return self.engine.doctor_result(healthy=True)
        return {"kind": task.kind}

    # ------------------------------------------------------------------------------------------
    # task starters (called by the HTTP layer with the lock held)
    # ------------------------------------------------------------------------------------------
    def start_backup(self, schedule: Json, *, manual: bool = True) -> Task:
        if self.engine.active_task("backup", str(schedule["id"]) if self.core.legacy else schedule["shortId"]):
            raise fail(409, "Backup is already running for this schedule")
        task = self.engine.new_task("backup", job=schedule["shortId"], manual=manual)
        task.locks = [(schedule["repositoryId"], False)]
        now = self.core.now_ms()
        expr = schedule["cronExpression"]
        schedule.update(
            lastBackupStatus="in_progress",
            lastBackupError=None,
            nextBackupAt=cron.next_run(expr, now) if expr else schedule["nextBackupAt"],
            updatedAt=now,
        )
        self.engine.launch(task, self._run_backup)
        return task

    def _consume_outcome(self, schedule: Json) -> str:
        outcome = self.core.backup_outcomes.get(schedule["shortId"]) or self.core.backup_outcomes.get(schedule["name"])
        if outcome is None:
            outcome = self.core.next_backup_outcome
            self.core.next_backup_outcome = "success"
        return outcome

    def _run_backup(self, task: Task) -> None:
        with self.core.lock:
            schedule = self.core.find_schedule(task.input["scheduleId"])
            if schedule is None:
                raise _TaskFailed("Backup schedule not found")
            vol = self.core.volumes.get(schedule["volumeId"])
            if vol is None:
                raise _TaskFailed("Volume not found")
            tree = self.core._trees[vol["id"]]
            vol_path = self.core.volume_path(vol)
            total_files = tree.file_count()
            total_bytes = tree.total_bytes()
            sample_files = [p for p, _ in zip_first(tree.iter_files(), 8)]

        def progress(step: int, frac: float, elapsed: float) -> Json:
            current = sample_files[step % len(sample_files)] if sample_files else ""
            return {
                "kind": "backup",
                "progress": {
                    "seconds_elapsed": int(elapsed),
                    "seconds_remaining": max(0, int(self.core.task_seconds - elapsed)),
                    "percent_done": frac,
                    "total_files": total_files,
                    "files_done": int(total_files * frac),
                    "total_bytes": total_bytes,
                    "bytes_done": int(total_bytes * frac),
                    "current_files": [f"{vol_path.rstrip('/')}{current}"] if current else [],
                    "message_type": "status",
                },
            }

        started = self._run_in_steps(task, progress)
        with self.core.lock:
            if self._still_wanted(task):
                self._complete_backup(task, schedule, vol, time.monotonic() - started)

    def _run_in_steps(self, task: Task, progress: Callable[[int, float, float], Json]) -> float:
        """Let the task's time pass in steps, publishing ``progress(step, fraction done, seconds elapsed)``
        (built with the lock held) between them, as restic's status lines come. Returns the start (monotonic).
        """
        started = time.monotonic()
        steps = max(1, round(self.core.task_seconds / max(self.core.progress_interval, 0.001)))
        for step in range(1, steps + 1):
            self.engine.sleep(task, self.core.task_seconds / steps)
            if step == steps:
                break
            with self.core.lock:
                task.progress = progress(step, step / steps, time.monotonic() - started)
                task.updated_at = self.core.now_ms()
                if task.status == "running":
                    self.core._publish_task(task)
        return started

    @staticmethod
    def _still_wanted(task: Task) -> bool:
        """After the work (lock held): False when the task was dropped meanwhile; raises ``_TaskStop`` if stopped."""
        if task.abandoned or not task.active:
            return False
        if task.stop.is_set() and not task.fast_forward:
            raise _TaskStop()
        return True

    def _complete_backup(self, task: Task, schedule: Json, vol: Json, elapsed: float) -> None:
        repo = self.core.repositories.get(schedule["repositoryId"])
        if repo is None:
            raise _TaskFailed("Repository not found")
        outcome = self._consume_outcome(schedule)
        lock_error = self.core._repo_lock_errors.get(repo["id"])
        if lock_error is not None:
            raise _TaskFailed(lock_error)
        if outcome not in ("success", "warning"):
            raise _TaskFailed(DEFAULT_LOCK_ERROR if outcome == "failed" else outcome)
        tree = self.core._trees[vol["id"]]
        start_ms = task.started_at or self.core.now_ms()
        duration_ms = max(1, int(elapsed * 1000))
        parent = max(
            (s for s in self.core.snapshots_of(repo) if schedule["shortId"] in s.tags),
            key=lambda s: s.time_ms,
            default=None,
        )
        ancestors = len([p for p in self.core.volume_path(vol).split("/") if p]) - 1
        counters = diff_trees(parent.tree if parent else None, tree, max(0, ancestors))
        snap_id = self.core._ids.snapshot_id()
        summary = {
            **counters,
            "total_files_processed": tree.file_count(),
            "total_bytes_processed": tree.total_bytes(),
            "backup_start": iso_from_ms(start_ms),
            "backup_end": iso_from_ms(start_ms + duration_ms),
        }
        self.core._add_snapshot_obj(
            repo,
            tree=tree,
            time_ms=start_ms + 60,
            paths=[self.core.volume_path(vol)],
            tags=[schedule["shortId"]],
            hostname=self.core.hostname,
            duration_ms=duration_ms,
            summary=summary,
            snapshot_id=snap_id,
        )
        warning = DEFAULT_WARNING_DETAILS if outcome == "warning" else None
        result_summary = {k: v for k, v in summary.items() if k not in ("backup_start", "backup_end")}
        result_summary.update(total_duration=round(elapsed, 9), snapshot_id=snap_id, message_type="summary")
        now = self.core.now_ms()
        expr = schedule["cronExpression"]
        schedule.update(
            lastBackupAt=now,
            lastBackupStatus="warning" if warning else "success",
            lastBackupError=warning,
            nextBackupAt=cron.next_run(expr, now) if expr else None,
            updatedAt=now,
        )
        self.core.invalidate_repository(repo)
        self.core.refresh_stats(repo)
        # follow-up tasks are queued before the backup turns terminal, as in the recorded event streams
        if schedule.get("retentionPolicy"):
            self.start_forget(schedule, trigger="postBackup")
        for mirror in self.core.mirrors_of(schedule):
            if mirror["enabled"] and mirror["repositoryId"] in self.core.repositories:
                with contextlib.suppress(ApiError):  # already syncing: the real server logs and moves on
                    self.start_mirror_sync(schedule, mirror, snapshot_ids=[snap_id])
        result = {
            "kind": "backup",
            "exitCode": 3 if warning else 0,
            "result": result_summary,
            "warningDetails": warning,
        }
        self.engine.finish(task, "succeeded", result=result)

    def start_forget(self, schedule: Json, *, trigger: str = "manual") -> Task | None:
        repo = self.core.repositories[schedule["repositoryId"]]
        if self.core.legacy:
            self.apply_retention(repo, schedule)
            return None
        existing = self.engine.active_task("forget", schedule["shortId"], repo["shortId"])
        if existing is not None:
            if trigger == "postBackup" and existing.status == "queued":
                existing.input["retentionPolicy"] = dict(schedule.get("retentionPolicy") or {})
                return existing
            if trigger == "manual":
                raise fail(409, "Retention policy is already being applied")
        task = self.engine.new_task("forget", job=schedule["shortId"], manual=trigger == "manual")
        task.locks = [(repo["id"], True)]
        self.engine.launch(task, self._run_forget)
        return task

    def _run_forget(self, task: Task) -> None:
        self.engine.sleep(task, self.core.task_seconds / 2)
        with self.core.lock:
            schedule = self.core.find_schedule(task.input["scheduleId"])
            repo = self.core.find_repository(task.input["repositoryId"])
            if schedule is None or repo is None:
                raise _TaskFailed("Backup schedule not found")
            self.apply_retention(repo, schedule, policy=task.input.get("retentionPolicy"))
            self.engine.finish(task, "succeeded", result={"kind": "forget"})

    def apply_retention(self, repo: Json, schedule: Json, policy: Json | None = None) -> list[str]:
        policy = policy if policy is not None else schedule.get("retentionPolicy")
        tag = schedule["shortId"]
        snaps = [s for s in self.core.snapshots_of(repo) if tag in s.tags]
        keep = apply_policy(self.core._policy_items(snaps), policy)
        removed = [s.id for s in snaps if s.id not in keep]
        if removed:
            self.core._snapshots[repo["id"]] = [s for s in self.core.snapshots_of(repo) if s.id not in removed]
        self.core.invalidate_repository(repo)
        self.core.refresh_stats(repo)
        return removed

    def start_mirror_sync(self, schedule: Json, mirror: Json, *, snapshot_ids: list[str] | None = None) -> Task | None:
        repo = self.core.repositories[mirror["repositoryId"]]
        if self.engine.active_task("mirrorSync", schedule["shortId"], repo["shortId"]):
            raise fail(409, "Mirror is already syncing")
        if self.core.legacy:  # v0.41 copies in the background and keeps the outcome on the mirror row
            self._copy_to_mirror(schedule, repo, snapshot_ids)
            mirror.update(lastCopyAt=self.core.now_ms(), lastCopyStatus="success", lastCopyError=None)
            return None
        extra: Json = {"snapshotIds": list(snapshot_ids)} if snapshot_ids else {}
        task = self.engine.new_task(
            "mirrorSync", job=schedule["shortId"], repository=repo["shortId"], input_extra=extra
        )
        task.locks = [(schedule["repositoryId"], False), (repo["id"], True)]
        mirror["lastSyncTaskId"] = task.id
        self.engine.launch(task, self._run_mirror_sync)
        return task

    def _run_mirror_sync(self, task: Task) -> None:
        for phase, share in (("preparing", 0.2), ("copying", 0.6), ("retention", 0.2)):
            with self.core.lock:
                task.progress = {"kind": "mirrorSync", "phase": phase, "message": None}
                task.updated_at = self.core.now_ms()
                self.core._publish_task(task)
            self.engine.sleep(task, self.core.task_seconds * share)
            if phase == "copying":
                with self.core.lock:
                    schedule = self.core.find_schedule(task.input["scheduleId"])
                    mirror_repo = self.core.find_repository(task.input["mirrorRepositoryId"])
                    if schedule is None or mirror_repo is None:
                        raise _TaskFailed("Mirror repository not found")
                    if mirror_repo["id"] in self.core._repo_lock_errors:
                        raise _TaskFailed(self.core._repo_lock_errors[mirror_repo["id"]])
                    self._copy_to_mirror(schedule, mirror_repo, task.input.get("snapshotIds"))
        with self.core.lock:
            self.engine.finish(task, "succeeded", result={"kind": "mirrorSync"})

    def _copy_to_mirror(self, schedule: Json, mirror_repo: Json, snapshot_ids: list[str] | None) -> int:
        source = self.core.repositories.get(schedule["repositoryId"])
        if source is None:
            return 0
        have = {s.time_ms for s in self.core.snapshots_of(mirror_repo)}
        ordered = sorted(self.core.snapshots_of(source), key=lambda s: s.time_ms)
        if snapshot_ids:  # restic copy -- <ids>: explicit ids ignore the --tag filter
            wanted = [s for s in ordered if any(s.matches_prefix(i) for i in snapshot_ids)]
        else:  # restic copy --tag <job> -- latest: only the newest snapshot of the job
            wanted = [s for s in ordered if schedule["shortId"] in s.tags][-1:]
        copied = 0
        for snap in wanted:
            if snap.time_ms in have:
                continue
            self.core._copy_snapshot(mirror_repo, snap)
            copied += 1
        self.core.invalidate_repository(mirror_repo)
        if schedule.get("retentionPolicy"):
            self.apply_retention(mirror_repo, schedule)
        else:
            self.core.refresh_stats(mirror_repo)
        return copied

    def start_restore(self, repo: Json, snapshot: Snapshot, body: Json, snapshot_ident: str) -> Task | str:
        """The restore task, or on v0.40 the restore id of a restore already done (no task to follow)."""
        if self.engine.active_task("restore", repo["shortId"], snapshot_ident):
            raise fail(409, "A restore is already running for this snapshot")
        target = body.get("targetPath") or "/"
        if not self.core.tasks_api:
            restore_id = self.core._ids.uuid7(self.core.now_ms())
            plan = self._restore_plan(snapshot, body)
            self._write_restore(plan, body.get("overwrite") or "always")
            self.core.restores.append(
                {
                    "taskId": restore_id,
                    "repository": repo["shortId"],
                    "snapshotId": snapshot.id,
                    "target": target,
                    "files": [dest for _, dest, _ in plan],
                }
            )
            return restore_id
        task = self.engine.new_task(
            "restore",
            repository=repo["shortId"],
            snapshot_id=snapshot_ident,
            input_extra={"target": target},
        )
        task.locks = [(repo["id"], False)]
        plan = self._restore_plan(snapshot, body)
        self.engine.launch(task, lambda t: self._run_restore(t, repo, snapshot, body, plan))
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

        def progress(step: int, frac: float, elapsed: float) -> Json:
            return {
                "kind": "restore",
                "progress": {
                    "message_type": "status",
                    "seconds_elapsed": int(elapsed),
                    "percent_done": frac,
                    "total_files": total_files,
                    "files_restored": int(total_files * frac),
                    "total_bytes": total_bytes,
                    "bytes_restored": int(total_bytes * frac),
                },
            }

        self._run_in_steps(task, progress)
        with self.core.lock:
            if not self._still_wanted(task):
                return
            restored, skipped = self._write_restore(plan, body.get("overwrite") or "always")
            folders = _restored_folders(plan, body.get("targetPath") or "/")
            self.core.restores.append(
                {
                    "taskId": task.id,
                    "repository": repo["shortId"],
                    "snapshotId": snapshot.id,
                    "target": task.input.get("target"),
                    "files": [dest for _, dest, _ in plan],
                }
            )
            includes = [str(p) for p in body.get("include") or [snapshot.paths[0] if snapshot.paths else "/"]]
            summary = restore_summary(restored, skipped, folders, _folders_inside(plan, includes))
            self.engine.finish(task, "succeeded", result={"kind": "restore", "result": summary})

    def _write_restore(self, plan: list[tuple[str, str, Node]], overwrite: str) -> tuple[list[Node], list[Node]]:
        """Write restored files into any volume whose path contains the destination; (restored, skipped).

        As restic does: a file whose content is already there is skipped in every mode; ``never`` also
        skips any existing file and ``if-newer`` one that is not older than the snapshot's.
        """
        restored: list[Node] = []
        skipped: list[Node] = []
        for _, dest, node in plan:
            vol = self.volume_containing(dest)
            if vol is None:
                restored.append(node)
                continue
            rel = posixpath.relpath(dest, self.core.volume_path(vol))
            tree = self.core._trees[vol["id"]]
            existing = tree.resolve(rel) if rel != "." else tree
            if existing is not None and (
                _same_file(existing, node)
                or overwrite == "never"
                or (overwrite == "if-newer" and existing.mtime_ms >= node.mtime_ms)
            ):
                skipped.append(node)
                continue
            self.core._trees[vol["id"]] = graft(tree, [p for p in rel.split("/") if p], node)
            restored.append(node)
        return restored, skipped

    def volume_containing(self, path: str) -> Json | None:
        best: Json | None = None
        for vol in self.core.volumes.values():
            base = self.core.volume_path(vol).rstrip("/") or "/"
            if (path == base or path.startswith(base + "/")) and (
                best is None or len(base) > len(self.core.volume_path(best))
            ):
                best = vol
        return best

    def start_doctor(self, repo: Json) -> Task | None:
        """The doctor task; None on v0.40, where doctor runs before the answer."""
        if self.engine.active_task("doctor", repo["shortId"]):
            raise fail(409, "Doctor operation already in progress")
        if not self.core.tasks_api:
            self._apply_doctor(repo)
            return None
        return self._start_repository_task(
            "doctor", repo, self.core.task_seconds, lambda row, _: self._apply_doctor(row)
        )

    def _start_repository_task(
        self,
        kind: str,
        repo: Json,
        seconds: float,
        work: Callable[[Json, Json], Json],
        input_extra: Json | None = None,
    ) -> Task:
        """A task holding the repository's exclusive lock: after ``seconds`` it does ``work(repository, task
        input)`` and succeeds with the result that returns (fails if the repository is gone by then)."""
        task = self.engine.new_task(kind, repository=repo["shortId"], input_extra=input_extra)
        task.locks = [(repo["id"], True)]

        def run(task: Task) -> None:
            self.engine.sleep(task, seconds)
            with self.core.lock:
                row = self.core.find_repository(task.resource_id)
                if row is None:
                    raise _TaskFailed("Repository not found")
                self.engine.finish(task, "succeeded", result=work(row, task.input))

        self.engine.launch(task, run)
        return task

    def _apply_doctor(self, repo: Json) -> Json:
        unlocked = self.core._repo_lock_errors.pop(repo["id"], None) is not None
        healthy = self.core.doctor_outcome == "healthy"
        result = self.engine.doctor_result(healthy=healthy, unlocked=unlocked)
        repo.update(
            status=result["repositoryStatus"],
            lastChecked=result["lastChecked"],
            lastError=result["lastError"],
            doctorResult=result["doctorResult"],
        )
        return result

    def start_delete_snapshots(self, repo: Json, snapshot_ids: list[str]) -> Task | None:
        """The delete task; None on v0.40, where the snapshots are gone before the answer."""
        if not self.core.tasks_api:
            self._apply_delete(repo, list(snapshot_ids))
            return None
        return self._start_repository_task(
            "deleteSnapshots",
            repo,
            self.core.task_seconds / 2,
            self._delete_task_work,
            input_extra={"snapshotIds": list(snapshot_ids)},
        )

    def _delete_task_work(self, repo: Json, spec: Json) -> Json:
        ids = list(spec["snapshotIds"])
        self._apply_delete(repo, ids)
        return {"kind": "deleteSnapshots", "deletedSnapshotIds": ids}

    def _apply_delete(self, repo: Json, ids: list[str]) -> None:
        self.core._snapshots[repo["id"]] = [
            s for s in self.core.snapshots_of(repo) if not any(s.matches_prefix(i) for i in ids)
        ]
        self.core.invalidate_repository(repo)
        self.core.refresh_stats(repo)

    def start_tag(self, repo: Json, body: Json) -> Task | None:
        """The tag task; None on v0.40, where the snapshots are retagged before the answer."""
        extra: Json = {"snapshotIds": list(body["snapshotIds"])}
        for key in ("add", "remove", "set"):
            if key in body:
                extra[key] = list(body[key])
        if not self.core.tasks_api:
            self._apply_tag(repo, extra)
            return None
        return self._start_repository_task(
            "tagSnapshots", repo, self.core.task_seconds / 2, self._tag_task_work, input_extra=extra
        )

    def _tag_task_work(self, repo: Json, spec: Json) -> Json:
        ids = list(spec["snapshotIds"])
        self._apply_tag(repo, spec)
        return {"kind": "tagSnapshots", "taggedSnapshotIds": ids}

    def _apply_tag(self, repo: Json, spec: Json) -> None:
        ids = list(spec["snapshotIds"])
        for snap in self.core.snapshots_of(repo):
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
                snap.id = self.core._ids.snapshot_id()  # restic rewrites the snapshot: new id
        self.core.invalidate_repository(repo)


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


def _folders_inside(plan: list[tuple[str, str, Node]], includes: list[str]) -> int:
    """Sub-folders of the restored folders (``includes`` that are folders), by their place in the snapshot."""
    folders: set[str] = set()
    for src, _, _ in plan:
        for inc in includes:
            root = posixpath.normpath(inc)
            if not src.startswith(root.rstrip("/") + "/"):
                continue
            parent = posixpath.dirname(src)
            while parent != root and parent.startswith(root.rstrip("/") + "/"):
                folders.add(parent)
                parent = posixpath.dirname(parent)
    return len(folders)


def restore_summary(restored: list[Node], skipped: list[Node], folders: int = 0, inside: int = 0) -> Json:
    """The restore task's ``result.result`` as the real server reports it (checked on v0.42 and v0.41).

    restic's JSON summary omits zero counters; ``files_restored`` also counts the folders it restored on the
    way, ``total_files`` the files it wrote and the folders inside a restored folder (``inside``: checked on
    v0.42), ``total_bytes`` only the files. Zerobyte parses it with ``files_restored``
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
        summary["total_files"] = len(restored) + inside
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
