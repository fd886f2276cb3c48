"""What the write tools share: their arguments, starting a Zerobyte task and following it, picking snapshots.

Every tool that starts a task (backup, doctor, mirror sync, restore, retention, snapshot delete/tag)
follows it with :func:`run_task` and answers with its outcome, so an agent never reports a bare 202 as
success; a 409 "already running" becomes :func:`already_running`'s explanation naming the running task.
The tools that pick snapshots by id (tagging, deleting) resolve them with :func:`match_snapshots`, and
read which job a snapshot belongs to from :func:`jobs_by_tag`. Only write tool modules import this one.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, TypeVar

from pydantic import Field

from ..answers.output import iso_from_ms
from ..answers.task_views import task_progress
from ..safety.audit import note
from ..zerobyte import ZerobyteClient, ZerobyteError
from ..zerobyte.errors import Conflict
from ..zerobyte.models import BackupJob, Repository, Snapshot, Task, TaskStarted
from .base import Ctx, ToolFailure, client_of
from .confirm import ActionResult
from .follow import TaskOutcome, follow, outcome_of, wait_budget

__all__ = [
    "NO_TASKS_API",
    "JobArg",
    "RepoArg",
    "SnapshotIdsArg",
    "TaskActionResult",
    "TokenArg",
    "WaitArg",
    "WaitSecondsArg",
    "already_running",
    "jobs_by_tag",
    "match_snapshots",
    "pick_snapshots",
    "repo_label",
    "run_task",
    "running_task_failure",
    "start",
    "unfinished",
]

T = TypeVar("T")

NO_TASKS_API = "Started. This Zerobyte (v0.41 or older) gives no task to follow for it."
# Zerobyte v0.40 (no tasks API) runs these before it answers: the answer means done, not started.
SYNC_ON_V040 = frozenset({"doctor", "deleteSnapshots", "tagSnapshots"})

JobArg = str
RepoArg = str
WaitArg = Annotated[bool, Field(description="Follow the task to its end")]
# Bounds in the schema, so a bad value is refused before anything starts.
WaitSecondsArg = Annotated[float | None, Field(description="Max seconds to follow", ge=0, le=900)]
TokenArg = Annotated[str | None, Field(description="From the preview answer; omit to preview")]
SnapshotIdsArg = Annotated[list[str], Field(description="8-hex snapshot ids or 'latest'", min_length=1)]


class TaskActionResult(ActionResult):
    task: TaskOutcome | None = None


async def run_task(
    ctx: Ctx,
    started: TaskStarted | None,
    kind: str,
    names: dict[str, str],
    wait: bool,
    wait_seconds: float | None,
) -> tuple[TaskOutcome, Task | None]:
    """The task's outcome after following it (or right away when wait is false)."""
    if started is None:
        if kind in SYNC_ON_V040:
            # Doctor, delete and tag all work on one repository: label it as task_target would.
            target = ", ".join(f"repository {name!r} ({short})" for short, name in names.items()) or None
            return TaskOutcome(kind=kind, status="finished", outcome="success", target=target), None
        return TaskOutcome(kind=kind, status="started", outcome="running", next_step=NO_TASKS_API), None
    note(task_id=started.taskId)
    if not wait:
        task = await client_of(ctx).get_task(started.taskId)
        if task.terminal:
            return outcome_of(task, names), task
        step = f"Started; call wait_for_task(task_id='{task.id}') to follow it."
        return outcome_of(task, names, next_step=step), None
    return await follow(ctx, started.taskId, wait_seconds=wait_budget(ctx, wait_seconds), names=names)


async def start(
    client: ZerobyteClient, request: Awaitable[T], what: str, kind: str, resource_type: str, resource_id: str
) -> T:
    """The answer of ``request`` (a call that starts a task); a 409 becomes :func:`already_running`'s refusal."""
    try:
        return await request
    except Conflict as exc:
        raise await already_running(client, exc, what, kind, resource_type, resource_id) from None


async def already_running(
    client: ZerobyteClient, exc: Conflict, what: str, kind: str, resource_type: str, resource_id: str
) -> ToolFailure:
    """A 409 'already running', explained with the running task and what to do about it."""
    try:
        tasks = await client.list_tasks(kind=kind, resource_type=resource_type, resource_id=resource_id)
    except ZerobyteError:
        tasks = []
    if not tasks:
        return ToolFailure(f"{exc} No active {kind} task shows for it now (it may just have ended): retry.")
    return running_task_failure(what, tasks[0])


def running_task_failure(what: str, t: Task) -> ToolFailure:
    """'<what> is already running: task …', with how to follow or stop that task."""
    progress = task_progress(t)
    done = f", {progress.percent:g}% done" if progress is not None and progress.percent is not None else ""
    since = iso_from_ms(t.startedAt or t.createdAt)
    return ToolFailure(
        f"{what} is already running: task {t.id} ({t.status}{done}, since {since}). Call "
        f"wait_for_task(task_id='{t.id}') to follow it, or cancel_task to stop it."
    )


def unfinished(what: str, outcome: TaskOutcome) -> str:
    if outcome.outcome == "running":
        return f"{what} is still running (task {outcome.id}). {outcome.next_step or ''}".strip()
    detail = outcome.error or outcome.warnings
    return f"{what} ended: {outcome.outcome}" + (f" ({detail})." if detail else ".")


async def pick_snapshots(
    client: ZerobyteClient, repository_id: str, wanted: list[str]
) -> tuple[Repository, list[Snapshot], list[Snapshot]]:
    """The repository, its snapshot list, and the listed snapshots ``wanted`` (checked ids) names."""
    repo = await client.get_repository(repository_id)
    listed = await client.list_snapshots(repo.shortId)
    return repo, listed, match_snapshots(listed, wanted, repo)


def match_snapshots(snaps: list[Snapshot], wanted: list[str], repo: Repository) -> list[Snapshot]:
    found: list[Snapshot] = []
    missing: list[str] = []
    for sid in wanted:
        if len(sid) >= 8:
            hits = [s for s in snaps if s.short_id == sid[:8] and (s.id is None or s.id.startswith(sid))]
        else:
            hits = [s for s in snaps if s.short_id.startswith(sid)]
        if not hits:
            missing.append(sid)
        elif len(hits) > 1:
            raise ToolFailure(f"Snapshot id {sid!r} is ambiguous in repository {repo.name!r}: give 8 hex digits.")
        elif hits[0] not in found:
            found.append(hits[0])
    if missing:
        raise ToolFailure(
            f"No snapshot {', '.join(missing)} in repository {repo.name!r} ({repo.shortId}); nothing was changed. "
            "list_snapshots shows the current ids (tagging changes them)."
        )
    return found


async def jobs_by_tag(client: ZerobyteClient, *, strict: bool = False) -> dict[str, BackupJob]:
    """Backup jobs by the tag their snapshots carry (the job's short id); {} if the list fails (unless strict:
    a gate must not conclude "no job is affected" from a failed list)."""
    try:
        return {j.shortId: j for j in await client.list_backup_jobs()}
    except ZerobyteError:
        if strict:
            raise
        return {}


def repo_label(short_id: str, repo: Repository | None) -> str:
    return f"{repo.name!r} ({short_id})" if repo is not None else short_id
