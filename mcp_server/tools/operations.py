"""Operation tools: start Zerobyte's long tasks and follow them, and the destructive actions.

Each tool that starts a task (backup, restore, doctor, retention, mirror sync, snapshot delete/tag)
follows it to its end by default and answers with the outcome, so an agent never reports a bare 202
as success. Destructive tools (level ``full``) act only after a confirmation (``confirm.py``) whose
preview comes from live data: the cascades of a delete, the snapshots a retention run would forget.

Restore is two tools on purpose: ``restore`` (operate) writes only to a NEW folder under the configured
roots and never overwrites; ``restore_in_place`` (full, destructive, confirmed) writes to the original
location or overwrites. An agent at ``operate`` then sees only the safe form, with honest annotations.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from contextlib import suppress
from typing import Annotated, Any, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Resolve
from pydantic import BaseModel, ConfigDict, Field

from ..audit import note
from ..concurrency import gather
from ..confirm import ActionResult, Gate, Preview, PreviewItem, confirmed, decide
from ..follow import TaskOutcome, follow, outcome_of, wait_budget
from ..legacy import (
    AlreadyRunning,
    LegacyBackupOutcome,
    LegacyProgress,
    follow_legacy_backup,
    run_legacy_backup,
    start_backup_task,
)
from ..mirror_sync import MirrorSyncResult, plan_copy, sync_report, wait_for_legacy_copy
from ..notation import format_retention
from ..output import human_bytes, iso_from_ms
from ..retention import Snap, forget_plan, newly_forgotten
from ..task_views import resource_names, task_progress
from ..zerobyte import ZerobyteClient, ZerobyteError
from ..zerobyte.errors import BadRequest, Conflict
from ..zerobyte.ids import MAX_PATH_LENGTH, check_absolute_path, check_snapshot_id
from ..zerobyte.models import BackupJob, Repository, Snapshot, Task, TaskStarted
from .base import Ctx, ToolFailure, app_of, client_of, tool
from .forgetting import confirmed_if_forgetting, forget_effects, now_ms, policy_of, snaps, snapshot_items
from .repositories import repository_summary

__all__ = [
    "BackupRun",
    "RestoreResult",
    "Retagged",
    "TagResult",
    "TaskActionResult",
    "apply_retention",
    "cancel_task",
    "check_restore_target",
    "delete_backup_job",
    "delete_notification_destination",
    "delete_repository",
    "delete_snapshots",
    "delete_volume",
    "restore",
    "restore_in_place",
    "run_backup",
    "run_doctor",
    "sync_mirror",
    "tag_snapshots",
    "wait_for_task",
]

MAX_RESTORE_PATHS = 20
CANCEL_WAIT_SECONDS = 10.0
_CANCELLABLE = "backup, restore, doctor, retention and mirror sync"
NO_TASKS_API = "Started. This Zerobyte (v0.41 or older) gives no task to follow for it."
# Zerobyte v0.40 (no tasks API) runs these before it answers: the answer means done, not started.
SYNC_ON_V040 = frozenset({"doctor", "deleteSnapshots", "tagSnapshots"})
Overwrite = Literal["always", "if-changed", "if-newer", "never"]

JobArg = Annotated[str, Field(description="Backup job short id")]
RepoArg = Annotated[str, Field(description="Repository short id")]
TaskArg = Annotated[str, Field(description="Task id (UUID)")]
WaitArg = Annotated[bool, Field(description="Follow the task to its end")]
# Bounds in the schema, so a bad value is refused before anything starts.
WaitSecondsArg = Annotated[float | None, Field(description="Max seconds to follow", ge=0, le=900)]
TokenArg = Annotated[str | None, Field(description="From the preview answer; omit to preview")]
SnapshotIdsArg = Annotated[list[str], Field(description="8-hex snapshot ids or 'latest'", min_length=1)]
TagsArg = Annotated[list[str] | None, Field(description="Tags")]
PathsArg = Annotated[
    list[str],
    Field(description="Absolute paths inside the snapshot", min_length=1),
]


class TaskActionResult(ActionResult):
    task: TaskOutcome | None = None


class RestoreResult(TaskActionResult):
    landed: list[str] = Field(default_factory=list, description="What was written, and where")
    not_restored: list[str] = Field(default_factory=list, description="What was left as it was, and why")


class Retagged(BaseModel):
    old_id: str
    new_id: str | None = None
    time: str | None = None
    tags: list[str] = Field(default_factory=list)


class BackupRun(TaskOutcome):
    retention: str | None = Field(None, description="What the job's retention forgets or forgot after this backup")


class TagResult(TaskOutcome):
    model_config = ConfigDict(extra="allow")  # preview, confirm_token and expires_at when confirmation is needed

    retagged: list[Retagged] = Field(default_factory=list, description="Tagging gives snapshots new ids")


# --- followed tasks -------------------------------------------------------------------------------


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
    try:
        started = await client.run_backup(job.shortId)
    except BadRequest as exc:
        raise _volume_not_ready(job, exc) from None
    except Conflict as exc:
        raise await _already_running(
            client, exc, f"A backup of job {job.name!r} ({job.shortId})", "backup", "backup_schedule", job.shortId
        ) from None
    outcome, final = await _run_task(ctx, started, "backup", {job.shortId: job.name}, wait, wait_seconds)
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
        raise _running_task_failure(f"A backup of job {exc.job.name!r} ({exc.job.shortId})", exc.task) from None
    job = found.job
    if found.task is None:
        # No task showed: the run failed at once or was over before it was seen; the job's status says how it went.
        ran = await follow_legacy_backup(client, job.shortId, wait_seconds=0)
        return _legacy_outcome(ran)
    started = TaskStarted(taskId=found.task.id, status=found.task.status)
    outcome, _ = await _run_task(ctx, started, "backup", {job.shortId: job.name}, wait, wait_seconds)
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


@tool(title="Wait for a task", read_only=True)
async def wait_for_task(ctx: Ctx, task_id: TaskArg, wait_seconds: WaitSecondsArg = None) -> TaskOutcome:
    """Follow a task (with progress) until it ends or wait_seconds pass; returns its outcome."""
    client = client_of(ctx)
    names = await resource_names(client)
    outcome, _ = await follow(ctx, task_id, wait_seconds=wait_budget(ctx, wait_seconds), names=names)
    return outcome


@tool(title="Cancel a task", idempotent=True)
async def cancel_task(ctx: Ctx, task_id: TaskArg) -> TaskOutcome:
    """Stop a queued or running task (not snapshot delete/tag) and report how it ended."""
    client = client_of(ctx)
    caps = await app_of(ctx).get_capabilities()
    task = await client.get_task(task_id) if caps.legacy_backup_control else None
    if task is not None and task.kind == "backup" and not task.terminal:
        # v0.41 backups are not cancellable as tasks (409); its own stop route aborts the run in about a second.
        job_ref = (task.input or {}).get("scheduleShortId") or task.resourceId or ""
        try:
            await client.stop_backup(str(job_ref))
        except Conflict:
            pass  # no live run: Zerobyte marks the task stale, or it just ended
        else:
            note(task_id=task.id)
    else:
        try:
            await client.cancel_task(task_id)
        except Conflict:
            task = await client.get_task(task_id)
            view = outcome_of(task)
            if task.terminal:
                raise ToolFailure(
                    f"Task {task.id} ({task.kind}) already ended ({view.outcome}): nothing to cancel."
                ) from None
            stoppable = "backup, restore and doctor" if caps.legacy_backup_control else _CANCELLABLE
            raise ToolFailure(
                f"Zerobyte cannot stop a {task.kind} task midway (only {stoppable} tasks can be); it ends on its "
                f"own. Call wait_for_task(task_id='{task.id}') to see it end."
            ) from None
        note(task_id=task_id)
    names = await resource_names(client)
    outcome, final = await follow(
        ctx, task_id, wait_seconds=min(CANCEL_WAIT_SECONDS, wait_budget(ctx, None)), names=names
    )
    if final is None:
        outcome.next_step = (
            f"Cancellation requested; the task is still stopping. Call wait_for_task(task_id='{task_id}')."
        )
    return outcome


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
    try:
        started = await client.start_doctor(repo.shortId)
    except Conflict as exc:
        raise await _already_running(
            client, exc, f"Doctor on repository {repo.name!r} ({repo.shortId})", "doctor", "repository", repo.shortId
        ) from None
    outcome, _ = await _run_task(ctx, started, "doctor", {repo.shortId: repo.name}, wait, wait_seconds)
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
        known = ", ".join(_repo_label(m.repositoryId, m.repository) for m in mirrors) or "none"
        raise ToolFailure(
            f"Repository {mirror_repository_id!r} is not a mirror of backup job {job.name!r} ({job.shortId}); "
            f"its mirrors: {known}."
        )
    names = {job.shortId: job.name}
    if mirror.repository is not None:
        names[mirror.repositoryId] = mirror.repository.name
    job_label, mirror_label = f"job {job.name!r}", _repo_label(mirror.repositoryId, mirror.repository)
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
        raise await _already_running(client, exc, what, "mirrorSync", "backup_schedule", job.shortId) from None
    sending = f"Copying {len(plan.to_copy)} snapshot(s) ({', '.join(plan.to_copy)}) to mirror {mirror_label}"
    task: TaskOutcome | None = None
    error: str | None = None
    if started is not None:
        task, final = await _run_task(ctx, started, "mirrorSync", names, wait, wait_seconds)
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


def _tag_changes(
    add_tags: list[str] | None, remove_tags: list[str] | None, set_tags: list[str] | None
) -> tuple[list[str] | None, list[str] | None, list[str] | None]:
    add, remove, replace_all = (
        _tags("add_tags", add_tags),
        _tags("remove_tags", remove_tags),
        _tags("set_tags", set_tags),
    )
    if not (add or remove or replace_all is not None):
        raise ToolFailure("Nothing to do: give add_tags, remove_tags or set_tags.")
    if replace_all is not None and (add or remove):
        raise ToolFailure("set_tags replaces all tags: use it alone, or use add_tags/remove_tags.")
    return add, remove, replace_all


async def _tagging_preview(
    client: ZerobyteClient,
    repository_id: str,
    snapshot_ids: list[str],
    changes: tuple[list[str] | None, list[str] | None, list[str] | None],
) -> Preview | None:
    """Snapshots that jobs' retention forgets because of this tagging (restic groups by exact tag list)."""
    wanted = [check_snapshot_id("snapshot_ids", s) for s in snapshot_ids]
    add, remove, replace_all = changes
    repo = await client.get_repository(repository_id)
    listed = await client.list_snapshots(repo.shortId)
    targets = {s.short_id for s in _match_snapshots(listed, wanted, repo)}
    before = snaps(listed)
    after: list[Snap] = []
    for s in before:
        if s.id in targets:
            tags = list(replace_all) if replace_all is not None else [*s.tags, *(add or [])]
            kept = [t for t in dict.fromkeys(tags) if t not in (remove or [])]
            s = Snap(id=s.id, time_ms=s.time_ms, tags=tuple(kept))
        after.append(s)
    touched = {t for s in (*before, *after) if s.id in targets for t in s.tags}
    going: dict[str, Snap] = {}
    whose: list[str] = []
    for job in (await _jobs_by_tag(client, strict=True)).values():
        if job.shortId not in touched:
            continue
        policy = policy_of(job)
        lost = newly_forgotten(before, after, policy, policy, tag=job.shortId, now_ms=now_ms())
        if lost:
            whose.append(f"backup job {job.name!r} ({job.shortId}, keeping {policy})")
            going.update({s.id: s for s in lost})
    if not going:
        return None
    ordered = sorted(going.values(), key=lambda s: s.time_ms)
    return Preview(
        action=f"Tag {len(targets)} snapshot(s) of repository {repo.name!r} ({repo.shortId}) into another job's group",
        effects=[
            "restic forgets by job tag and exact tag list: these snapshots then count under another job's retention.",
            *forget_effects(ordered, whose),
        ],
        items=snapshot_items(ordered, listed),
    )


