"""drill_backup: prove that snapshots restore, by reading real file contents back through Zerobyte, read-only.

A job's "last run succeeded" says nothing of whether its data can be read back: a damaged pack on disk, a
wrong password or an unreadable snapshot look healthy until the day a file is needed. A drill reads a
sample of files out of each snapshot (``GET …/dump?kind=file``), hashing each stream (SHA-256) as it arrives
and checking that the bytes read equal the size the listing gives; a file unchanged since the previous
snapshot must hash the same in both; one small folder is read as a tar and every entry must be there with
its listed size. Nothing is written anywhere, on Zerobyte or here (but the drill's own row in the catalog
file), and nothing is held in memory but a hash.

Zerobyte sends its answer headers before restic runs, so a file restic cannot decrypt arrives as a
200 with fewer bytes than listed (none, on v0.42 and v0.41): the size check is what catches a damaged pack.
Each snapshot's result is kept in the catalog (``drill`` table) for ``backup_health`` and ``zerobyte://drills``.
"""

from __future__ import annotations

import hashlib
import posixpath
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from pydantic import BaseModel, Field, PrivateAttr

from ..answers.output import human_bytes, iso_from_ms
from ..zerobyte import ZerobyteError, ZerobyteUnreachable
from ..zerobyte.ids import check_absolute_path, check_job_id, check_short_id, check_snapshot_id
from ..zerobyte.models import BackupJob, Snapshot
from .base import Ctx, ToolFailure, app_of, client_of, tool
from .snapshots.common import LOCAL_ERRORS
from .snapshots.indexing import wait_for

if TYPE_CHECKING:
    from ..catalog import Catalog, Entry, SnapshotRow

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_SECONDS",
    "Drill",
    "DrilledFile",
    "DrilledFolder",
    "SnapshotDrill",
    "drill_backup",
    "run_drill",
]

MiB = 2**20
# Defaults measured on a real Zerobyte v0.42 on loopback, 2 shared cores (bench/drill.py, bench/RESULTS.md): a
# file dump streams at ~60-100 MiB/s after ~0.3 s of restic start-up, and a sample of ~15 files costs ~5-10 s.
# 256 MiB reads the whole of a typical documents/photos snapshot's sample in well under the 120 s a client
# waits; both can be raised for a deeper drill.
DEFAULT_MAX_BYTES = 256 * MiB
DEFAULT_MAX_SECONDS = 120
ALL_FILES_UP_TO = 50  # a snapshot with at most this many files (within the byte budget) is read whole
CHANGED, LARGEST, RANDOM = 5, 3, 5  # the sample: changed since the previous snapshot, largest, seeded random
FOLDER_MAX_ENTRIES = 200  # the folder read as a tar: at most this many files ...
FOLDER_MAX_BYTES = 16 * MiB  # ... and this many bytes
INDEX_SHARE = 0.5  # of the time budget that waiting for the catalog may take
CHUNK_READ_TIMEOUT = 120.0


class DrilledFile(BaseModel, defer_build=True):
    path: str
    why: str = Field(description="all, named, changed, largest, random or cross-check")
    size: int = Field(description="bytes the listing gives")
    read_bytes: int | None = Field(default=None, description="bytes read, when not the listed size")
    sha256: str | None = None
    result: str = Field(description="ok, failed or not_read")
    snapshot: str | None = None  # the older snapshot, for a cross-check
    reason: str | None = None


class DrilledFolder(BaseModel, defer_build=True):
    path: str
    files: int
    size: int
    read_bytes: int = 0
    result: str = Field(description="ok, failed or not_read")
    reason: str | None = None


class SnapshotDrill(BaseModel, defer_build=True):
    snapshot: str | None = None  # none when the repository's snapshots cannot even be listed
    repository: str
    job: str | None = None
    time: str | None = None
    verdict: str = Field(description="restorable, failed or incomplete")
    files_in_snapshot: int | None = None
    files: list[DrilledFile] = Field(default_factory=list)
    folder: DrilledFolder | None = None
    left_out: list[str] = Field(default_factory=list)
    reason: str | None = None
    next_step: str | None = None
    _job_id: str | None = PrivateAttr(default=None)  # what the drill history is kept by


