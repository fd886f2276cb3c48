"""compare_snapshots: what changed between two snapshots, from the local catalog.

Both snapshots are indexed (waiting a bounded time, then answering "call again" with an estimate); the
difference is computed from the catalog's version sets: a version only in the newer snapshot is added, or
modified when the older one held another version at that path; one only in the older snapshot is removed.
Without a usable catalog the tool says so and points to list_snapshot_files.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Literal

import anyio
from pydantic import BaseModel, Field

from ...answers.output import iso_from_ms, iso_from_seconds
from ...zerobyte.ids import check_absolute_path, check_short_id, check_snapshot_id
from ...zerobyte.models import Snapshot
from ..base import Ctx, ToolFailure, app_of, client_of, tool
from .common import RepoArg, Scope, SnapArg, snapshots_in_scope
from .indexing import FIND_WAIT, ask_again, wait_for

if TYPE_CHECKING:
    from ...catalog import Catalog

__all__ = ["Change", "Comparison", "compare_snapshots"]


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
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
) -> Comparison:
    """What changed between two snapshots: files added, removed, modified (size/mtime); counts, paged list."""
    from ...catalog import CatalogUnavailable

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
    snaps = await snapshots_in_scope(client_of(ctx), Scope(repository_id=rid, job=None, jobs={}))
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
            await wait_for(ctx, works, FIND_WAIT)
            failed = next((w.error for w in works if w.error), None)
            if failed is not None:
                raise ToolFailure(failed)
            rows = catalog.indexer.known(rid, [old, new])
            if any(s.short_id not in rows or not rows[s.short_id].complete for s in (old, new)):
                wait = ask_again(catalog, missing)
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
