"""The catalog file: SQLite tables of snapshot trees, one file under ``$XDG_CACHE_HOME/zerobyte-mcp/``.

Snapshots never change, so an indexed snapshot is kept until Zerobyte forgets it. A file version (folder,
name, type, size, mtime) is one ``entry`` row shared by every snapshot that holds it; a snapshot is the
sorted list of its entry ids, delta-coded and compressed (``members``). A snapshot is answered from here
only when its row says ``complete``, written in the same transaction as its members: a half-written index
is never an answer. A file of another layout, a corrupt file or a full disk make the store unusable
(:class:`~.db.CatalogUnavailable`) and the tools fall back to Zerobyte; they never answer from a broken file.

This module holds the snapshot rows and the writing of an index (:class:`Writer`); the file, its layout and
its connection are in :mod:`.db`, the reading in :mod:`.queries`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .db import KINDS, decode_members, encode_members
from .queries import CatalogReader

__all__ = ["CatalogStore", "DrillRecord", "SnapshotRow", "Writer"]

_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class SnapshotRow:
    id: int
    repository: str
    full_id: str
    short_id: str
    time_ms: int
    base: str
    complete: bool
    method: str | None
    entries: int | None


@dataclass(frozen=True)
class DrillRecord:
    """One snapshot's restore drill: when, its verdict, what was read and checked, and its failures."""

    repository: str
    snapshot: str
    job: str | None
    at_ms: int
    verdict: str  # restorable, failed, incomplete
    files: int  # files whose contents were read and checked
    bytes: int
    seconds: float
    detail: dict[str, object]  # sample, failures, what was left out


class CatalogStore(CatalogReader):
    """One catalog file: its snapshot rows and the writing of an index, beside the reading of
    :class:`~.queries.CatalogReader` and the connection of :class:`~.db.CatalogFile`."""

    # --- snapshots ------------------------------------------------------------------------------------

    def snapshots(self, instance: str, repository: str) -> list[SnapshotRow]:
        def q(db: sqlite3.Connection) -> list[SnapshotRow]:
            rows = db.execute(
                "SELECT id, repository, full_id, short_id, time_ms, base, complete, method, entries FROM snapshot "
                "WHERE instance=? AND repository=?",
                (instance, repository),
            ).fetchall()
            return [SnapshotRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8]) for r in rows]

        return self._run(q)

    def snapshot(self, instance: str, repository: str, snapshot_id: str) -> SnapshotRow | None:
        """The row of a snapshot given by short id, full id or a prefix of it (None when not known)."""
        rows = [r for r in self.snapshots(instance, repository) if r.full_id.startswith(snapshot_id)]
        rows = rows or [r for r in self.snapshots(instance, repository) if r.short_id == snapshot_id]
        return rows[0] if len(rows) == 1 else None

    def upsert_snapshot(
        self, instance: str, repository: str, full_id: str, short_id: str, time_ms: int, base: str
    ) -> int:
        def q(db: sqlite3.Connection) -> int:
            db.execute(
                "INSERT OR IGNORE INTO snapshot(instance, repository, full_id, short_id, time_ms, base) "
                "VALUES (?,?,?,?,?,?)",
                (instance, repository, full_id, short_id, int(time_ms), base),
            )
            row = db.execute(
                "SELECT id FROM snapshot WHERE instance=? AND repository=? AND full_id=?",
                (instance, repository, full_id),
            ).fetchone()
            return int(row[0])

        return self._run(q)

    def forget_missing(self, instance: str, repository: str, present: Iterable[tuple[str, int]]) -> int:
        """Drop the snapshots of ``repository`` whose (short id, time) Zerobyte no longer lists."""
        keep = {(s, int(t)) for s, t in present}

        def q(db: sqlite3.Connection) -> int:
            rows = db.execute(
                "SELECT id, short_id, time_ms FROM snapshot WHERE instance=? AND repository=?", (instance, repository)
            ).fetchall()
            gone = [r[0] for r in rows if (r[1], r[2]) not in keep]
            if gone:
                db.execute("BEGIN")
                db.executemany("DELETE FROM listing WHERE snapshot=?", [(g,) for g in gone])
                db.executemany("DELETE FROM snapshot WHERE id=?", [(g,) for g in gone])
                db.execute("COMMIT")
                for key in [k for k in self._members if k[0] in gone]:
                    del self._members[key]
            return len(gone)

        return self._run(q)

    def collect_garbage(self) -> int:
        """Delete entries (and empty folders) no snapshot or folder listing refers to any more."""

        def q(db: sqlite3.Connection) -> int:
            used: set[int] = set()
            for blob, checksum in db.execute("SELECT members, checksum FROM snapshot WHERE complete=1"):
                used.update(decode_members(blob, checksum))
            for (blob,) in db.execute("SELECT members FROM listing"):
                used.update(decode_members(blob, None))
            ids = [r[0] for r in db.execute("SELECT id FROM entry")]
            dead = [(i,) for i in ids if i not in used]
            if dead:
                db.execute("BEGIN")
                db.executemany("DELETE FROM entry WHERE id=?", dead)
                db.execute(
                    "DELETE FROM folder WHERE id<>1 AND id NOT IN (SELECT folder FROM entry) "
                    "AND id NOT IN (SELECT parent FROM folder)"
                )
                db.execute("COMMIT")
                self._folders = None
            return len(dead)

        return self._run(q)

    def stats(self) -> dict[str, int]:
        def q(db: sqlite3.Connection) -> dict[str, int]:
            return {
                "entries": db.execute("SELECT count(*) FROM entry").fetchone()[0],
                "folders": db.execute("SELECT count(*) FROM folder").fetchone()[0],
                "snapshots": db.execute("SELECT count(*) FROM snapshot WHERE complete=1").fetchone()[0],
            }

        return self._run(q)

    # --- restore drills -------------------------------------------------------------------------------

    def record_drill(self, instance: str, record: DrillRecord) -> None:
        def q(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO drill(instance, repository, snapshot, job, at_ms, verdict, files, bytes, seconds, "
                "detail) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    instance,
                    record.repository,
                    record.snapshot,
                    record.job,
                    record.at_ms,
                    record.verdict,
                    record.files,
                    record.bytes,
                    record.seconds,
                    json.dumps(record.detail, separators=(",", ":")),
                ),
            )

        self._run(q)

    def drills(self, instance: str, limit: int = 100) -> list[DrillRecord]:
        """The newest drills first."""

        def q(db: sqlite3.Connection) -> list[DrillRecord]:
            rows = db.execute(
                "SELECT repository, snapshot, job, at_ms, verdict, files, bytes, seconds, detail FROM drill "
                "WHERE instance=? ORDER BY at_ms DESC, id DESC LIMIT ?",
                (instance, limit),
            ).fetchall()
            return [DrillRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8])) for r in rows]

        return self._run(q)

    # --- writing an index -----------------------------------------------------------------------------

    def writer(self) -> Writer:
        return Writer(self)

    def save_listing(self, snapshot: int, folder: str, ids: Sequence[int]) -> None:
        blob, _ = encode_members(ids)

        def q(db: sqlite3.Connection) -> None:
            folder_id = self._folder_id(db, folder)
            db.execute(
                "INSERT OR REPLACE INTO listing(snapshot, folder, members) VALUES (?,?,?)", (snapshot, folder_id, blob)
            )

        self._run(q)

    def listed_folders(self, snapshot: int) -> set[str]:
        def q(db: sqlite3.Connection) -> set[str]:
            return {
                self._folder_path(db, r[0])
                for r in db.execute("SELECT folder FROM listing WHERE snapshot=?", (snapshot,))
            }

        return self._run(q)

    def complete_from_listings(self, snapshot: int, method: str, seconds: float) -> int:
        """Mark a walked snapshot complete: the union of its folder listings becomes its members."""

        def q(db: sqlite3.Connection) -> int:
            ids: set[int] = set()
            for (blob,) in db.execute("SELECT members FROM listing WHERE snapshot=?", (snapshot,)):
                ids.update(decode_members(blob, None))
            self._complete(db, snapshot, ids, method, seconds)
            return len(ids)

        return self._run(q)

    def _complete(self, db: sqlite3.Connection, snapshot: int, ids: Iterable[int], method: str, seconds: float) -> None:
        blob, checksum = encode_members(ids)
        count = len(set(ids)) if not isinstance(ids, set) else len(ids)
        db.execute("BEGIN")
        db.execute(
            "UPDATE snapshot SET complete=1, method=?, members=?, checksum=?, entries=?, indexed_at=?, seconds=? "
            "WHERE id=?",
            (method, blob, checksum, count, int(time.time()), round(seconds, 2), snapshot),
        )
        db.execute("DELETE FROM listing WHERE snapshot=?", (snapshot,))
        db.execute("COMMIT")


