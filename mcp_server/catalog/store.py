"""The catalog file: SQLite tables of snapshot trees, one file under ``$XDG_CACHE_HOME/zerobyte-mcp/``.

Snapshots never change, so an indexed snapshot is kept until Zerobyte forgets it. A file version (folder,
name, type, size, mtime) is one ``entry`` row shared by every snapshot that holds it; a snapshot is the
sorted list of its entry ids, delta-coded and compressed (``members``). A snapshot is answered from here
only when its row says ``complete``, written in the same transaction as its members: a half-written index
is never an answer. A file of another layout, a corrupt file or a full disk make the store unusable
(:class:`CatalogUnavailable`) and the tools fall back to Zerobyte; they never answer from a broken file.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import sqlite3
import threading
import time
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "KINDS",
    "LAYOUT",
    "CatalogStore",
    "CatalogUnavailable",
    "Entry",
    "Found",
    "SnapshotRow",
]

log = logging.getLogger(__name__)

LAYOUT = 2  # PRAGMA user_version of the layout below; any other value means "start afresh"
KINDS = ("file", "dir", "symlink", "other")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}
_MEMBER_CACHE = 16  # decoded snapshots kept in memory (100,000 files = 0.4 MB each)

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


class CatalogUnavailable(Exception):
    """The catalog file cannot be used (corrupt, other layout, disk full, unwritable): treat as not indexed."""


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


class CatalogStore:
    """Thread-safe access to one catalog file (one connection, one lock; calls are short)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._broken: str | None = None
        self._members: OrderedDict[tuple[int, int], array[int]] = OrderedDict()
        self._folders: dict[int, tuple[int, str]] | None = None

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

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != LAYOUT:
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    # Another layout: start afresh rather than read it wrongly.
                    db.close()
                    log.warning("catalog %s has layout %s, not %s: starting a new one", self.path, version, LAYOUT)
                    self._discard()
                    db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=NORMAL")
                db.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version={LAYOUT}; COMMIT;")
            return db
        except (sqlite3.Error, OSError) as exc:
            return self._recover(exc)

    def _recover(self, exc: BaseException) -> sqlite3.Connection:
        """A corrupt file is moved aside once and a new one started; a second failure disables the catalog."""
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            log.warning("catalog %s is unreadable (%s): starting a new one", self.path, exc)
            self._discard()
            try:
                db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                db.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version={LAYOUT}; COMMIT;")
                return db
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

    def _run(self, fn: Callable[[sqlite3.Connection], object]) -> object:
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

    # --- snapshots ------------------------------------------------------------------------------------

    def snapshots(self, instance: str, repository: str) -> list[SnapshotRow]:
        def q(db: sqlite3.Connection) -> list[SnapshotRow]:
            rows = db.execute(
                "SELECT id, repository, full_id, short_id, time_ms, base, complete, method, entries FROM snapshot "
                "WHERE instance=? AND repository=?",
                (instance, repository),
            ).fetchall()
            return [SnapshotRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8]) for r in rows]

        result = self._run(q)
        assert isinstance(result, list)
        return result

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

        result = self._run(q)
        assert isinstance(result, int)
        return result

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

        result = self._run(q)
        assert isinstance(result, int)
        return result

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

        result = self._run(q)
        assert isinstance(result, int)
        return result

    def size_bytes(self) -> int:
        return sum(Path(f"{self.path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{self.path}{s}").exists())

    def stats(self) -> dict[str, int]:
        def q(db: sqlite3.Connection) -> dict[str, int]:
            return {
                "entries": db.execute("SELECT count(*) FROM entry").fetchone()[0],
                "folders": db.execute("SELECT count(*) FROM folder").fetchone()[0],
                "snapshots": db.execute("SELECT count(*) FROM snapshot WHERE complete=1").fetchone()[0],
            }

        result = self._run(q)
        assert isinstance(result, dict)
        return result

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

        result = self._run(q)
        assert isinstance(result, set)
        return result

    def complete_from_listings(self, snapshot: int, method: str, seconds: float) -> int:
        """Mark a walked snapshot complete: the union of its folder listings becomes its members."""

        def q(db: sqlite3.Connection) -> int:
            ids: set[int] = set()
            for (blob,) in db.execute("SELECT members FROM listing WHERE snapshot=?", (snapshot,)):
                ids.update(decode_members(blob, None))
            self._complete(db, snapshot, ids, method, seconds)
            return len(ids)

        result = self._run(q)
        assert isinstance(result, int)
        return result

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

    # --- folders --------------------------------------------------------------------------------------

    def _folder_id(self, db: sqlite3.Connection, path: str, create: bool = True) -> int:
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

    def _folder_map(self, db: sqlite3.Connection) -> dict[int, tuple[int, str]]:
        if self._folders is None:
            self._folders = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, parent, name FROM folder")}
        return self._folders

    def _folder_path(self, db: sqlite3.Connection, folder: int) -> str:
        folders = self._folder_map(db)
        parts: list[str] = []
        while folder > 1:
            parent, name = folders.get(folder, (1, "?"))
            parts.append(name)
            folder = parent
        return "/" + "/".join(reversed(parts))

    # --- reading --------------------------------------------------------------------------------------

    def members(self, snapshot: int) -> array[int]:
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

        result = self._run(q)
        assert isinstance(result, array)
        return result

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
            rows = db.execute("SELECT id, folder, name, kind, size, mtime FROM entry WHERE zb_match(name)").fetchall()
            return self._held(db, rows, sets, path_matches, limit)

        result = self._run(q)
        assert isinstance(result, list)
        return result

    def names(self, snapshots: Sequence[int]) -> list[str]:
        """The distinct names of the entries these snapshots hold (for "did you mean" hints)."""
        sets = [self.members(s) for s in snapshots]

        def q(db: sqlite3.Connection) -> list[str]:
            seen: dict[str, None] = {}
            for entry_id, name in db.execute("SELECT id, name FROM entry"):
                if name not in seen and any(_holds(held, entry_id) for held in sets):
                    seen[name] = None
            return list(seen)

        result = self._run(q)
        assert isinstance(result, list)
        return result

    def find_path(self, snapshots: Sequence[int], path: str) -> list[Found]:
        """Versions at exactly ``path`` held by one of ``snapshots``."""
        sets = [(s, self.members(s)) for s in snapshots]
        parent, _, name = path.rstrip("/").rpartition("/")

        def q(db: sqlite3.Connection) -> list[Found]:
            folder = self._folder_id(db, parent or "/", create=False)
            if not folder:
                return []
            rows = db.execute(
                "SELECT id, folder, name, kind, size, mtime FROM entry WHERE folder=? AND name=?", (folder, name)
            ).fetchall()
            return self._held(db, rows, sets, None, 100_000)

        result = self._run(q)
        assert isinstance(result, list)
        return result

    def children(self, snapshot: int, folder: str) -> list[Entry] | None:
        """The entries directly in ``folder`` of an indexed snapshot, by name; None when the folder is unknown."""
        held = self.members(snapshot)

        def q(db: sqlite3.Connection) -> list[Entry] | None:
            folder_id = self._folder_id(db, folder, create=False)
            if not folder_id:
                return None
            rows = db.execute(
                "SELECT id, folder, name, kind, size, mtime FROM entry WHERE folder=? ORDER BY name", (folder_id,)
            ).fetchall()
            base = folder.rstrip("/")
            return [_entry(r, f"{base}/{r[2]}") for r in rows if _holds(held, r[0])]

        result = self._run(q)
        assert result is None or isinstance(result, list)
        return result

    def listing(self, snapshot: int, folder: str) -> list[Entry] | None:
        """A folder listing saved from a walk or a browse of a snapshot not (yet) fully indexed."""

        def q(db: sqlite3.Connection) -> list[Entry] | None:
            folder_id = self._folder_id(db, folder, create=False)
            if not folder_id:
                return None
            row = db.execute(
                "SELECT members FROM listing WHERE snapshot=? AND folder=?", (snapshot, folder_id)
            ).fetchone()
            if row is None:
                return None
            ids = decode_members(row[0], None)
            rows = db.execute(
                "SELECT id, folder, name, kind, size, mtime FROM entry WHERE folder=? ORDER BY name", (folder_id,)
            ).fetchall()
            base = folder.rstrip("/")
            return [_entry(r, f"{base}/{r[2]}") for r in rows if _holds(ids, r[0])]

        result = self._run(q)
        assert result is None or isinstance(result, list)
        return result

    def entries(self, snapshot: int, ids: Iterable[int] | None = None) -> Iterator[Entry]:
        """Every entry of an indexed snapshot (or only ``ids`` of it), with full paths."""
        wanted = self.members(snapshot) if ids is None else sorted(ids)
        chunk = 500
        for start in range(0, len(wanted), chunk):
            part = list(wanted[start : start + chunk])

            def q(db: sqlite3.Connection, part: list[int] = part) -> list[Entry]:
                marks = ",".join("?" * len(part))
                rows = db.execute(
                    f"SELECT id, folder, name, kind, size, mtime FROM entry WHERE id IN ({marks})", part
                ).fetchall()
                return [_entry(r, self._join(db, r[1], r[2])) for r in rows]

            result = self._run(q)
            assert isinstance(result, list)
            yield from result

    def _join(self, db: sqlite3.Connection, folder: int, name: str) -> str:
        base = self._folder_path(db, folder)
        return f"{base.rstrip('/')}/{name}"

    def _held(
        self,
        db: sqlite3.Connection,
        rows: list[tuple[int, int, str, int, int | None, int | None]],
        sets: list[tuple[int, array[int]]],
        path_matches: Callable[[str], bool] | None,
        limit: int,
    ) -> list[Found]:
        out: list[Found] = []
        for row in rows:
            holders = tuple(s for s, held in sets if _holds(held, row[0]))
            if not holders:
                continue
            path = self._join(db, row[1], row[2])
            if path_matches is not None and not path_matches(path):
                continue
            out.append(Found(_entry(row, path), holders))
            if len(out) >= limit:
                break
        return out


def _holds(held: array[int], entry_id: int) -> bool:
    i = bisect.bisect_left(held, entry_id)
    return i < len(held) and held[i] == entry_id


def _entry(row: tuple[int, int, str, int, int | None, int | None], path: str) -> Entry:
    return Entry(row[0], path, KINDS[row[3]] if 0 <= row[3] < len(KINDS) else "other", row[4], row[5])


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
        assert isinstance(result, list)
        self.ids.extend(result)
        return result

    def complete(self, snapshot: int, method: str, seconds: float) -> int:
        self.flush()
        ids = set(self.ids)
        self.store._run(lambda db: self.store._complete(db, snapshot, ids, method, seconds))
        self.store._folders = None
        return len(ids)