class Drill(BaseModel, defer_build=True):
    verdict: str = Field(description="restorable, failed or incomplete")
    summary: str
    seed: int
    snapshots: list[SnapshotDrill]
    files_verified: int
    verified_bytes: int
    seconds: float
    bytes_per_second: int | None = None
    throughput: str | None = None
    next_step: str | None = None
    note: str | None = None


# --- targets -------------------------------------------------------------------------------------------


@dataclass
class Target:
    repository: str
    snapshot: Snapshot
    job: BackupJob | None
    previous: Snapshot | None
    listed: list[Snapshot]


@dataclass
class Budget:
    max_bytes: int
    deadline: float
    used_bytes: int = 0
    dump_seconds: float = 0.0

    @property
    def left_bytes(self) -> int:
        return max(0, self.max_bytes - self.used_bytes)

    @property
    def left_seconds(self) -> float:
        return self.deadline - time.monotonic()


def _job_of(snap: Snapshot, jobs: Sequence[BackupJob]) -> BackupJob | None:
    return next((j for j in jobs if j.shortId in snap.tags), None)


def _previous(snaps: Sequence[Snapshot], snap: Snapshot) -> Snapshot | None:
    """The newest older snapshot of the same job and source: compare_snapshots' rule, so both pick the same."""
    from .snapshots.compare import _previous as previous_of_job

    return previous_of_job(list(snaps), snap)


async def _targets(
    ctx: Ctx, rid: str | None, jid: str | None, sid: str | None, notes: list[str], failures: list[SnapshotDrill]
) -> list[Target]:
    client = client_of(ctx)
    jobs = await client.list_backup_jobs()
    if jid is not None:
        job = next((j for j in jobs if jid in (j.shortId, str(j.id))), None)
        if job is None:
            raise ToolFailure(f"Backup job {jid!r} was not found: list_backup_jobs shows the existing jobs.")
        job_repo = await client.job_repository(job)
        if job_repo is None:
            raise ToolFailure(f"Backup job {job.name!r} names no repository; give repository_id.")
        if rid is not None and rid != job_repo:
            raise ToolFailure(
                f"Backup job {job.name!r} writes to repository {job_repo!r}, not {rid!r}: drop repository_id."
            )
        wanted: dict[str, list[BackupJob | None]] = {job_repo: [job]}
    elif rid is not None:
        wanted = {rid: [None]}
    else:
        wanted = {}
        for job in jobs:
            repo = await client.job_repository(job)
            if repo is not None:
                wanted.setdefault(repo, []).append(job)
        if not wanted:
            raise ToolFailure("There are no backup jobs to drill: create_backup_job makes one.")
    targets: list[Target] = []
    for repo, repo_jobs in wanted.items():
        try:
            listed = sorted(await client.list_snapshots(repo), key=lambda s: -s.time)
        except LOCAL_ERRORS as exc:
            # A repository restic cannot open (wrong password, missing or damaged config) fails its drill here.
            for job in repo_jobs:
                failure = SnapshotDrill(
                    repository=repo,
                    job=job.name if job is not None else None,
                    verdict="failed",
                    reason=f"the snapshots of repository {repo!r} cannot be listed: {exc}",
                )
                failure.next_step = _next_step(failure, repo, job)
                failure._job_id = job.shortId if job is not None else None
                failures.append(failure)
            continue
        if sid is not None:
            found = [s for s in listed if s.short_id == sid[:8] or (s.id or "").startswith(sid)]
            if not found:
                raise ToolFailure(f"Snapshot {sid!r} is not in repository {repo!r}: list_snapshots shows them.")
            snap = found[0]
            targets.append(Target(repo, snap, _job_of(snap, jobs), _previous(listed, snap), listed))
            continue
        for job in repo_jobs:
            mine = [s for s in listed if job is None or job.shortId in s.tags]
            if not mine:
                if job is not None:
                    notes.append(f"backup job {job.name!r} has no snapshot yet: nothing to drill")
                else:
                    notes.append(f"repository {repo!r} holds no snapshot: nothing to drill")
                continue
            snap = mine[0]
            targets.append(Target(repo, snap, job or _job_of(snap, jobs), _previous(listed, snap), listed))
    return targets


