"""Reading the catalog: which file versions indexed snapshots hold, found by name or path or listed by folder.

Every answer is filtered through a snapshot's member list (decoded once and kept in a small cache), so an
entry shared by many snapshots is returned only for those that hold it. Paths are rebuilt from the folder
tree; nothing here writes.
"""

from __future__ import annotations

import heapq
import sqlite3
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from .db import KINDS, CatalogFile, CatalogUnavailable, decode_members, holds

__all__ = ["CatalogReader", "Entry", "Found"]

_MEMBER_CACHE = 16  # decoded snapshots kept in memory (100,000 files = 0.4 MB each)
_ENTRY_COLUMNS = "SELECT id, folder, name, kind, size, mtime FROM entry"

_Row = tuple[int, int, str, int, int | None, int | None]


@dataclass(frozen=True)
class Entry:
    """One file version as stored: its path, type, size (files only) and mtime in whole seconds."""

    id: int
    path: str
    kind: str
    size: int | None
    mtime: int | None


@dataclass(frozen=True)
class Found:
    entry: Entry
    snapshots: tuple[int, ...]  # snapshot row ids holding this version


def _entry(row: _Row, path: str) -> Entry:
    return Entry(row[0], path, KINDS[row[3]] if 0 <= row[3] < len(KINDS) else "other", row[4], row[5])


