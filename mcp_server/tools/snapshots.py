"""Snapshot tools: list, inspect, browse, search and read what a backup captured.

Zerobyte lists a repository's snapshots all at once (oldest first, no paging, no time filter) and can
only list one snapshot folder per request, so the filters, the paging and the cross-snapshot search an
agent needs are built here, with a hard bound on the number of requests each call may make.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import hashlib
import json
import math
import mimetypes
import posixpath
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import anyio
from pydantic import BaseModel, Field

from ..concurrency import gather
from ..names import fold, near_names
from ..output import human_bytes, iso, iso_from_ms, iso_from_seconds, mtime_seconds, render_text, seconds_from_ms
from ..redact import quotes_secret
from ..retention import Policy, Snap, retention_categories
from ..zerobyte import (
    BadRequest,
    NotFound,
    ServerError,
    ZerobyteClient,
    ZerobyteError,
    ZerobyteProtocolError,
)
from ..zerobyte.ids import check_absolute_path, check_job_id, check_short_id, check_snapshot_id
from ..zerobyte.models import BackupJob, Snapshot, SnapshotFilesPage, SnapshotNode, SnapshotRef
from .base import Ctx, ToolFailure, app_of, client_of, tool

if TYPE_CHECKING:
    from ..catalog import Catalog, SnapshotRow, Work

__all__ = [
    "FileList",
    "FindResult",
    "SnapshotDetail",
    "SnapshotFileText",
    "SnapshotPage",
    "find_file",
    "get_snapshot",
    "list_snapshot_files",
    "list_snapshots",
    "read_snapshot_file",
]

T = TypeVar("T")

PAGE_CAP = 500  # Zerobyte clamps snapshot file pages to 500 entries
CONCURRENCY = 4  # Zerobyte runs at most 2 `restic ls` per repository; 4 keeps its queue full, no more
FIND_BUDGET = 200  # listing requests per find_file call (Zerobyte allows 1000 requests / 5 min / IP)
WALK_BUDGET = 120  # of which at most this many walk whole folder trees; the rest check found folders
FIND_WAIT = 20.0  # seconds find_file waits for snapshots being indexed before it answers with what it has
MAX_TEXT = 30_000  # characters of JSON an answer may carry (~8k tokens)
HOST_LOOKUPS = 50  # snapshot details fetched to learn hostnames the list lacks
SHOWN_SNAPSHOT_IDS = 10  # per file version; the count says how many more
MAX_FILE_BYTES = 1 << 20

# --- arguments ---------------------------------------------------------------------------------------

RepoArg = Annotated[str, Field(description="Repository id")]
OptRepoArg = Annotated[str | None, Field(description="Repository id (or backup_job_id)")]
JobArg = Annotated[str | None, Field(description="Backup job id")]
SnapArg = Annotated[str, Field(description="Snapshot id or 'latest'")]
SinceArg = Annotated[str | None, Field(description="ISO date/time, or age: 7d, 12h, 30m")]
UntilArg = Annotated[str | None, Field(description="ISO date/time (date = end of day), or age")]


# --- output models -------------------------------------------------------------------------------------


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
    data_added: int | None = None
    data_added_packed: int | None = None
    total_files_processed: int | None = None
    total_bytes_processed: int | None = None
    backup_start: str | None = None
    backup_end: str | None = None


class SnapshotDetail(SnapshotItem):
    summary: BackupSummary | None = None


class FileEntry(BaseModel, defer_build=True):
    name: str
    type: str
    size: int | None = None
    mtime: str | None = None


class FileList(BaseModel, defer_build=True):
    snapshot: str
    snapshot_time: str | None = None
    path: str
    entries: list[FileEntry]
    total: int
    next_offset: int | None = None


class FileVersion(BaseModel, defer_build=True):
    repository: str | None = None
    path: str
    type: str | None = None
    size: int | None = None
    mtime: str | None = None
    snapshots: list[str] = Field(default_factory=list)
    in_snapshots: int = 0
    newest: str | None = None
    oldest: str | None = None


class FindResult(BaseModel, defer_build=True):
    versions: list[FileVersion]
    total_versions: int = 0
    snapshots_searched: int = 0
    snapshots_in_range: int = 0
    complete: bool = True
    not_searched: list[str] = Field(default_factory=list)
    hint: str | None = None


class SnapshotFileText(BaseModel, defer_build=True):
    snapshot: str
    snapshot_time: str | None = None
    size: int | None = None
    mtime: str | None = None
    truncated: bool = False
    text: str
    note: str | None = None


# --- time filters --------------------------------------------------------------------------------------

_AGE = re.compile(r"(\d{1,6})\s*(m|min|h|d|w)", re.IGNORECASE)
_AGE_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_when(argument: str, value: str | None, *, end: bool, now: datetime | None = None) -> int | None:
    """An ISO date/datetime or an age (``7d``) as epoch ms; a bare date is its start (or, with ``end``, its end)."""
    if value is None or not value.strip():
        return None
    now = now or datetime.now(UTC)
    text = value.strip()
    age = _AGE.fullmatch(text)
    if age:
        delta = timedelta(**{_AGE_UNITS[age.group(2).lower()]: int(age.group(1))})
        return _ms(now - delta)
    lowered = text.lower()
    if lowered in ("now",):
        return _ms(now)
    if lowered in ("today", "yesterday"):
        day = now.date() - timedelta(days=1 if lowered == "yesterday" else 0)
        text = day.isoformat()
    if _DATE.fullmatch(text):
        try:
            start = datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            start = None
        if start is not None:
            return _ms(start + timedelta(days=1)) - 1 if end else _ms(start)
    else:
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return _ms(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    raise ToolFailure(
        f"Invalid {argument}: {text[:40]!r} is not a date ('2026-11-20'), a UTC time ('2026-11-20T08:00Z') "
        "or an age ('30m', '12h', '7d', '2w')."
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _time_window(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    lo = parse_when("since", since, end=False)
    hi = parse_when("until", until, end=True)
    if lo is not None and hi is not None and lo > hi:
        raise ToolFailure(f"Invalid since/until: since ({iso_from_ms(lo)}) is after until ({iso_from_ms(hi)}).")
    return lo, hi


# --- scope: which repository, which job ------------------------------------------------------------------


@dataclass
class _Scope:
    repository_id: str
    job: BackupJob | None
    jobs: dict[str, BackupJob]

    def job_of(self, snapshot: Snapshot) -> BackupJob | None:
        for tag in snapshot.tags:
            if tag in self.jobs:
                return self.jobs[tag]
        return None


def _check_scope_args(repository_id: str | None, backup_job_id: str | None) -> tuple[str | None, str | None]:
    """Validate ids before any request is made."""
    rid = check_short_id("repository_id", repository_id) if repository_id is not None else None
    jid = check_job_id("backup_job_id", backup_job_id) if backup_job_id is not None else None
    if rid is None and jid is None:
        raise ToolFailure(
            "Give repository_id (see list_repositories) or backup_job_id (see list_backup_jobs) to say whose "
            "snapshots to use."
        )
    return rid, jid


async def _scope(client: ZerobyteClient, rid: str | None, jid: str | None, *, need_jobs: bool = True) -> _Scope:
    jobs: dict[str, BackupJob] = {}
    if need_jobs or jid is not None:
        try:
            jobs = {j.shortId: j for j in await client.list_backup_jobs()}
        except ZerobyteError:
            if jid is not None:
                raise
            jobs = {}  # job names are a nicety; the snapshots themselves still answer
    job: BackupJob | None = None
    if jid is not None:
        job = jobs.get(jid) or next((j for j in jobs.values() if str(j.id) == jid), None)
        if job is None:
            raise ToolFailure(f"Backup job {jid!r} was not found: list_backup_jobs shows the existing jobs.")
        job_repo = await client.job_repository(job)
        if rid is not None and job_repo is not None and job_repo != rid:
            raise ToolFailure(
                f"Backup job {job.name!r} ({job.shortId}) writes to repository {job_repo!r}, not {rid!r}: "
                "drop repository_id or use that one."
            )
        rid = rid or job_repo
        if rid is None:
            raise ToolFailure(f"Backup job {job.shortId!r} names no repository; give repository_id.")
    assert rid is not None
    return _Scope(repository_id=rid, job=job, jobs=jobs)


async def _snapshots_in_scope(client: ZerobyteClient, scope: _Scope) -> list[Snapshot]:
    """Newest first; filtered server-side by job tag (which also makes Zerobyte compute retention)."""
    job_id = scope.job.shortId if scope.job is not None else None
    snaps = await client.list_snapshots(scope.repository_id, backup_job_id=job_id)
    if scope.job is not None:
        _fresh_categories(snaps, scope.job)
    return sorted(snaps, key=_order)


def _fresh_categories(snaps: list[Snapshot], job: BackupJob) -> None:
    """Replace Zerobyte's retentionCategories, cached and stale after a policy change, with the rules of the
    job's current policy that keep each snapshot ([] = its next forget removes it)."""
    # Read tools stay free of the confirmation machinery (tools/forgetting.py): the few lines are repeated here.
    try:
        policy = Policy.from_zerobyte(
            job.retentionPolicy.model_dump(exclude_none=True) if job.retentionPolicy else None
        )
    except ValueError:
        return  # a policy we cannot evaluate: Zerobyte's own categories stay
    if policy is None:
        return
    judged = [Snap(id=s.short_id, time_ms=s.time, tags=tuple(s.tags)) for s in snaps]
    fresh = retention_categories(judged, policy, tag=job.shortId, now_ms=time.time() * 1000)
    for s in snaps:
        if s.short_id in fresh:
            s.retentionCategories = fresh[s.short_id]


