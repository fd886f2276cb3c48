"""How a Zerobyte task reads to an agent: its real outcome, progress, target, result and next step.

Zerobyte hides a task's *outcome* from its DTO: a ``succeeded`` backup can be a warning and a
``succeeded`` doctor can be an error. The pure functions here (``task_outcome``, ``task_view``,
``next_step_for``) derive it the same way Zerobyte does, so the task tools, the health report and
following a task after starting it (``follow.py``) all say the same thing about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema

from ..zerobyte import ZerobyteClient, ZerobyteError
from ..zerobyte.models import ACTIVE_TASK_STATUSES, Task, TaskHistoryItem
from .concurrency import gather
from .failure import ToolFailure
from .output import iso_from_ms, seconds_from_ms

__all__ = [
    "ARRAY",
    "OBJECT",
    "ActiveTask",
    "ActiveTaskList",
    "DoctorStep",
    "HistoryItem",
    "TaskHistory",
    "TaskProgress",
    "TaskResultSummary",
    "TaskView",
    "active_task",
    "gather_active_tasks",
    "gather_task_history",
    "history_item",
    "history_target",
    "next_step_for",
    "resource_names",
    "task_message",
    "task_outcome",
    "task_progress",
    "task_target",
    "task_view",
    "where_tasks_are",
]

HISTORY_PAGE_SIZE = 25  # fixed by Zerobyte
MESSAGE_LIMIT = 1500
# Nested parts are published as bare object/array in outputSchema: every result shows their shape, and
# tools/list has a token budget.
OBJECT = WithJsonSchema({"type": "object"})
ARRAY = WithJsonSchema({"type": "array"})


class TaskProgress(BaseModel, defer_build=True):
    percent: float | None = Field(None, description="0-100")
    done_bytes: int | None = None
    total_bytes: int | None = None
    files_done: int | None = None
    total_files: int | None = None
    eta_s: float | None = Field(None, description="Seconds remaining")
    phase: str | None = None


class ActiveTask(BaseModel, defer_build=True):
    id: str
    kind: str
    status: str = Field(description="queued, running or cancelling")
    target: str | None = None
    started: str | None = None
    progress: TaskProgress | None = None


class ActiveTaskList(BaseModel, defer_build=True):
    tasks: Annotated[list[ActiveTask], ARRAY]
    total: int


class DoctorStep(BaseModel, defer_build=True):
    step: str
    success: bool | None = None
    error: str | None = None


class TaskResultSummary(BaseModel, defer_build=True):
    snapshot_id: str | None = None
    exit_code: int | None = None
    files_new: int | None = None
    files_changed: int | None = None
    added_bytes: int | None = None
    processed_bytes: int | None = None
    duration_s: float | None = None
    files_restored: int | None = None
    files_skipped: int | None = None
    restored_bytes: int | None = None
    deleted_snapshot_ids: list[str] = Field(default_factory=list)
    tagged_snapshot_ids: list[str] = Field(default_factory=list)
    repository_status: str | None = None
    doctor_steps: list[DoctorStep] = Field(default_factory=list)
    note: str | None = None


class TaskView(BaseModel, defer_build=True):
    id: str | None = Field(None, description="Absent when Zerobyte made no task to follow")
    kind: str
    status: str
    outcome: str = Field(description="running, success, warning, error, cancelled or stale")
    target: str | None = None
    started: str | None = None
    finished: str | None = None
    duration_s: float | None = None
    progress: Annotated[TaskProgress | None, OBJECT] = None
    result: Annotated[TaskResultSummary | None, OBJECT] = None
    warnings: str | None = None
    error: str | None = None
    next_step: str | None = None


class HistoryItem(BaseModel, defer_build=True):
    id: str
    kind: str
    outcome: str | None = None
    target: str | None = None
    started: str | None = None
    finished: str | None = None
    duration_s: float | None = None
    message: str | None = None
    next_step: str | None = None


class TaskHistory(BaseModel, defer_build=True):
    items: Annotated[list[HistoryItem], ARRAY]
    page: int
    total: int
    total_pages: int
    next_page: int | None = None


# --- pure shaping (reused by the health report and by the operation tools) -------------------------


def task_outcome(task: Task) -> str:
    """Zerobyte's hidden outcome: running, success, warning, error, cancelled or stale."""
    status = task.status
    if status in ACTIVE_TASK_STATUSES:
        return "running"
    if status == "failed":
        return "error"
    if status in ("cancelled", "stale"):
        return status
    result = task.result or {}
    if task.kind == "backup":
        # exitCode 3 is restic's "some files could not be read": Zerobyte keeps the task `succeeded`
        # and only its hidden outcome says warning.
        exit_code = result.get("exitCode")
        if result.get("warningDetails") is not None or exit_code not in (None, 0):
            return "warning"
    if task.kind == "doctor":
        doctor = result.get("doctorResult") or {}
        if result.get("repositoryStatus") == "error" or (result and doctor.get("success") is False):
            return "error"
    return "success"


