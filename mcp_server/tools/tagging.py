"""Tagging snapshots: add, remove or set tags, and map each tagged snapshot's old id to its new one.

restic rewrites a tagged snapshot (new id, same time), so the tool always follows the task and reads the
new ids from the listing afterwards. Tags decide which job a snapshot counts under: tagging that makes a
job's retention forget snapshots is confirmed like any destructive change (``confirmed_if_forgetting``),
and removing a job's tag is reported as detaching the snapshot from that job.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Resolve
from pydantic import BaseModel, ConfigDict, Field

from ..answers.output import iso_from_ms
from ..safety.retention import Snap, newly_forgotten
from ..zerobyte import ZerobyteClient
from ..zerobyte.ids import check_snapshot_id
from ..zerobyte.models import Snapshot
from .acting import RepoArg, SnapshotIdsArg, WaitSecondsArg, jobs_by_tag, pick_snapshots, run_task
from .base import Ctx, ToolFailure, client_of, tool
from .confirm import ActionResult, Gate, Preview, decide
from .follow import TaskOutcome
from .forgetting import confirmed_if_forgetting, forget_effects, now_ms, policy_of, snaps, snapshot_items

__all__ = ["Retagged", "TagResult", "tag_snapshots"]

TagsArg = Annotated[list[str] | None, Field(description="Tags")]


class Retagged(BaseModel):
    old_id: str
    new_id: str | None = None
    time: str | None = None
    tags: list[str] = Field(default_factory=list)


class TagResult(TaskOutcome):
    model_config = ConfigDict(extra="allow")  # preview, confirm_token and expires_at when confirmation is needed

    retagged: list[Retagged] = Field(default_factory=list, description="Tagging gives snapshots new ids")


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
    repo, listed, picked = await pick_snapshots(client, repository_id, wanted)
    targets = {s.short_id for s in picked}
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
    for job in (await jobs_by_tag(client, strict=True)).values():
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
    repo, _, targets = await pick_snapshots(client, repository_id, wanted)
    started = await client.tag_snapshots(
        repo.shortId, [s.short_id for s in targets], add=add or None, remove=remove or None, set_tags=replace_all
    )
    # Always followed: the new ids are only known once the task has ended.
    outcome, final = await run_task(ctx, started, "tagSnapshots", {repo.shortId: repo.name}, True, wait_seconds)
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


async def _detached_from_jobs(client: ZerobyteClient, before: list[Snapshot], after: list[Retagged]) -> str | None:
    jobs = await jobs_by_tag(client)
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
