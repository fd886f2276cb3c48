"""Run tools: start a backup, a repository doctor or a mirror sync now, and follow it to its end.

``run_backup`` also says what the job's retention forgets after the backup (Zerobyte forgets by the
job's policy after every successful run), and follows older Zerobytes their own way: v0.41 answers the
run without a task id (the task is found and followed), v0.40 has no tasks at all (the job's status and
progress route tell the run). ``sync_mirror`` copies the snapshots a mirror is missing, by explicit id.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

from pydantic import Field

from ..answers.notation import format_retention
from ..answers.output import iso_from_ms
from ..safety.retention import Snap, forget_plan
from ..zerobyte.errors import BadRequest, Conflict
from ..zerobyte.legacy import (
    AlreadyRunning,
    LegacyBackupOutcome,
    LegacyProgress,
    follow_legacy_backup,
    run_legacy_backup,
    start_backup_task,
)
from ..zerobyte.models import BackupJob, TaskStarted
from .acting import (
    JobArg,
    RepoArg,
    WaitArg,
    WaitSecondsArg,
    already_running,
    repo_label,
    run_task,
    running_task_failure,
    start,
)
from .base import Ctx, ToolFailure, app_of, client_of, tool
from .follow import TaskOutcome, follow, wait_budget
from .forgetting import now_ms, policy_of, snaps
from .mirror_sync import MirrorSyncResult, plan_copy, sync_report, wait_for_legacy_copy

__all__ = ["BackupRun", "run_backup", "run_doctor", "sync_mirror"]


class BackupRun(TaskOutcome):
    retention: str | None = Field(None, description="What the job's retention forgets or forgot after this backup")


@tool(title="Run a backup now", idempotent=False)
async def run_backup(
    ctx: Ctx,
    job_id: JobArg,
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> BackupRun:
    """Run a backup job now and follow it: outcome, new snapshot id, files and bytes added, what retention forgot."""
    client = client_of(ctx)
    caps = await app_of(ctx).get_capabilities()
    if caps.legacy_backup_control and not caps.tasks_api:
        return BackupRun.model_validate((await _run_legacy_backup(ctx, job_id, wait, wait_seconds)).model_dump())
    if caps.legacy_backup_control:
        return BackupRun.model_validate((await _run_v041_backup(ctx, job_id, wait, wait_seconds)).model_dump())
    job = await client.get_backup_job(job_id)
    policy = policy_of(job)
    rid = await client.job_repository(job) if policy is not None and not policy.empty() else None
    # Zerobyte forgets by the job's policy after every successful backup: list first, to say what went.
    before = await client.list_snapshots(rid) if rid else []
    mine = [s for s in snaps(before) if job.shortId in s.tags]
    this_run = Snap(id="(this backup)", time_ms=now_ms(), tags=(job.shortId,))
    expected = forget_plan([*mine, this_run], policy, tag=job.shortId, now_ms=now_ms() + 1)
    what = f"A backup of job {job.name!r} ({job.shortId})"
    try:
        started = await start(client, client.run_backup(job.shortId), what, "backup", "backup_schedule", job.shortId)
    except BadRequest as exc:
        raise _volume_not_ready(job, exc) from None
    outcome, final = await run_task(ctx, started, "backup", {job.shortId: job.name}, wait, wait_seconds)
    run = BackupRun.model_validate(outcome.model_dump())
    if rid is None or policy is None:
        return run
    if final is not None and outcome.outcome in ("success", "warning"):
        run.retention = await _followed_forget(ctx, job, rid, mine, str(policy), wait_seconds)
    elif expected and outcome.outcome in ("running", "success", "warning"):
        ids = ", ".join(s.id for s in expected)
        run.retention = (
            f"Warning: when this backup succeeds, Zerobyte applies the job's retention ({policy}) and forgets "
            f"{len(expected)} existing snapshot(s): {ids}."
        )
    return run


async def _followed_forget(
    ctx: Ctx, job: BackupJob, rid: str, mine: list[Snap], policy: str, wait_seconds: float | None
) -> str:
    """What the forget Zerobyte queued after the backup removed, read from the repository afterwards."""
    client = client_of(ctx)
    tasks = await client.list_tasks(kind="forget", resource_type="backup_schedule", resource_id=job.shortId)
    if tasks:
        view, final = await follow(ctx, tasks[0].id, wait_seconds=wait_budget(ctx, wait_seconds))
        if final is None:
            return (
                f"Zerobyte's retention ({policy}) is still running after the backup (task {view.id}); "
                f"call wait_for_task(task_id='{view.id}'), then list_snapshots to see what it forgot."
            )
        if view.outcome != "success":
            return (
                f"Zerobyte's retention ({policy}) after the backup ended: {view.outcome} ({view.error or 'no detail'})."
            )
    left = {s.short_id for s in await client.list_snapshots(rid)}
    gone = [s.id for s in mine if s.id not in left]
    if not gone:
        return f"Zerobyte's retention ({policy}) ran after the backup and forgot no snapshot."
    return (
        f"Zerobyte's retention ({policy}) ran after the backup and forgot {len(gone)} snapshot(s): {', '.join(gone)}."
    )


async def _run_v041_backup(ctx: Ctx, job_id: str, wait: bool, wait_seconds: float | None) -> TaskOutcome:
    """Zerobyte v0.41 answers the run without a task id, but makes a task: find it and follow it as on v0.42."""
    client = client_of(ctx)
    try:
        found = await start_backup_task(client, job_id)
    except AlreadyRunning as exc:
        raise running_task_failure(f"A backup of job {exc.job.name!r} ({exc.job.shortId})", exc.task) from None
    job = found.job
    if found.task is None:
        # No task showed: the run failed at once or was over before it was seen; the job's status says how it went.
        ran = await follow_legacy_backup(client, job.shortId, wait_seconds=0)
        return _legacy_outcome(ran)
    started = TaskStarted(taskId=found.task.id, status=found.task.status)
    outcome, _ = await run_task(ctx, started, "backup", {job.shortId: job.name}, wait, wait_seconds)
    return outcome


def _volume_not_ready(job: BackupJob, exc: BadRequest) -> ToolFailure:
    """Zerobyte's 400 on run: the volume is not ready (its source is missing, or it is unmounted and cannot remount)."""
    reason = exc.upstream_message or str(exc)
    volume = f"volume {job.volume.name!r} ({job.volume.shortId})" if job.volume else "the job's volume"
    if "ENOENT" in reason or "no such file" in reason.lower():
        problem = f"the source folder of {volume} is missing on the Zerobyte host ({reason})"
    else:
        problem = f"{volume} is not ready ({reason})"
    return ToolFailure(
        f"Backup of job {job.name!r} ({job.shortId}) not started: {problem}. Fix the volume's source (update_volume) "
        "or remount it (mount_volume), then run_backup again."
    )