# --- one snapshot ----------------------------------------------------------------------------------------


@dataclass
class _Plan:
    files: list[DrilledFile] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    cross: Entry | None = None
    folder: tuple[str, dict[str, int]] | None = None  # folder path, its files' relative paths and sizes


def _plan(
    files: list[Entry],
    changed: set[str],
    unchanged: set[int],
    named: Sequence[str],
    budget: int,
    rng: random.Random,
) -> _Plan:
    """Choose what to read: everything when small, else named, changed, largest and random files within
    ``budget`` bytes; what does not fit is left out and said."""
    plan = _Plan()
    chosen: dict[str, DrilledFile] = {}
    left = budget

    def take(entry: Entry, why: str, *, required: bool) -> None:
        nonlocal left
        size = entry.size or 0
        if entry.path in chosen:
            return
        if size > left:
            if required:
                plan.left_out.append(f"{entry.path} ({why}, {human_bytes(size)}): over the byte budget")
            return
        left -= size
        chosen[entry.path] = DrilledFile(path=entry.path, why=why, size=size, result="not_read")

    by_path = {e.path: e for e in files}
    total = sum(e.size or 0 for e in files)
    if len(files) <= ALL_FILES_UP_TO and total <= budget:
        for e in sorted(files, key=lambda e: e.path):
            take(e, "all", required=True)
    else:
        for p in named:
            take(by_path[p], "named", required=True)
        for e in sorted((by_path[p] for p in changed if p in by_path), key=lambda e: (-(e.size or 0), e.path))[
            :CHANGED
        ]:
            take(e, "changed", required=False)
        for e in sorted(files, key=lambda e: (-(e.size or 0), e.path))[:LARGEST]:
            take(e, "largest", required=True)
        pool = sorted((e for e in files if e.path not in chosen), key=lambda e: e.path)
        for e in rng.sample(pool, min(len(pool), RANDOM * 4)):
            if sum(1 for f in chosen.values() if f.why == "random") >= RANDOM:
                break
            take(e, "random", required=False)
    plan.files = list(chosen.values())
    # One read of an older copy: a sampled file with the same size and mtime there must hash the same.
    same = [by_path[f.path] for f in plan.files if by_path[f.path].id in unchanged and f.size > 0]
    if same:
        cross = min(same, key=lambda e: (e.size or 0, e.path))
        if (cross.size or 0) <= left:
            plan.cross = cross
            left -= cross.size or 0
    plan.folder = _folder(files, [f.path for f in plan.files], min(left, FOLDER_MAX_BYTES))
    return plan


def _folder(files: list[Entry], sampled: list[str], budget: int) -> tuple[str, dict[str, int]] | None:
    """The folder of a sampled file holding the most files within the limits, as (path, {relative: size})."""
    best: tuple[str, dict[str, int]] | None = None
    for folder in sorted({posixpath.dirname(p) for p in sampled}):
        prefix = folder.rstrip("/") + "/"
        inside = {e.path[len(prefix) :]: e.size or 0 for e in files if e.path.startswith(prefix)}
        if not 2 <= len(inside) <= FOLDER_MAX_ENTRIES or sum(inside.values()) > budget:
            continue
        if best is None or len(inside) > len(best[1]):
            best = (folder, inside)
    return best