def _order(s: Snapshot) -> tuple[float, str]:
    return (-s.time, s.short_id)


def _in_window(s: Snapshot, lo: int | None, hi: int | None) -> bool:
    return (lo is None or s.time >= lo) and (hi is None or s.time <= hi)


def _job_label(job: BackupJob | None) -> str | None:
    return f"{job.name} ({job.shortId})" if job is not None else None


def _item(s: Snapshot, scope: _Scope) -> SnapshotItem:
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
    tag: Annotated[str | None, Field(description="Tag")] = None,
    host: Annotated[str | None, Field(description="Hostname")] = None,
    limit: Annotated[int, Field(description="Page size", ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Field(description="next_cursor from the last page")] = None,
) -> SnapshotPage:
    """Snapshots of a repository or backup job, newest first; filters by time, tag, host; paged by cursor."""
    rid, jid = _check_scope_args(repository_id, backup_job_id)
    lo, hi = _time_window(since, until)
    fingerprint = _fingerprint(rid, jid, since, until, tag, host)
    after = _decode_cursor(cursor, fingerprint) if cursor else None
    client = client_of(ctx)
    scope = await _scope(client, rid, jid)
    snaps = [s for s in await _snapshots_in_scope(client, scope) if _in_window(s, lo, hi)]
    if tag:
        snaps = [s for s in snaps if tag in s.tags]
    unchecked_hosts = 0
    if host:
        unchecked_hosts = await _fill_hostnames(client, scope.repository_id, snaps)
        snaps = [s for s in snaps if s.hostname is not None and s.hostname.lower() == host.lower()]
    start = 0
    if after is not None:
        key = (-after[0], after[1])
        start = next((i for i, s in enumerate(snaps) if _order(s) > key), len(snaps))
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
        except _LOCAL_ERRORS:
            snap.hostname = None

    await gather((fill(s) for s in checked), limit=CONCURRENCY)
    return len(unknown) - len(checked)


# --- get_snapshot ----------------------------------------------------------------------------------------


@tool(title="Get snapshot")
async def get_snapshot(ctx: Ctx, repository_id: RepoArg, snapshot_id: SnapArg) -> SnapshotDetail:
    """A snapshot's time, duration, size, host, paths, job, retention and restic summary."""
    rid = check_short_id("repository_id", repository_id)
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    client = client_of(ctx)
    snap = await client.get_snapshot(rid, sid)
    scope = await _scope(client, rid, None)
    job = scope.job_of(snap)
    retention = snap.retentionCategories
    if job is not None and not retention:
        # The detail route always answers retentionCategories: []; the job-filtered list has them.
        try:
            listed = await client.list_snapshots(rid, backup_job_id=job.shortId)
        except ZerobyteError:
            listed = []
        _fresh_categories(listed, job)
        retention = next((s.retentionCategories for s in listed if s.short_id == snap.short_id), [])
    item = _item(snap, scope)
    item.retention = retention
    return SnapshotDetail(
        **item.model_dump(),
        summary=_summary(snap.summary),
    )


