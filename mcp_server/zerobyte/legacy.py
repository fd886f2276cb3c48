"""Zerobyte v0.40/v0.41 support: start and follow what those versions run without handing out a task id.

Both answer ``POST /backups/{id}/run`` with ``200 {success:true}`` and no task id, and also when they
*skip* the run (a run already going), so the job is read first. v0.41 still makes a backup *task*
(``backups.service.ts`` executeBackup, v0.41.0) whose ``resourceId`` is the schedule's numeric id: it shows in
``GET /tasks?resourceType=backup_schedule&resourceId=<id>`` a few hundred ms after the run is accepted, and
``/tasks/{id}`` keeps it with its result once finished, so :func:`start_backup_task` finds it and the caller
follows it as on v0.42. v0.40 has no tasks at all: a run is followed through the job's own
``lastBackupStatus``/``lastBackupAt`` plus ``GET /backups/{id}/progress`` (:func:`run_legacy_backup`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import anyio

from . import Capabilities, ZerobyteClient, ZerobyteError
from .models import BackupJob, Task

__all__ = [
    "LEGACY_IMPACT",
    "AlreadyRunning",
    "BackupTaskStart",
    "LegacyBackupOutcome",
    "LegacyProgress",
    "LegacyRun",
    "capability_impact",
    "differences",
    "follow_legacy_backup",
    "run_legacy_backup",
    "start_backup_task",
    "start_legacy_backup",
    "unavailable_tools",
]

LegacyStatus = Literal["success", "warning", "error", "cancelled", "stale", "running", "not_started"]
ProgressCallback = Callable[["LegacyProgress"], Awaitable[None]]

_TERMINAL: Final = frozenset({"success", "warning", "error", "cancelled", "stale"})
# v0.41 flips lastBackupStatus to in_progress a few hundred ms after answering the run (executeBackup is
# fire-and-forget, backups.controller.ts in v0.41.0); a run that shows no sign of life after this long was skipped.
NOT_STARTED_AFTER: Final = 15.0
# How often to look for the task a v0.41 run created (it appears ~0.3 s after the run is accepted).
TASK_POLL_INTERVAL: Final = 0.2


@dataclass(frozen=True)
class LegacyProgress:
    """One ``GET /backups/{id}/progress`` answer (restic's status line; percent_done is 0-1)."""

    percent_done: float | None = None
    files_done: int | None = None
    total_files: int | None = None
    bytes_done: int | None = None
    total_bytes: int | None = None
    seconds_elapsed: float | None = None
    seconds_remaining: float | None = None
    current_files: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: Any) -> LegacyProgress | None:
        if not isinstance(data, dict):
            return None  # null: not running, or no progress line yet

        def num(key: str) -> Any:
            value = data.get(key)
            return value if isinstance(value, int | float) and not isinstance(value, bool) else None

        def whole(key: str) -> int | None:
            value = num(key)
            return None if value is None else int(value)

        files = data.get("current_files")
        return cls(
            percent_done=num("percent_done"),
            files_done=whole("files_done"),
            total_files=whole("total_files"),
            bytes_done=whole("bytes_done"),
            total_bytes=whole("total_bytes"),
            seconds_elapsed=num("seconds_elapsed"),
            seconds_remaining=num("seconds_remaining"),
            current_files=tuple(str(f) for f in files) if isinstance(files, list) else (),
        )


@dataclass(frozen=True)
class LegacyRun:
    """What was true when the run was requested: the job before, and whether a run was already going."""

    job_id: str
    job_name: str
    before_at: float | None
    already_running: bool


@dataclass
class LegacyBackupOutcome:
    """Where a legacy backup run ended up. ``status`` 'running' means the wait ran out, not a failure."""

    job_id: str
    job_name: str
    status: LegacyStatus
    already_running: bool = False
    finished_at_ms: float | None = None
    error: str | None = None
    last_progress: LegacyProgress | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in _TERMINAL


@dataclass(frozen=True)
class BackupTaskStart:
    """What :func:`start_backup_task` found: the job, and the task its run created (None if none showed)."""

    job: BackupJob
    task: Task | None


class AlreadyRunning(ZerobyteError):
    """A run of the job is already going: v0.41 would silently skip a new one, so none was requested."""

    def __init__(self, job: BackupJob, task: Task) -> None:
        super().__init__(f"A backup of job {job.name!r} ({job.shortId}) is already running (task {task.id}).")
        self.job = job
        self.task = task


