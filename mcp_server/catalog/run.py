"""``zerobyte-mcp index``: fill the catalog ahead of time (for cron), with a progress bar on stderr.

Every snapshot of every repository (or of those named) that the catalog lacks is indexed, newest first,
by the same machinery the server uses in the background; snapshots Zerobyte forgot are dropped.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TextIO

from ..answers.output import human_bytes
from ..config import Settings
from ..zerobyte import ZerobyteClient, ZerobyteError
from ..zerobyte.models import Snapshot
from . import Catalog
from .db import CatalogUnavailable
from .indexer import ProgressFn, Work

__all__ = ["index_catalog"]

_WIDTH = 24


class _Bar:
    """One line per snapshot; redrawn in place on a terminal, printed once when done otherwise."""

    def __init__(self, out: TextIO, total: int) -> None:
        self.out = out
        self.total = total
        self.tty = out.isatty()
        self.last = 0.0

    def line(self, index: int, work: Work, done: int, total: int | None, final: str = "") -> str:
        ratio = min(done / total, 1.0) if total else 0.0
        filled = int(ratio * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        return (
            f"[{index}/{self.total}] {work.repository} {work.snapshot.short_id} {work.method or '':4} "
            f"[{bar}] {done:,} entries{final}"
        )

    def progress(self, index: int, work: Work) -> ProgressFn:
        def update(done: int, total: int | None, _message: str) -> None:
            now = time.monotonic()
            if self.tty and now - self.last > 0.2:
                self.last = now
                self.out.write("\r" + self.line(index, work, done, total))
                self.out.flush()

        return update

    def finish(self, index: int, work: Work) -> None:
        if work.error:
            final = f" FAILED: {work.error}"
        else:
            seconds = time.monotonic() - (work.started or time.monotonic())
            final = f" in {seconds:.1f} s"
        total = work.total if not work.error else None
        done = work.row.entries if work.row is not None and work.row.entries is not None else work.done
        self.out.write(("\r" if self.tty else "") + self.line(index, work, done, total or done or 1, final) + "\n")
        self.out.flush()


async def index_catalog(
    settings: Settings, client: ZerobyteClient, out: TextIO, repositories: Sequence[str] = ()
) -> int:
    """Index what is missing; 0 when every snapshot is indexed, 1 when some failed, 2 when nothing could run."""
    if settings.catalog_path is None:
        out.write("zerobyte-mcp index: no catalog path is set (catalog_path).\n")
        return 2
    catalog = Catalog(settings.catalog_path, client)
    try:
        todo: list[tuple[str, Snapshot]] = []
        repos = [r.shortId for r in await client.list_repositories()]
        unknown = [r for r in repositories if r not in repos]
        if unknown:
            out.write(f"zerobyte-mcp index: no repository {', '.join(unknown)} (known: {', '.join(repos)}).\n")
            return 2
        for rid in repositories or repos:
            snaps = await client.list_snapshots(rid)
            rows = catalog.indexer.known(rid, snaps, listed=snaps)
            todo += [
                (rid, s)
                for s in sorted(snaps, key=lambda s: -s.time)
                if not (s.short_id in rows and rows[s.short_id].complete)
            ]
        out.write(f"zerobyte-mcp index: {len(todo)} snapshot(s) to index into {settings.catalog_path}\n")
        bar = _Bar(out, len(todo))
        failed = 0
        for index, (rid, snap) in enumerate(todo, 1):
            work = Work(rid, snap)
            await catalog.indexer.process(work, progress=bar.progress(index, work))
            bar.finish(index, work)
            failed += 1 if work.error else 0
        catalog.store.collect_garbage()
        size = human_bytes(catalog.store.size_bytes()) or "0 B"
        out.write(f"zerobyte-mcp index: done, {len(todo) - failed} indexed, {failed} failed; catalog {size}\n")
        return 1 if failed else 0
    except CatalogUnavailable as exc:
        out.write(f"zerobyte-mcp index: {exc}\n")
        return 2
    except ZerobyteError as exc:
        out.write(f"zerobyte-mcp index: {exc}\n")
        return 2
    finally:
        catalog.close()
