"""find_file: which snapshots hold a file, each version once, newest first.

A search covers one repository, a job's, or all of them, within a time window and a number of snapshots.
Indexed snapshots are answered from the local catalog (a pattern that needs whole folder trees waits a
bounded time for the others to be indexed); the rest are searched through Zerobyte within a request budget
(``search``). Identical versions are collapsed, and the answer says exactly what was not searched and why.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import anyio
from pydantic import BaseModel, Field

from ...answers.concurrency import gather
from ...answers.failure import ToolFailure
from ...answers.names import near_names
from ...answers.output import iso_from_ms, iso_from_seconds
from ...zerobyte import ZerobyteClient
from ...zerobyte.ids import check_job_id, check_short_id
from ...zerobyte.models import Snapshot
from ..base import Ctx, app_of, client_of, tool
from .common import (
    CONCURRENCY,
    LOCAL_ERRORS,
    JobArg,
    Scope,
    SinceArg,
    UntilArg,
    in_window,
    newest_first,
    resolve_scope,
    snapshots_in_scope,
    time_window,
)
from .indexing import FIND_WAIT, ask_again, wait_for
from .patterns import Pattern, parse_pattern
from .search import Hit, SnapSearch, live_search

if TYPE_CHECKING:
    from ...catalog import Catalog, SnapshotRow

__all__ = ["FileVersion", "FindResult", "find_file"]

MAX_TEXT = 30_000  # characters of JSON an answer may carry (~8k tokens)
SHOWN_SNAPSHOT_IDS = 10  # per file version; the count says how many more


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
    next_cursor: str | None = None
    hint: str | None = None


@tool(title="Find file")
async def find_file(
    ctx: Ctx,
    pattern: Annotated[str, Field(description="Absolute path, glob (*, **) or name")],
    repository_id: str | None = None,
    backup_job_id: JobArg = None,
    since: SinceArg = None,
    until: UntilArg = None,
    ignore_accents: Annotated[bool, Field(description="é = e in names")] = True,
    max_snapshots: Annotated[int | None, Field(description="Newest snapshots to search", ge=1, le=1000)] = None,
    max_results: Annotated[int, Field(description="Max versions shown", ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Field(description="next_cursor from the last page")] = None,
) -> FindResult:
    """Snapshots holding a file (path, glob or name, any case) in a repository, job or all; each version once,
    newest first."""
    from ...catalog import CatalogUnavailable

    start = _cursor_offset(cursor)
    rid = check_short_id("repository_id", repository_id) if repository_id is not None else None
    jid = check_job_id("backup_job_id", backup_job_id) if backup_job_id is not None else None
    lo, hi = time_window(since, until)
    pat = parse_pattern(pattern, fold_accents=ignore_accents)
    client = client_of(ctx)
    app = app_of(ctx)
    catalog = app.get_catalog()
    limit = max_snapshots or (999 if catalog is not None else 20)
    searches: list[_RepoFind] = []
    for scope, listed in await _find_scopes(client, rid, jid):
        in_range = [s for s in listed if in_window(s, lo, hi)] if isinstance(listed, list) else []
        search = _RepoFind(scope, in_range, in_range[:limit], in_range[limit:])
        search.error = listed if isinstance(listed, str) else None
        # Only the repository's unfiltered list tells which snapshots Zerobyte forgot.
        search.listed = listed if isinstance(listed, list) and scope.job is None else None
        searches.append(search)
    notes: list[str] = []
    if catalog is not None:
        try:
            await _from_catalog(ctx, catalog, searches, pat, start + max_results)
        except CatalogUnavailable as exc:
            notes.append(f"The local catalog is unusable ({exc}); searched through Zerobyte instead.")
            catalog = None
            for search in searches:
                for res in search.results:
                    res.hits.clear()
                    res.mode = "none"
    for search in searches:
        await live_search(
            client, search.scope.repository_id, search.results, pat, start + max_results, walk=catalog is None
        )
    results = [r for s in searches for r in s.results]
    versions = _versions(results, by_repository=len(searches) > 1)
    shown = versions[start : start + max_results]
    skipped = [snap for s in searches for snap in s.skipped]
    indexing = [r for r in results if r.mode == "indexing"]
    wait = ask_again(catalog, [r.snapshot for r in indexing]) if indexing else 0
    notes.extend(_not_searched(results, skipped, versions[: start + len(shown)], shown, start + max_results, wait))
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
        next_cursor=f"v{start + len(shown)}" if len(versions) > start + len(shown) else None,
        hint=hint,
    )
    return _fit(result, start)


def _cursor_offset(cursor: str | None) -> int:
    """The first version a page shows: 0, or the offset a previous page's next_cursor ("v<offset>") names."""
    if cursor is None:
        return 0
    text = cursor.strip()
    if len(text) < 2 or text[0] != "v" or not text[1:].isdigit() or int(text[1:]) > 1_000_000:
        raise ToolFailure(f"cursor {cursor!r} is not a next_cursor of find_file (they look like 'v50').")
    return int(text[1:])


@dataclass
class _RepoFind:
    scope: Scope
    in_range: list[Snapshot]
    chosen: list[Snapshot]
    skipped: list[Snapshot]
    error: str | None = None
    listed: list[Snapshot] | None = None
    results: list[SnapSearch] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.results = [SnapSearch(s, repository=self.scope.repository_id) for s in self.chosen]