async def _run_legacy_backup(ctx: Ctx, job_id: str, wait: bool, wait_seconds: float | None) -> TaskOutcome:
    """Zerobyte v0.40 has no tasks: follow the run through the job's status and progress route."""

    async def progress(p: LegacyProgress) -> None:
        percent = 100 * (p.percent_done or 0)
        with suppress(Exception):  # a lost progress notification must not fail the backup report
            await ctx.report_progress(percent, 100, f"{p.files_done or 0}/{p.total_files or '?'} files")

    budget = wait_budget(ctx, wait_seconds) if wait else 0.0
    ran = await run_legacy_backup(client_of(ctx), job_id, progress, wait_seconds=budget)
    return _legacy_outcome(ran)


def _legacy_outcome(ran: LegacyBackupOutcome) -> TaskOutcome:
    """A run followed through the job's status, told like a task (without an id: there is none to follow)."""
    outcome = ran.status if ran.status in ("success", "warning", "error", "cancelled", "stale") else "running"
    step = " ".join(ran.notes) or None
    if outcome == "cancelled":
        step = "The run was stopped before it finished, so it made no snapshot. Run it again when ready."
    return TaskOutcome(
        kind="backup",
        status="running" if outcome == "running" else "finished",
        outcome=outcome,
        target=f"backup job {ran.job_name!r} ({ran.job_id})",
        finished=iso_from_ms(ran.finished_at_ms),
        error=ran.error,
        next_step=step,
    )


