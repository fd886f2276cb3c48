"""find_file's search through Zerobyte, for snapshots the local catalog does not answer.

Every request counts against a budget (Zerobyte allows 1,000 requests per 5 minutes per client): a path-like
pattern costs a stat or one folder listing per snapshot; a pattern that needs whole folder trees walks them
breadth first, four folders at a time, only when there is no catalog, and then checks the found folders in
the other snapshots. What was not searched is recorded per snapshot (:class:`SnapSearch`) for the answer.
"""

from __future__ import annotations

import posixpath
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from ...answers.concurrency import gather
from ...zerobyte import NotFound, ZerobyteClient
from ...zerobyte.models import Snapshot, SnapshotNode
from .common import CONCURRENCY, LOCAL_ERRORS, PAGE_CAP, file_mtime
from .patterns import Pattern, Seg

__all__ = ["FIND_BUDGET", "Hit", "SnapSearch", "live_search"]

FIND_BUDGET = 200  # listing requests per find_file call (Zerobyte allows 1000 requests / 5 min / IP)
WALK_BUDGET = 120  # of which at most this many walk whole folder trees; the rest check found folders


@dataclass
class Hit:
    path: str
    type: str
    size: int | None
    mtime: str | None


@dataclass
class SnapSearch:
    snapshot: Snapshot
    repository: str = ""
    hits: dict[str, Hit] = field(default_factory=dict)
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


class _Searcher:
    def __init__(self, client: ZerobyteClient, rid: str, pattern: Pattern, budget: _Budget, cap: int) -> None:
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

    async def glob(self, result: SnapSearch, segments: tuple[Seg, ...]) -> None:
        """Match ``segments`` in one snapshot, breadth first, four folders at a time, within the budget."""
        sid = result.snapshot.short_id
        n = len(segments)
        queue: list[tuple[str, int]] = [("/", 0)]
        seen: set[tuple[str, int]] = set()
        complete = True
        used_before = self.budget.used

        def hit(node: SnapshotNode) -> None:
            result.hits.setdefault(node.path, Hit(node.path, node.type, node.size, file_mtime(node.mtime)))

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


async def live_search(
    client: ZerobyteClient, rid: str, results: list[SnapSearch], pat: Pattern, cap: int, *, walk: bool
) -> None:
    """Search the snapshots of repository ``rid`` the catalog did not answer through Zerobyte: a stat or one
    folder listing per snapshot for a path-like pattern; a bounded walk only when there is no catalog."""
    todo = [r for r in results if r.mode == "none"]
    if not todo:
        return
    budget = _Budget(FIND_BUDGET)
    searcher = _Searcher(client, rid, pat, budget, cap=cap)

    async def one(res: SnapSearch, segments_for: Callable[[str], tuple[Seg, ...]]) -> None:
        try:
            roots = res.snapshot.paths or ["/"]
            for root in roots if pat.walks and not pat.absolute else [""]:
                await searcher.glob(res, segments_for(root))
                if res.mode == "partial":
                    break
        except LOCAL_ERRORS as exc:
            res.mode, res.error = "error", str(exc)

    if not pat.walks:
        await gather((one(r, pat.for_root) for r in todo), limit=CONCURRENCY)
        return
    if not walk:
        return
    # Snapshots of different sources (paths) are different trees: each group gets its own walk.
    groups: dict[tuple[str, ...], list[SnapSearch]] = {}
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


async def _check_found_folders(searcher: _Searcher, rest: list[SnapSearch], found: set[str]) -> None:
    """Look for the found paths in the other snapshots: a stat per path, or one listing of a folder that
    holds several of them. Only the first ``cap`` paths are followed (more could not be shown anyway)."""
    by_folder: dict[str, set[str]] = {}
    for path in sorted(found)[: searcher.cap]:
        by_folder.setdefault(posixpath.dirname(path), set()).add(path)

    async def check(res: SnapSearch) -> None:
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
                        res.hits.setdefault(node.path, Hit(node.path, node.type, node.size, file_mtime(node.mtime)))
                checked += 1
            res.mode = "folders"
        except _OutOfBudget:
            res.mode = "partial" if checked else "none"
            res.unvisited.extend(list(by_folder)[checked:])
        except LOCAL_ERRORS as exc:
            res.mode, res.error = "error", str(exc)

    await gather((check(r) for r in rest), limit=CONCURRENCY)
