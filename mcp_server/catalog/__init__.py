"""A local catalog of snapshot trees, so find, browse and compare are complete and cheap at real scale.

Zerobyte lists one snapshot folder per request (a restic run each) under a shared rate limit, yet
snapshots never change: what was listed once is kept here, in one SQLite file per user, keyed by Zerobyte
instance, repository and full snapshot id. :class:`Catalog` ties the file (:mod:`.store`) to the
indexing machinery (:mod:`.indexer`); tools ask it and fall back to Zerobyte when it cannot answer.
"""

from __future__ import annotations

from pathlib import Path

from ..zerobyte import ZerobyteClient
from .db import CatalogUnavailable
from .indexer import Indexer, Work, base_of, choose_method, estimate_seconds
from .queries import Entry, Found
from .store import CatalogStore, DrillRecord, SnapshotRow

__all__ = [
    "Catalog",
    "CatalogStore",
    "CatalogUnavailable",
    "DrillRecord",
    "Entry",
    "Found",
    "Indexer",
    "SnapshotRow",
    "Work",
    "base_of",
    "choose_method",
    "estimate_seconds",
]


class Catalog:
    """The catalog file and the indexer that fills it, for one Zerobyte instance."""

    def __init__(self, path: Path, client: ZerobyteClient) -> None:
        self.store = CatalogStore(path)
        self.indexer = Indexer(self.store, client)

    def snapshot(self, repository: str, snapshot_id: str) -> SnapshotRow | None:
        return self.store.snapshot(self.indexer.instance, repository, snapshot_id)

    def folder(self, row: SnapshotRow, folder: str) -> list[Entry] | None:
        """The entries directly in ``folder`` of a snapshot, when the catalog knows that folder completely:
        the snapshot is indexed and holds the folder, or a walk or browse saved its listing. None otherwise."""
        if not row.complete:
            return self.store.listing(row.id, folder)
        base = row.base.rstrip("/") + "/"
        if folder != row.base:
            if not folder.startswith(base):
                return None  # above the snapshot's base: the tar never holds it
            held = self.store.find_path([row.id], folder)
            if not held or held[0].entry.kind != "dir":
                return None
        return self.store.children(row.id, folder) or []

    def entry(self, row: SnapshotRow, path: str) -> Entry | None:
        if not row.complete:
            return None
        held = self.store.find_path([row.id], path)
        return held[0].entry if held else None

    @property
    def usable(self) -> bool:
        return self.store.broken is None

    def close(self) -> None:
        self.store.close()