async def _find_scopes(
    client: ZerobyteClient, rid: str | None, jid: str | None
) -> list[tuple[Scope, list[Snapshot] | str]]:
    """The repositories to search (one, a job's, or all) with their snapshots newest first, or why not."""
    if rid is not None or jid is not None:
        scope = await resolve_scope(client, rid, jid, need_jobs=jid is not None)
        return [(scope, await snapshots_in_scope(client, scope))]
    repos = await client.list_repositories()
    scopes = [Scope(repository_id=r.shortId, job=None, jobs={}) for r in repos]

    async def listed(scope: Scope) -> list[Snapshot] | str:
        try:
            return await snapshots_in_scope(client, scope)
        except LOCAL_ERRORS as exc:
            return f"its snapshots could not be listed ({exc})"

    lists = await gather([listed(s) for s in scopes], limit=CONCURRENCY)
    return list(zip(scopes, lists, strict=True))


async def _from_catalog(ctx: Ctx, catalog: Catalog, searches: list[_RepoFind], pat: Pattern, cap: int) -> None:
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
            await wait_for(ctx, works, FIND_WAIT)
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
                    entry.path, Hit(entry.path, entry.kind, entry.size, iso_from_seconds(entry.mtime))
                )


def _versions(results: Iterable[SnapSearch], *, by_repository: bool = False) -> list[FileVersion]:
    """Collapse identical versions (same repository, path, type, size, mtime) into one row listing their
    snapshots."""
    groups: dict[tuple[str, str, str, int | None, str | None], list[Snapshot]] = {}
    for res in results:
        for h in res.hits.values():
            groups.setdefault((res.repository, h.path, h.type, h.size, h.mtime), []).append(res.snapshot)
    rows: list[tuple[float, FileVersion]] = []
    for (repository, path, kind, size, mtime), snaps in groups.items():
        snaps.sort(key=newest_first)
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
    results: list[SnapSearch],
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
            f"{iso_from_ms(skipped[0].time)}): raise max_snapshots (up to 1000) or narrow since/until."
        )
    partial = [r for r in results if r.mode == "partial"]
    for r in partial[:5]:
        notes.append(
            f"Snapshot {r.snapshot.short_id} searched only partly: {len(r.unvisited)} folder(s) not listed "
            f"({_some(r.unvisited)}); give a folder in the pattern."
        )
    if len(partial) > 5:
        notes.append(f"{len(partial) - 5} more snapshot(s) searched only partly.")
    folders = [r for r in results if r.mode == "folders"]
    if folders:
        notes.append(
            f"{len(folders)} snapshot(s) were checked only at the paths found in a newer one "
            f"({_some([r.snapshot.short_id for r in folders])}); other "
            "matches in them were not looked for: put the folder in the pattern to search them fully."
        )
    untouched = [r for r in results if r.mode == "none"]
    if untouched:
        notes.append(
            f"{len(untouched)} snapshot(s) not searched: the request budget ran out "
            f"({_some([r.snapshot.short_id for r in untouched])}); "
            "narrow since/until or give a folder in the pattern."
        )
    indexing = [r for r in results if r.mode == "indexing"]
    if indexing:
        notes.append(
            f"{len(indexing)} snapshot(s) not searched yet: being indexed in the background "
            f"({_some([r.snapshot.short_id for r in indexing], 5)}); ask again "
            f"in ~{wait} s for a complete answer."
        )
    for r in [r for r in results if r.mode == "error"][:3]:
        notes.append(f"Snapshot {r.snapshot.short_id} failed: {r.error}")
    if any(len(r.hits) >= max_results for r in partial):
        notes.append(f"Results cut at {max_results} matches in a partly searched snapshot; narrow the pattern.")
    return notes


def _some(items: Sequence[str], shown: int = 3) -> str:
    """The first ``shown`` items, comma-separated, with "…" when there are more."""
    return ", ".join(items[:shown]) + ("…" if len(items) > shown else "")


async def _near_hint(catalog: Catalog, searches: list[_RepoFind], pat: Pattern) -> str | None:
    """ "Did you mean" from the names the searched snapshots hold (case and accents ignored, small typos)."""
    from ...catalog import CatalogUnavailable

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
    pat: Pattern, versions: list[FileVersion], in_range: list[Snapshot], searches: list[_RepoFind], complete: bool
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


def _fit(result: FindResult, start: int = 0) -> FindResult:
    """Drop trailing versions until the JSON answer is under MAX_TEXT characters; the cursor goes on from there."""
    before = len(result.versions)
    while len(result.model_dump_json(exclude_none=True)) > MAX_TEXT - 200 and len(result.versions) > 1:
        result.versions = result.versions[: max(1, min(len(result.versions) * 3 // 4, len(result.versions) - 10))]
    if len(result.versions) < before:
        result.next_cursor = f"v{start + len(result.versions)}"
    if result.next_cursor is not None:
        more = (
            f"Versions {start + 1}-{start + len(result.versions)} of {result.total_versions} shown: call again with "
            f"cursor={result.next_cursor!r} (same arguments) for the next ones."
        )
        result.hint = f"{more} {result.hint}" if result.hint else more
    return result
