"""The catalog's SQLite file: its layout, one guarded connection, what a failure does, folder ids, member lists.

The file is opened on first use; a file of another layout starts afresh, a corrupt one is moved aside once,
and any later SQLite error (a full disk, a damaged page) turns the catalog off with :class:`CatalogUnavailable`
so the tools answer from Zerobyte instead. Folder paths are stored once as a tree of ``folder`` rows; a
snapshot's or a listing's members are sorted entry ids, delta-coded and compressed (:func:`encode_members`).
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import sqlite3
import threading
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

__all__ = [
    "DRILL_TABLE",
    "KINDS",
    "LAYOUT",
    "CatalogFile",
    "CatalogUnavailable",
    "decode_members",
    "encode_members",
    "holds",
]

log = logging.getLogger(__name__)

LAYOUT = 2  # PRAGMA user_version of the layout below; any other value means "start afresh"
KINDS = ("file", "dir", "symlink", "other")  # entry.kind is the index in this tuple

_SCHEMA = """
CREATE TABLE folder(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, name TEXT NOT NULL);
CREATE UNIQUE INDEX folder_at ON folder(parent, name);
CREATE TABLE entry(id INTEGER PRIMARY KEY, folder INTEGER NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL,
                   size INTEGER, mtime INTEGER);
CREATE INDEX entry_in ON entry(folder);
CREATE TABLE snapshot(id INTEGER PRIMARY KEY, instance TEXT NOT NULL, repository TEXT NOT NULL,
                      full_id TEXT NOT NULL, short_id TEXT NOT NULL, time_ms INTEGER NOT NULL, base TEXT NOT NULL,
                      complete INTEGER NOT NULL DEFAULT 0, method TEXT, members BLOB, checksum INTEGER,
                      entries INTEGER, indexed_at INTEGER, seconds REAL);
CREATE UNIQUE INDEX snapshot_key ON snapshot(instance, repository, full_id);
CREATE INDEX snapshot_short ON snapshot(instance, repository, short_id);
CREATE TABLE listing(snapshot INTEGER NOT NULL, folder INTEGER NOT NULL, members BLOB NOT NULL,
                     PRIMARY KEY(snapshot, folder)) WITHOUT ROWID;