class CatalogReader(CatalogFile):
    """The read side of the catalog file."""

    def members(self, snapshot: int) -> array[int]:
        """The sorted entry ids of an indexed snapshot (CatalogUnavailable when it is not indexed)."""

        def q(db: sqlite3.Connection) -> array[int]:
            row = db.execute("SELECT members, checksum FROM snapshot WHERE id=? AND complete=1", (snapshot,)).fetchone()
            if row is None:
                raise CatalogUnavailable(f"snapshot row {snapshot} is not indexed")
            key = (snapshot, int(row[1]))
            cached = self._members.get(key)
            if cached is not None:
                self._members.move_to_end(key)
                return cached
            try:
                decoded = decode_members(row[0], row[1])
            except zlib.error as exc:
                raise sqlite3.DatabaseError(f"member list unreadable: {exc}") from exc
            self._members[key] = decoded
            while len(self._members) > _MEMBER_CACHE:
                self._members.popitem(last=False)
            return decoded

        return self._run(q)

    def find(
        self,
        snapshots: Sequence[int],
        name_matches: Callable[[str], bool],
        path_matches: Callable[[str], bool] | None = None,
        limit: int = 100_000,
    ) -> list[Found]:
        """Versions whose name (then full path) matches, held by at least one of ``snapshots``."""
        sets = [(s, self.members(s)) for s in snapshots]

        def q(db: sqlite3.Connection) -> list[Found]:
            db.create_function("zb_match", 1, lambda n: 1 if name_matches(n) else 0, deterministic=True)
            rows = db.execute(f"{_ENTRY_COLUMNS} WHERE zb_match(name)").fetchall()
            return self._held(db, rows, sets, path_matches, limit)

        return self._run(q)

    def names(self, snapshots: Sequence[int]) -> list[str]:
        """The distinct names of the entries these snapshots hold (for "did you mean" hints)."""
        sets = [self.members(s) for s in snapshots]

        def q(db: sqlite3.Connection) -> list[str]:
            seen: dict[str, None] = {}
            for entry_id, name in db.execute("SELECT id, name FROM entry"):
                if name not in seen and any(holds(held, entry_id) for held in sets):
                    seen[name] = None
            return list(seen)

        return self._run(q)

    def find_path(self, snapshots: Sequence[int], path: str) -> list[Found]:
        """Versions at exactly ``path`` held by one of ``snapshots``."""
        sets = [(s, self.members(s)) for s in snapshots]
        parent, _, name = path.rstrip("/").rpartition("/")

        def q(db: sqlite3.Connection) -> list[Found]:
            folder = self._folder_id(db, parent or "/", create=False)
            if not folder:
                return []
            rows = db.execute(f"{_ENTRY_COLUMNS} WHERE folder=? AND name=?", (folder, name)).fetchall()
            return self._held(db, rows, sets, None, 100_000)

        return self._run(q)

    def children(self, snapshot: int, folder: str) -> list[Entry] | None:
        """The entries directly in ``folder`` of an indexed snapshot, by name; None when the folder is unknown."""
        held = self.members(snapshot)
        return self._run(lambda db: self._in_folder(db, folder, lambda _db, _folder_id: held))

    def listing(self, snapshot: int, folder: str) -> list[Entry] | None:
        """A folder listing saved from a walk or a browse of a snapshot not (yet) fully indexed."""

        def saved(db: sqlite3.Connection, folder_id: int) -> array[int] | None:
            row = db.execute(
                "SELECT members FROM listing WHERE snapshot=? AND folder=?", (snapshot, folder_id)
            ).fetchone()
            return None if row is None else decode_members(row[0], None)

        return self._run(lambda db: self._in_folder(db, folder, saved))

    def largest(self, snapshot: int, count: int, under: str = "/") -> tuple[list[Entry], int]:
        """The ``count`` biggest files of an indexed snapshot at any depth under ``under``, biggest first, and how
        many files are under it (sizes read in chunks of the member list; paths built for the winners only)."""
        held = self.members(snapshot)
        file_kind = KINDS.index("file")

        def q(db: sqlite3.Connection) -> tuple[list[Entry], int]:
            folders: set[int] | None = None
            if under.rstrip("/"):
                root = self._folder_id(db, under.rstrip("/"), create=False)
                if not root:
                    return [], 0
                folders = {
                    r[0]
                    for r in db.execute(
                        "WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL "
                        "SELECT f.id FROM folder f JOIN sub ON f.parent = sub.id) SELECT id FROM sub",
                        (root,),
                    )
                }
            top: list[tuple[int, int]] = []  # a min-heap of (size, -id)
            files = 0
            chunk = 900
            for start in range(0, len(held), chunk):
                part = list(held[start : start + chunk])
                marks = ",".join("?" * len(part))
                rows = db.execute(
                    f"SELECT id, folder, size FROM entry WHERE id IN ({marks}) AND kind=?", [*part, file_kind]
                )
                for entry_id, folder, size in rows:
                    if folders is not None and folder not in folders:
                        continue
                    files += 1
                    item = (int(size or 0), -entry_id)
                    if len(top) < count:
                        heapq.heappush(top, item)
                    elif item > top[0]:
                        heapq.heapreplace(top, item)
            winners = [-i for _, i in sorted(top, reverse=True)]
            if not winners:
                return [], files
            marks = ",".join("?" * len(winners))
            found = {r[0]: r for r in db.execute(f"{_ENTRY_COLUMNS} WHERE id IN ({marks})", winners)}
            return [_entry(found[i], self._join(db, found[i][1], found[i][2])) for i in winners], files

        return self._run(q)

    def entries(self, snapshot: int, ids: Iterable[int] | None = None) -> Iterator[Entry]:
        """Every entry of an indexed snapshot (or only ``ids`` of it), with full paths."""
        wanted = self.members(snapshot) if ids is None else sorted(ids)
        chunk = 500
        for start in range(0, len(wanted), chunk):
            part = list(wanted[start : start + chunk])

            def q(db: sqlite3.Connection, part: list[int] = part) -> list[Entry]:
                marks = ",".join("?" * len(part))
                rows = db.execute(f"{_ENTRY_COLUMNS} WHERE id IN ({marks})", part).fetchall()
                return [_entry(r, self._join(db, r[1], r[2])) for r in rows]

            yield from self._run(q)

    def _in_folder(
        self, db: sqlite3.Connection, folder: str, members: Callable[[sqlite3.Connection, int], array[int] | None]
    ) -> list[Entry] | None:
        """The entries directly in ``folder`` that ``members(db, folder id)`` holds, by name; None when the catalog
        does not know the folder or ``members`` gives None."""
        folder_id = self._folder_id(db, folder, create=False)
        if not folder_id:
            return None
        held = members(db, folder_id)
        if held is None:
            return None
        rows = db.execute(f"{_ENTRY_COLUMNS} WHERE folder=? ORDER BY name", (folder_id,)).fetchall()
        base = folder.rstrip("/")
        return [_entry(r, f"{base}/{r[2]}") for r in rows if holds(held, r[0])]

    def _join(self, db: sqlite3.Connection, folder: int, name: str) -> str:
        base = self._folder_path(db, folder)
        return f"{base.rstrip('/')}/{name}"

    def _held(
        self,
        db: sqlite3.Connection,
        rows: list[_Row],
        sets: list[tuple[int, array[int]]],
        path_matches: Callable[[str], bool] | None,
        limit: int,
    ) -> list[Found]:
        out: list[Found] = []
        for row in rows:
            holders = tuple(s for s, held in sets if holds(held, row[0]))
            if not holders:
                continue
            path = self._join(db, row[1], row[2])
            if path_matches is not None and not path_matches(path):
                continue
            out.append(Found(_entry(row, path), holders))
            if len(out) >= limit:
                break
        return out
