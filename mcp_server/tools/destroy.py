"""Destructive tools (level full, each confirmed): retention now, snapshot deletes, and object deletes.

Every preview is built from live data, so the human confirms what will really go: the snapshots a
retention run forgets (computed from the job's policy and the current list), the snapshots a delete
removes (checked to exist: Zerobyte "deletes" a missing id with a succeeded task), and the cascades of
deleting a volume, repository, backup job or notification destination (the jobs, mirrors and links
that go with it). After a task, the answer says what went from the listing, not from the preview.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Resolve
from pydantic import Field

from ..answers.concurrency import gather
from ..answers.output import iso_from_ms
from ..safety.retention import forget_plan
from ..zerobyte import ZerobyteClient
from ..zerobyte.ids import check_snapshot_id
from ..zerobyte.models import BackupJob, Snapshot
from .acting import (
    JobArg,
    RepoArg,
    SnapshotIdsArg,
    TaskActionResult,
    TokenArg,
    WaitArg,
    WaitSecondsArg,
    jobs_by_tag,
    pick_snapshots,
    repo_label,
    run_task,
    start,
    unfinished,
)
from .base import Ctx, ToolFailure, client_of, tool
from .confirm import ActionResult, Gate, Preview, PreviewItem, confirmed, decide
from .forgetting import now_ms, policy_of, snaps, snapshot_items
from .repositories import repository_summary

__all__ = [
    "apply_retention",
    "delete_backup_job",
    "delete_notification_destination",
    "delete_repository",
    "delete_snapshots",
    "delete_volume",
]

T = TypeVar("T")


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
    before = await _snapshots_of(client, job, rid)
    what = f"Retention for job {job.name!r} ({job.shortId})"
    started = await start(client, client.run_forget(job.shortId), what, "forget", "backup_schedule", job.shortId)
    if started is None:
        # v0.40/v0.41 answer /forget only once it is done, and with no task: what went is before minus after.
        remaining = set(await _snapshots_of(client, job, rid))
        gone = [sid for sid in before if sid not in remaining]
        return TaskActionResult(outcome="success", message=_retention_done(job, gone, len(remaining)))
    outcome, final = await run_task(ctx, started, "forget", {job.shortId: job.name}, wait, wait_seconds)
    if final is None or outcome.outcome != "success":
        message = unfinished(f"Retention for backup job {job.name!r}", outcome)
        return TaskActionResult(outcome=outcome.outcome, message=message, task=outcome)
    # What happened is read from the repository afterwards, not taken from the preview.
    remaining = set(await _snapshots_of(client, job, rid))
    gone = [sid for sid in before if sid not in remaining]
    planned = [i.id for i in decision.preview.items] if decision.preview else []
    message = _retention_done(job, gone, len(remaining))
    if sorted(gone) != sorted(planned):
        message += f" The preview had named {len(planned)} ({', '.join(planned) or 'none'})."
    return TaskActionResult(outcome=outcome.outcome, message=message, task=outcome)


async def _snapshots_of(client: ZerobyteClient, job: BackupJob, rid: str | None) -> list[str]:
    """Short ids of the job's snapshots in its repository ``rid`` (none when it has no repository)."""
    return [s.short_id for s in await client.list_snapshots(rid) if job.shortId in s.tags] if rid else []


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
    repo = repo_label(rid, job.repository)
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
    outcome, final = await run_task(ctx, started, "deleteSnapshots", {repo.shortId: repo.name}, wait, wait_seconds)
    if started is None:
        # v0.40 answers only {message}: the listing shows whether the snapshots are really gone.
        left = await _still_listed(client, repo.shortId, ids)
        if left:
            outcome.outcome = "error"
            outcome.error = f"still listed: {', '.join(sorted(left))}"
            message = unfinished(f"Deleting {len(ids)} snapshot(s) from {repo.name!r}", outcome)
        else:
            message = (
                f"Deleted {len(ids)} snapshot(s) from repository {repo.name!r}: {', '.join(ids)} "
                "(done synchronously by Zerobyte v0.40)."
            )
    elif final is None or outcome.outcome != "success":
        message = unfinished(f"Deleting {len(ids)} snapshot(s) from {repo.name!r}", outcome)
    else:
        # Zerobyte "deletes" a missing id with a succeeded task: the listing says what went.
        left = await _still_listed(client, repo.shortId, ids)
        gone = [sid for sid in ids if sid not in left]
        message = f"Deleted {len(gone)} snapshot(s) from repository {repo.name!r}: {', '.join(gone) or 'none'}."
        if left:
            outcome.outcome = "partial"
            message += f" Still listed after the task succeeded: {', '.join(sorted(left))}."
    return TaskActionResult(outcome=outcome.outcome, message=message, task=outcome)