async def start_backup_task(
    client: ZerobyteClient,
    job_id: str,
    *,
    appear_within: float = NOT_STARTED_AFTER,
    poll_interval: float = TASK_POLL_INTERVAL,
) -> BackupTaskStart:
    """Zerobyte v0.41: run a backup job and find the task the run created.

    Raises :class:`AlreadyRunning` (nothing requested) when a backup task of the job is active already. The task
    is None when none showed within ``appear_within`` seconds: the run failed at once or ended before it was seen,
    and the job's last status tells which.
    """
    job = await client.get_backup_job(job_id)
    resource = {"kind": "backup", "resource_type": "backup_schedule", "resource_id": str(job.id)}
    active = await client.list_tasks(**resource)
    if active:
        raise AlreadyRunning(job, active[0])
    started = await client.run_backup(job.shortId)
    if started is not None:  # a v0.42+ server after all: its answer names the task
        return BackupTaskStart(job, await client.get_task(started.taskId))
    deadline = time.monotonic() + appear_within
    while True:
        tasks = await client.list_tasks(**resource)
        if tasks:
            return BackupTaskStart(job, tasks[0])
        now = await client.get_backup_job(job.shortId)
        if now.lastBackupAt != job.lastBackupAt and now.lastBackupStatus != "in_progress":
            return BackupTaskStart(now, None)  # over before its task was seen
        if time.monotonic() >= deadline:
            return BackupTaskStart(now, None)
        await anyio.sleep(poll_interval)


async def start_legacy_backup(client: ZerobyteClient, job_id: str) -> LegacyRun:
    """Read the job, then ask Zerobyte ≤ v0.41 to run it. Raises ZerobyteError as the client does."""
    before = await client.get_backup_job(job_id)
    already = before.lastBackupStatus == "in_progress"
    started = await client.run_backup(before.shortId)
    if started is not None:
        # A task id means a v0.42+ server: the caller should follow the task instead.
        raise ZerobyteError(
            f"The backup started as task {started.taskId}: this Zerobyte has the tasks API, so follow it with "
            "get_task instead of the v0.41 job status."
        )
    return LegacyRun(
        job_id=before.shortId, job_name=before.name, before_at=before.lastBackupAt, already_running=already
    )


async def follow_legacy_backup(
    client: ZerobyteClient,
    job_id: str,
    on_progress: ProgressCallback | None = None,
    *,
    run: LegacyRun | None = None,
    wait_seconds: float = 120.0,
    poll_interval: float = 1.0,
    not_started_after: float = NOT_STARTED_AFTER,
) -> LegacyBackupOutcome:
    """Poll the job (and its progress route while in_progress) until the run ends or ``wait_seconds`` pass.

    ``run`` is what :func:`start_legacy_backup` returned; without it the current run (if any) is followed.
    ``on_progress`` gets each new progress line. Returns status 'running' when the wait ran out.
    """
    if run is None:
        job = await client.get_backup_job(job_id)
        running = job.lastBackupStatus == "in_progress"
        if not running:
            return _ended(job, already_running=False, progress=None)
        run = LegacyRun(job_id=job.shortId, job_name=job.name, before_at=job.lastBackupAt, already_running=True)
    seen_running = run.already_running
    last: LegacyProgress | None = None
    started = time.monotonic()
    deadline = started + max(0.0, wait_seconds)
    while True:
        job = await client.get_backup_job(run.job_id)
        status = job.lastBackupStatus
        if status == "in_progress":
            seen_running = True
            progress = LegacyProgress.parse(await client.get_backup_progress(run.job_id))
            if progress is not None and progress != last:
                last = progress
                if on_progress is not None:
                    await on_progress(progress)
        elif status in _TERMINAL and (seen_running or job.lastBackupAt != run.before_at):
            return _ended(job, already_running=run.already_running, progress=last)
        now = time.monotonic()
        if not seen_running and job.lastBackupAt == run.before_at and now - started >= not_started_after:
            return LegacyBackupOutcome(
                job_id=run.job_id,
                job_name=run.job_name,
                status="not_started",
                notes=[
                    "Zerobyte accepted the request but no backup started: v0.41 and older silently skip a run "
                    "when the job looks busy. Check the job with list_backup_jobs and try again."
                ],
            )
        if now >= deadline:
            outcome = LegacyBackupOutcome(
                job_id=run.job_id,
                job_name=run.job_name,
                status="running",
                already_running=run.already_running,
                last_progress=last,
            )
            outcome.notes.append(
                "Still running. This Zerobyte (v0.41 or older) has no task to follow: the job's last status "
                "(list_backup_jobs) changes from in_progress to success, warning or error when it ends."
            )
            return outcome
        await anyio.sleep(min(poll_interval, deadline - now))


async def run_legacy_backup(
    client: ZerobyteClient,
    job_id: str,
    on_progress: ProgressCallback | None = None,
    *,
    wait_seconds: float = 120.0,
    poll_interval: float = 1.0,
) -> LegacyBackupOutcome:
    """Start a backup on Zerobyte ≤ v0.41 and follow it (see :func:`follow_legacy_backup`)."""
    run = await start_legacy_backup(client, job_id)
    outcome = await follow_legacy_backup(
        client, run.job_id, on_progress, run=run, wait_seconds=wait_seconds, poll_interval=poll_interval
    )
    if run.already_running:
        outcome.notes.insert(0, "A run of this job was already in progress; Zerobyte did not start another.")
    return outcome


