"""Copying a backup job's snapshots to a mirror, and saying what really arrived there.

A real Zerobyte's sync with no snapshot ids copies only the newest one (``restic copy --tag <job> latest``),
so a plain "sync" leaves older backups off the mirror while the task succeeds. Here the snapshots to copy are
named explicitly (default: every snapshot the mirror status lists as missing), the copy is followed (the
``mirrorSync`` task on v0.42; the mirror row's copy status on v0.41, which answers ``200`` with no task), and
the answer is judged from the mirror status read after the copy, which Zerobyte matches by snapshot time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
from pydantic import BaseModel, Field

from ..answers.output import MISSING_LISTED, missing_line
from ..zerobyte import ZerobyteClient
from ..zerobyte.ids import check_snapshot_id
from ..zerobyte.models import BackupJob, Mirror, MirrorStatus
from .base import ToolFailure
from .follow import TaskOutcome

__all__ = ["CopyPlan", "MirrorSyncResult", "plan_copy", "sync_report", "wait_for_legacy_copy"]

POLL_SECONDS = 1.0


class MirrorSyncResult(BaseModel):
    outcome: str = Field(description="success, partial, error or running")
    message: str
    copied: list[str] = Field(default_factory=list, description="Snapshot ids now in the mirror")
    still_missing: list[str] = Field(default_factory=list, description="Snapshots the mirror still lacks")
    task: TaskOutcome | None = None


@dataclass(frozen=True)
class CopyPlan:
    to_copy: list[str]
    already: list[str]  # asked for, but the mirror holds them already
    missing_before: int


async def plan_copy(
    client: ZerobyteClient, job: BackupJob, repository_id: str | None, mirror_id: str, wanted: Sequence[str] | None
) -> CopyPlan:
    """The snapshot ids to send: the given ones the mirror lacks, or every missing one. Refuses unknown ids."""
    status = await client.get_mirror_status(job.shortId, mirror_id)
    missing = [s.short_id for s in status.missingSnapshots]
    if wanted is None:
        return CopyPlan(to_copy=missing, already=[], missing_before=len(missing))
    ids = list(dict.fromkeys(check_snapshot_id("snapshot_ids", s)[:8] for s in wanted))
    to_copy = [sid for sid in ids if sid in missing]
    others = [sid for sid in ids if sid not in missing]
    if others:
        source = await client.list_snapshots(repository_id, backup_job_id=job.shortId) if repository_id else []
        known = {s.short_id for s in source}
        unknown = [sid for sid in others if sid not in known]
        if unknown:
            raise ToolFailure(
                f"No snapshot {', '.join(unknown)} of backup job {job.name!r} ({job.shortId}); nothing was copied. "
                "list_snapshots with backup_job_id shows its snapshots."
            )
    return CopyPlan(to_copy=to_copy, already=others, missing_before=len(missing))


async def wait_for_legacy_copy(
    client: ZerobyteClient, job_id: str, mirror_id: str, before: Mirror, to_copy: Sequence[str], budget: float
) -> tuple[bool, str | None]:
    """Zerobyte ≤ v0.41 copies in the background: (finished, error) from the mirror row's copy status.

    The row turns ``in_progress`` only after the answer, so the copy has ended when ``lastCopyAt`` moved and
    the status is no longer ``in_progress``. A server whose rows carry no copy status is asked for the mirror
    status instead, until some of ``to_copy`` arrived (the mirror's retention may forget the others at once)."""
    deadline = time.monotonic() + budget
    while True:
        rows = await client.get_job_mirrors(job_id)
        row = next((m for m in rows if m.repositoryId == mirror_id), None)
        if row is not None and row.lastCopyStatus is not None:
            if row.lastCopyAt != before.lastCopyAt and row.lastCopyStatus != "in_progress":
                return True, row.lastCopyError if row.lastCopyStatus == "error" else None
        else:
            status = await client.get_mirror_status(job_id, mirror_id)
            if {s.short_id for s in status.missingSnapshots} & set(to_copy) != set(to_copy):
                return True, None
        if time.monotonic() >= deadline:
            return False, None
        await anyio.sleep(POLL_SECONDS)


def sync_report(
    plan: CopyPlan,
    after: MirrorStatus,
    mirror_label: str,
    job_label: str,
    *,
    task: TaskOutcome | None,
    error: str | None,
    retention: str | None,
) -> MirrorSyncResult:
    """The answer after the copy ended: what arrived (judged by the mirror status) and what is still missing.

    After copying, Zerobyte applies the job's retention to the mirror: a snapshot that policy does not keep
    is copied and then forgotten there, so after a copy that ended without error it is missing again."""
    left = {s.short_id for s in after.missingSnapshots}
    copied = [sid for sid in plan.to_copy if sid not in left]
    failed = [sid for sid in plan.to_copy if sid in left]
    still = [missing_line(s) for s in after.missingSnapshots[:MISSING_LISTED]]
    rest = f" ({MISSING_LISTED} listed)" if len(after.missingSnapshots) > MISSING_LISTED else ""
    total = f"; the mirror now holds {after.mirrorCount} of {after.sourceCount} snapshots" if after.sourceCount else ""
    parts = [f"Copied {len(copied)} snapshot(s) of {job_label} to mirror {mirror_label}{total}."]
    if plan.already:
        parts.append(f"Already in the mirror: {', '.join(plan.already)}.")
    pruned = failed if failed and error is None and (task is None or task.outcome == "success") and retention else []
    failed = [sid for sid in failed if sid not in pruned]
    if pruned:
        parts.append(
            f"Not kept: {', '.join(pruned)}: the copy ended without error, and the job's retention ({retention}) "
            "runs on the mirror after each copy, forgetting what it does not keep."
        )
    if failed:
        parts.append(f"Not copied: {', '.join(failed)}" + (f" ({error})." if error else "."))
        parts.append("run_doctor on the mirror repository, then sync_mirror again, fixes most failed copies.")
    if left:
        parts.append(f"Still missing from the mirror: {len(left)}{rest}.")
    else:
        parts.append("The mirror is in sync.")
    outcome = "success" if not failed else ("partial" if copied or pruned else "error")
    return MirrorSyncResult(outcome=outcome, message=" ".join(parts), copied=copied, still_missing=still, task=task)
