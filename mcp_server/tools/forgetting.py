"""What Zerobyte's retention will forget, from the real snapshot list, for the tools that can trigger it.

Retention is destructive even when no tool says "delete": Zerobyte forgets by the job's policy after
every backup, so tightening a policy or tagging snapshots into a job's group destroys snapshots at the
next run. The keep rules are in :mod:`mcp_server.safety.retention`; this module feeds them Zerobyte's objects
and turns the answer into confirmation previews and refusals.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from mcp.server.mcpserver import Elicit

from ..answers.output import iso_from_ms
from ..safety.retention import Policy, Snap
from ..zerobyte.models import BackupJob, Snapshot
from .base import Ctx, ToolFailure, app_of
from .confirm import Approval, Ask, Gate, Preview, PreviewFn, PreviewItem, build_preview, confirmed, gate, harmless

__all__ = [
    "confirmed_if_forgetting",
    "forget_effects",
    "full_needed",
    "now_ms",
    "policy_of",
    "snaps",
    "snapshot_items",
]


def now_ms() -> float:
    return time.time() * 1000


def snaps(snapshots: Iterable[Snapshot]) -> list[Snap]:
    return [Snap(id=s.short_id, time_ms=s.time, tags=tuple(s.tags)) for s in snapshots]


def policy_of(job: BackupJob) -> Policy | None:
    """The job's policy as restic reads it; a refusal when we cannot read it (a gate must not guess)."""
    raw = job.retentionPolicy.model_dump(exclude_none=True) if job.retentionPolicy else None
    try:
        return Policy.from_zerobyte(raw)
    except ValueError as exc:
        raise ToolFailure(
            f"Backup job {job.name!r} ({job.shortId}) has a retention policy this server cannot evaluate ({exc}); "
            "nothing was changed."
        ) from None


def snapshot_items(going: Sequence[Snap], listed: Iterable[Snapshot], note: str | None = None) -> list[PreviewItem]:
    by_id = {s.short_id: s for s in listed}
    items = []
    for s in going:
        full = by_id.get(s.id)
        size = int(full.size) if full is not None and full.size is not None else None
        items.append(PreviewItem(kind="snapshot", id=s.id, time=iso_from_ms(s.time_ms), size=size, note=note))
    return items


def forget_effects(going: Sequence[Snap], whose: Sequence[str]) -> list[str]:
    """What the human must know: how many existing snapshots go, when, by whose retention."""
    return [
        f"The retention of {' and '.join(whose)} then forgets and prunes {len(going)} existing snapshot(s) "
        "(at the next backup, or at once by apply_retention); they cannot be restored afterwards.",
    ]


def confirmed_if_forgetting(tool: str, what: str) -> Callable[[Callable[..., Awaitable[Preview | None]]], Ask]:
    """:func:`~mcp_server.tools.confirm.confirmed` for a tool that is destructive only when retention would forget.

    The preview function returns what would be forgotten, or None when nothing would be: then the call goes
    ahead as the harmless operate-level change it is. Otherwise it needs access level full (``what`` names
    the change in the refusal) and the usual confirmation; a failure to compute the preview refuses the call.
    """

    def keeper(
        ctx: Ctx, *, tool: str, arguments: Mapping[str, Any], token: str | None, preview: PreviewFn
    ) -> Awaitable[Gate | Elicit[Approval]]:
        return _gate_if_forgetting(ctx, tool=tool, what=what, arguments=arguments, token=token, compute=preview)

    return confirmed(tool, keeper=keeper)


async def _gate_if_forgetting(
    ctx: Ctx,
    *,
    tool: str,
    what: str,
    arguments: Mapping[str, Any],
    token: str | None,
    compute: PreviewFn,
) -> Gate | Elicit[Approval]:
    shown = await build_preview(tool, compute)
    if isinstance(shown, Gate):
        return shown
    if shown is None:
        return harmless(tool)
    if (why := full_needed(ctx, what, shown)) is not None:
        return Gate(tool=tool, status="refused", message=why)

    async def preview() -> Preview:
        return shown

    return await gate(ctx, tool=tool, arguments=arguments, token=token, preview=preview)


def full_needed(ctx: Ctx, what: str, preview: Preview) -> str | None:
    """The refusal for an operate-level server asked for a change that makes Zerobyte forget snapshots."""
    if app_of(ctx).settings.access == "full":
        return None
    ids = ", ".join(i.id for i in preview.items[:10]) + (" …" if len(preview.items) > 10 else "")
    return (
        f"Refused: {what} would make Zerobyte's retention forget {len(preview.items)} existing snapshot(s) "
        f"({ids}). That is destructive, so it needs access level full with the user's confirmation; this "
        f"server runs at {app_of(ctx).settings.access}. Nothing was changed. Ask the user to make the change "
        "in Zerobyte's web UI, or to run zerobyte-mcp with --access full."
    )
