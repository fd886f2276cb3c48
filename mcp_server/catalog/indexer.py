"""Fill the catalog: index a snapshot by the cheapest complete method Zerobyte offers, in the background.

Two methods, both complete:

- **tar**: ``dump?kind=dir`` of the snapshot's base folder is one request whose tar headers name every
  entry; the contents stream past and are dropped. Its cost grows with the snapshot's bytes.
- **walk**: one listing per folder (pages of 500), in a fixed order, each folder saved as it completes so
  an interrupted walk resumes. Its cost grows with the number of folders, and every listing is a request
  against Zerobyte's rate limit (1,000 per 5 minutes for all clients).

The snapshot's own summary (bytes, files, folders) picks the cheaper one (thresholds from bench/). Requests
are paced to a share of the rate limit read from Zerobyte's ``RateLimit-*`` headers.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import anyio

from ..answers.output import mtime_seconds
from ..zerobyte import NotFound, ZerobyteClient, ZerobyteError
from ..zerobyte.models import Snapshot, SnapshotNode
from .db import CatalogUnavailable
from .store import CatalogStore, SnapshotRow
from .tar import TarError, tar_members

__all__ = [
    "Indexer",
    "Pace",
    "base_of",
    "choose_method",
    "estimate_seconds",
]

log = logging.getLogger(__name__)

PAGE = 500  # Zerobyte's cap on a files page; offsets stay multiples of it so its cache is reused
SHARE = 0.10  # of Zerobyte's rate limit that background indexing may use
RESERVE = 0.10  # of the rate limit left to other clients: below it, indexing waits for the window to reset
# Measured on a real Zerobyte v0.42 on loopback, 2 shared cores (bench/RESULTS.md, "Catalog on a real
# Zerobyte"): a root tar of 100,000 small files streams in 11-16 s (~7,500 entries/s) and 300 MiB of data in
# ~3 s (~100 MB/s). The rates below are lower on purpose (Zerobyte behind a slower link); a folder walk
# costs one paced request per folder (3 s each at a tenth of 1,000 requests per 5 minutes), so the tar wins
# until a snapshot holds tens of gigabytes.
TAR_BYTES_PER_SECOND = 40e6
TAR_ENTRIES_PER_SECOND = 5_000.0
TAR_MAX_BYTES = 20 * 2**30  # never stream more than this for an index, whatever the estimate says
FLUSH_EVERY = 2_000

ProgressFn = Callable[[int, int | None, str], Awaitable[None] | None]


def base_of(paths: Sequence[str]) -> str:
    """The folder Zerobyte dumps as the snapshot's root: the common ancestor of its paths (or "/")."""
    if not paths or any(not p.startswith("/") for p in paths):
        return "/"
    split = [[x for x in p.split("/") if x] for p in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/" + "/".join(common)


def _summary_int(snap: Snapshot, *keys: str) -> int | None:
    summary = snap.summary or {}
    values = [summary.get(k) for k in keys]
    numbers = [int(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return sum(numbers) if numbers else None


def choose_method(snap: Snapshot, requests_per_minute: float) -> tuple[str, str]:
    """("tar" or "walk", why) from the snapshot's summary: the one estimated to finish first."""
    size = _summary_int(snap, "total_bytes_processed")
    if size is None and snap.size is not None:
        size = int(snap.size)
    files = _summary_int(snap, "total_files_processed")
    folders = _summary_int(snap, "dirs_new", "dirs_changed", "dirs_unmodified")
    if size is None:
        return "tar", "no size known: tar, stopped at the byte cap"
    if size > TAR_MAX_BYTES:
        return "walk", f"{size} bytes is above the tar cap"
    tar_s = size / TAR_BYTES_PER_SECOND + (files or 0) / TAR_ENTRIES_PER_SECOND
    walk_s = max(folders or 1, 1) * 60.0 / max(requests_per_minute, 1.0)
    if tar_s <= walk_s:
        return "tar", f"tar ~{tar_s:.0f} s <= walk ~{walk_s:.0f} s"
    return "walk", f"walk ~{walk_s:.0f} s < tar ~{tar_s:.0f} s"


def estimate_seconds(snap: Snapshot, requests_per_minute: float) -> float:
    """How long indexing ``snap`` should take by the method :func:`choose_method` picks."""
    size = _summary_int(snap, "total_bytes_processed") or int(snap.size or 0)
    files = _summary_int(snap, "total_files_processed") or 0
    folders = _summary_int(snap, "dirs_new", "dirs_changed", "dirs_unmodified") or 1
    method, _ = choose_method(snap, requests_per_minute)
    if method == "tar":
        return 2.0 + size / TAR_BYTES_PER_SECOND + files / TAR_ENTRIES_PER_SECOND
    return folders * 60.0 / max(requests_per_minute, 1.0)


class Pace:
    """A token bucket holding a share of Zerobyte's rate limit (read from its headers when known)."""

    def __init__(self, client: ZerobyteClient, share: float = SHARE) -> None:
        self.client = client
        self.share = share
        self.tokens = self.burst
        self.stamp = time.monotonic()
        self.used = 0

    @property
    def per_minute(self) -> float:
        info = self.client.http.rate_limit
        per_minute = info.per_minute if info is not None else 200.0  # Zerobyte's default: 1,000 per 5 minutes
        return max(1.0, per_minute * self.share)

    @property
    def burst(self) -> float:
        return self.per_minute

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.per_minute / 60.0)
            self.stamp = now
            info = self.client.http.rate_limit
            low = info is not None and info.remaining is not None and info.remaining < info.limit * RESERVE
            if self.tokens >= 1.0 and not low:
                self.tokens -= 1.0
                self.used += 1
                return
            wait = (1.0 - self.tokens) * 60.0 / self.per_minute if not low else min(info.reset_seconds or 10.0, 30.0)  # type: ignore[union-attr]
            await anyio.sleep(max(wait, 0.05))


@dataclass
class Work:
    """One snapshot being (or to be) indexed."""

    repository: str
    snapshot: Snapshot
    method: str | None = None
    done: int = 0
    total: int | None = None
    started: float | None = None
    finished: anyio.Event = field(default_factory=anyio.Event)
    error: str | None = None
    row: SnapshotRow | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.repository, self.snapshot.short_id)

    def eta_seconds(self) -> float | None:
        if self.started is None or not self.total or self.done <= 0:
            return None
        rate = self.done / max(time.monotonic() - self.started, 0.1)
        return max(self.total - self.done, 0) / rate if rate > 0 else None


class Indexer:
    """Indexes snapshots one at a time, newest first, in a background task (or in the foreground for the CLI)."""

    def __init__(self, store: CatalogStore, client: ZerobyteClient, *, share: float = SHARE) -> None:
        self.store = store
        self.client = client
        self.instance = client.base_url
        self.pace = Pace(client, share)
        self.queue: list[Work] = []
        self.current: Work | None = None
        self.failed: dict[tuple[str, str], tuple[float, str]] = {}
        self._wake = anyio.Event()
        self._garbage = False

    # --- scheduling -----------------------------------------------------------------------------------

    def known(
        self, repository: str, snaps: Sequence[Snapshot], *, listed: Sequence[Snapshot] | None = None
    ) -> dict[str, SnapshotRow]:
        """The catalog rows of ``snaps`` (matched by short id and time). With ``listed``, Zerobyte's whole
        unfiltered list of the repository, the rows of snapshots it no longer lists are dropped first.
        Raises CatalogUnavailable."""
        if listed is not None and self.store.forget_missing(
            self.instance, repository, [(s.short_id, int(s.time)) for s in listed]
        ):
            self._garbage = True
            self._wake.set()
        rows = {(r.short_id, r.time_ms): r for r in self.store.snapshots(self.instance, repository)}
        out: dict[str, SnapshotRow] = {}
        for s in snaps:
            row = rows.get((s.short_id, int(s.time)))
            if row is not None:
                out[s.short_id] = row
        return out

    def want(self, repository: str, snaps: Sequence[Snapshot]) -> list[Work]:
        """Queue these snapshots (newest first, ahead of older requests); the work items to wait on."""
        items: list[Work] = []
        for snap in sorted(snaps, key=lambda s: -s.time):
            key = (repository, snap.short_id)
            if self.current is not None and self.current.key == key:
                items.append(self.current)
                continue
            found = next((w for w in self.queue if w.key == key), None)
            if found is None:
                failed = self.failed.get(key)
                if failed is not None and time.monotonic() - failed[0] < 300:
                    work = Work(repository, snap, error=failed[1])
                    work.finished.set()
                    items.append(work)
                    continue
                found = Work(repository, snap)
            else:
                self.queue.remove(found)
            items.append(found)
        # The snapshots asked for now go first, newest first.
        self.queue[:0] = [w for w in items if not w.finished.is_set() and w is not self.current]
        self._wake.set()
        return items

    async def run(self) -> None:
        """The background loop: index queued snapshots one by one; collect garbage after forgets."""
        while True:
            if not self.queue:
                if self._garbage:
                    self._garbage = False
                    with contextlib.suppress(CatalogUnavailable):
                        await anyio.to_thread.run_sync(self.store.collect_garbage)
                    continue
                self._wake = anyio.Event()
                await self._wake.wait()
                continue
            work = self.queue.pop(0)
            await self.process(work)

    async def process(self, work: Work, progress: ProgressFn | None = None) -> None:
        self.current = work
        try:
            work.row = await self.index(work, progress)
        except CatalogUnavailable as exc:
            work.error = str(exc)
        except (ZerobyteError, TarError) as exc:
            work.error = f"indexing snapshot {work.snapshot.short_id} failed: {exc}"
            self.failed[work.key] = (time.monotonic(), work.error)
            log.warning("%s", work.error)
        finally:
            self.current = None
            work.finished.set()

    # --- one snapshot ---------------------------------------------------------------------------------

    async def index(self, work: Work, progress: ProgressFn | None = None) -> SnapshotRow:
        snap, rid = work.snapshot, work.repository
        base = base_of(snap.paths)
        work.started = time.monotonic()
        # A work may ask for its method (a restore drill walks a snapshot whose tar dump broke).
        method, why = (work.method, "asked for") if work.method else choose_method(snap, self.pace.per_minute)
        work.method = method
        log.info("indexing snapshot %s of %s by %s (%s)", snap.short_id, rid, method, why)
        await self.pace.take()
        full_id, first = await self._first_page(rid, snap.short_id, base)
        row_id = await anyio.to_thread.run_sync(
            self.store.upsert_snapshot, self.instance, rid, full_id, snap.short_id, int(snap.time), base
        )
        if method == "tar":
            try:
                count = await self._tar(work, row_id, base, progress)
            except _TooBig:
                method = work.method = "walk"
                count = await self._walk(work, row_id, base, first, progress)
        else:
            count = await self._walk(work, row_id, base, first, progress)
        log.info(
            "indexed snapshot %s: %d entries by %s in %.1f s",
            snap.short_id,
            count,
            method,
            time.monotonic() - work.started,
        )
        rows = await anyio.to_thread.run_sync(self.store.snapshots, self.instance, rid)
        row = next(r for r in rows if r.id == row_id)
        return row

    async def _first_page(self, rid: str, sid: str, base: str) -> tuple[str, list[SnapshotNode] | None]:
        """The snapshot's full id (only the files route tells it) and the first page of its base folder."""
        try:
            page = await self.client.list_snapshot_files(rid, sid, base, offset=0, limit=PAGE)
        except NotFound:
            return sid, None
        full = page.snapshot.id if page.snapshot is not None and page.snapshot.id else sid
        if page.hasMore or (page.total is not None and page.total > len(page.files)):
            return full, None
        return full, list(page.files)

    async def _tar(self, work: Work, row_id: int, base: str, progress: ProgressFn | None) -> int:
        snap = work.snapshot
        work.total = _summary_int(snap, "total_files_processed", "dirs_new", "dirs_changed", "dirs_unmodified")
        writer = self.store.writer()
        prefix = base.rstrip("/")
        cap = TAR_MAX_BYTES
        await self.pace.take()
        # "/" is the snapshot's base folder for Zerobyte (helpers/dump.ts): member names are relative to it.
        async with self.client.stream_snapshot_dump(
            work.repository, snap.short_id, "/", kind="dir", read_timeout=self.client.http.timeouts.heavy
        ) as chunks:
            counted = _Counted(chunks, cap)
            async for member in tar_members(counted.iterate()):
                writer.add(f"{prefix}/{member.name}", member.kind, member.size, member.mtime)
                work.done += 1
                if work.done % FLUSH_EVERY == 0:
                    await anyio.to_thread.run_sync(writer.flush)
                    await _report(progress, work)
        return int(
            await anyio.to_thread.run_sync(writer.complete, row_id, "tar", time.monotonic() - (work.started or 0))
        )

    async def _walk(
        self, work: Work, row_id: int, base: str, first: list[SnapshotNode] | None, progress: ProgressFn | None
    ) -> int:
        """List every folder under ``base`` breadth first in name order, saving each folder as it completes."""
        snap = work.snapshot
        work.total = _summary_int(snap, "dirs_new", "dirs_changed", "dirs_unmodified")
        done = await anyio.to_thread.run_sync(self.store.listed_folders, row_id)
        queue = [base]
        while queue:
            folder = queue.pop(0)
            if folder in done:
                saved = await anyio.to_thread.run_sync(self.store.listing, row_id, folder) or []
                queue.extend(sorted(e.path for e in saved if e.kind == "dir"))
                work.done += 1
                continue
            nodes = first if folder == base and first is not None else await self._list_folder(work, folder)
            writer = self.store.writer()
            prefix = folder.rstrip("/") + "/"
            children = [n for n in nodes if n.path.startswith(prefix) and "/" not in n.path[len(prefix) :]]
            for node in children:
                writer.add(node.path, _kind(node.type), node.size, mtime_seconds(node.mtime))
            ids = await anyio.to_thread.run_sync(writer.flush)
            await anyio.to_thread.run_sync(self.store.save_listing, row_id, folder, ids)
            queue.extend(sorted(n.path for n in children if n.type == "dir"))
            work.done += 1
            await _report(progress, work)
        return int(
            await anyio.to_thread.run_sync(
                self.store.complete_from_listings, row_id, "walk", time.monotonic() - (work.started or 0)
            )
        )

    async def _list_folder(self, work: Work, folder: str) -> list[SnapshotNode]:
        out: list[SnapshotNode] = []
        offset = 0
        while True:
            await self.pace.take()
            page = await self.client.list_snapshot_files(
                work.repository, work.snapshot.short_id, folder, offset=offset, limit=PAGE
            )
            out.extend(page.files)
            offset += PAGE
            total = page.total if page.total is not None else len(out)
            if not page.files or not (page.hasMore or offset < total):
                return out


class _TooBig(Exception):
    pass


class _Counted:
    def __init__(self, chunks: AsyncIterator[bytes], cap: int) -> None:
        self.chunks = chunks
        self.cap = cap
        self.bytes = 0

    async def iterate(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.bytes += len(chunk)
            if self.bytes > self.cap:
                raise _TooBig
            yield chunk


def _kind(value: str) -> str:
    return value if value in ("file", "dir", "symlink") else "other"


async def _report(progress: ProgressFn | None, work: Work) -> None:
    if progress is None:
        return
    result = progress(work.done, work.total, f"indexing snapshot {work.snapshot.short_id} ({work.method})")
    if result is not None:
        await result