@confirmed_if_forgetting("tag_snapshots", "this tagging")
async def _tag_snapshots_preview(
    ctx: Ctx,
    repository_id: str,
    snapshot_ids: list[str],
    add_tags: list[str] | None,
    remove_tags: list[str] | None,
    set_tags: list[str] | None,
    confirm_token: str | None,
) -> Preview | None:
    changes = _tag_changes(add_tags, remove_tags, set_tags)
    return await _tagging_preview(client_of(ctx), repository_id, snapshot_ids, changes)


@tool(title="Tag snapshots", idempotent=False)
async def tag_snapshots(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_ids: SnapshotIdsArg,
    answer: Annotated[ElicitationResult[Any], Resolve(_tag_snapshots_preview)],
    add_tags: TagsArg = None,
    remove_tags: TagsArg = None,
    set_tags: Annotated[list[str] | None, Field(description="Replace all tags with these")] = None,
    wait_seconds: WaitSecondsArg = None,
    confirm_token: Annotated[str | None, Field(description="For tagging that makes retention forget")] = None,
) -> TagResult:
    """Add, remove or set snapshot tags. Tagged snapshots get NEW ids: the result maps old to new."""
    wanted = [check_snapshot_id("snapshot_ids", s) for s in snapshot_ids]
    add, remove, replace_all = _tag_changes(add_tags, remove_tags, set_tags)
    decision = decide(answer, "tag_snapshots", ActionResult)
    if not isinstance(decision, Gate):
        return TagResult(
            id="none",
            kind="tagSnapshots",
            status="not_started",
            outcome=decision.outcome,
            next_step=decision.message,
            preview=decision.preview,
            confirm_token=decision.confirm_token,
            expires_at=decision.expires_at,
        )
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    before = await client.list_snapshots(repo.shortId)
    targets = _match_snapshots(before, wanted, repo)
    started = await client.tag_snapshots(
        repo.shortId, [s.short_id for s in targets], add=add or None, remove=remove or None, set_tags=replace_all
    )
    # Always followed: the new ids are only known once the task has ended.
    outcome, final = await _run_task(ctx, started, "tagSnapshots", {repo.shortId: repo.name}, True, wait_seconds)
    result = TagResult.model_validate(outcome.model_dump())
    if started is not None and (final is None or final.status != "succeeded"):
        result.next_step = result.next_step or "Tagging did not finish: list_snapshots shows the current ids."
        return result
    after = await client.list_snapshots(repo.shortId)
    by_time: dict[float, list[Snapshot]] = {}
    for s in after:
        by_time.setdefault(s.time, []).append(s)
    for old in targets:
        # Tagging rewrites the snapshot (new id, same time); the task result still lists the old ids.
        same_time = by_time.get(old.time, [])
        new = same_time[0] if len(same_time) == 1 else next((s for s in same_time if s.short_id == old.short_id), None)
        result.retagged.append(
            Retagged(
                old_id=old.short_id,
                new_id=new.short_id if new else None,
                time=iso_from_ms(old.time),
                tags=list(new.tags) if new else [],
            )
        )
    hints = [await _detached_from_jobs(client, targets, result.retagged)]
    vanished = [r.old_id for r in result.retagged if r.new_id is None]
    if vanished:
        hints.append(
            f"No snapshot with the time of {', '.join(vanished)} is listed any more (a retention run may have "
            "removed it meanwhile): list_snapshots shows the current set."
        )
    result.next_step = " ".join(h for h in hints if h) or None
    return result