async def _read_file(
    ctx: Ctx, repository: str, snapshot: str, item: DrilledFile, budget: Budget, progress: _Progress
) -> None:
    """Stream one file's dump, hashing it; its result says what happened (the drill goes on either way)."""
    client = client_of(ctx)
    digest = hashlib.sha256()
    started = time.monotonic()
    item.read_bytes = 0
    read = 0
    with anyio.move_on_after(max(budget.left_seconds, 0.0)) as scope:
        try:
            async with client.stream_snapshot_dump(
                repository, snapshot, item.path, kind="file", read_timeout=CHUNK_READ_TIMEOUT
            ) as chunks:
                async for chunk in chunks:
                    digest.update(chunk)
                    read += len(chunk)
                    item.read_bytes = read
                    budget.used_bytes += len(chunk)
                    await progress.bytes_read(len(chunk))
                    if read > item.size:
                        break
        except ZerobyteUnreachable as exc:
            item.result = "failed"
            item.reason = f"dump of {item.path} broke after {human_bytes(read)}: {exc}"
            return
        except ZerobyteError as exc:
            item.result = "failed"
            item.reason = f"dump of {item.path} failed after {human_bytes(read)}: {exc}"
            return
        finally:
            budget.dump_seconds += time.monotonic() - started
    if scope.cancelled_caught:
        item.result = "not_read"
        item.reason = f"time budget reached after {human_bytes(read)} of {human_bytes(item.size)}"
        return
    if read < item.size:
        item.result = "failed"
        item.reason = (
            f"dump of {item.path} stopped after {human_bytes(read)} of {human_bytes(item.size)}: Zerobyte "
            "ended the download early, as it does when restic cannot read the data (a damaged pack or a wrong "
            "key; restic's error is in Zerobyte's log)"
        )
    elif read > item.size:
        item.result = "failed"
        item.reason = f"dump of {item.path} sent more than the {item.size} bytes the listing gives"
    else:
        item.result = "ok"
        item.sha256 = digest.hexdigest()
        item.read_bytes = None  # the listed size, as the size check says


async def _read_folder(
    ctx: Ctx, repository: str, snapshot: str, folder: DrilledFolder, expected: dict[str, int], budget: Budget
) -> None:
    from ..catalog.tar import TarError, tar_members

    client = client_of(ctx)
    seen: dict[str, int] = {}
    base = posixpath.basename(folder.path.rstrip("/"))
    started = time.monotonic()
    with anyio.move_on_after(max(budget.left_seconds, 0.0)) as scope:
        try:
            async with client.stream_snapshot_dump(
                repository, snapshot, folder.path, kind="dir", read_timeout=CHUNK_READ_TIMEOUT
            ) as chunks:
                async for member in tar_members(chunks):
                    if member.kind != "file":
                        continue
                    name = member.name
                    if name not in expected and name.startswith(base + "/"):
                        name = name[len(base) + 1 :]  # members may be named below the folder's own name
                    seen[name] = member.size
                    folder.read_bytes += member.size
                    budget.used_bytes += member.size
        except (ZerobyteError, TarError) as exc:
            folder.result = "failed"
            folder.reason = f"the tar dump of {folder.path} broke after {len(seen)} of {folder.files} files: {exc}"
            return
        finally:
            budget.dump_seconds += time.monotonic() - started
    if scope.cancelled_caught:
        folder.result = "not_read"
        folder.reason = f"time budget reached after {len(seen)} of {folder.files} files"
        return
    missing = sorted(set(expected) - set(seen))
    wrong = sorted(p for p in expected if p in seen and seen[p] != expected[p])
    if missing or wrong:
        folder.result = "failed"
        parts = []
        if missing:
            parts.append(f"{len(missing)} listed file(s) missing from the tar (first: {missing[0]})")
        if wrong:
            p = wrong[0]
            parts.append(f"{len(wrong)} with another size (first: {p}: {seen[p]} of {expected[p]} bytes)")
        folder.reason = f"the tar dump of {folder.path}: " + "; ".join(parts)
    else:
        folder.result = "ok"


