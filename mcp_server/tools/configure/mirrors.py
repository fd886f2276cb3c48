"""The mirror tool: copy a backup job's snapshots to another repository after each backup, pause or remove it.

Zerobyte's mirror PUT replaces the job's whole list, so ``set_mirror`` reads the list and sends it back
with one mirror changed. Each mirror sync forgets by the job's retention on the mirror repository: turning
on a mirror to a repository that already holds the job's snapshots is previewed and confirmed when the
policy would forget some there (:func:`_mirror_preview`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Resolve
from pydantic import Field

from ...answers.output import iso
from ...safety.retention import newly_forgotten
from ...zerobyte import ZerobyteClient
from ...zerobyte.errors import NotFound
from ...zerobyte.ids import check_job_id, check_short_id
from ...zerobyte.models import Mirror
from ..base import Ctx, ToolFailure, client_of, tool
from ..confirm import ActionResult, Gate, Preview, decide
from ..forgetting import confirmed_if_forgetting, forget_effects, now_ms, policy_of, snaps, snapshot_items
from .common import Change, JobId, clean, reply

__all__ = ["set_mirror"]


def _mirrors(mirrors: list[Mirror]) -> list[str]:
    out = []
    for m in mirrors:
        repo = m.repository
        text = f"{repo.name if repo else '?'} ({m.repositoryId}){'' if m.enabled else ' [disabled]'}"
        sync = m.last_sync
        if sync:
            text += f", last sync {sync.get('status') or '?'} {iso(sync.get('finishedAt')) or ''}".rstrip()
            if sync.get("error"):
                text += f": {clean(str(sync['error']), 160)}"
        out.append(text)
    return out


async def _mirror_preview(client: ZerobyteClient, job_id: str, repository_id: str) -> Preview | None:
    """Snapshots with the job's tag already in the would-be mirror that its retention would forget there
    (each mirror sync forgets by the job's policy on the mirror); None when there are none."""
    jid = check_job_id("job_id", job_id)
    rid = check_short_id("repository_id", repository_id)
    job = await client.get_backup_job(jid)
    policy = policy_of(job)
    if policy is None or policy.empty():
        return None
    if any(m.repositoryId == rid and m.enabled for m in await client.get_job_mirrors(jid)):
        return None  # its retention already applies there
    try:
        listed = await client.list_snapshots(rid)
    except NotFound:
        return None  # the body refuses an unknown repository before anything is sent
    there = snaps(listed)
    going = newly_forgotten(there, there, None, policy, tag=job.shortId, now_ms=now_ms())
    if not going:
        return None
    return Preview(
        action=f"Mirror backup job {job.name!r} ({job.shortId}) to repository {rid}, which already holds its snapshots",
        effects=forget_effects(going, [f"backup job {job.name!r} ({job.shortId}, keeping {policy}) on that mirror"]),
        items=snapshot_items(going, listed, note=f"in repository {rid}"),
    )


@confirmed_if_forgetting("set_mirror", "this mirror")
async def _set_mirror_preview(
    ctx: Ctx, job_id: str, repository_id: str, mode: str, confirm_token: str | None
) -> Preview | None:
    if mode != "on":
        return None
    return await _mirror_preview(client_of(ctx), job_id, repository_id)


@tool(title="Set mirror", idempotent=True)
async def set_mirror(
    ctx: Ctx,
    job_id: JobId,
    repository_id: Annotated[str, Field(description="Mirror repository short id")],
    answer: Annotated[ElicitationResult[Any], Resolve(_set_mirror_preview)],
    mode: Annotated[Literal["on", "off", "remove"], Field(description="off keeps it but pauses copies")] = "on",
    confirm_token: Annotated[str | None, Field(description="For a mirror whose retention forgets snapshots")] = None,
) -> Change:
    """Mirror a job's snapshots to another repository after each backup; or pause/remove it."""
    jid = check_job_id("job_id", job_id)
    rid = check_short_id("repository_id", repository_id)
    decision = decide(answer, "set_mirror", ActionResult)
    if not isinstance(decision, Gate):
        return Change(**decision.model_dump(exclude_none=True))
    client = client_of(ctx)
    if mode != "remove":
        compatibility = await client.get_mirror_compatibility(jid)
        entry = next((c for c in compatibility if c.repositoryId == rid), None)
        if entry is None:
            job = await client.get_backup_job(jid)
            if job.repository is not None and rid in (job.repository.shortId, job.repository.id):
                raise ToolFailure(f"Repository {rid!r} is this job's own repository; a mirror must be another one.")
            raise ToolFailure(f"Repository {rid!r} was not found: list_repositories shows the ids.")
        if not entry.compatible:
            reason = clean(entry.reason) or "Zerobyte says it is incompatible"
            raise ToolFailure(f"Repository {rid!r} cannot mirror this job: {reason}.")
    current = await client.get_job_mirrors(jid)
    existing = next((m for m in current if m.repositoryId == rid), None)
    bodies = [{"repositoryId": m.repositoryId, "enabled": m.enabled} for m in current if m.repositoryId != rid]
    if mode != "remove":
        bodies.append({"repositoryId": rid, "enabled": mode == "on"})
    if (existing is None) if mode == "remove" else (existing is not None and existing.enabled == (mode == "on")):
        return reply("unchanged", mirrors=_mirrors(current))
    result = await client.set_job_mirrors(jid, bodies)
    remark = {
        "on": "New backups are copied there after each successful run; run sync_mirror to copy the existing ones.",
        "off": "The mirror is kept but paused: nothing is copied until mode='on'.",
        "remove": f"Snapshots already copied to {rid!r} stay there; the repository itself is untouched.",
    }[mode]
    return reply("updated", mirrors=_mirrors(result), note=remark)