class Writer:
    """Adds the entries of one snapshot (from a tar or folder listings); ids are returned for its members.

    Entries are looked up per folder (each folder's existing versions are read once), so an unchanged
    file of the previous snapshot costs a dictionary hit, not a row.
    """

    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self._folder_ids: dict[str, int] = {"/": 1}
        self._known: dict[int, dict[tuple[str, int, int | None, int | None], int]] = {}
        self._pending: list[tuple[str, str, int, int | None, int | None]] = []
        self.ids: list[int] = []

    def add(self, path: str, kind: str, size: int | None, mtime: int | None) -> None:
        parent, _, name = path.rstrip("/").rpartition("/")
        self._pending.append((parent or "/", name, _KIND_CODE.get(kind, 3), size if kind == "file" else None, mtime))

    def flush(self) -> list[int]:
        """Write what was added since the last flush; the ids of those entries, in order."""
        pending, self._pending = self._pending, []
        if not pending:
            return []

        def q(db: sqlite3.Connection) -> list[int]:
            out: list[int] = []
            db.execute("BEGIN")
            for parent, name, kind, size, mtime in pending:
                folder = self._folder_ids.get(parent)
                if folder is None:
                    folder = self.store._folder_id(db, parent)
                    self._folder_ids[parent] = folder
                known = self._known.get(folder)
                if known is None:
                    known = {
                        (r[0], r[1], r[2], r[3]): r[4]
                        for r in db.execute("SELECT name, kind, size, mtime, id FROM entry WHERE folder=?", (folder,))
                    }
                    self._known[folder] = known
                key = (name, kind, size, mtime)
                entry = known.get(key)
                if entry is None:
                    cur = db.execute(
                        "INSERT INTO entry(folder, name, kind, size, mtime) VALUES (?,?,?,?,?)",
                        (folder, name, kind, size, mtime),
                    )
                    assert cur.lastrowid is not None
                    entry = cur.lastrowid
                    known[key] = entry
                out.append(entry)
            db.execute("COMMIT")
            if sum(len(k) for k in self._known.values()) > 300_000:
                self._known.clear()  # bound memory on huge snapshots; folders are re-read when met again
            return out

        result = self.store._run(q)
        self.ids.extend(result)
        return result

    def complete(self, snapshot: int, method: str, seconds: float) -> int:
        self.flush()
        ids = set(self.ids)
        self.store._run(lambda db: self.store._complete(db, snapshot, ids, method, seconds))
        self.store._folders = None
        return len(ids)