def _summary(raw: dict[str, Any] | None) -> BackupSummary | None:
    if not raw:
        return None
    ints = {k: int(v) for k, v in raw.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return BackupSummary(
        **{k: v for k, v in ints.items() if k in BackupSummary.model_fields},
        backup_start=iso(raw.get("backup_start")),
        backup_end=iso(raw.get("backup_end")),
    )


# --- list_snapshot_files ---------------------------------------------------------------------------------


@tool(title="List snapshot files")
async def list_snapshot_files(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_id: SnapArg,
    path: Annotated[str | None, Field(description="Folder (default: the snapshot's first path)")] = None,
    offset: Annotated[int, Field(description="next_offset from the last page", ge=0)] = 0,
    limit: Annotated[int, Field(description="Page size", ge=1, le=PAGE_CAP)] = 100,
) -> FileList:
    """One folder of a snapshot (not recursive): name, type, size, mtime of each entry; paged."""
    rid = check_short_id("repository_id", repository_id)
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    folder = check_absolute_path("path", path) if path is not None else None
    client = client_of(ctx)
    if folder is None:
        snap = await client.get_snapshot(rid, sid)
        if not snap.paths:
            raise ToolFailure(f"Snapshot {sid} reports no paths: give path (e.g. '/').")
        folder = snap.paths[0]
    page = await _folder_window(ctx, rid, sid, folder, offset, limit)
    # Zerobyte lists the folder itself before its children; offsets count it.
    own = [f for f in page.files if f.path == folder]
    children = [f for f in page.files if f.path != folder]
    if own and own[0].type != "dir" and not children:
        node = own[0]
        raise ToolFailure(
            f"{folder!r} in snapshot {sid} is a {node.type} ({_size_text(node.size)}), not a folder: read it with "
            f"read_snapshot_file or list its parent {posixpath.dirname(folder)!r}."
        )
    total = page.total if page.total is not None else offset + len(page.files)
    if not page.files and offset == 0:
        raise await _missing(client, rid, sid, folder)
    self_counted = (1 if own else 0) if offset == 0 else (1 if folder != "/" and total > 0 else 0)
    entries, consumed = _fit_page(page.files, folder, app_of(ctx).settings.max_response_chars - 2000)
    seen = offset + consumed
    next_offset = seen if (page.hasMore or seen < total) and page.files else None
    ref = page.snapshot
    return FileList(
        snapshot=(ref.short_id if ref and ref.short_id else sid),
        snapshot_time=iso(ref.time) if ref else None,
        path=folder,
        entries=entries,
        total=max(total - self_counted, 0),
        next_offset=next_offset,
    )


async def _folder_window(ctx: Ctx, rid: str, sid: str, folder: str, offset: int, limit: int) -> SnapshotFilesPage:
    """Entries ``offset`` to ``offset + limit`` of a folder as Zerobyte counts them (the folder itself first).

    From the catalog when it knows the folder; otherwise from Zerobyte's pages of 500 at offsets that are
    multiples of 500, whatever the page size asked: Zerobyte caches each (offset, limit) it answered, so
    paging through a folder at any size costs one restic run per 500 entries.
    """
    known = await _catalog_folder(ctx, rid, sid, folder)
    if known is not None:
        nodes, ref = known
        window = nodes[offset : offset + limit]
        return SnapshotFilesPage(
            snapshot=ref,
            files=window,
            offset=offset,
            limit=limit,
            total=len(nodes),
            hasMore=offset + limit < len(nodes),
        )
    client = client_of(ctx)
    start = offset - offset % PAGE_CAP
    try:
        first = await client.list_snapshot_files(rid, sid, folder, offset=start, limit=PAGE_CAP)
        nodes = list(first.files)
        total = first.total if first.total is not None else start + len(nodes)
        if len(nodes) == PAGE_CAP and offset - start + limit > PAGE_CAP and (first.hasMore or start + PAGE_CAP < total):
            second = await client.list_snapshot_files(rid, sid, folder, offset=start + PAGE_CAP, limit=PAGE_CAP)
            nodes.extend(second.files)
    except NotFound:
        raise await _missing(client, rid, sid, folder) from None
    window = nodes[offset - start : offset - start + limit]
    return SnapshotFilesPage(
        snapshot=first.snapshot,
        files=window,
        offset=offset,
        limit=limit,
        total=total,
        hasMore=offset + len(window) < total,
    )


async def _catalog_folder(ctx: Ctx, rid: str, sid: str, folder: str) -> tuple[list[SnapshotNode], SnapshotRef] | None:
    """A folder's entries (itself first, as Zerobyte lists it) from the catalog, or None when it does not
    know the whole folder."""
    from ..catalog import CatalogUnavailable

    catalog = app_of(ctx).get_catalog()
    if catalog is None:
        return None

    def look() -> tuple[list[SnapshotNode], SnapshotRef] | None:
        row = catalog.snapshot(rid, sid)
        if row is None:
            return None
        entries = catalog.folder(row, folder)
        if entries is None:
            return None
        nodes = [] if folder == "/" else [SnapshotNode(name=posixpath.basename(folder), type="dir", path=folder)]
        nodes += [
            SnapshotNode(
                name=posixpath.basename(e.path), type=e.kind, path=e.path, size=e.size, mtime=iso_from_seconds(e.mtime)
            )
            for e in entries
        ]
        return nodes, SnapshotRef(id=row.full_id, short_id=row.short_id, time=iso_from_ms(row.time_ms))

    try:
        return await anyio.to_thread.run_sync(look)
    except CatalogUnavailable:
        return None


def _fit_page(files: Sequence[SnapshotNode], folder: str, budget: int) -> tuple[list[FileEntry], int]:
    """The folder's children that fit the answer size, and how many of Zerobyte's entries that consumed.

    A full 500-entry page of long names can exceed max_response_chars; cutting it here (not in the generic
    guard) keeps next_offset exact, so paging on never skips an entry.
    """
    kept: list[FileEntry] = []
    used = 0
    for index, node in enumerate(files):
        if node.path == folder:
            continue
        entry = _entry(node)
        size = len(render_text(entry.model_dump(mode="json", exclude_none=True))) + 1
        if kept and used + size > budget:
            return kept, index
        kept.append(entry)
        used += size
    return kept, len(files)


def _entry(node: SnapshotNode) -> FileEntry:
    return FileEntry(name=node.name, type=node.type, size=node.size, mtime=_mtime(node.mtime))


def _mtime(value: str | None) -> str | None:
    """A file's mtime to the nearest second, as the catalog (and restic's tar) have it."""
    seconds = mtime_seconds(value)
    return iso_from_seconds(seconds) if seconds is not None else iso(value)


async def _missing(client: ZerobyteClient, rid: str, sid: str, path: str) -> ToolFailure:
    """Say whether the snapshot or only the path is missing (a 404 from the files route means either)."""
    try:
        snap = await client.get_snapshot(rid, sid)
    except NotFound:
        return ToolFailure(
            f"Snapshot {sid!r} was not found in repository {rid!r}: list_snapshots shows the existing ones."
        )
    roots = ", ".join(repr(p) for p in snap.paths) or "'/'"
    return ToolFailure(
        f"{path!r} is not in snapshot {snap.short_id} (it holds {roots}): check the folder with "
        "list_snapshot_files, or search with find_file."
    )


def _size_text(size: int | None) -> str:
    return human_bytes(size) or "size unknown"


# --- find_file: patterns ---------------------------------------------------------------------------------

SegKind = Literal["lit", "glob", "any"]


@dataclass(frozen=True)
class _Seg:
    text: str
    kind: SegKind


@dataclass(frozen=True)
class _Pattern:
    """A parsed find_file pattern: absolute (case-sensitive) or a name/relative glob matched anywhere."""

    raw: str
    absolute: bool
    segments: tuple[_Seg, ...]  # for a relative pattern: the segments after the implicit '**'
    fold_accents: bool = False

    @property
    def walks(self) -> bool:
        """True unless the pattern names one folder (a path, or a glob in its last part only): then every
        snapshot costs a request or two; otherwise folder trees must be walked (the expensive case)."""
        return not self.absolute or any(s.kind != "lit" for s in self.segments[:-1])

    def for_root(self, root: str) -> tuple[_Seg, ...]:
        if self.absolute:
            return self.segments
        return (*(_Seg(p, "lit") for p in root.split("/") if p), _Seg("**", "any"), *self.segments)

    def matches(self, seg: _Seg, name: str) -> bool:
        if seg.kind == "lit":
            return name == seg.text
        if self.absolute:
            return fnmatch.fnmatchcase(name, seg.text)
        return fnmatch.fnmatchcase(self.fold(name), self.fold(seg.text))

    def fold(self, text: str) -> str:
        """Relative patterns ignore case (and, on request, accents: 'resume' matches 'Résumé')."""
        return fold(text) if self.fold_accents else text.casefold()

    def name_matches(self, name: str) -> bool:
        """Whether a name can end a match (the catalog's first filter)."""
        return self.matches(self.segments[-1], name)

    def path_matches(self, path: str) -> bool:
        """Whether a full path matches: from the root for absolute patterns, as a tail for relative ones."""
        parts = [p for p in path.split("/") if p]
        segs = self.segments if self.absolute else (_Seg("**", "any"), *self.segments)
        return _match_parts(self, segs, tuple(parts))


def _match_parts(pat: _Pattern, segs: tuple[_Seg, ...], parts: tuple[str, ...]) -> bool:
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key not in memo:
            if i == len(segs):
                memo[key] = j == len(parts)
            elif segs[i].kind == "any":
                memo[key] = go(i + 1, j) or (j < len(parts) and go(i, j + 1))
            else:
                memo[key] = j < len(parts) and pat.matches(segs[i], parts[j]) and go(i + 1, j + 1)
        return memo[key]

    return go(0, 0)


_WILD = re.compile(r"[*?\[]")


def parse_pattern(pattern: str, *, fold_accents: bool = False) -> _Pattern:
    text = pattern.strip()
    if not text:
        raise ToolFailure("Invalid pattern: give a path ('/srv/data/tax.pdf'), a glob ('*.pdf') or a name.")
    if len(text) > 1024 or any(ord(c) < 32 for c in text):
        raise ToolFailure("Invalid pattern: too long or contains control characters.")
    parts = [p for p in text.split("/") if p]
    if ".." in parts:
        raise ToolFailure("Invalid pattern: '..' is not allowed.")
    absolute = text.startswith("/")
    if not parts:
        raise ToolFailure("Invalid pattern: '/' alone matches every file; give a name or a glob.")
    segs: list[_Seg] = []
    for p in parts:
        # Relative patterns match names case-insensitively, so even their plain names are matched by listing.
        kind: SegKind = "any" if p == "**" else "glob" if _WILD.search(p) or not absolute else "lit"
        if kind == "any" and segs and segs[-1].kind == "any":
            continue
        segs.append(_Seg(p, kind))
    if not absolute and segs[0].kind == "any":
        segs = segs[1:]
    if not segs or segs[-1].kind == "any":
        raise ToolFailure("Invalid pattern: it must end with a name or a glob, not '**'.")
    return _Pattern(raw=text, absolute=absolute, segments=tuple(segs), fold_accents=fold_accents)


# --- find_file: the bounded search ---------------------------------------------------------------------


@dataclass
class _Hit:
    path: str
    type: str
    size: int | None
    mtime: str | None


@dataclass
class _SnapSearch:
    snapshot: Snapshot
    repository: str = ""
    hits: dict[str, _Hit] = field(default_factory=dict)
    mode: Literal["full", "partial", "folders", "none", "error", "indexing"] = "none"
    unvisited: list[str] = field(default_factory=list)
    error: str | None = None


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit
        self.used = 0

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        self.used += 1
        return True


class _OutOfBudget(Exception):
    pass


# Per-snapshot failures are reported and the search goes on; anything else (auth, rate limit, network)
# is the same for every request, so it ends the call with its own message.
_LOCAL_ERRORS = (NotFound, ServerError, BadRequest, ZerobyteProtocolError)


class _Searcher:
    def __init__(self, client: ZerobyteClient, rid: str, pattern: _Pattern, budget: _Budget, cap: int) -> None:
        self.client = client
        self.rid = rid
        self.pattern = pattern
        self.budget = budget
        self.cap = cap  # stop a snapshot's walk after this many matches

    async def stat(self, sid: str, path: str) -> SnapshotNode | None:
        if not self.budget.take():
            raise _OutOfBudget
        try:
            page = await self.client.list_snapshot_files(self.rid, sid, path, limit=1)
        except NotFound:
            return None
        if not page.files:
            return None
        node = page.files[0]
        if node.path == path:
            return node
        if node.path.startswith(path.rstrip("/") + "/"):
            return SnapshotNode(name=posixpath.basename(path), type="dir", path=path)
        return None

    async def children(self, sid: str, folder: str) -> list[SnapshotNode] | None:
        """Every entry directly in ``folder`` (all 500-entry pages); None when the folder is absent."""
        out: list[SnapshotNode] = []
        offset = 0
        while True:
            if not self.budget.take():
                raise _OutOfBudget
            try:
                page = await self.client.list_snapshot_files(self.rid, sid, folder, offset=offset, limit=PAGE_CAP)
            except NotFound:
                return None
            prefix = folder.rstrip("/") + "/"
            out.extend(f for f in page.files if f.path != folder and f.path.startswith(prefix))
            offset += len(page.files)
            total = page.total if page.total is not None else offset
            if not page.files or not (page.hasMore or offset < total):
                return out

    async def glob(self, result: _SnapSearch, segments: tuple[_Seg, ...]) -> None:
        """Match ``segments`` in one snapshot, breadth first, four folders at a time, within the budget."""
        sid = result.snapshot.short_id
        n = len(segments)
        queue: list[tuple[str, int]] = [("/", 0)]
        seen: set[tuple[str, int]] = set()
        complete = True
        used_before = self.budget.used

        def hit(node: SnapshotNode) -> None:
            result.hits.setdefault(node.path, _Hit(node.path, node.type, node.size, _mtime(node.mtime)))

        def consider(node: SnapshotNode, k: int) -> None:
            if k == n:
                hit(node)
            elif node.type == "dir":
                queue.append((node.path, k))

        async def visit(folder: str, i: int) -> None:
            j, path = i, folder
            while j < n and segments[j].kind == "lit":
                path = posixpath.join(path, segments[j].text)
                j += 1
            if j == n:
                node = await self.stat(sid, path)
                if node is not None:
                    hit(node)
                return
            kids = await self.children(sid, path)
            for child in kids or []:
                seg = segments[j]
                if seg.kind == "any":
                    nxt = segments[j + 1]
                    if self.pattern.matches(nxt, child.name):
                        consider(child, j + 2)
                    if child.type == "dir":
                        queue.append((child.path, j))
                elif self.pattern.matches(seg, child.name):
                    consider(child, j + 1)

        while queue:
            if len(result.hits) >= self.cap:
                complete = False
                result.unvisited.extend(p for p, _ in queue)
                break
            wave: list[tuple[str, int]] = []
            while queue and len(wave) < CONCURRENCY:
                item = queue.pop(0)
                if item not in seen:
                    seen.add(item)
                    wave.append(item)
            failed: list[str] = []
            await gather((_noting(visit, folder, i, failed) for folder, i in wave), limit=CONCURRENCY)
            if failed:
                complete = False
                result.unvisited.extend(failed + [p for p, _ in queue])
                break
        if not complete and self.budget.used == used_before and not result.hits:
            result.mode, result.unvisited = "none", []  # the budget was gone before this snapshot began
        else:
            result.mode = "full" if complete else "partial"


async def _noting(visit: Callable[[str, int], Awaitable[None]], folder: str, i: int, failed: list[str]) -> None:
    """A visit that records its folder in ``failed`` when the budget runs out (the walk then stops)."""
    try:
        await visit(folder, i)
    except _OutOfBudget:
        failed.append(folder)


@tool(title="Find file")
async def find_file(
    ctx: Ctx,
    pattern: Annotated[str, Field(description="Absolute path, glob (*, **) or name")],
    repository_id: Annotated[str | None, Field(description="Repository id")] = None,
    backup_job_id: JobArg = None,
    since: SinceArg = None,
    until: UntilArg = None,
    ignore_accents: Annotated[bool, Field(description="é = e in names")] = True,
    max_snapshots: Annotated[int | None, Field(description="Newest snapshots to search", ge=1, le=1000)] = None,
    max_results: Annotated[int, Field(description="Max versions shown", ge=1, le=200)] = 50,
) -> FindResult:
    """Snapshots holding a file (path, glob or name, any case) in a repository, job or all; each version once,
    newest first."""
    from ..catalog import CatalogUnavailable

    rid = check_short_id("repository_id", repository_id) if repository_id is not None else None
    jid = check_job_id("backup_job_id", backup_job_id) if backup_job_id is not None else None
    lo, hi = _time_window(since, until)
    pat = parse_pattern(pattern, fold_accents=ignore_accents)
    client = client_of(ctx)
    app = app_of(ctx)
    catalog = app.get_catalog()
    limit = max_snapshots or (999 if catalog is not None else 20)
    searches: list[_RepoFind] = []
    for scope, listed in await _find_scopes(client, rid, jid):
        in_range = [s for s in listed if _in_window(s, lo, hi)] if isinstance(listed, list) else []
        search = _RepoFind(scope, in_range, in_range[:limit], in_range[limit:])
        search.error = listed if isinstance(listed, str) else None
        # Only the repository's unfiltered list tells which snapshots Zerobyte forgot.
        search.listed = listed if isinstance(listed, list) and scope.job is None else None
        searches.append(search)
    notes: list[str] = []
    if catalog is not None:
        try:
            await _from_catalog(ctx, catalog, searches, pat, max_results)
        except CatalogUnavailable as exc:
            notes.append(f"The local catalog is unusable ({exc}); searched through Zerobyte instead.")
            catalog = None
            for search in searches:
                for res in search.results:
                    res.hits.clear()
                    res.mode = "none"
    for search in searches:
        await _live_search(client, search, pat, max_results, walk=catalog is None)
    results = [r for s in searches for r in s.results]
    versions = _versions(results, by_repository=len(searches) > 1)
    shown = versions[:max_results]
    skipped = [snap for s in searches for snap in s.skipped]
    indexing = [r for r in results if r.mode == "indexing"]
    wait = _ask_again(catalog, indexing) if indexing else 0
    notes.extend(_not_searched(results, skipped, versions, shown, max_results, wait))
    notes.extend(f"Repository {s.scope.repository_id}: {s.error}" for s in searches if s.error)
    in_range = [snap for s in searches for snap in s.in_range]
    hint = _find_hint(pat, versions, in_range, searches, not notes)
    if not versions and catalog is not None and searches:
        hint = await _near_hint(catalog, searches, pat) or hint
    result = FindResult(
        versions=shown,
        total_versions=len(versions),
        snapshots_searched=sum(1 for r in results if r.mode in ("full", "partial", "folders")),
        snapshots_in_range=len(in_range),
        complete=not notes,
        not_searched=notes,
        hint=hint,
    )
    return _fit(result)


@dataclass
class _RepoFind:
    scope: _Scope
    in_range: list[Snapshot]
    chosen: list[Snapshot]
    skipped: list[Snapshot]
    error: str | None = None
    listed: list[Snapshot] | None = None
    results: list[_SnapSearch] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.results = [_SnapSearch(s, repository=self.scope.repository_id) for s in self.chosen]


async def _find_scopes(
    client: ZerobyteClient, rid: str | None, jid: str | None
) -> list[tuple[_Scope, list[Snapshot] | str]]:
    """The repositories to search (one, a job's, or all) with their snapshots newest first, or why not."""
    if rid is not None or jid is not None:
        scope = await _scope(client, rid, jid, need_jobs=jid is not None)
        return [(scope, await _snapshots_in_scope(client, scope))]
    repos = await client.list_repositories()
    scopes = [_Scope(repository_id=r.shortId, job=None, jobs={}) for r in repos]

    async def listed(scope: _Scope) -> list[Snapshot] | str:
        try:
            return await _snapshots_in_scope(client, scope)
        except _LOCAL_ERRORS as exc:
            return f"its snapshots could not be listed ({exc})"

    lists = await gather([listed(s) for s in scopes], limit=CONCURRENCY)
    return list(zip(scopes, lists, strict=True))


async def _from_catalog(ctx: Ctx, catalog: Catalog, searches: list[_RepoFind], pat: _Pattern, cap: int) -> None:
    """Answer the indexed snapshots from the catalog; for a pattern that needs a full walk, index the others
    (in the background, newest first) and wait for them within FIND_WAIT seconds."""
    indexer = catalog.indexer
    rows: dict[tuple[str, str], SnapshotRow] = {}
    for search in searches:
        known = indexer.known(search.scope.repository_id, search.chosen, listed=search.listed)
        rows.update({(search.scope.repository_id, k): v for k, v in known.items() if v.complete})
    if pat.walks:
        missing = [
            (search, [s for s in search.chosen if (search.scope.repository_id, s.short_id) not in rows])
            for search in searches
        ]
        works = [w for search, snaps in missing if snaps for w in indexer.want(search.scope.repository_id, snaps)]
        if works:
            await _wait_for(ctx, works, FIND_WAIT)
            for work in works:
                if work.row is not None and work.row.complete:
                    rows[work.key] = work.row
            for search, _ in missing:
                for res in search.results:
                    key = (search.scope.repository_id, res.snapshot.short_id)
                    if key in rows:
                        continue
                    failed = next((w.error for w in works if w.key == key and w.error), None)
                    if failed is not None:
                        res.mode, res.error = "error", failed
                    else:
                        res.mode = "indexing"
    for search in searches:
        held = {
            rows[(search.scope.repository_id, r.snapshot.short_id)].id: r
            for r in search.results
            if (search.scope.repository_id, r.snapshot.short_id) in rows
        }
        if not held:
            continue
        store = catalog.store
        if pat.absolute and not pat.walks and all(s.kind == "lit" for s in pat.segments):
            found = await anyio.to_thread.run_sync(
                store.find_path, list(held), "/" + "/".join(s.text for s in pat.segments)
            )
        else:
            found = await anyio.to_thread.run_sync(
                functools.partial(store.find, list(held), pat.name_matches, pat.path_matches, limit=cap * 50)
            )
        for res in held.values():
            res.mode = "full"
        for item in found:
            entry = item.entry
            for row_id in item.snapshots:
                held[row_id].hits.setdefault(
                    entry.path, _Hit(entry.path, entry.kind, entry.size, iso_from_seconds(entry.mtime))
                )


async def _wait_for(ctx: Ctx, works: list[Work], seconds: float) -> None:
    """Wait until the works finish or ``seconds`` pass, reporting MCP progress about once a second."""
    total = len(works)
    with anyio.move_on_after(seconds):
        while True:
            done = sum(1 for w in works if w.finished.is_set())
            if done == total:
                return
            current = next((w for w in works if w.started is not None and not w.finished.is_set()), None)
            detail = (
                f"; snapshot {current.snapshot.short_id}: {current.done} entries ({current.method})"
                if current is not None
                else ""
            )
            await ctx.report_progress(done, total, f"indexed {done} of {total} snapshot(s){detail}")
            with anyio.move_on_after(1.0):
                for work in works:
                    await work.finished.wait()


def _ask_again(catalog: Catalog | None, indexing: list[_SnapSearch]) -> int:
    """Seconds until the snapshots still being indexed should be done (from their summaries), at least 5."""
    from ..catalog import estimate_seconds

    if catalog is None:
        return 30
    per_minute = catalog.indexer.pace.per_minute
    total = 0.0
    for res in indexing:
        total += estimate_seconds(res.snapshot, per_minute)
    current = catalog.indexer.current
    if current is not None and current.started is not None:
        total -= min(time.monotonic() - current.started, estimate_seconds(current.snapshot, per_minute))
    return max(5, math.ceil(total * 1.2))


async def _live_search(client: ZerobyteClient, search: _RepoFind, pat: _Pattern, cap: int, *, walk: bool) -> None:
    """Search the snapshots the catalog did not answer through Zerobyte: a stat or one folder listing per
    snapshot for a path-like pattern; a bounded walk only when there is no catalog."""
    todo = [r for r in search.results if r.mode == "none"]
    if not todo:
        return
    budget = _Budget(FIND_BUDGET)
    searcher = _Searcher(client, search.scope.repository_id, pat, budget, cap=cap)

    async def one(res: _SnapSearch, segments_for: Callable[[str], tuple[_Seg, ...]]) -> None:
        try:
            roots = res.snapshot.paths or ["/"]
            for root in roots if pat.walks and not pat.absolute else [""]:
                await searcher.glob(res, segments_for(root))
                if res.mode == "partial":
                    break
        except _LOCAL_ERRORS as exc:
            res.mode, res.error = "error", str(exc)

    if not pat.walks:
        await gather((one(r, pat.for_root) for r in todo), limit=CONCURRENCY)
        return
    if not walk:
        return
    # Snapshots of different sources (paths) are different trees: each group gets its own walk.
    groups: dict[tuple[str, ...], list[_SnapSearch]] = {}
    for res in todo:
        groups.setdefault(tuple(res.snapshot.paths), []).append(res)
    walker = _Budget(min(WALK_BUDGET, budget.left))
    searcher.budget = walker
    for members in groups.values():
        for res in members:
            if walker.left <= 0:
                break
            await one(res, pat.for_root)
            if res.hits:
                break
    budget.used += walker.used
    budget.left -= walker.used
    searcher.budget = budget
    for members in groups.values():
        found = {h.path for r in members for h in r.hits.values()}
        if found:
            await _check_found_folders(searcher, [r for r in members if r.mode == "none"], found)


async def _check_found_folders(searcher: _Searcher, rest: list[_SnapSearch], found: set[str]) -> None:
    """Look for the found paths in the other snapshots: a stat per path, or one listing of a folder that
    holds several of them. Only the first ``cap`` paths are followed (more could not be shown anyway)."""
    by_folder: dict[str, set[str]] = {}
    for path in sorted(found)[: searcher.cap]:
        by_folder.setdefault(posixpath.dirname(path), set()).add(path)

    async def check(res: _SnapSearch) -> None:
        sid = res.snapshot.short_id
        checked = 0
        try:
            for folder, paths in by_folder.items():
                if len(paths) <= 2:
                    nodes = [await searcher.stat(sid, p) for p in sorted(paths)]
                else:
                    nodes = [k for k in await searcher.children(sid, folder) or [] if k.path in paths]
                for node in nodes:
                    if node is not None:
                        res.hits.setdefault(node.path, _Hit(node.path, node.type, node.size, _mtime(node.mtime)))
                checked += 1
            res.mode = "folders"
        except _OutOfBudget:
            res.mode = "partial" if checked else "none"
            res.unvisited.extend(list(by_folder)[checked:])
        except _LOCAL_ERRORS as exc:
            res.mode, res.error = "error", str(exc)

    await gather((check(r) for r in rest), limit=CONCURRENCY)


def _versions(results: Iterable[_SnapSearch], *, by_repository: bool = False) -> list[FileVersion]:
    """Collapse identical versions (same repository, path, type, size, mtime) into one row listing their
    snapshots."""
    groups: dict[tuple[str, str, str, int | None, str | None], list[Snapshot]] = {}
    for res in results:
        for h in res.hits.values():
            groups.setdefault((res.repository, h.path, h.type, h.size, h.mtime), []).append(res.snapshot)
    rows: list[tuple[float, FileVersion]] = []
    for (repository, path, kind, size, mtime), snaps in groups.items():
        snaps.sort(key=_order)
        rows.append(
            (
                snaps[0].time,
                FileVersion(
                    repository=repository if by_repository else None,
                    path=path,
                    type=None if kind == "file" else kind,
                    size=size,
                    mtime=mtime,
                    snapshots=[s.short_id for s in snaps[:SHOWN_SNAPSHOT_IDS]],
                    in_snapshots=len(snaps),
                    newest=iso_from_ms(snaps[0].time),
                    oldest=iso_from_ms(snaps[-1].time),
                ),
            )
        )
    rows.sort(key=lambda r: (-r[0], r[1].path, r[1].mtime or ""))
    return [v for _, v in rows]


def _not_searched(
    results: list[_SnapSearch],
    skipped: list[Snapshot],
    versions: list[FileVersion],
    shown: list[FileVersion],
    max_results: int,
    wait: int = 0,
) -> list[str]:
    notes: list[str] = []
    if skipped:
        notes.append(
            f"{len(skipped)} older snapshot(s) in range not searched ({iso_from_ms(skipped[-1].time)} to "
            f"{iso_from_ms(skipped[0].time)}): raise max_snapshots (max 999) or narrow since/until."
        )
    partial = [r for r in results if r.mode == "partial"]
    for r in partial[:5]:
        some = ", ".join(r.unvisited[:3]) + ("…" if len(r.unvisited) > 3 else "")
        notes.append(
            f"Snapshot {r.snapshot.short_id} searched only partly: {len(r.unvisited)} folder(s) not listed "
            f"({some}); give a folder in the pattern."
        )
    if len(partial) > 5:
        notes.append(f"{len(partial) - 5} more snapshot(s) searched only partly.")
    folders = [r for r in results if r.mode == "folders"]
    if folders:
        notes.append(
            f"{len(folders)} snapshot(s) were checked only at the paths found in a newer one "
            f"({', '.join(r.snapshot.short_id for r in folders[:3])}{'…' if len(folders) > 3 else ''}); other "
            "matches in them were not looked for: put the folder in the pattern to search them fully."
        )
    untouched = [r for r in results if r.mode == "none"]
    if untouched:
        notes.append(
            f"{len(untouched)} snapshot(s) not searched: the request budget ran out "
            f"({', '.join(r.snapshot.short_id for r in untouched[:3])}{'…' if len(untouched) > 3 else ''}); "
            "narrow since/until or give a folder in the pattern."
        )
    indexing = [r for r in results if r.mode == "indexing"]
    if indexing:
        ids = ", ".join(r.snapshot.short_id for r in indexing[:5]) + ("…" if len(indexing) > 5 else "")
        notes.append(
            f"{len(indexing)} snapshot(s) not searched yet: being indexed in the background ({ids}); ask again "
            f"in ~{wait} s for a complete answer."
        )
    for r in [r for r in results if r.mode == "error"][:3]:
        notes.append(f"Snapshot {r.snapshot.short_id} failed: {r.error}")
    if len(versions) > len(shown) or any(len(r.hits) >= max_results for r in partial):
        notes.append(f"Results cut at max_results={max_results}; narrow the pattern.")
    return notes


async def _near_hint(catalog: Catalog, searches: list[_RepoFind], pat: _Pattern) -> str | None:
    """ "Did you mean" from the names the searched snapshots hold (case and accents ignored, small typos)."""
    from ..catalog import CatalogUnavailable

    indexer = catalog.indexer
    held: list[int] = []
    try:
        for search in searches:
            rows = indexer.known(search.scope.repository_id, search.chosen)
            held += [
                rows[r.snapshot.short_id].id for r in search.results if r.mode == "full" and r.snapshot.short_id in rows
            ]
        names = await anyio.to_thread.run_sync(catalog.store.names, held) if held else []
    except CatalogUnavailable:
        return None
    near = near_names(pat.segments[-1].text, names)
    if not near:
        return None
    shown = ", ".join(repr(n) for n in near)
    return f"Not found. Near names in these snapshots: {shown}; search one of them."


def _find_hint(
    pat: _Pattern, versions: list[FileVersion], in_range: list[Snapshot], searches: list[_RepoFind], complete: bool
) -> str | None:
    if not in_range:
        return "No snapshots in range: check since/until or list_snapshots."
    if not versions and not complete:
        if any(r.mode == "indexing" for s in searches for r in s.results):
            return "Nothing found in the snapshots searched so far; the rest are being indexed: ask again later."
        return (
            "Nothing found in the part searched: put the folder in the pattern ('/srv/data/docs/*.pdf') so only "
            "it is listed."
        )
    if not versions:
        if pat.absolute:
            return "Not found: check the folder with list_snapshot_files, or search by name ('tax.pdf', '*tax*')."
        return "Not found: try a broader glob ('*tax*'), or list folders with list_snapshot_files."
    top = versions[0]
    rid = top.repository or next((s.scope.repository_id for s in searches if s.results), "")
    return (
        f"Read one with read_snapshot_file(repository_id={rid!r}, snapshot_id={top.snapshots[0]!r}, path={top.path!r})."
    )


def _fit(result: FindResult) -> FindResult:
    """Drop trailing versions until the JSON answer is under MAX_TEXT characters."""
    before = len(result.versions)
    while len(result.model_dump_json(exclude_none=True)) > MAX_TEXT - 200 and result.versions:
        result.versions = result.versions[: min(len(result.versions) * 3 // 4, len(result.versions) - 10)]
    if len(result.versions) < before:
        result.not_searched.append(
            f"Only {len(result.versions)} of {result.total_versions} versions fit in one answer; narrow the pattern."
        )
        result.complete = False
    return result


# --- read_snapshot_file ----------------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive (or docx/xlsx/odt)"),
    (b"\x1f\x8b", "gzip data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ", "xz data"),
    (b"(\xb5/\xfd", "zstd data"),
    (b"7z\xbc\xaf", "7-Zip archive"),
    (b"\x7fELF", "ELF executable"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"RIFF", "RIFF media (wav/avi/webp)"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
)


def _guess_type(data: bytes, path: str) -> str:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[4:8] == b"ftyp":
        return "MP4/MOV/HEIC media"
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "binary data"


def _as_text(data: bytes) -> tuple[str | None, int]:
    """Decoded text and the number of bytes replaced, or None when the data looks binary."""
    if b"\x00" in data[:8192]:
        return None, 0
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            # The byte cap cut a multi-byte character in two.
            try:
                return data[: exc.start].decode("utf-8"), 0
            except UnicodeDecodeError:
                pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad > max(8, len(text) // 50):
        return None, bad
    return text, bad


async def _listed_node(
    client: ZerobyteClient, rid: str, sid: str, path: str
) -> tuple[SnapshotNode, SnapshotRef | None]:
    """The listed entry at ``path`` if it is a regular file; otherwise the refusal that says what it is."""
    try:
        page = await client.list_snapshot_files(rid, sid, path, limit=1)
    except NotFound:
        raise await _missing(client, rid, sid, path) from None
    node = page.files[0] if page.files else None
    if node is None or (node.path != path and not node.path.startswith(path + "/")):
        raise await _missing(client, rid, sid, path)
    if node.path != path or node.type == "dir":
        raise ToolFailure(
            f"{path!r} is a folder in snapshot {sid}: list it with list_snapshot_files, or find files with find_file."
        )
    if node.type != "file":
        raise ToolFailure(f"{path!r} in snapshot {sid} is a {node.type}, not a regular file; nothing to read.")
    return node, page.snapshot


async def _catalog_node(ctx: Ctx, rid: str, sid: str, path: str) -> SnapshotNode | None:
    """The catalog's entry for a regular file (its size and mtime), when the snapshot is indexed."""
    from ..catalog import CatalogUnavailable

    catalog = app_of(ctx).get_catalog()
    if catalog is None:
        return None

    def look() -> SnapshotNode | None:
        row = catalog.snapshot(rid, sid)
        entry = catalog.entry(row, path) if row is not None else None
        if entry is None or entry.kind != "file":
            return None
        return SnapshotNode(
            name=posixpath.basename(path), type="file", path=path, size=entry.size, mtime=iso_from_seconds(entry.mtime)
        )

    try:
        return await anyio.to_thread.run_sync(look)
    except CatalogUnavailable:
        return None


def _folder_tar(data: bytes, path: str) -> bool:
    """Whether a dump answer is the tar Zerobyte sends for a folder (its first member is ``<name>/...``)."""
    if len(data) < 512 or data[257:262] != b"ustar":
        return False
    stored = data[148:156].split(b"\0", 1)[0].strip(b" \0")
    try:
        checksum_ok = int(stored or b"-1", 8) == sum(data[:148]) + 256 + sum(data[156:512])
    except ValueError:
        return False
    name = data[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
    return checksum_ok and (name.startswith(posixpath.basename(path) + "/") or data[156:157] in (b"x", b"5"))


@tool(title="Read snapshot file")
async def read_snapshot_file(
    ctx: Ctx,
    snapshot_id: Annotated[str, Field(description="Snapshot id or 'latest'")],
    path: Annotated[str, Field(description="Absolute file path")],
    repository_id: OptRepoArg = None,
    backup_job_id: Annotated[str | None, Field(description="Backup job id (for 'latest')")] = None,
    max_bytes: Annotated[int, Field(description="Max bytes to read", ge=1, le=MAX_FILE_BYTES)] = 65536,
) -> SnapshotFileText:
    """Text of a small file in a snapshot ('latest' = newest); binary files are refused."""
    rid, jid = _check_scope_args(repository_id, backup_job_id)
    latest = snapshot_id.strip().lower() == "latest"
    sid = None if latest else check_snapshot_id("snapshot_id", snapshot_id)
    clean = check_absolute_path("path", path, allow_root=False)
    client = client_of(ctx)
    if jid is not None or latest:
        scope = await _scope(client, rid, jid, need_jobs=jid is not None)
        rid = scope.repository_id
        if latest:
            snaps = await _snapshots_in_scope(client, scope)
            if not snaps:
                whose = f"backup job {scope.job.shortId!r}" if scope.job else f"repository {rid!r}"
                raise ToolFailure(f"There is no snapshot of {whose} yet, so there is no 'latest'.")
            sid = snaps[0].short_id
    assert rid is not None and sid is not None
    # Dump first: one restic run. Zerobyte answers a path the snapshot lacks with 200 and no bytes, and a
    # folder with a tar, so only an empty or tar-looking answer is checked with a listing.
    try:
        dump = await client.dump_snapshot(rid, sid, clean, kind="file", max_bytes=max_bytes)
    except NotFound:
        raise await _missing(client, rid, sid, clean) from None
    node: SnapshotNode | None = await _catalog_node(ctx, rid, sid, clean)
    ref: SnapshotRef | None = None
    if not dump.data or (node is None and _folder_tar(dump.data, clean)):
        node, ref = await _listed_node(client, rid, sid, clean)
    if quotes_secret(dump.data, app_of(ctx).secrets):
        # The key file often sits in a backed-up home (~/.config/zerobyte-mcp/key): the agent must not read it back.
        raise ToolFailure(
            f"Refused: {clean!r} in snapshot {sid} contains this server's Zerobyte API key or HTTP token, which no "
            "agent may read. Nothing is shown; the user can restore it themselves if needed."
        )
    size = node.size if node is not None else (None if dump.truncated else len(dump.data))
    truncated = dump.truncated or (size is not None and size > len(dump.data))
    text, replaced = _as_text(dump.data)
    if text is None:
        raise ToolFailure(
            f"{clean!r} in snapshot {sid} is binary ({_guess_type(dump.data, clean)}, {_size_text(size)}): it cannot "
            "be shown as text; restore it to a folder instead."
        )
    notes: list[str] = []
    if truncated:
        notes.append(
            f"Truncated: first {len(dump.data)} of {size if size is not None else 'more'} bytes; raise max_bytes "
            f"(max {MAX_FILE_BYTES}) or restore the file."
        )
    if replaced:
        notes.append(f"{replaced} byte sequence(s) were not UTF-8 and show as U+FFFD.")
    return SnapshotFileText(
        snapshot=ref.short_id if ref and ref.short_id else sid,
        snapshot_time=iso(ref.time) if ref else None,
        size=size,
        mtime=_mtime(node.mtime) if node is not None else None,
        truncated=truncated,
        text=text,
        note=" ".join(notes) or None,
    )


# --- compare_snapshots -----------------------------------------------------------------------------------


class Change(BaseModel, defer_build=True):
    path: str
    change: Literal["added", "removed", "modified"]
    type: str | None = None  # omitted for files
    size: int | None = None
    mtime: str | None = None
    old_size: int | None = None
    old_mtime: str | None = None


class Comparison(BaseModel, defer_build=True):
    snapshot: str
    snapshot_time: str | None = None
    base: str | None = None
    base_time: str | None = None
    added: int | None = None
    removed: int | None = None
    modified: int | None = None
    changes: list[Change] = Field(default_factory=list)
    next_offset: int | None = None
    note: str | None = None


@tool(title="Compare snapshots")
async def compare_snapshots(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_id: SnapArg,
    base_snapshot_id: Annotated[str | None, Field(description="Older one (default: previous of its job)")] = None,
    path: Annotated[str | None, Field(description="Only below this folder")] = None,
    offset: Annotated[int, Field(description="next_offset", ge=0)] = 0,
    limit: Annotated[int, Field(description="Page size", ge=1, le=500)] = 100,
) -> Comparison:
    """What changed between two snapshots: files added, removed, modified (size/mtime); counts, paged list."""
    from ..catalog import CatalogUnavailable

    rid = check_short_id("repository_id", repository_id)
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    base_id = check_snapshot_id("base_snapshot_id", base_snapshot_id) if base_snapshot_id is not None else None
    folder = check_absolute_path("path", path).rstrip("/") or "/" if path is not None else None
    catalog = app_of(ctx).get_catalog()
    if catalog is None:
        raise ToolFailure(
            "compare_snapshots needs the local snapshot catalog, which is off or unusable here (see catalog_path in "
            "`zerobyte-mcp check`); compare folders with list_snapshot_files instead."
        )
    snaps = await _snapshots_in_scope(client_of(ctx), _Scope(repository_id=rid, job=None, jobs={}))
    new = _pick(snaps, sid, "snapshot_id", rid)
    if base_id is not None:
        old = _pick(snaps, base_id, "base_snapshot_id", rid)
    else:
        previous = _previous(snaps, new)
        if previous is None:
            raise ToolFailure(
                f"Snapshot {new.short_id} is the first of its job in repository {rid!r}: nothing before it to compare "
                "with; give base_snapshot_id."
            )
        old = previous
    if old.time > new.time:
        old, new = new, old
    result = Comparison(
        snapshot=new.short_id, snapshot_time=iso_from_ms(new.time), base=old.short_id, base_time=iso_from_ms(old.time)
    )
    try:
        rows = catalog.indexer.known(rid, [old, new], listed=snaps)
        missing = [s for s in (old, new) if s.short_id not in rows or not rows[s.short_id].complete]
        if missing:
            works = catalog.indexer.want(rid, missing)
            await _wait_for(ctx, works, FIND_WAIT)
            failed = next((w.error for w in works if w.error), None)
            if failed is not None:
                raise ToolFailure(failed)
            rows = catalog.indexer.known(rid, [old, new])
            if any(s.short_id not in rows or not rows[s.short_id].complete for s in (old, new)):
                wait = _ask_again(catalog, [_SnapSearch(s) for s in missing])
                result.note = f"Not compared yet: the snapshots are being indexed; call again in ~{wait} s."
                return result
        changes = await anyio.to_thread.run_sync(
            functools.partial(_changes, catalog, rows[old.short_id].id, rows[new.short_id].id, folder)
        )
    except CatalogUnavailable as exc:
        raise ToolFailure(f"The local catalog is unusable ({exc}); compare folders with list_snapshot_files.") from None
    result.added = sum(1 for c in changes if c.change == "added")
    result.removed = sum(1 for c in changes if c.change == "removed")
    result.modified = sum(1 for c in changes if c.change == "modified")
    result.changes = changes[offset : offset + limit]
    result.next_offset = offset + limit if offset + limit < len(changes) else None
    return result


def _pick(snaps: list[Snapshot], sid: str, argument: str, rid: str) -> Snapshot:
    found = [s for s in snaps if s.short_id == sid[:8] or (s.id or "").startswith(sid)]
    if not found:
        raise ToolFailure(f"Snapshot {sid!r} ({argument}) is not in repository {rid!r}: list_snapshots shows them.")
    return found[0]


def _previous(snaps: list[Snapshot], snap: Snapshot) -> Snapshot | None:
    """The newest older snapshot of the same job (same tags) and source (same paths)."""
    older = [s for s in snaps if s.time < snap.time and s.paths == snap.paths]
    same_job = [s for s in older if set(s.tags) & set(snap.tags) or not (s.tags or snap.tags)]
    return max(same_job, key=lambda s: s.time, default=None)


def _changes(catalog: Catalog, old: int, new: int, folder: str | None) -> list[Change]:
    """Every difference between two indexed snapshots, by path: a version only in the newer one is added
    (or modified when the older one had another version at that path), only in the older one removed."""
    before = set(catalog.store.members(old))
    after = set(catalog.store.members(new))
    gone = {e.path: e for e in catalog.store.entries(old, before - after)}
    came = {e.path: e for e in catalog.store.entries(new, after - before)}
    prefix = None if folder in (None, "/") else f"{folder}/"
    out: list[Change] = []
    for p in sorted(gone.keys() | came.keys()):
        if prefix is not None and not p.startswith(prefix):
            continue
        was, now = gone.get(p), came.get(p)
        if was is not None and now is not None:
            if was.kind == now.kind == "dir":
                continue  # a folder's mtime moves with its contents; its files tell what changed
            out.append(
                Change(
                    path=p,
                    change="modified",
                    type=None if now.kind == "file" else now.kind,
                    size=now.size,
                    mtime=iso_from_seconds(now.mtime),
                    old_size=was.size,
                    old_mtime=iso_from_seconds(was.mtime),
                )
            )
            continue
        entry = now or was
        assert entry is not None
        out.append(
            Change(
                path=p,
                change="added" if now is not None else "removed",
                type=None if entry.kind == "file" else entry.kind,
                size=entry.size,
                mtime=iso_from_seconds(entry.mtime),
            )
        )
    return out