class _Progress:
    """MCP progress by bytes read across the whole drill, at most about every 0.5 s."""

    def __init__(self, ctx: Ctx, total: int) -> None:
        self.ctx = ctx
        self.total = max(total, 1)
        self.done = 0
        self.last = 0.0
        self.what = ""

    async def bytes_read(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= 0.5:
            self.last = now
            await self.say()

    async def say(self, what: str | None = None) -> None:
        if what is not None:
            self.what = what
        await self.ctx.report_progress(
            min(self.done, self.total), self.total, f"{self.what}: {human_bytes(self.done)} read"
        )


async def _index(ctx: Ctx, catalog: Catalog, target: Target, budget: Budget) -> tuple[SnapshotRow | None, str | None]:
    """The snapshot's catalog row, indexing it when needed; (None, why) when that failed or took too long."""
    from ..catalog import Work

    rid, snap = target.repository, target.snapshot
    wanted = [snap] + ([target.previous] if target.previous is not None else [])
    rows = catalog.indexer.known(rid, wanted, listed=target.listed)
    missing = [s for s in wanted if s.short_id not in rows or not rows[s.short_id].complete]
    if not missing:
        return rows[snap.short_id], None
    # The previous snapshot too (the changed files and the cross-check need it), within the same wait.
    works = catalog.indexer.want(rid, missing)
    await wait_for(ctx, works, max(1.0, budget.left_seconds * INDEX_SHARE))
    works = [w for w in works if w.snapshot.short_id == snap.short_id]
    rows = catalog.indexer.known(rid, [snap])
    if snap.short_id in rows and rows[snap.short_id].complete:
        return rows[snap.short_id], None
    failed = next((w.error for w in works if w.error), None)
    if failed is None:
        return None, "listing the snapshot's files took longer than the time budget: raise max_seconds"
    # The whole-snapshot tar broke (often the same damage a drill looks for): list it folder by folder
    # instead, so the files can still be named and read one by one.
    walk = Work(rid, snap, method="walk")
    with anyio.move_on_after(max(1.0, budget.left_seconds * INDEX_SHARE)):
        await catalog.indexer.process(walk)
    rows = catalog.indexer.known(rid, [snap])
    if snap.short_id in rows and rows[snap.short_id].complete:
        return rows[snap.short_id], f"reading the whole snapshot as one tar failed ({failed})"
    return None, walk.error or failed


def _members(catalog: Catalog, row: SnapshotRow) -> list[Entry]:
    return [e for e in catalog.store.entries(row.id) if e.kind == "file" and e.size is not None]


async def _drill_snapshot(
    ctx: Ctx,
    catalog: Catalog,
    target: Target,
    named: Sequence[str],
    budget: Budget,
    share: int,
    rng: random.Random,
    progress: _Progress,
) -> SnapshotDrill:
    snap = target.snapshot
    result = SnapshotDrill(
        snapshot=snap.short_id,
        repository=target.repository,
        job=target.job.name if target.job is not None else None,
        time=iso_from_ms(snap.time),
        verdict="incomplete",
    )
    result._job_id = target.job.shortId if target.job is not None else None
    await progress.say(f"snapshot {snap.short_id}: listing its files")
    row, trouble = await _index(ctx, catalog, target, budget)
    if row is None:
        result.verdict = "failed" if trouble and "budget" not in trouble else "incomplete"
        result.reason = f"snapshot {snap.short_id} could not be listed: {trouble}"
        result.next_step = (
            _next_step(result, target.repository, target.job) if result.verdict == "failed" else "raise max_seconds"
        )
        return result
    files = await anyio.to_thread.run_sync(_members, catalog, row)
    result.files_in_snapshot = len(files)
    paths = {e.path for e in files}
    for p in named:
        if p not in paths:
            raise ToolFailure(
                f"{p!r} is not a file in snapshot {snap.short_id}: list_snapshot_files or find_file shows its paths."
            )
    changed: set[str] = set()
    unchanged: set[int] = set()
    previous_row: SnapshotRow | None = None
    if target.previous is not None:
        rows = catalog.indexer.known(target.repository, [target.previous])
        previous_row = rows.get(target.previous.short_id)
        if previous_row is not None and previous_row.complete:
            before = set(catalog.store.members(previous_row.id))
            now = {e.id for e in files}
            unchanged = now & before
            changed = {e.path for e in files if e.id not in before}
        else:
            previous_row = None
    plan = _plan(files, changed, unchanged, named, share, rng)
    result.left_out = plan.left_out
    if not plan.files and not files:
        result.verdict = "incomplete"
        result.reason = f"snapshot {snap.short_id} holds no files: nothing to read back"
        return result
    for item in plan.files:
        if budget.left_seconds <= 0:
            item.reason = "time budget reached before it"
            continue
        await progress.say(f"snapshot {snap.short_id}: {item.path}")
        await _read_file(ctx, target.repository, snap.short_id, item, budget, progress)
    result.files = list(plan.files)
    if plan.cross is not None and target.previous is not None:
        ours = next(f for f in plan.files if f.path == plan.cross.path)
        if ours.result == "ok" and budget.left_seconds > 0:
            other = DrilledFile(
                path=ours.path, why="cross-check", size=ours.size, result="not_read", snapshot=target.previous.short_id
            )
            await _read_file(ctx, target.repository, target.previous.short_id, other, budget, progress)
            if other.result == "ok" and other.sha256 != ours.sha256:
                other.result = "failed"
                other.reason = (
                    f"{ours.path} has the same size and mtime in snapshots {target.previous.short_id} and "
                    f"{snap.short_id} but another SHA-256: one of the two copies reads back wrong"
                )
            result.files.append(other)
    if plan.folder is not None and budget.left_seconds > 0:
        path, expected = plan.folder
        folder = DrilledFolder(path=path, files=len(expected), size=sum(expected.values()), result="not_read")
        await progress.say(f"snapshot {snap.short_id}: folder {path} as a tar")
        await _read_folder(ctx, target.repository, snap.short_id, folder, expected, budget)
        result.folder = folder
    failed = [f for f in result.files if f.result == "failed"]
    if result.folder is not None and result.folder.result == "failed":
        failed_reason: str | None = result.folder.reason
    else:
        failed_reason = None
    if failed or failed_reason:
        result.verdict = "failed"
        parts = []
        if failed:
            first = failed[0]
            got = human_bytes(first.read_bytes or 0)
            parts.append(
                f"{len(failed)} of {len(result.files)} file(s) did not read back (first: {first.path}, {got} of "
                f"{human_bytes(first.size)})"
            )
        if failed_reason:
            parts.append(failed_reason)
        result.reason = "; ".join(parts)
        result.next_step = _next_step(result, target.repository, target.job)
        return result
    unread = [f.path for f in result.files if f.result == "not_read"]
    if unread or result.left_out or not result.files:
        result.verdict = "incomplete"
        result.reason = (f"{len(unread)} sampled file(s) not read (time budget)" if unread else "") + (
            "; " if unread and result.left_out else ""
        ) + (
            f"{len(result.left_out)} file(s) over the byte budget" if result.left_out else ""
        ) or "no file could be sampled within the byte budget"
        result.next_step = "drill again with a larger max_bytes / max_seconds to read what was left out"
        if trouble:
            result.reason = f"{result.reason}; {trouble}"
        return result
    if trouble:
        # Every file read back, but the whole-snapshot tar did not: the damage is somewhere not sampled.
        result.verdict = "failed"
        result.reason = f"the sampled files read back, but {trouble}"
        result.next_step = _next_step(result, target.repository, target.job)
        return result
    result.verdict = "restorable"
    return result


def _next_step(result: SnapshotDrill, repo: str, job: BackupJob | None) -> str:
    text = (result.reason or "").lower()
    if "wrong password" in text or "no key found" in text:
        return (
            f"Zerobyte cannot open repository {repo!r} with the password it holds: set the right one with "
            "update_repository (operate level) or in Zerobyte's web UI; until then no snapshot of it can be restored"
        )
    mirror = "restore them from the job's mirror (get_backup_job lists it) if it has one; " if job is not None else ""
    return (
        f"the data is damaged in repository {repo!r}: {mirror}run_doctor on it (operate level; it takes an exclusive "
        "lock, backups wait) to find and repair the damaged packs, then run_backup while the source still holds "
        "the files, so they are stored again. Older snapshots share the data of unchanged files: they may not "
        "restore either"
    )


# --- the tool ----------------------------------------------------------------------------------------------


async def run_drill(
    ctx: Ctx,
    *,
    backup_job_id: str | None = None,
    repository_id: str | None = None,
    snapshot_id: str | None = None,
    paths: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: int = DEFAULT_MAX_SECONDS,
    seed: int | None = None,
) -> Drill:
    """The drill behind the tool and ``zerobyte-mcp drill``."""
    from ..catalog import CatalogUnavailable

    rid = check_short_id("repository_id", repository_id) if repository_id is not None else None
    jid = check_job_id("backup_job_id", backup_job_id) if backup_job_id is not None else None
    sid = check_snapshot_id("snapshot_id", snapshot_id) if snapshot_id is not None else None
    if sid is not None and rid is None and jid is None:
        raise ToolFailure("snapshot_id needs repository_id or backup_job_id (whose snapshot?); nothing was sent.")
    named = list(dict.fromkeys(check_absolute_path("paths", p, allow_root=False).rstrip("/") for p in paths))
    if named and len({rid, jid, sid} - {None}) == 0:
        raise ToolFailure("paths need backup_job_id, repository_id or snapshot_id (which snapshot holds them?).")
    catalog = app_of(ctx).get_catalog()
    if catalog is None:
        raise ToolFailure(
            "drill_backup needs the local snapshot catalog to choose what to read, and it is off or unusable here "
            "(see catalog_path in `zerobyte-mcp check`)."
        )
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 10**6)
    rng = random.Random(seed)
    started = time.monotonic()
    budget = Budget(max_bytes=max_bytes, deadline=started + max_seconds)
    notes: list[str] = []
    results: list[SnapshotDrill] = []
    targets = await _targets(ctx, rid, jid, sid, notes, results)
    progress = _Progress(ctx, max_bytes)
    try:
        for i, target in enumerate(targets):
            if budget.left_seconds <= 0:
                results.append(
                    SnapshotDrill(
                        snapshot=target.snapshot.short_id,
                        repository=target.repository,
                        job=target.job.name if target.job else None,
                        time=iso_from_ms(target.snapshot.time),
                        verdict="incomplete",
                        reason="not reached: the time budget ran out",
                        next_step="raise max_seconds, or drill this job alone (backup_job_id)",
                    )
                )
                continue
            share = budget.left_bytes // max(1, len(targets) - i)
            results.append(await _drill_snapshot(ctx, catalog, target, named, budget, share, rng, progress))
    except CatalogUnavailable as exc:
        raise ToolFailure(f"The local catalog is unusable ({exc}); the drill cannot choose its sample.") from None
    seconds = round(time.monotonic() - started, 2)
    record_drills(catalog, results, seconds)
    verified = [f for r in results for f in r.files if f.result == "ok"]
    verified_bytes = sum(f.size for f in verified) + sum(
        r.folder.read_bytes for r in results if r.folder is not None and r.folder.result == "ok"
    )
    verdicts = {r.verdict for r in results}
    verdict = (
        "failed"
        if "failed" in verdicts
        else "incomplete"
        if "incomplete" in verdicts or not results
        else ("restorable")
    )
    rate = int(budget.used_bytes / budget.dump_seconds) if budget.dump_seconds > 0.05 else None
    drill = Drill(
        verdict=verdict,
        summary=_summary(verdict, results, len(verified), verified_bytes),
        seed=seed,
        snapshots=results,
        files_verified=len(verified),
        verified_bytes=verified_bytes,
        seconds=seconds,
        bytes_per_second=rate,
        throughput=f"{human_bytes(rate)}/s" if rate is not None else None,
        next_step=next((r.next_step for r in results if r.verdict == verdict and r.next_step), None),
        note="; ".join(notes) or None,
    )
    return drill


