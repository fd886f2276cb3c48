"""A local catalog of snapshot trees, so find, browse and compare are complete and cheap at real scale.

Zerobyte lists one snapshot folder per request (a restic run each) under a shared rate limit, yet
snapshots never change: what was listed once is kept here, in one SQLite file per user, keyed by Zerobyte
instance, repository and full snapshot id. :class:`Catalog` ties the file (:mod:`.store`) to the
indexing machinery (:mod:`.indexer`); tools ask it and fall back to Zerobyte when it cannot answer.
"""

from __future__ import annotations

from pathlib import Path

from ..zerobyte import ZerobyteClient
from .indexer import Indexer, Work, base_of, choose_method, estimate_seconds
from .store import CatalogStore, CatalogUnavailable, Entry, Found, SnapshotRow

__all__ = [
    "Catalog",
    "CatalogStore",
    "CatalogUnavailable",
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

    @property
    def usable(self) -> bool:
        return self.store.broken is None

    def close(self) -> None:
        self.store.close()