def task_message(task: Task, outcome: str | None = None) -> str | None:
    """The one-line message Zerobyte's history shows for a task (error, warning details, doctor issue)."""
    outcome = outcome or task_outcome(task)
    result = task.result or {}
    if task.error:
        return task.error
    if outcome == "warning" and task.kind == "backup":
        return (
            result.get("warningDetails") or _exit_code_text(result.get("exitCode")) or "Backup completed with warnings."
        )
    if outcome == "error":
        if task.kind == "doctor":
            if result.get("lastError"):
                return str(result["lastError"])
            for step in (result.get("doctorResult") or {}).get("steps") or []:
                if isinstance(step, dict) and not step.get("success") and step.get("error"):
                    return str(step["error"])
        return "Task failed."
    if outcome == "cancelled":
        return "Task was cancelled."
    if outcome == "stale":
        return "Task stopped reporting before it completed."
    return None


def _exit_code_text(exit_code: Any) -> str | None:
    if exit_code == 3:
        return "restic exit code 3: some source files could not be read"
    if isinstance(exit_code, int) and exit_code != 0:
        return f"restic exit code {exit_code}"
    return None


# Ordered: the first matching rule wins, so specific causes come before generic words like "volume".
_NEXT_STEPS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("unable to create lock", "already locked", "is locked", "repository locked", "stale lock", "lock timeout"),
        "repository locked -> unlock the repository (unlock_repository) once no backup runs, "
        "or run doctor (run_doctor)",
    ),
    (
        ("wrong password", "no key found", "ciphertext verification failed", "invalid password"),
        "restic cannot open the repository with the password Zerobyte holds (its key files were removed or the "
        "password changed): confirm with run_doctor; for a repository made elsewhere, connect it again with "
        "create_repository(existing=true, custom_password=...); else restore its keys/ folder from a copy, or make "
        "a new repository and point the jobs at it (update_backup_job)",
    ),
    (
        ("no space left", "disk full", "quota exceeded", "not enough space", "insufficient storage"),
        "destination full: free space or apply retention",
    ),
    (
        ("could not be read", "permission denied", "unreadable", "exit code 3"),
        "some files unreadable: check permissions or exclude them",
    ),
    (
        ("zerobyte was restarted", "stopped reporting"),
        "stale: run the backup again (run_backup)",
    ),
    (
        ("cancelled", "canceled", "stopped by the user"),
        "cancelled: run it again when ready",
    ),
    (
        ("is there a repository", "repository does not exist", "unable to open config file", "config file not found"),
        "no repository at the configured location (deleted, moved or not mounted): check that the path/bucket "
        "exists and the Zerobyte host reaches it; if it is gone, make a new repository (or connect a copy with "
        "create_repository existing=true) and point the jobs at it (update_backup_job)",
    ),
    (
        (
            "access denied",
            "accessdenied",
            "invalidaccesskeyid",
            "signaturedoesnotmatch",
            "403 forbidden",
            "unauthorized",
        ),
        "the storage backend refused the credentials: update the repository's credentials",
    ),
    (
        ("connection refused", "no such host", "timeout", "timed out", "network is unreachable", "dial tcp"),
        "destination unreachable: check the network and the repository's endpoint",
    ),
    (
        ("not mounted", "mount ", "mount:", "volume", "no such file or directory", "stale file handle"),
        "mount the volume / check its health",
    ),
)


def next_step_for(message: str | None, *, exit_code: int | None = None) -> str | None:
    """Map a Zerobyte/restic error or warning message to the next thing to do (None when unknown)."""
    if exit_code == 3:
        return "some files unreadable: check permissions or exclude them"
    if not message:
        return None
    text = message.lower()
    for needles, step in _NEXT_STEPS:
        if any(n in text for n in needles):
            return step
    return None