def record_drills(catalog: Catalog, results: Sequence[SnapshotDrill], seconds: float) -> None:
    """Keep each snapshot's drill in the catalog file (a failure to write it costs only the history)."""
    from ..catalog import CatalogUnavailable, DrillRecord

    now = int(time.time() * 1000)
    for r in results:
        ok = [f for f in r.files if f.result == "ok"]
        detail: dict[str, Any] = {
            "reason": r.reason,
            "next_step": r.next_step,
            "files": [{"path": f.path, "why": f.why, "size": f.size, "result": f.result} for f in r.files][:40],
            "failures": [f.reason for f in r.files if f.result == "failed"][:10],
            "left_out": r.left_out[:20],
            "folder": r.folder.model_dump(exclude_none=True) if r.folder is not None else None,
        }
        record = DrillRecord(
            repository=r.repository,
            snapshot=r.snapshot or "",
            job=r._job_id,
            at_ms=now,
            verdict=r.verdict,
            files=len(ok),
            bytes=sum(f.size for f in ok)
            + (r.folder.read_bytes if r.folder is not None and r.folder.result == "ok" else 0),
            seconds=seconds,
            detail=detail,
        )
        try:
            catalog.store.record_drill(catalog.indexer.instance, record)
        except CatalogUnavailable:
            return