# --- restore ---------------------------------------------------------------------------------------


@tool(title="Restore to a new folder", idempotent=False)
async def restore(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_id: Annotated[str, Field(description="Snapshot id (8-hex) or 'latest'")],
    paths: PathsArg,
    target_path: Annotated[str, Field(description="Absolute folder under an allowed restore root")],
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> RestoreResult:
    """Restore files or one folder from a snapshot into a folder under the allowed roots; never overwrites."""
    settings = app_of(ctx).settings
    try:
        target = check_restore_target(target_path, settings.restore_allowed_roots)
    except ToolFailure as refusal:
        raise _original_location_hint(refusal, target_path, paths, settings.access) from None
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    clean = _clean_paths(paths)
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    snap = await client.get_snapshot(repo.shortId, sid)
    kind = await _path_kind(client, repo, snap, clean, target)
    body = _restore_body(snap.short_id, clean, kind, target, "never")
    return await _do_restore(ctx, client, repo, snap, body, _landing(clean, kind, target), wait, wait_seconds)


@confirmed("restore_in_place")
async def _restore_in_place_preview(
    ctx: Ctx,
    repository_id: str,
    snapshot_id: str,
    paths: list[str],
    overwrite: str,
    target_path: str | None,
    confirm_token: str | None,
) -> Preview:
    target = (
        check_restore_target(target_path, app_of(ctx).settings.restore_allowed_roots)
        if target_path is not None
        else None
    )
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    clean = _clean_paths(paths)
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    snap = await client.get_snapshot(repo.shortId, sid)
    kind = await _path_kind(client, repo, snap, clean, target)
    where = "its original location" if target is None else target
    mode = {
        "always": "existing files there are replaced by the snapshot's version",
        "if-changed": "existing files whose content differs are replaced by the snapshot's version",
        "if-newer": "existing files older than the snapshot's version are replaced",
        "never": "existing files are kept; only missing files are written",
    }[overwrite]
    return Preview(
        action=(
            f"Restore {len(clean)} {kind}{'s' if len(clean) > 1 else ''} from snapshot {snap.short_id} "
            f"({iso_from_ms(snap.time)}) of repository {repo.name!r} ({repo.shortId}) to {where}"
        ),
        effects=[f"overwrite={overwrite}: {mode}.", "Files that are not in the snapshot are left alone."],
        items=[
            PreviewItem(kind=kind, id=p, note=line)
            for p, line in zip(clean, _landing(clean, kind, target), strict=True)
        ],
    )


@tool(title="Restore in place", destructive=True, idempotent=False)
async def restore_in_place(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_id: Annotated[str, Field(description="Snapshot id (8-hex) or 'latest'")],
    paths: PathsArg,
    answer: Annotated[ElicitationResult[Any], Resolve(_restore_in_place_preview)],
    overwrite: Annotated[Overwrite, Field(description="What to do with existing files")] = "always",
    target_path: Annotated[str | None, Field(description="Allowed folder; omit = original location")] = None,
    confirm_token: TokenArg = None,
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> RestoreResult:
    """Restore over existing files: to the original location, or overwriting in an allowed folder. Confirmed."""
    decision = decide(answer, "restore_in_place", RestoreResult)
    if not isinstance(decision, Gate):
        return decision
    roots = app_of(ctx).settings.restore_allowed_roots
    target = check_restore_target(target_path, roots) if target_path is not None else None
    clean = _clean_paths(paths)
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    snap = await client.get_snapshot(repo.shortId, check_snapshot_id("snapshot_id", snapshot_id))
    kind = await _path_kind(client, repo, snap, clean, target)
    body = _restore_body(snap.short_id, clean, kind, target, overwrite)
    return await _do_restore(ctx, client, repo, snap, body, _landing(clean, kind, target), wait, wait_seconds)


def _original_location_hint(refusal: ToolFailure, target_path: str, paths: Sequence[str], access: str) -> ToolFailure:
    """A refused target that is where the files came from: the way forward is restore_in_place, at level full."""
    target = posixpath.normpath(target_path) if isinstance(target_path, str) and target_path.startswith("/") else ""
    given = [posixpath.normpath(p) for p in paths if isinstance(p, str) and p.startswith("/")]
    # A file lands in the target itself, a folder's contents too: its own folder (or the folder) is its origin.
    if not target or target not in {posixpath.dirname(p) for p in given} | set(given):
        return refusal
    level = (
        "it is offered at this access level"
        if access == "full"
        else f"it needs access level full (this server runs at {access}): ask the user to run zerobyte-mcp with "
        "--access full, or to restore in Zerobyte's web UI"
    )
    return ToolFailure(
        f"{refusal} {target!r} is where these files came from: putting them back there overwrites what is there now, "
        f"which is restore_in_place (confirmed; {level})."
    )


def check_restore_target(target_path: str, roots: Sequence[str]) -> str:
    """The normalised target, or a refusal: relative, '..', '//', odd characters, or outside every root."""
    if not roots:
        raise ToolFailure(
            "Restoring to a new folder is off: no restore roots are configured. Ask the administrator to set "
            'restore.allowed_roots (e.g. ["/srv/restore"]) in config.toml or ZEROBYTE_MCP_RESTORE_ROOTS. '
            "For one file, read_snapshot_file needs no restore."
        )
    allowed = ", ".join(roots)
    text = target_path.strip() if isinstance(target_path, str) else ""
    if not text:
        raise ToolFailure(f"target_path is empty: give a folder under {allowed}.")
    if len(text) > MAX_PATH_LENGTH:
        raise ToolFailure(f"target_path is too long ({len(text)} characters, at most {MAX_PATH_LENGTH}).")
    if any(ord(c) < 32 or c in "\x7f\\" for c in text):
        raise ToolFailure("target_path contains control characters or a backslash: give a plain POSIX path.")
    if not text.startswith("/"):
        raise ToolFailure(f"target_path {text!r} is relative: give an absolute folder under {allowed}.")
    if text.startswith("//"):
        raise ToolFailure(f"target_path {text!r} starts with '//' (a network path): give a folder under {allowed}.")
    if any(part in ("..", ".", "~") for part in text.split("/")):
        raise ToolFailure(f"target_path {text!r} contains '..', '.' or '~': give the folder plainly, under {allowed}.")
    normal = posixpath.normpath(text)
    for root in roots:
        base = root.rstrip("/")
        if normal in (root, base) or normal.startswith(base + "/"):
            return normal
    raise ToolFailure(f"target_path {normal!r} is outside the allowed restore folders ({allowed}).")


def _clean_paths(paths: Sequence[str]) -> list[str]:
    if len(paths) > MAX_RESTORE_PATHS:
        raise ToolFailure(f"paths: at most {MAX_RESTORE_PATHS} per restore; restore their common folder instead.")
    clean: list[str] = []
    for p in paths:
        normal = check_absolute_path("paths", p)
        if normal not in clean:
            clean.append(normal)
    return clean


async def _path_kind(
    client: ZerobyteClient, repo: Repository, snap: Snapshot, paths: list[str], target: str | None
) -> Literal["file", "dir"]:
    """Every path must exist in the snapshot and be of one kind (Zerobyte restores one kind per call)."""
    kinds: dict[str, str] = {}
    for path in paths:
        try:
            page = await client.list_snapshot_files(repo.shortId, snap.short_id, path, limit=1)
        except ZerobyteError:
            page = None
        node = next((n for n in page.files if n.path.rstrip("/") == path.rstrip("/")), None) if page else None
        if node is None:
            raise ToolFailure(
                f"{path!r} is not in snapshot {snap.short_id}: list_snapshot_files or find_file shows what it holds. "
                "Nothing was restored."
            )
        kinds[path] = "dir" if node.type == "dir" else "file"
    found = set(kinds.values())
    if len(found) > 1:
        raise ToolFailure("paths mixes files and folders: restore files and folders in separate calls.")
    kind: Literal["file", "dir"] = "dir" if found == {"dir"} else "file"
    if kind == "dir" and len(paths) > 1 and target is not None:
        raise ToolFailure(
            "Restore one folder per call: a folder's contents land directly in target_path, so two folders would mix."
        )
    return kind


def _landing(paths: list[str], kind: str, target: str | None) -> list[str]:
    """Where each path lands, one line per path (see ``_destinations``)."""
    if target is None:
        return [f"{p} (original location)" for p in paths]
    return [
        f"{p} -> {dest}" if kind == "file" else f"contents of {p.rstrip('/')}/ -> {dest.rstrip('/')}/"
        for p, dest in zip(paths, _destinations(paths, kind, target), strict=True)
    ]


def _destinations(paths: list[str], kind: str, target: str | None) -> list[str]:
    """Where Zerobyte puts each path: below the target, relative to the paths' common folder.

    One file lands directly in the target; one folder's CONTENTS do; several paths keep their layout below
    their common folder (``/a/x.txt`` and ``/a/b/y.txt`` into ``/t`` give ``/t/x.txt`` and ``/t/b/y.txt``)."""
    if target is None:
        return list(paths)
    if len(paths) == 1:
        return [posixpath.join(target, posixpath.basename(paths[0])) if kind == "file" else target]
    ancestor = posixpath.commonpath(paths)
    return [posixpath.join(target, posixpath.relpath(p, ancestor)) for p in paths]


def _restore_body(snapshot_id: str, paths: list[str], kind: str, target: str | None, overwrite: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "snapshotId": snapshot_id,
        "include": paths,
        "selectedItemKind": kind,
        "overwrite": overwrite,
    }
    if target is not None:
        body["targetPath"] = target
    return body


async def _do_restore(
    ctx: Ctx,
    client: ZerobyteClient,
    repo: Repository,
    snap: Snapshot,
    body: dict[str, Any],
    landed: list[str],
    wait: bool,
    wait_seconds: float | None,
) -> RestoreResult:
    try:
        started = await client.restore(repo.shortId, body)
    except Conflict as exc:
        raise await _already_running(
            client, exc, f"A restore of snapshot {snap.short_id}", "restore", "repository", repo.shortId
        ) from None
    where = body.get("targetPath") or "the original location"
    if not (await app_of(ctx).get_capabilities()).tasks_api:
        # v0.40 names a restore id, but there is no task behind it to follow.
        step = (
            f"This Zerobyte (v0.40) has no tasks API, so the restore cannot be followed: look for the files in "
            f"{where} in a while (see landed); upgrade Zerobyte to v0.41+ to follow restores."
        )
        view = TaskOutcome(
            id=f"{started.taskId} (restore id; no task on v0.40)",
            kind="restore",
            status="started",
            outcome="running",
            target=f"repository {repo.name!r} ({repo.shortId})",
            next_step=step,
        )
        message = f"Restore of snapshot {snap.short_id} into {where} started; Zerobyte v0.40 cannot report its end."
        return RestoreResult(outcome="running", message=message, task=view, landed=landed)
    outcome, final = await _run_task(ctx, started, "restore", {repo.shortId: repo.name}, wait, wait_seconds)
    if final is not None and outcome.outcome == "success":
        return _restore_report(outcome, snap, body, landed)
    message = _unfinished(f"Restore of snapshot {snap.short_id} into {where}", outcome)
    return RestoreResult(outcome=outcome.outcome, message=message, task=outcome, landed=landed)


def _restore_report(outcome: TaskOutcome, snap: Snapshot, body: dict[str, Any], planned: list[str]) -> RestoreResult:
    """What a finished restore really wrote, from restic's summary.

    restic leaves existing files alone (overwrite=never, or identical content) and says so only in its
    counters: a restore over an existing file ends "succeeded" with 0 files restored. Its ``files_restored``
    also counts the folders it created, so for folders the answer speaks of bytes and skipped files only."""
    target = body.get("targetPath")
    where = target or "the original location"
    kind, overwrite = body["selectedItemKind"], body.get("overwrite") or "always"
    counts = outcome.result
    head = f"from snapshot {snap.short_id} into {where}"
    if counts is None or (counts.files_restored, counts.files_skipped, counts.bytes_restored) == (None, None, None):
        return RestoreResult(outcome="success", message=f"Restored {head}.", task=outcome, landed=planned)
    # restic leaves zero counters out of its summary.
    restored, skipped = counts.files_restored or 0, counts.files_skipped or 0
    if kind == "file":
        written: int | None = 0 if restored == 0 else max(0, len(planned) - skipped)
        kept = len(planned) - (written or 0)
        nothing = written == 0
    else:
        written = None  # restic's count mixes files and folders; a folder restore reports bytes instead
        nothing = restored == 0 or (skipped > 0 and not counts.bytes_restored)
        kept = skipped
    counts.files_restored, counts.files_skipped = written, kept or None
    state, advice = {
        "never": ("already exists", "; restore into a new folder (a target_path that does not exist yet)"),
        "if-newer": ("is not older than the snapshot's version", " (overwrite=if-newer keeps it)"),
    }.get(overwrite, ("is already identical to the snapshot's version", ""))
    if nothing:
        places = ", ".join(_destinations(body["include"], kind, target))
        lines = [f"{line}: {state}" for line in planned]
        if overwrite in ("always", "if-changed"):
            # Identical content is what the restore asked for: done, with nothing to write.
            message = f"Nothing to write: {places} {state} ({head})."
            return RestoreResult(outcome="success", message=message, task=outcome, not_restored=lines)
        message = f"Not restored: {state} at {places}{advice}. Nothing was written {head}."
        return RestoreResult(outcome="skipped", message=message, task=outcome, not_restored=lines)
    size = f" ({_bytes(counts.bytes_restored)} written)"
    if kept == 0:
        amount = f"{written} file(s)" if written is not None else "the folder's contents"
        message = f"Restored {amount} {head}{'' if written is not None else size}."
        return RestoreResult(outcome="success", message=message, task=outcome, landed=planned)
    amount = f"{written} of {len(planned)} files" if written is not None else "part of the folder"
    identical = overwrite in ("always", "if-changed")  # what was left alone already matches the snapshot
    tail = (
        f"{kept} file(s) already identical to the snapshot's version, left as they were"
        if identical
        else f"{kept} file(s) not restored: {state} in {where}{advice}"
    )
    message = f"Restored {amount} {head}{'' if written is not None else size}; {tail}."
    result = "success" if identical else "partial"
    if kind == "file":
        # restic does not say which of the files it kept, so none is claimed as written.
        return RestoreResult(
            outcome=result, message=message, task=outcome, not_restored=[f"{kept} of: {', '.join(planned)}"]
        )
    return RestoreResult(
        outcome=result,
        message=message,
        task=outcome,
        landed=[f"{line} (except {kept} existing file(s))" for line in planned],
        not_restored=[f"{kept} file(s) in {where}: {state}"],
    )


def _bytes(value: int | None) -> str:
    return human_bytes(value) or "0 B"


# --- destructive: retention and snapshots ---------------------------------------------------------


@tool(title="Apply retention", destructive=True, idempotent=False)
async def apply_retention(
    ctx: Ctx,
    job_id: JobArg,
    answer: Annotated[ElicitationResult[Any], Resolve(_retention_preview)],
    confirm_token: TokenArg = None,
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> TaskActionResult:
    """Apply a job's retention policy now (forget + prune); previews the snapshots that go. Confirmed."""
    decision = decide(answer, "apply_retention", TaskActionResult)
    if not isinstance(decision, Gate):
        return decision
    client = client_of(ctx)
    job = await client.get_backup_job(job_id)
    rid = await client.job_repository(job)
    before = [s.short_id for s in await client.list_snapshots(rid) if job.shortId in s.tags] if rid else []
    try:
        started = await client.run_forget(job.shortId)
    except Conflict as exc:
        raise await _already_running(
            client, exc, f"Retention for job {job.name!r} ({job.shortId})", "forget", "backup_schedule", job.shortId
        ) from None
    if started is None:
        # v0.40/v0.41 answer /forget only once it is done, and with no task: what went is before minus after.
        remaining = {s.short_id for s in await client.list_snapshots(rid) if job.shortId in s.tags} if rid else set()
        gone = [sid for sid in before if sid not in remaining]
        return TaskActionResult(outcome="success", message=_retention_done(job, gone, len(remaining)))
    outcome, final = await _run_task(ctx, started, "forget", {job.shortId: job.name}, wait, wait_seconds)
    if final is None or outcome.outcome != "success":
        message = _unfinished(f"Retention for backup job {job.name!r}", outcome)
        return TaskActionResult(outcome=outcome.outcome, message=message, task=outcome)
    # What happened is read from the repository afterwards, not taken from the preview.
    remaining = {s.short_id for s in await client.list_snapshots(rid) if job.shortId in s.tags} if rid else set()
    gone = [sid for sid in before if sid not in remaining]
    planned = [i.id for i in decision.preview.items] if decision.preview else []
    message = _retention_done(job, gone, len(remaining))
    if sorted(gone) != sorted(planned):
        message += f" The preview had named {len(planned)} ({', '.join(planned) or 'none'})."
    return TaskActionResult(outcome=outcome.outcome, message=message, task=outcome)


def _retention_done(job: BackupJob, gone: list[str], kept: int) -> str:
    return (
        f"Retention applied to backup job {job.name!r}: {len(gone)} snapshot(s) forgotten and pruned"
        + (f" ({', '.join(gone)})" if gone else "")
        + f"; {kept} kept."
    )


@confirmed("apply_retention")
async def _retention_preview(ctx: Ctx, job_id: str, confirm_token: str | None) -> Preview:
    client = client_of(ctx)
    job = await client.get_backup_job(job_id)
    policy = policy_of(job)
    if policy is None or policy.empty():
        raise ToolFailure(
            f"Backup job {job.name!r} ({job.shortId}) has no retention policy, so there is nothing to apply."
        )
    rid = await client.job_repository(job)
    if rid is None:
        raise ToolFailure(f"Backup job {job.shortId!r} names no repository Zerobyte knows.")
    # Computed by us from the policy and the live list: Zerobyte's cached retentionCategories are stale
    # after a policy change, and a preview that misses a snapshot would let it go unconfirmed.
    listed = await client.list_snapshots(rid)
    mine = [s for s in snaps(listed) if job.shortId in s.tags]
    going = forget_plan(mine, policy, tag=job.shortId, now_ms=now_ms())
    if not going:
        raise ToolFailure(
            f"Nothing to forget: the retention of backup job {job.name!r} ({job.shortId}) keeps all {len(mine)} of "
            f"its snapshots ({policy}). Nothing was changed."
        )
    effects = [
        f"Forgets {len(going)} of {len(mine)} snapshots and prunes data only they use; "
        f"{len(mine) - len(going)} are kept ({policy}).",
        "Forgotten snapshots cannot be restored afterwards.",
    ]
    if len(going) == len(mine):
        effects.append("Warning: EVERY snapshot of this job would be removed.")
    repo = _repo_label(rid, job.repository)
    return Preview(
        action=f"Apply retention of backup job {job.name!r} ({job.shortId}) to repository {repo}",
        effects=effects,
        items=snapshot_items(going, listed, note=f"job {job.name}"),
    )


@tool(title="Delete snapshots", destructive=True, idempotent=True)
async def delete_snapshots(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_ids: SnapshotIdsArg,
    answer: Annotated[ElicitationResult[Any], Resolve(_delete_snapshots_preview)],
    confirm_token: TokenArg = None,
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> TaskActionResult:
    """Delete snapshots for good (forget + prune); previews them with time and size. Confirmed."""
    decision = decide(answer, "delete_snapshots", TaskActionResult)
    if not isinstance(decision, Gate):
        return decision
    assert decision.preview is not None
    ids = [i.id for i in decision.preview.items]
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    started = await client.delete_snapshots(repo.shortId, ids)
    outcome, final = await _run_task(ctx, started, "deleteSnapshots", {repo.shortId: repo.name}, wait, wait_seconds)
    if started is None:
        # v0.40 answers only {message}: the listing shows whether the snapshots are really gone.
        left = {s.short_id for s in await client.list_snapshots(repo.shortId)} & set(ids)
        if left:
            outcome.outcome = "error"
            outcome.error = f"still listed: {', '.join(sorted(left))}"
            message = _unfinished(f"Deleting {len(ids)} snapshot(s) from {repo.name!r}", outcome)
        else:
            message = (
                f"Deleted {len(ids)} snapshot(s) from repository {repo.name!r}: {', '.join(ids)} "
                "(done synchronously by Zerobyte v0.40)."
            )
    elif final is None or outcome.outcome != "success":
        message = _unfinished(f"Deleting {len(ids)} snapshot(s) from {repo.name!r}", outcome)
    else:
        # Zerobyte "deletes" a missing id with a succeeded task (samples 80-81): the listing says what went.
        left = {s.short_id for s in await client.list_snapshots(repo.shortId)} & set(ids)
        gone = [sid for sid in ids if sid not in left]
        message = f"Deleted {len(gone)} snapshot(s) from repository {repo.name!r}: {', '.join(gone) or 'none'}."
        if left:
            outcome.outcome = "partial"
            message += f" Still listed after the task succeeded: {', '.join(sorted(left))}."
    return TaskActionResult(outcome=outcome.outcome, message=message, task=outcome)


@confirmed("delete_snapshots")
async def _delete_snapshots_preview(
    ctx: Ctx, repository_id: str, snapshot_ids: list[str], confirm_token: str | None
) -> Preview:
    client = client_of(ctx)
    wanted = [check_snapshot_id("snapshot_ids", s) for s in snapshot_ids]
    repo = await client.get_repository(repository_id)
    snaps = await client.list_snapshots(repo.shortId)
    # Zerobyte "deletes" a missing id with a succeeded task, so existence is checked here.
    targets = _match_snapshots(snaps, wanted, repo)
    jobs = await _jobs_by_tag(client)
    items = [_snapshot_item(s, jobs) for s in sorted(targets, key=lambda s: s.time)]
    effects = [
        f"Runs restic forget --prune: the {len(targets)} snapshot(s) and data only they use are removed for good.",
        f"{len(snaps) - len(targets)} snapshot(s) remain in the repository.",
    ]
    for tag, job in sorted(jobs.items()):
        of_job = [s for s in snaps if tag in s.tags]
        if of_job and max(of_job, key=lambda s: s.time) in targets:
            effects.append(f"Includes the newest snapshot of backup job {job.name!r} ({job.shortId}).")
    return Preview(
        action=f"Delete {len(targets)} snapshot(s) from repository {repo.name!r} ({repo.shortId})",
        effects=effects,
        items=items,
    )


# --- destructive: objects ------------------------------------------------------------------------


@tool(title="Delete a backup job", destructive=True, idempotent=True)
async def delete_backup_job(
    ctx: Ctx,
    job_id: JobArg,
    answer: Annotated[ElicitationResult[Any], Resolve(_job_preview)],
    confirm_token: TokenArg = None,
) -> ActionResult:
    """Delete a backup job with its mirror and notification links; snapshots stay. Confirmed."""
    decision = decide(answer, "delete_backup_job", ActionResult)
    if not isinstance(decision, Gate):
        return decision
    client = client_of(ctx)
    job = await client.get_backup_job(job_id)
    await client.delete_backup_job(job.shortId)
    return ActionResult(outcome="done", message=_done(decision, f"Deleted backup job {job.name!r} ({job.shortId})."))


@confirmed("delete_backup_job")
async def _job_preview(ctx: Ctx, job_id: str, confirm_token: str | None) -> Preview:
    client = client_of(ctx)
    job = await client.get_backup_job(job_id)
    mirrors, links, active = await gather(
        [
            client.get_job_mirrors(job.shortId),
            client.get_job_notifications(job.shortId),
            client.list_tasks(resource_type="backup_schedule", resource_id=job.shortId),
        ]
    )
    repo = job.repository.name if job.repository else job.repositoryId
    effects = [
        f"Its schedule ({job.cronExpression or 'manual only'}) stops; {_count(len(mirrors), 'mirror link')} and "
        f"{_count(len(links), 'notification link')} go with it.",
        f"Existing snapshots stay in repository {repo!r} but are no longer listed or pruned for this job.",
    ]
    if active:
        effects.append(f"A {active[0].kind} task of this job is {active[0].status} right now ({active[0].id}).")
    items = [
        PreviewItem(kind="mirror", id=m.repositoryId, name=m.repository.name if m.repository else None) for m in mirrors
    ]
    items += [
        PreviewItem(
            kind="notification_link", id=str(a.destinationId), name=a.destination.name if a.destination else None
        )
        for a in links
    ]
    return Preview(action=f"Delete backup job {job.name!r} ({job.shortId})", effects=effects, items=items)


@tool(title="Delete a volume", destructive=True, idempotent=True)
async def delete_volume(
    ctx: Ctx,
    volume_id: Annotated[str, Field(description="Volume short id (see list_volumes)")],
    answer: Annotated[ElicitationResult[Any], Resolve(_volume_preview)],
    confirm_token: TokenArg = None,
) -> ActionResult:
    """Delete a volume and the backup jobs using it (listed in the preview). Confirmed."""
    decision = decide(answer, "delete_volume", ActionResult)
    if not isinstance(decision, Gate):
        return decision
    client = client_of(ctx)
    volume = (await client.get_volume(volume_id)).volume
    await client.delete_volume(volume.shortId)
    return ActionResult(outcome="done", message=_done(decision, f"Deleted volume {volume.name!r} ({volume.shortId})."))


@confirmed("delete_volume")
async def _volume_preview(ctx: Ctx, volume_id: str, confirm_token: str | None) -> Preview:
    client = client_of(ctx)
    volume = (await client.get_volume(volume_id)).volume
    jobs = [
        j
        for j in await client.list_backup_jobs()
        if (j.volume is not None and j.volume.shortId == volume.shortId)
        or (j.volumeId is not None and str(j.volumeId) in (str(volume.id), volume.shortId))
    ]
    mirrors = await _mirrors_of(client, jobs)
    effects = [_cascade("use it", jobs, sum(len(m) for m in mirrors.values()))]
    effects.append(
        "Zerobyte unmounts it; the source files themselves are not touched, and snapshots stay in their repositories."
    )
    return Preview(
        action=f"Delete volume {volume.name!r} ({volume.shortId})",
        effects=effects,
        items=_job_items(jobs, mirrors),
    )


@tool(title="Delete a repository", destructive=True, idempotent=True)
async def delete_repository(
    ctx: Ctx,
    repository_id: RepoArg,
    answer: Annotated[ElicitationResult[Any], Resolve(_repository_preview)],
    confirm_token: TokenArg = None,
) -> ActionResult:
    """Delete a repository with the jobs and mirrors using it; the restic data stays. Confirmed."""
    decision = decide(answer, "delete_repository", ActionResult)
    if not isinstance(decision, Gate):
        return decision
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    await client.delete_repository(repo.shortId)
    return ActionResult(outcome="done", message=_done(decision, f"Deleted repository {repo.name!r} ({repo.shortId})."))


@confirmed("delete_repository")
async def _repository_preview(ctx: Ctx, repository_id: str, confirm_token: str | None) -> Preview:
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    all_jobs = await client.list_backup_jobs()
    primary = [j for j in all_jobs if j.writes_to(repo)]
    mirrors = await _mirrors_of(client, all_jobs)
    own_mirrors = sum(len(mirrors.get(j.shortId, [])) for j in primary)
    mirrored_here = [j for j in all_jobs if j not in primary and repo.shortId in mirrors.get(j.shortId, [])]
    effects = [_cascade("use it", primary, own_mirrors)] if primary else ["No backup job writes to it."]
    if mirrored_here:
        names = _names(mirrored_here)
        effects.append(
            f"{_count(len(mirrored_here), 'mirror')} into it (from {names}) will be removed; those jobs stay."
        )
    location = repository_summary(repo).location
    effects.append(
        f"The restic data stays in {location or 'its storage'}: Zerobyte does not delete it (re-add it as an "
        "existing repository to use it again)."
    )
    items = _job_items(primary, mirrors)
    items += [PreviewItem(kind="mirror", id=j.shortId, name=j.name, note="mirror link removed") for j in mirrored_here]
    return Preview(action=f"Delete repository {repo.name!r} ({repo.shortId})", effects=effects, items=items)


@tool(title="Delete notification destination", destructive=True, idempotent=True)
async def delete_notification_destination(
    ctx: Ctx,
    destination_id: Annotated[int, Field(description="Destination id (integer)", ge=1)],
    answer: Annotated[ElicitationResult[Any], Resolve(_destination_preview)],
    confirm_token: TokenArg = None,
) -> ActionResult:
    """Delete a notification destination; jobs using it stop notifying it. Confirmed."""
    decision = decide(answer, "delete_notification_destination", ActionResult)
    if not isinstance(decision, Gate):
        return decision
    client = client_of(ctx)
    dest = await client.get_destination(destination_id)
    await client.delete_destination(dest.id)
    return ActionResult(
        outcome="done", message=_done(decision, f"Deleted notification destination {dest.name!r} ({dest.id}).")
    )


@confirmed("delete_notification_destination")
async def _destination_preview(ctx: Ctx, destination_id: int, confirm_token: str | None) -> Preview:
    client = client_of(ctx)
    dest = await client.get_destination(destination_id)
    jobs = await client.list_backup_jobs()
    links = await gather((client.get_job_notifications(j.shortId) for j in jobs), limit=6)
    users = [j for j, assigned in zip(jobs, links, strict=True) if any(a.destinationId == dest.id for a in assigned)]
    if users:
        effect = (
            f"{_names(users)} notif{'y' if len(users) > 1 else 'ies'} it; they stop (their other destinations stay)."
        )
    else:
        effect = "No backup job notifies it."
    return Preview(
        action=f"Delete notification destination {dest.name!r} ({dest.id}, {dest.type or 'unknown type'})",
        effects=[effect],
        items=[PreviewItem(kind="backup_job", id=j.shortId, name=j.name, note="loses this destination") for j in users],
    )


# --- helpers -------------------------------------------------------------------------------------


async def _run_task(
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


async def _already_running(
    client: ZerobyteClient, exc: Conflict, what: str, kind: str, resource_type: str, resource_id: str
) -> ToolFailure:
    """A 409 'already running', explained with the running task and what to do about it."""
    try:
        tasks = await client.list_tasks(kind=kind, resource_type=resource_type, resource_id=resource_id)
    except ZerobyteError:
        tasks = []
    if not tasks:
        return ToolFailure(f"{exc} No active {kind} task shows for it now (it may just have ended): retry.")
    return _running_task_failure(what, tasks[0])


def _running_task_failure(what: str, t: Task) -> ToolFailure:
    """'<what> is already running: task …', with how to follow or stop that task."""
    progress = task_progress(t)
    done = f", {progress.percent:g}% done" if progress is not None and progress.percent is not None else ""
    since = iso_from_ms(t.startedAt or t.createdAt)
    return ToolFailure(
        f"{what} is already running: task {t.id} ({t.status}{done}, since {since}). Call "
        f"wait_for_task(task_id='{t.id}') to follow it, or cancel_task to stop it."
    )


def _match_snapshots(snaps: list[Snapshot], wanted: list[str], repo: Repository) -> list[Snapshot]:
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


def _snapshot_item(s: Snapshot, jobs: dict[str, BackupJob] | None = None) -> PreviewItem:
    job_names = [jobs[t].name for t in s.tags if jobs and t in jobs]
    other_tags = [t for t in s.tags if not jobs or t not in jobs]
    note_parts = ([f"job {', '.join(job_names)}"] if job_names else []) + (
        [f"tags {', '.join(other_tags)}"] if other_tags else []
    )
    return PreviewItem(
        kind="snapshot",
        id=s.short_id,
        time=iso_from_ms(s.time),
        size=int(s.size) if s.size is not None else None,
        note="; ".join(note_parts) or None,
    )


async def _jobs_by_tag(client: ZerobyteClient, *, strict: bool = False) -> dict[str, BackupJob]:
    """Backup jobs by the tag their snapshots carry (the job's short id); {} if the list fails (unless strict:
    a gate must not conclude "no job is affected" from a failed list)."""
    try:
        return {j.shortId: j for j in await client.list_backup_jobs()}
    except ZerobyteError:
        if strict:
            raise
        return {}


async def _detached_from_jobs(client: ZerobyteClient, before: list[Snapshot], after: list[Retagged]) -> str | None:
    jobs = await _jobs_by_tag(client)
    lost: list[str] = []
    for old, new in zip(before, after, strict=True):
        for tag in old.tags:
            if tag in jobs and new.new_id is not None and tag not in new.tags:
                lost.append(f"{new.new_id} left job {jobs[tag].name!r}")
    if not lost:
        return None
    return (
        "Removing a job's tag detaches snapshots from that job's list and retention: "
        + "; ".join(lost)
        + ". add_tags with the job's short id re-attaches them."
    )


def _tags(argument: str, values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    if len(values) > 50:
        raise ToolFailure(f"{argument}: at most 50 tags.")
    clean: list[str] = []
    for v in values:
        text = v.strip()
        if not text or len(text) > 100 or "," in text or any(c.isspace() or ord(c) < 32 for c in text):
            raise ToolFailure(f"{argument}: {v!r} is not a valid tag (1-100 characters, no spaces or commas).")
        if text not in clean:
            clean.append(text)
    return clean


async def _mirrors_of(client: ZerobyteClient, jobs: list[BackupJob]) -> dict[str, list[str]]:
    """Job short id -> mirror repository short ids."""
    found = await gather((client.get_job_mirrors(j.shortId) for j in jobs), limit=6)
    return {j.shortId: [m.repositoryId for m in mirrors] for j, mirrors in zip(jobs, found, strict=True)}


def _job_items(jobs: list[BackupJob], mirrors: dict[str, list[str]]) -> list[PreviewItem]:
    items: list[PreviewItem] = []
    for j in jobs:
        own = mirrors.get(j.shortId, [])
        items.append(
            PreviewItem(
                kind="backup_job",
                id=j.shortId,
                name=j.name,
                note=f"deleted, with {_count(len(own), 'mirror')}" if own else "deleted",
            )
        )
    return items


def _cascade(verb: str, jobs: list[BackupJob], mirror_count: int) -> str:
    if not jobs:
        return "No backup job uses it."
    jobs_text = f"Backup job{'s' if len(jobs) > 1 else ''} {_names(jobs)}"
    mirrors_text = f" and {_count(mirror_count, 'mirror')}" if mirror_count else ""
    plural = len(jobs) > 1 or mirror_count > 0
    return f"{jobs_text}{mirrors_text} {verb if plural else 'uses it'} and will be deleted with it."


def _names(jobs: list[BackupJob]) -> str:
    quoted = [repr(j.name) for j in jobs]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _unfinished(what: str, outcome: TaskOutcome) -> str:
    if outcome.outcome == "running":
        return f"{what} is still running (task {outcome.id}). {outcome.next_step or ''}".strip()
    detail = outcome.error or outcome.warnings
    return f"{what} ended: {outcome.outcome}" + (f" ({detail})." if detail else ".")


def _done(decision: Gate, first: str) -> str:
    effects = decision.preview.effects if decision.preview else []
    return " ".join([first, *effects])


def _repo_label(short_id: str, repo: Repository | None) -> str:
    return f"{repo.name!r} ({short_id})" if repo is not None else short_id
