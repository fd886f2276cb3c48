"""The simulator's task engine: tasks queued -> running -> terminal on background threads, repository locks,
progress and server-sent events on the simulator's own clock, cancellation and restarts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ._util import (
    Json,
)
from .core import SimulatorCore
from .model import (
    CANCEL_MESSAGES,
    RESTART_BACKUP_ERROR,
    RESTART_TASK_ERROR,
    Task,
    _completed_outcome,
    _TaskFailed,
    _TaskStop,
)


class TaskEngine:
    """Task creation and lifecycle on top of the simulator's state, which it is given and never owns."""

    def __init__(self, core: SimulatorCore) -> None:
        self.core = core

    # ------------------------------------------------------------------------------------------
    # tasks: creation and lifecycle
    # ------------------------------------------------------------------------------------------
    def new_task(
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
        created = created_at if created_at is not None else self.core.now_ms()
        seq = self.core._next("task")
        schedule = self.core._resolve_schedule(job) if job else None
        repo = self.core._resolve_repository(repository) if repository else None
        if schedule is not None and repo is None:
            repo = self.core.repositories.get(schedule["repositoryId"])
        if kind in ("backup", "forget", "mirrorSync"):
            if schedule is None:
                raise KeyError(f"a {kind} task needs a backup job")
            resource_type = "backup_schedule"
            resource_id = str(schedule["id"]) if self.core.legacy else schedule["shortId"]
            display = schedule["name"]
            vol = self.core.volumes.get(schedule["volumeId"])
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
                source = self.core.repositories.get(schedule["repositoryId"])
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
            id=self.core._ids.uuid7(created),
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
        self.core.tasks[task.id] = task
        return task

    def active_task(self, kind: str, resource_id: str, operation_key: str | None = None) -> Task | None:
        for task in self.core.tasks.values():
            if (
                task.active
                and task.kind == kind
                and task.resource_id == resource_id
                and (operation_key is None or task.operation_key == operation_key)
            ):
                return task
        return None

    def launch(self, task: Task, runner: Callable[[Task], None]) -> None:
        self.core._publish_task(task, previous_outcome=None)
        thread = threading.Thread(target=self._task_main, args=(task, runner), name=f"zb-sim-{task.kind}", daemon=True)
        self.core._threads = [t for t in self.core._threads if t.is_alive()]
        self.core._threads.append(thread)
        thread.start()

    def _task_main(self, task: Task, runner: Callable[[Task], None]) -> None:
        try:
            self._wait_for_slot(task)
            runner(task)
        except _TaskStop:
            with self.core.lock:
                if task.abandoned or not task.active:
                    return
                message = task.cancel_message or CANCEL_MESSAGES.get(task.kind, "Task was cancelled by the user")
                self.finish(task, "cancelled", error=message)
        except _TaskFailed as exc:
            with self.core.lock:
                if task.abandoned or not task.active:
                    return
                self.finish(task, "failed", error=str(exc))
        except Exception as exc:  # a bug in a runner must not kill the thread silently
            with self.core.lock:
                if task.active and not task.abandoned:
                    self.finish(task, "failed", error=f"Simulator error: {exc!r}")

    def _conflicts(self, task: Task) -> bool:
        for other in self.core.tasks.values():
            if other is task or other.status not in ("running", "cancelling"):
                continue
            for repo_id, exclusive in task.locks:
                for other_repo, other_exclusive in other.locks:
                    if repo_id == other_repo and (exclusive or other_exclusive):
                        return True
        return False

    def _wait_for_slot(self, task: Task) -> None:
        """Stay queued while a conflicting task holds the repository, then become running."""
        time.sleep(min(0.02, self.core.task_seconds / 20))
        while True:
            with self.core.lock:
                if task.stop.is_set() and not task.fast_forward:
                    raise _TaskStop()
                if not self._conflicts(task):
                    now = self.core.now_ms()
                    task.status = "running"
                    task.started_at = now
                    task.updated_at = now
                    self._on_task_running(task)
                    self.core._publish_task(task, previous_outcome="running")
                    return
            task.stop.wait(0.01)

    def _on_task_running(self, task: Task) -> None:
        if task.kind == "doctor":
            repo = self.core.find_repository(task.resource_id)
            if repo is not None:
                repo["status"] = "doctor"

    @staticmethod
    def _skipping(task: Task) -> bool:
        return task.fast_forward and not task.abandoned

    def sleep(self, task: Task, seconds: float) -> None:
        """Let task time pass; raise ``_TaskStop`` when cancelled or abandoned meanwhile."""
        if self._skipping(task):
            return
        if task.stop.wait(max(0.0, seconds)) and not self._skipping(task):
            raise _TaskStop()

    def finish(self, task: Task, status: str, *, error: str | None = None, result: Json | None = None) -> None:
        """Move a task to a terminal status (caller holds the lock) and publish it."""
        now = self.core.now_ms()
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
            self._end_backup_run(task, "error", error or "")
        self.core._publish_task(task, previous_outcome="running")

    def doctor_result(self, *, healthy: bool, cancelled: bool = False, unlocked: bool = False) -> Json:
        now = self.core.now_ms()
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

    def _end_backup_run(self, task: Task, status: str, message: str) -> None:
        """A backup task that did not succeed leaves ``status`` (a stopped one: warning) and why on its job."""
        if task.kind == "backup":
            schedule = self.core.find_schedule(task.input.get("scheduleId", -1))
            if schedule is not None:
                now = self.core.now_ms()
                schedule.update(lastBackupAt=now, lastBackupStatus=status, lastBackupError=message, updatedAt=now)

    def _after_cancel(self, task: Task, message: str) -> None:
        self._end_backup_run(task, "warning", message)
        if task.kind == "doctor":
            repo = self.core.find_repository(task.resource_id)
            if repo is not None:
                repo["status"] = "cancelled"
            task.result = self.doctor_result(healthy=False, cancelled=True)

    def request_cancel(self, task: Task, *, message: str | None = None) -> None:
        """Ask a live task to stop (caller holds the lock and checked cancellability)."""
        now = self.core.now_ms()
        task.cancellation_requested = True
        if message:
            task.cancel_message = message
        if task.status == "queued":
            task.stop.set()
            return
        task.status = "cancelling"
        task.updated_at = now
        self.core._publish_task(task, previous_outcome="running")
        task.stop.set()

    def restart(self, *, finish_tasks: bool = False) -> None:
        """Simulate a Zerobyte restart: active tasks become ``stale`` (or, with ``finish_tasks``,
        run to completion at once), interrupted schedules get a warning, open event streams drop."""
        with self.core.lock:
            active = [t for t in self.core.tasks.values() if t.active]
            if finish_tasks:
                for task in active:
                    task.fast_forward = True
                    task.stop.set()
            else:
                now = self.core.now_ms()
                for task in active:
                    task.abandoned = True
                    task.stop.set()
                    task.status = "stale"
                    task.error = RESTART_TASK_ERROR
                    task.outcome = "stale"
                    task.finished_at = now
                    task.updated_at = now
                for schedule in self.core.schedules.values():
                    if schedule["lastBackupStatus"] == "in_progress":
                        schedule.update(lastBackupStatus="warning", lastBackupError=RESTART_BACKUP_ERROR, updatedAt=now)
                for repo in self.core.repositories.values():
                    if repo["status"] == "doctor":
                        repo["status"] = "unknown"
            self.core.cache.clear()  # startup clears Zerobyte's cache
        self.core.close_streams()
        if finish_tasks:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                with self.core.lock:
                    if not any(t.active for t in active):
                        break
                time.sleep(0.005)