async def _still_listed(client: ZerobyteClient, repository: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` the repository still lists."""
    return {s.short_id for s in await client.list_snapshots(repository)} & set(ids)


@confirmed("delete_snapshots")
async def _delete_snapshots_preview(
    ctx: Ctx, repository_id: str, snapshot_ids: list[str], confirm_token: str | None
) -> Preview:
    client = client_of(ctx)
    wanted = [check_snapshot_id("snapshot_ids", s) for s in snapshot_ids]
    # Zerobyte "deletes" a missing id with a succeeded task, so existence is checked here.
    repo, snaps, targets = await pick_snapshots(client, repository_id, wanted)
    jobs = await jobs_by_tag(client)
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
    return _deleted(decision, f"backup job {job.name!r} ({job.shortId})")


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
    return _deleted(decision, f"volume {volume.name!r} ({volume.shortId})")


@confirmed("delete_volume")
async def _volume_preview(ctx: Ctx, volume_id: str, confirm_token: str | None) -> Preview:
    client = client_of(ctx)
    volume = (await client.get_volume(volume_id)).volume
    jobs = [j for j in await client.list_backup_jobs() if j.reads(volume)]
    mirrors = await _mirrors_of(client, jobs)
    effects = [_cascade(jobs, mirrors)]
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
    return _deleted(decision, f"repository {repo.name!r} ({repo.shortId})")


@confirmed("delete_repository")
async def _repository_preview(ctx: Ctx, repository_id: str, confirm_token: str | None) -> Preview:
    client = client_of(ctx)
    repo = await client.get_repository(repository_id)
    all_jobs = await client.list_backup_jobs()
    primary = [j for j in all_jobs if j.writes_to(repo)]
    mirrors = await _mirrors_of(client, all_jobs)
    mirrored_here = [j for j in all_jobs if j not in primary and repo.shortId in mirrors.get(j.shortId, [])]
    effects = [_cascade(primary, mirrors)] if primary else ["No backup job writes to it."]
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
    return _deleted(decision, f"notification destination {dest.name!r} ({dest.id})")


@confirmed("delete_notification_destination")
async def _destination_preview(ctx: Ctx, destination_id: int, confirm_token: str | None) -> Preview:
    client = client_of(ctx)
    dest = await client.get_destination(destination_id)
    jobs = await client.list_backup_jobs()
    links = await _of_each(jobs, client.get_job_notifications)
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


async def _of_each(jobs: list[BackupJob], lookup: Callable[[str], Awaitable[T]]) -> list[T]:
    """``lookup`` of each job's short id, a few at a time; answers in the jobs' order."""
    return await gather((lookup(j.shortId) for j in jobs), limit=6)


async def _mirrors_of(client: ZerobyteClient, jobs: list[BackupJob]) -> dict[str, list[str]]:
    """Job short id -> mirror repository short ids."""
    found = await _of_each(jobs, client.get_job_mirrors)
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


def _cascade(jobs: list[BackupJob], mirrors: dict[str, list[str]]) -> str:
    """The jobs (and their mirrors) deleted with the volume or repository they use."""
    if not jobs:
        return "No backup job uses it."
    mirror_count = sum(len(mirrors.get(j.shortId, [])) for j in jobs)
    jobs_text = f"Backup job{'s' if len(jobs) > 1 else ''} {_names(jobs)}"
    mirrors_text = f" and {_count(mirror_count, 'mirror')}" if mirror_count else ""
    plural = len(jobs) > 1 or mirror_count > 0
    return f"{jobs_text}{mirrors_text} {'use it' if plural else 'uses it'} and will be deleted with it."


def _names(jobs: list[BackupJob]) -> str:
    quoted = [repr(j.name) for j in jobs]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _deleted(decision: Gate, what: str) -> ActionResult:
    """'Deleted <what>.' and what the confirmed preview said goes with it."""
    effects = decision.preview.effects if decision.preview else []
    return ActionResult(outcome="done", message=" ".join([f"Deleted {what}.", *effects]))