@tool(title="Run repository doctor", idempotent=False)
async def run_doctor(
    ctx: Ctx,
    repository_id: RepoArg,
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> TaskOutcome:
    """Run doctor (unlock, check, repair index) on a repository and follow it; reports each step."""
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    what = f"Doctor on repository {repo.name!r} ({repo.shortId})"
    started = await start(client, client.start_doctor(repo.shortId), what, "doctor", "repository", repo.shortId)
    outcome, _ = await run_task(ctx, started, "doctor", {repo.shortId: repo.name}, wait, wait_seconds)
    if started is None:
        # v0.40 answers only {message, repositoryId}: the verdict is in the repository row doctor updated.
        after = await client.get_repository(repo.shortId)
        outcome.outcome = "success" if after.status == "healthy" else "error"
        outcome.finished = iso_from_ms(after.lastChecked)
        outcome.error = after.lastError
        if outcome.outcome != "success":
            outcome.next_step = f"Doctor left repository {repo.name!r} with status {after.status or 'unknown'}."
    return outcome


@tool(title="Sync a mirror", idempotent=False)
async def sync_mirror(
    ctx: Ctx,
    job_id: JobArg,
    mirror_repository_id: Annotated[str, Field(description="Mirror repository short id")],
    snapshot_ids: Annotated[list[str] | None, Field(description="8-hex ids to copy; default: all missing")] = None,
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> MirrorSyncResult:
    """Copy a backup job's missing snapshots to one of its mirrors; says what was copied and what is missing."""
    client = client_of(ctx)
    job = await client.get_backup_job(job_id)
    mirrors = await client.get_job_mirrors(job.shortId)
    mirror = next(
        (
            m
            for m in mirrors
            if mirror_repository_id == m.repositoryId or (m.repository and m.repository.id == mirror_repository_id)
        ),
        None,
    )
    if mirror is None:
        known = ", ".join(repo_label(m.repositoryId, m.repository) for m in mirrors) or "none"
        raise ToolFailure(
            f"Repository {mirror_repository_id!r} is not a mirror of backup job {job.name!r} ({job.shortId}); "
            f"its mirrors: {known}."
        )
    names = {job.shortId: job.name}
    if mirror.repository is not None:
        names[mirror.repositoryId] = mirror.repository.name
    job_label, mirror_label = f"job {job.name!r}", repo_label(mirror.repositoryId, mirror.repository)
    source = await client.job_repository(job) if snapshot_ids else None
    plan = await plan_copy(client, job, source, mirror.repositoryId, snapshot_ids)
    if not plan.to_copy:
        held = f" ({', '.join(plan.already)})" if plan.already else ""
        return MirrorSyncResult(
            outcome="success",
            message=f"Nothing to copy: mirror {mirror_label} already holds every asked snapshot of {job_label}{held}"
            + ("." if plan.missing_before else " and is in sync."),
        )
    check = f"get_mirror_status(job_id='{job.shortId}', repository_id='{mirror.repositoryId}')"
    try:
        # Explicit ids: without them Zerobyte copies only the newest snapshot (restic copy ... latest).
        started = await client.sync_mirror(job.shortId, mirror.repositoryId, plan.to_copy)
    except Conflict as exc:
        what = f"A mirror sync of {job_label} ({job.shortId}) to {mirror_label}"
        if (await app_of(ctx).get_capabilities()).legacy_backup_control:
            raise ToolFailure(
                f"{what} is already running (this Zerobyte runs mirror syncs without a task). {check} shows which "
                "snapshots are still missing; get_backup_job shows the last sync's status once it ends."
            ) from None
        raise await already_running(client, exc, what, "mirrorSync", "backup_schedule", job.shortId) from None
    sending = f"Copying {len(plan.to_copy)} snapshot(s) ({', '.join(plan.to_copy)}) to mirror {mirror_label}"
    task: TaskOutcome | None = None
    error: str | None = None
    if started is not None:
        task, final = await run_task(ctx, started, "mirrorSync", names, wait, wait_seconds)
        if final is None:
            return MirrorSyncResult(outcome="running", message=f"{sending} is under way. {task.next_step}", task=task)
        error = task.error
    else:
        # v0.41: 200 with no task; the mirror row says when the copy ended.
        budget = wait_budget(ctx, wait_seconds) if wait else 0.0
        ended, error = await wait_for_legacy_copy(
            client, job.shortId, mirror.repositoryId, mirror, plan.to_copy, budget
        )
        if not ended:
            message = f"{sending} is under way (Zerobyte v0.41 gives no task to follow); {check} shows its progress."
            return MirrorSyncResult(outcome="running", message=message)
    after = await client.get_mirror_status(job.shortId, mirror.repositoryId)
    retention = format_retention(job.retentionPolicy.model_dump(exclude_none=True)) if job.retentionPolicy else None
    return sync_report(plan, after, mirror_label, job_label, task=task, error=error, retention=retention)