def task_progress(task: Task) -> TaskProgress | None:
    """Progress of a running task (backup/restore counters, mirror-sync phase); None when absent."""
    raw = task.progress or {}
    inner = _dict(raw.get("progress"))
    if not inner and not raw.get("phase"):
        return None
    percent = inner.get("percent_done")
    return TaskProgress(
        percent=round(float(percent) * 100, 1) if isinstance(percent, int | float) else None,
        done_bytes=_int(inner.get("bytes_done", inner.get("bytes_restored"))),
        total_bytes=_int(inner.get("total_bytes")),
        files_done=_int(inner.get("files_done", inner.get("files_restored"))),
        total_files=_int(inner.get("total_files")),
        eta_s=_float(inner.get("seconds_remaining")),
        phase=_phase(raw),
    )


def _phase(raw: Mapping[str, Any]) -> str | None:
    phase, message = raw.get("phase"), raw.get("message")
    if phase and message:
        return f"{phase}: {message}"
    return str(phase) if phase else None


def task_target(task: Task, names: Mapping[str, str] | None = None) -> str | None:
    """A short label of what the task works on, e.g. "backup job 'photos' (dl2FvHvs)"."""
    names = names or {}
    data = task.input or {}
    rid = task.resourceId
    if task.resourceType == "backup_schedule" and rid:
        # v0.41 put the schedule's numeric id in resourceId; the input always carries the short id.
        job = data.get("scheduleShortId")
        label = f"backup job {_named(job if isinstance(job, str) and job else rid, names)}"
        mirror = data.get("mirrorRepositoryId")
        if task.kind == "mirrorSync" and isinstance(mirror, str):
            label += f" -> mirror {_named(mirror, names)}"
        return label
    if task.resourceType == "repository" and rid:
        label = f"repository {_named(rid, names)}"
        snapshot = data.get("snapshotId")
        if task.kind == "restore" and isinstance(snapshot, str):
            label += f", snapshot {snapshot}"
            target = data.get("target")
            if isinstance(target, str) and target:
                label += f" -> {target}"
        return label
    return f"{task.resourceType} {rid}" if task.resourceType and rid else None


def _named(short_id: str, names: Mapping[str, str]) -> str:
    name = names.get(short_id)
    return f"'{name}' ({short_id})" if name else short_id


def _result_summary(task: Task) -> TaskResultSummary | None:
    result = task.result
    if not result:
        return None
    kind = result.get("kind", task.kind)
    if kind == "backup":
        summary = _dict(result.get("result"))
        return TaskResultSummary(
            # restic reports the full 64-hex id; Zerobyte lists and accepts the 8-hex short id.
            snapshot_id=_short_snapshot_id(summary.get("snapshot_id")),
            exit_code=_int(result.get("exitCode")),
            files_new=_int(summary.get("files_new")),
            files_changed=_int(summary.get("files_changed")),
            added_bytes=_int(summary.get("data_added")),
            processed_bytes=_int(summary.get("total_bytes_processed")),
            duration_s=_round(summary.get("total_duration")),
        )
    if kind == "restore":
        summary = _dict(result.get("result"))
        return TaskResultSummary(
            files_restored=_int(summary.get("files_restored")),
            files_skipped=_int(summary.get("files_skipped")),
            restored_bytes=_int(summary.get("bytes_restored")),
        )
    if kind == "deleteSnapshots":
        return TaskResultSummary(deleted_snapshot_ids=_strings(result.get("deletedSnapshotIds")))
    if kind == "tagSnapshots":
        # restic rewrites a tagged snapshot under a NEW id; the result still lists the old ones.
        return TaskResultSummary(
            tagged_snapshot_ids=_strings(result.get("taggedSnapshotIds")),
            note="tagging gives snapshots new ids: these are the old ids; list the snapshots again for the new ones",
        )
    if kind == "doctor":
        doctor = _dict(result.get("doctorResult"))
        steps = [
            DoctorStep(step=str(s.get("step")), success=s.get("success"), error=s.get("error"))
            for s in doctor.get("steps") or []
            if isinstance(s, dict)
        ]
        return TaskResultSummary(repository_status=result.get("repositoryStatus"), doctor_steps=steps)
    return None


