"""list_snapshots and get_snapshot: which snapshots a repository or job holds, and what one of them is.

Filters (time window, tag, host) and cursor paging are built here, since Zerobyte answers the whole list at
once; hostnames the list lacks are fetched one snapshot at a time within a bound. Also the shared snapshot
view (:class:`SnapshotItem`) both tools answer with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Annotated, Any

from pydantic import BaseModel, Field

from ...answers.concurrency import gather
from ...answers.output import iso, iso_from_ms, seconds_from_ms
from ...zerobyte import ZerobyteClient, ZerobyteError
from ...zerobyte.ids import check_short_id, check_snapshot_id
from ...zerobyte.models import BackupJob, Snapshot
from ..base import Ctx, ToolFailure, client_of, tool
from .common import (
    CONCURRENCY,
    LOCAL_ERRORS,
    JobArg,
    OptRepoArg,
    RepoArg,
    Scope,
    SinceArg,
    SnapArg,
    UntilArg,
    check_scope_args,
    fresh_categories,
    in_window,
    newest_first,
    resolve_scope,
    snapshots_in_scope,
    time_window,
)

__all__ = ["BackupSummary", "SnapshotDetail", "SnapshotItem", "SnapshotPage", "get_snapshot", "list_snapshots"]

HOST_LOOKUPS = 50  # snapshot details fetched to learn hostnames the list lacks


class SnapshotItem(BaseModel, defer_build=True):
    id: str
    time: str | None = None
    size: int | None = None
    duration_s: float | None = None
    hostname: str | None = None
    paths: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    backup_job: str | None = None
    retention: list[str] = Field(default_factory=list)


class SnapshotPage(BaseModel, defer_build=True):
    repository: str
    snapshots: list[SnapshotItem]
    total: int
    next_cursor: str | None = None
    hint: str | None = None


class BackupSummary(BaseModel, defer_build=True):
    files_new: int | None = None
    files_changed: int | None = None
    files_unmodified: int | None = None
    dirs_new: int | None = None
    dirs_changed: int | None = None
    dirs_unmodified: int | None = None
    added_bytes: int | None = None
    added_packed_bytes: int | None = None
    total_files_processed: int | None = None
    processed_bytes: int | None = None
    backup_start: str | None = None
    backup_end: str | None = None


class SnapshotDetail(SnapshotItem):
    summary: BackupSummary | None = None


def _job_label(job: BackupJob | None) -> str | None:
    return f"{job.name} ({job.shortId})" if job is not None else None


def _item(s: Snapshot, scope: Scope) -> SnapshotItem:
    return SnapshotItem(
        id=s.short_id,
        time=iso_from_ms(s.time),
        size=int(s.size) if s.size is not None else None,
        duration_s=seconds_from_ms(s.duration),
        hostname=s.hostname,
        paths=s.paths,
        tags=s.tags,
        backup_job=_job_label(scope.job_of(s)),
        retention=s.retentionCategories,
    )


# --- cursor ----------------------------------------------------------------------------------------------


def _fingerprint(*parts: str | None) -> str:
    return hashlib.sha256(json.dumps([p or "" for p in parts]).encode()).hexdigest()[:12]


def _encode_cursor(last: Snapshot, fingerprint: str) -> str:
    raw = json.dumps({"t": last.time, "i": last.short_id, "f": fingerprint}, separators=(",", ":")).encode()
    return "s1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[float, str]:
    """The (time, id) of the last snapshot already shown; refuses cursors of other filters."""
    bad = ToolFailure("Invalid cursor: it is not one list_snapshots issued; call again without cursor.")
    if not cursor.startswith("s1.") or len(cursor) > 300:
        raise bad
    body = cursor[3:]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise bad from None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int | float) or not isinstance(data.get("i"), str):
        raise bad
    if data.get("f") != fingerprint:
        raise ToolFailure(
            "Invalid cursor: it belongs to a listing with other filters (repository, job, since, until, tag or "
            "host); repeat the same filters with it, or call again without cursor."
        )
    return float(data["t"]), data["i"]


# --- list_snapshots --------------------------------------------------------------------------------------


@tool(title="List snapshots")
async def list_snapshots(
    ctx: Ctx,
    repository_id: OptRepoArg = None,
    backup_job_id: JobArg = None,
    since: SinceArg = None,
    until: UntilArg = None,
    tag: str | None = None,
    host: str | None = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Field(description="next_cursor from the last page")] = None,
) -> SnapshotPage:
    """Snapshots of a repository or backup job, newest first; filters by time, tag, host; paged by cursor."""
    rid, jid = check_scope_args(repository_id, backup_job_id)
    lo, hi = time_window(since, until)
    fingerprint = _fingerprint(rid, jid, since, until, tag, host)
    after = _decode_cursor(cursor, fingerprint) if cursor else None
    client = client_of(ctx)
    scope = await resolve_scope(client, rid, jid)
    snaps = [s for s in await snapshots_in_scope(client, scope) if in_window(s, lo, hi)]
    if tag:
        snaps = [s for s in snaps if tag in s.tags]
    unchecked_hosts = 0
    if host:
        unchecked_hosts = await _fill_hostnames(client, scope.repository_id, snaps)
        snaps = [s for s in snaps if s.hostname is not None and s.hostname.lower() == host.lower()]
    start = 0
    if after is not None:
        key = (-after[0], after[1])
        start = next((i for i, s in enumerate(snaps) if newest_first(s) > key), len(snaps))
    page = snaps[start : start + limit]
    more = start + len(page) < len(snaps)
    hints: list[str] = []
    if more:
        hints.append(
            f"{len(snaps) - start - len(page)} older: call again with cursor=next_cursor and the same filters."
        )
    if unchecked_hosts:
        hints.append(
            f"Zerobyte's list has no hostnames, so only the newest {HOST_LOOKUPS} were checked one by one; "
            f"{unchecked_hosts} older snapshot(s) were left out: narrow since/until to filter them by host."
        )
    if page and scope.job is None and not any(s.retentionCategories for s in page):
        hints.append("Retention categories are computed only with backup_job_id.")
    return SnapshotPage(
        repository=scope.repository_id,
        snapshots=[_item(s, scope) for s in page],
        total=len(snaps),
        next_cursor=_encode_cursor(page[-1], fingerprint) if more and page else None,
        hint=" ".join(hints) or None,
    )


async def _fill_hostnames(client: ZerobyteClient, rid: str, snaps: list[Snapshot]) -> int:
    """Fetch hostnames the list lacks (Zerobyte's list omits them) for the newest snapshots;
    returns how many were left unchecked."""
    unknown = [s for s in snaps if s.hostname is None]
    checked = unknown[:HOST_LOOKUPS]

    async def fill(snap: Snapshot) -> None:
        try:
            snap.hostname = (await client.get_snapshot(rid, snap.short_id)).hostname
        except LOCAL_ERRORS:
            snap.hostname = None

    await gather((fill(s) for s in checked), limit=CONCURRENCY)
    return len(unknown) - len(checked)


# --- get_snapshot ----------------------------------------------------------------------------------------


@tool(title="Get snapshot")
async def get_snapshot(ctx: Ctx, repository_id: RepoArg, snapshot_id: SnapArg) -> SnapshotDetail:
    """A snapshot: time, duration, size, host, paths, job, retention, restic summary."""
    rid = check_short_id("repository_id", repository_id)
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    client = client_of(ctx)
    snap = await client.get_snapshot(rid, sid)
    scope = await resolve_scope(client, rid, None)
    job = scope.job_of(snap)
    retention = snap.retentionCategories
    if job is not None and not retention:
        # The detail route always answers retentionCategories: []; the job-filtered list has them.
        try:
            listed = await client.list_snapshots(rid, backup_job_id=job.shortId)
        except ZerobyteError:
            listed = []
        fresh_categories(listed, job)
        retention = next((s.retentionCategories for s in listed if s.short_id == snap.short_id), [])
    item = _item(snap, scope)
    item.retention = retention
    return SnapshotDetail(
        **item.model_dump(),
        summary=_summary(snap.summary),
    )


_SUMMARY_BYTES = {
    "data_added": "added_bytes",
    "data_added_packed": "added_packed_bytes",
    "total_bytes_processed": "processed_bytes",
}


def _summary(raw: dict[str, Any] | None) -> BackupSummary | None:
    if not raw:
        return None
    ints = {k: int(v) for k, v in raw.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    for restic, ours in _SUMMARY_BYTES.items():  # restic's byte counts, named by the size convention
        if restic in ints:
            ints[ours] = ints.pop(restic)
    return BackupSummary(
        **{k: v for k, v in ints.items() if k in BackupSummary.model_fields},
        backup_start=iso(raw.get("backup_start")),
        backup_end=iso(raw.get("backup_end")),
    )
