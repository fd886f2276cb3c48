"""Waiting on the local catalog's background indexer, for the tools that answer from it.

find_file and compare_snapshots ask the indexer for the snapshots they need and wait a bounded time,
reporting MCP progress; when the indexing outlasts the wait they answer with what they have and say, from
the snapshots' sizes and the indexer's measured pace, when to ask again.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import anyio

from ...zerobyte.models import Snapshot
from ..base import Ctx

if TYPE_CHECKING:
    from ...catalog import Catalog, Work

__all__ = ["FIND_WAIT", "ask_again", "wait_for"]

FIND_WAIT = 20.0  # seconds find_file waits for snapshots being indexed before it answers with what it has


async def wait_for(ctx: Ctx, works: list[Work], seconds: float) -> None:
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


def ask_again(catalog: Catalog | None, indexing: list[Snapshot]) -> int:
    """Seconds until the snapshots still being indexed should be done (from their summaries), at least 5."""
    from ...catalog import estimate_seconds

    if catalog is None:
        return 30
    per_minute = catalog.indexer.pace.per_minute
    total = 0.0
    for snap in indexing:
        total += estimate_seconds(snap, per_minute)
    current = catalog.indexer.current
    if current is not None and current.started is not None:
        total -= min(time.monotonic() - current.started, estimate_seconds(current.snapshot, per_minute))
    return max(5, math.ceil(total * 1.2))