INSERT INTO folder(id, parent, name) VALUES (1, 0, '');
"""
# Restore drills (tools/drill.py): one row per snapshot drilled, kept after Zerobyte forgets the snapshot (the
# history is the point). Added without a layout change: made on opening when a file of this layout lacks it.
DRILL_TABLE = """
CREATE TABLE IF NOT EXISTS drill(id INTEGER PRIMARY KEY, instance TEXT NOT NULL, repository TEXT NOT NULL,
                                 snapshot TEXT NOT NULL, job TEXT, at_ms INTEGER NOT NULL, verdict TEXT NOT NULL,
                                 files INTEGER NOT NULL, bytes INTEGER NOT NULL, seconds REAL NOT NULL,
                                 detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS drill_of ON drill(instance, job, at_ms);
"""

_T = TypeVar("_T")


class CatalogUnavailable(Exception):
    """The catalog file cannot be used (corrupt, other layout, disk full, unwritable): treat as not indexed."""


def encode_members(ids: Iterable[int]) -> tuple[bytes, int]:
    """Sorted unique ids as compressed deltas, and the CRC of the raw deltas."""
    ordered = sorted(set(ids))
    deltas = array("I", (b - a for a, b in zip([0, *ordered[:-1]], ordered, strict=True)))
    raw = deltas.tobytes()
    return zlib.compress(raw, 6), zlib.crc32(raw)


def decode_members(blob: bytes, checksum: int | None) -> array[int]:
    raw = zlib.decompress(blob)
    if checksum is not None and zlib.crc32(raw) != checksum:
        raise CatalogUnavailable("a snapshot's member list fails its checksum")
    deltas = array("I")
    deltas.frombytes(raw)
    out = array("I", bytes(len(raw)))
    total = 0
    for i, d in enumerate(deltas):
        total += d
        out[i] = total
    return out


def holds(members: array[int], entry_id: int) -> bool:
    """Whether the sorted ``members`` hold ``entry_id``."""
    i = bisect.bisect_left(members, entry_id)
    return i < len(members) and members[i] == entry_id


class CatalogFile:
    """Thread-safe access to one catalog file (one connection, one lock; calls are short)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._broken: str | None = None
        self._members: OrderedDict[tuple[int, int], array[int]] = OrderedDict()  # decoded, by (row, checksum)
        self._folders: dict[int, tuple[int, str]] | None = None  # folder id -> (parent, name), read when needed

    # --- opening, layout, failure ----------------------------------------------------------------------

    @property
    def broken(self) -> str | None:
        return self._broken

    def _conn(self) -> sqlite3.Connection:
        if self._broken is not None:
            raise CatalogUnavailable(self._broken)
        if self._db is None:
            self._db = self._open()
        return self._db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @staticmethod
    def _create(db: sqlite3.Connection) -> sqlite3.Connection:
        db.executescript("BEGIN;" + _SCHEMA + DRILL_TABLE + f"PRAGMA user_version={LAYOUT}; COMMIT;")
        return db

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._connect()
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == LAYOUT:
                db.executescript(DRILL_TABLE)
                return db
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                # Another layout: start afresh rather than read it wrongly.
                db.close()
                log.warning("catalog %s has layout %s, not %s: starting a new one", self.path, version, LAYOUT)
                self._discard()
                db = self._connect()
            return self._create(db)
        except (sqlite3.Error, OSError) as exc:
            return self._recover(exc)

    def _recover(self, exc: BaseException) -> sqlite3.Connection:
        """A corrupt file is moved aside once and a new one started; a second failure disables the catalog."""
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            log.warning("catalog %s is unreadable (%s): starting a new one", self.path, exc)
            self._discard()
            try:
                return self._create(self._connect())
            except (sqlite3.Error, OSError) as again:
                exc = again
        self._broken = f"the catalog file {self.path} cannot be used ({exc})"
        log.warning("%s; answering from Zerobyte only", self._broken)
        raise CatalogUnavailable(self._broken) from exc

    def _discard(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()

    def _fail(self, exc: sqlite3.Error) -> CatalogUnavailable:
        """Any SQLite error after opening: stop using the file (it is re-checked on the next start)."""
        full = "full" in str(exc).lower()
        corrupt = isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)
        self._broken = f"the catalog file {self.path} failed ({exc})" + (
            ": the disk is full" if full else ": it will be rebuilt on the next start" if corrupt else ""
        )
        log.warning("%s; answering from Zerobyte only", self._broken)
        if corrupt:
            self.close()
            self._discard()
        return CatalogUnavailable(self._broken)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    self._db.close()
                self._db = None

    def size_bytes(self) -> int:
        return sum(Path(f"{self.path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{self.path}{s}").exists())

    def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """``fn(connection)`` under the lock; an open transaction is rolled back when it raises, and an SQLite
        error turns the catalog off (:meth:`_fail`)."""
        with self._lock:
            db = self._conn()
            try:
                return fn(db)
            except sqlite3.Error as exc:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                raise self._fail(exc) from exc
            except Exception:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    # --- folders --------------------------------------------------------------------------------------

    def _folder_id(self, db: sqlite3.Connection, path: str, create: bool = True) -> int:
        """The id of folder ``path`` (made when missing and ``create``; 0 when missing otherwise)."""
        folder = 1
        for part in [p for p in path.split("/") if p]:
            row = db.execute("SELECT id FROM folder WHERE parent=? AND name=?", (folder, part)).fetchone()
            if row is None:
                if not create:
                    return 0
                cur = db.execute("INSERT INTO folder(parent, name) VALUES (?,?)", (folder, part))
                assert cur.lastrowid is not None
                if self._folders is not None:
                    self._folders[cur.lastrowid] = (folder, part)
                folder = cur.lastrowid
            else:
                folder = int(row[0])
        return folder

    def _folder_path(self, db: sqlite3.Connection, folder: int) -> str:
        if self._folders is None:
            self._folders = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, parent, name FROM folder")}
        parts: list[str] = []
        while folder > 1:
            parent, name = self._folders.get(folder, (1, "?"))
            parts.append(name)
            folder = parent
        return "/" + "/".join(reversed(parts))
