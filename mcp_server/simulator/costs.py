"""A cost model for the simulator: how long a real Zerobyte takes to answer, calibrated on a real server.

Exists because the simulator answers in microseconds where a real Zerobyte runs restic for every uncached
snapshot listing, file page, dump or mirror status (~0.7-1 s each, at most two ``ls`` at once per repository,
all behind a 1,000 requests / 5 minutes rate limit), so a benchmark against a bare simulator says nothing
about what an agent waits for. Off unless asked for (``Simulator(costs=CostModel())`` or
``sim.costs = CostModel()``): unit tests stay fast and timing-free; ``bench/`` turns it on.

What is cached follows Zerobyte (``cache.py``): file pages per (snapshot, path, offset, limit) and snapshot
lists per (repository, backupId) for a day, cleared when a backup, forget, delete, tag or refresh changes the
repository. The figures are medians measured by ``python -m bench.real_zerobyte`` on a real Zerobyte v0.42
(restic 0.18, a local repository, a 2-core machine in its quietest run; under load they double); see
``bench/RESULTS.md``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from ._util import Json
from .cache import ServerCache, ls_key, snapshots_key


class Priced(Protocol):
    """What pricing a request reads of the simulator (its core satisfies it; this module stays below it)."""

    @property
    def cache(self) -> ServerCache: ...

    def find_repository(self, ident: str) -> Json | None: ...

    def wants_retention_dry_run(self, repo: Json, backup_id: str) -> bool: ...


@dataclass
class CostModel:
    """Seconds a real Zerobyte spends before answering, by kind of route (medians, see module doc)."""

    base: float = 0.035  # any route: Bun, auth, SQLite (beyond what the simulator itself takes)
    cached: float = 0.0  # a restic answer from Zerobyte's cache (~25 ms real; the simulator's own work covers it)
    ls: float = 0.75  # restic ls for one uncached file page (the whole snapshot is walked for each page)
    ls_per_repository: int = 2  # Zerobyte's ls limiter: at most two at once per repository
    snapshots: float = 0.55  # restic snapshots (uncached list, snapshot details, refresh)
    retention: float = 0.6  # forget --dry-run for retentionCategories, run beside the snapshot list
    dump: float = 0.4  # restic dump of one file (never cached)
    mirror_status: float = 0.6  # two restic snapshots at once (source and mirror)
    stats: float = 0.55  # restic stats (refresh)
    unlock: float = 0.5  # restic unlock
    rate_limit: int | None = 1000  # requests per window per client (None: no limit)
    rate_window: float = 300.0
    _limits: dict[str, asyncio.Semaphore] = field(default_factory=dict, repr=False)

    def ls_slot(self, repository_id: str) -> asyncio.Semaphore:
        slot = self._limits.get(repository_id)
        if slot is None:
            slot = self._limits[repository_id] = asyncio.Semaphore(self.ls_per_repository)
        return slot


_REPOSITORY_ROUTES = {
    "snapshot_files",
    "list_snapshots",
    "snapshot_details",
    "dump_snapshot",
    "refresh_snapshots",
    "refresh_repository_stats",
    "unlock_repository",
}


@dataclass
class Charge:
    """What one request costs: a delay, maybe a per-repository ls slot, and a cache key warmed by success."""

    seconds: float
    slot: asyncio.Semaphore | None = None
    warms: list[str] = field(default_factory=list)


def charge(sim: Priced, model: CostModel, handler: str, params: dict[str, str], query: dict[str, str]) -> Charge:
    """The cost of calling ``handler`` (an ``api.py`` route function's name) with these path/query values."""
    if handler == "mirror_status":
        return Charge(model.base + model.mirror_status)
    repo = sim.find_repository(params.get("shortId", "")) if handler in _REPOSITORY_ROUTES else None
    if repo is None:
        return Charge(model.base)
    rid = repo["id"]
    if handler == "snapshot_files":
        offset = max(0, _int(query.get("offset"), 0))
        limit = min(1000, max(1, _int(query.get("limit"), 500)))
        key = ls_key(rid, params["snapshotId"], query.get("path") or None, offset, limit)
        if sim.cache.has(key):
            return Charge(model.base + model.cached)
        return Charge(model.base + model.ls, model.ls_slot(rid), [key])
    if handler == "list_snapshots":
        backup_id = query.get("backupId") or None
        key = snapshots_key(rid, backup_id)
        seconds = 0.0 if sim.cache.has(key) else model.snapshots
        if backup_id and sim.wants_retention_dry_run(repo, backup_id):
            seconds = max(seconds, model.retention)  # both run at once (Promise.all)
        return Charge(model.base + (seconds or model.cached), warms=[key])
    if handler == "snapshot_details":
        key = snapshots_key(rid, None)
        if sim.cache.has(key):
            return Charge(model.base + model.cached)
        return Charge(model.base + model.snapshots, warms=[key])
    if handler == "refresh_snapshots":
        return Charge(model.base + model.snapshots)
    if handler == "dump_snapshot":
        return Charge(model.base + model.dump)
    if handler == "refresh_repository_stats":
        return Charge(model.base + model.stats)
    if handler == "unlock_repository":
        return Charge(model.base + model.unlock)
    return Charge(model.base)


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return default