def task_view(task: Task, names: Mapping[str, str] | None = None) -> TaskView:
    """The agent's view of one task: outcome, progress, per-kind result, warnings, error, next step."""
    outcome = task_outcome(task)
    result = task.result or {}
    details = result.get("warningDetails") if task.kind == "backup" else None
    warnings = str(details) if details is not None else None
    if warnings is None and outcome == "warning":
        warnings = _exit_code_text(result.get("exitCode"))
    error = task.error
    if error is None and outcome == "error":
        error = task_message(task, outcome)
    step = None
    if outcome in ("warning", "error"):
        step = next_step_for(error or warnings, exit_code=_int(result.get("exitCode")))
    elif outcome in ("cancelled", "stale"):
        step = next_step_for(error) or next_step_for(outcome if outcome == "cancelled" else "stopped reporting")
    return TaskView(
        id=task.id,
        kind=task.kind,
        status=task.status,
        outcome=outcome,
        target=task_target(task, names),
        started=iso_from_ms(task.startedAt or task.createdAt),
        finished=iso_from_ms(task.finishedAt),
        duration_s=_duration(task.startedAt, task.finishedAt),
        progress=task_progress(task) if outcome == "running" else None,
        result=_result_summary(task),
        # restic lists every unreadable file in its warnings: keep the head, enough to act on.
        warnings=_clip(warnings, MESSAGE_LIMIT),
        error=_clip(error, MESSAGE_LIMIT),
        next_step=step,
    )


def active_task(task: Task, names: Mapping[str, str] | None = None) -> ActiveTask:
    return ActiveTask(
        id=task.id,
        kind=task.kind,
        status=task.status,
        target=task_target(task, names),
        started=iso_from_ms(task.startedAt or task.createdAt),
        progress=task_progress(task),
    )


def history_target(item: TaskHistoryItem) -> str | None:
    """Label of a history item's target, e.g. "photos (dl2FvHvs)" or "snapshot 5ddc91c0 of local-repo"."""
    target = item.target or {}
    label, secondary = target.get("label"), target.get("secondary")
    if not label:
        return None
    if item.kind == "restore" and secondary:
        return f"snapshot {label} of {secondary}"
    short_id = target.get("scheduleShortId") or target.get("repositoryShortId")
    return f"{label} ({short_id})" if short_id else str(label)


def history_item(item: TaskHistoryItem) -> HistoryItem:
    return HistoryItem(
        id=item.id,
        kind=item.kind,
        outcome=item.outcome,
        target=history_target(item),
        started=iso_from_ms(item.startedAt or item.createdAt),
        finished=iso_from_ms(item.finishedAt),
        duration_s=_duration(item.startedAt, item.finishedAt),
        message=_clip(item.message, 300),
        next_step=next_step_for(item.message) if item.outcome in ("error", "warning") else None,
    )


async def resource_names(client: ZerobyteClient) -> dict[str, str]:
    """Short id -> name for backup jobs and repositories (best effort: {} when either list fails)."""
    names: dict[str, str] = {}

    async def jobs() -> None:
        for j in await client.list_backup_jobs():
            names[j.shortId] = j.name

    async def repos() -> None:
        for r in await client.list_repositories():
            names[r.shortId] = r.name

    try:
        await gather([jobs(), repos()])
    except ZerobyteError:
        return {}
    return names


async def gather_active_tasks(
    client: ZerobyteClient,
    *,
    kind: str | None = None,
    backup_job_id: str | None = None,
    repository_id: str | None = None,
) -> ActiveTaskList:
    """Active tasks (queued/running/cancelling), newest first, labelled with job/repository names."""
    if backup_job_id and repository_id:
        raise ToolFailure("Give backup_job_id or repository_id, not both.")
    resource_type, resource_id = None, None
    if backup_job_id:
        resource_type, resource_id = "backup_schedule", backup_job_id
    elif repository_id:
        resource_type, resource_id = "repository", repository_id
    tasks = await client.list_tasks(kind=kind, resource_type=resource_type, resource_id=resource_id)
    names = await resource_names(client) if tasks else {}
    return ActiveTaskList(tasks=[active_task(t, names) for t in tasks], total=len(tasks))


async def gather_task_history(
    client: ZerobyteClient, *, kind: str | None = None, outcome: str | None = None, page: int = 1
) -> TaskHistory:
    data = await client.task_history(kind=kind, outcome=outcome, page=page)
    total_pages = data.totalPages or (-(-data.totalItems // HISTORY_PAGE_SIZE) if data.totalItems else 0)
    return TaskHistory(
        items=[history_item(i) for i in data.items],
        page=data.page or page,
        total=data.totalItems,
        total_pages=total_pages,
        next_page=page + 1 if page < total_pages else None,
    )


# --- helpers -------------------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(float(value), 1)


def _round(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(float(value), 3)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _duration(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return seconds_from_ms(max(0.0, end - start))


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _short_snapshot_id(value: object) -> str | None:
    return value[:8] if isinstance(value, str) and value else None


def where_tasks_are(task_history: bool) -> str:
    """Which tools show existing task ids, for a task-not-found answer (no task history before v0.42)."""
    return "list_active_tasks shows the running ones" + (", task_history the finished ones" if task_history else "")