def _ended(job: BackupJob, *, already_running: bool, progress: LegacyProgress | None) -> LegacyBackupOutcome:
    status = job.last_outcome
    return LegacyBackupOutcome(
        job_id=job.shortId,
        job_name=job.name,
        status=status if status in _TERMINAL else "not_started",  # type: ignore[arg-type]
        already_running=already_running,
        finished_at_ms=job.lastBackupAt,
        error=job.lastBackupError,
        last_progress=progress,
    )


# --- what differs, for `zerobyte-mcp check` and for tools' own messages -----------------------------------

# What a tool needs that older Zerobytes lack. "backup_tasks" is v0.41's in-between: a tasks API, but backups
# started without a task id, retention and mirror syncs without tasks, and backups stopped through their job.
Need = Literal["tasks_api", "task_history", "task_backup_control", "backup_tasks"]


@dataclass(frozen=True)
class Impact:
    tool: str
    needs: Need
    adapts: bool  # True: works differently; False: cannot work on such a server (left out of tools/list)
    effect: str


LEGACY_IMPACT: Final[tuple[Impact, ...]] = (
    Impact("task_history", "task_history", False, "no task history route (v0.41 and older)"),
    Impact(
        "backup_health",
        "task_history",
        True,
        "judged from each job's last status (no task history); a job's last success is its newest snapshot",
    ),
    Impact("list_active_tasks", "tasks_api", False, "no tasks API (v0.40); running jobs show in list_backup_jobs"),
    Impact("get_task", "tasks_api", False, "no tasks API (v0.40)"),
    Impact("wait_for_task", "tasks_api", False, "no tasks API (v0.40)"),
    Impact("cancel_task", "tasks_api", False, "no tasks API (v0.40)"),
    Impact(
        "list_active_tasks",
        "backup_tasks",
        True,
        "backups, restores, doctor and snapshot delete/tag are tasks; retention and mirror syncs are not",
    ),
    Impact(
        "cancel_task",
        "backup_tasks",
        True,
        "stops a backup through its job's stop route; restores and doctor as tasks; delete/tag cannot be stopped",
    ),
    Impact("run_doctor", "tasks_api", True, "done synchronously by v0.40: no progress, cannot be cancelled"),
    Impact("delete_snapshots", "tasks_api", True, "done synchronously by v0.40: no progress"),
    Impact("tag_snapshots", "tasks_api", True, "done synchronously by v0.40: no progress"),
    Impact("restore", "tasks_api", True, "v0.40 gives no task: the restore's end cannot be followed"),
    Impact("restore_in_place", "tasks_api", True, "v0.40 gives no task: the restore's end cannot be followed"),
    Impact("run_backup", "tasks_api", True, "no task (v0.40): followed through the job's status and progress"),
    Impact(
        "run_backup",
        "backup_tasks",
        True,
        "Zerobyte answers without a task id: the run's task is found by its job and followed (same answer)",
    ),
    Impact(
        "apply_retention",
        "task_backup_control",
        True,
        "no task: Zerobyte answers once the forget is done; the snapshots before and after say what went",
    ),
    Impact(
        "sync_mirror",
        "task_backup_control",
        True,
        "no task: followed through the mirror's copy status; get_mirror_status shows what is still missing",
    ),
)


def capability_impact(caps: Capabilities, tools: set[str] | frozenset[str] | None = None) -> list[Impact]:
    """The impacts that apply to ``caps``, limited to ``tools`` when given (the exposed tool names)."""
    missing: set[Need] = set()
    if not caps.tasks_api:
        missing.add("tasks_api")
    if not caps.task_history:
        missing.add("task_history")
    if caps.legacy_backup_control:
        missing.add("task_backup_control")
        if caps.tasks_api:
            missing.add("backup_tasks")
    return [i for i in LEGACY_IMPACT if i.needs in missing and (tools is None or i.tool in tools)]


def unavailable_tools(caps: Capabilities) -> frozenset[str]:
    """Tools that cannot work at all on this Zerobyte: left out of tools/list once it is known."""
    return frozenset(i.tool for i in capability_impact(caps) if not i.adapts)


def differences(caps: Capabilities, tools: set[str] | frozenset[str] | None = None) -> list[str]:
    """One line per tool that works differently or not at all here (for get_system_info and check)."""
    return [
        f"{i.tool}: {'works differently' if i.adapts else 'NOT AVAILABLE'}: {i.effect}"
        for i in capability_impact(caps, tools)
    ]