def _summary(verdict: str, results: Sequence[SnapshotDrill], files: int, size: int) -> str:
    if not results:
        return "INCOMPLETE: there was no snapshot to drill."
    counts = {v: sum(1 for r in results if r.verdict == v) for v in ("restorable", "failed", "incomplete")}
    parts = [f"{n} {v}" for v, n in counts.items() if n]
    head = f"{verdict.upper()}: {len(results)} snapshot(s) drilled ({', '.join(parts)}); "
    text = head + f"{files} file(s), {human_bytes(size)} read back and checked"
    bad = next((r for r in results if r.verdict == "failed"), None)
    if bad is not None:
        where = f"Snapshot {bad.snapshot}" if bad.snapshot else f"Repository {bad.repository}"
        text += f". {where}" + (f" of {bad.job!r}" if bad.job else "") + f": {bad.reason}"
    return text + "."


@tool(title="Restore drill", open_world=False)
async def drill_backup(
    ctx: Ctx,
    backup_job_id: Annotated[str | None, Field(description="Its newest snapshot")] = None,
    repository_id: Annotated[str | None, Field(description="Its newest snapshot")] = None,
    snapshot_id: Annotated[str | None, Field(description="This snapshot ('latest' ok)")] = None,
    paths: Annotated[list[str] | None, Field(description="Files that must be read", max_length=20)] = None,
    max_bytes: Annotated[int, Field(description="Byte budget", ge=MiB, le=64 * 2**30)] = DEFAULT_MAX_BYTES,
    max_seconds: Annotated[int, Field(description="Time budget", ge=10, le=3600)] = DEFAULT_MAX_SECONDS,
    seed: Annotated[int | None, Field(description="Repeats a random pick", ge=0)] = None,
) -> Drill:
    """Prove backups restore: read sampled files back from snapshots (default: each job's newest), hash them,
    check sizes; verdict restorable/failed/incomplete. Read-only; a sample, not restic check."""
    return await run_drill(
        ctx,
        backup_job_id=backup_job_id,
        repository_id=repository_id,
        snapshot_id=snapshot_id,
        paths=paths or (),
        max_bytes=max_bytes,
        max_seconds=max_seconds,
        seed=seed,
    )
