"""The catalog file's promises: shared versions stored once, a snapshot answers only when complete, and an
older layout, a damaged member list or a full disk turn into "not indexed", never into a wrong answer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mcp_server.catalog.db import LAYOUT, CatalogUnavailable
from mcp_server.catalog.store import CatalogStore

INSTANCE, REPO = "http://zb", "repo0001"


def index(store: CatalogStore, short: str, files: dict[str, tuple[int, int]]) -> int:
    row = store.upsert_snapshot(INSTANCE, REPO, short * 8, short, 1000, "/srv")
    writer = store.writer()
    writer.add("/srv/docs", "dir", None, 1)
    for path, (size, mtime) in files.items():
        writer.add(path, "file", size, mtime)
    writer.complete(row, "tar", 0.1)
    return row


def test_an_unchanged_file_is_one_version_held_by_both_snapshots(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "c.sqlite")
    a = index(store, "a", {"/srv/docs/x.txt": (5, 100), "/srv/docs/y.txt": (6, 100)})
    b = index(store, "b", {"/srv/docs/x.txt": (5, 100), "/srv/docs/y.txt": (7, 200)})

    found = {(f.entry.path, f.entry.size): f.snapshots for f in store.find([a, b], lambda n: n.endswith(".txt"))}

    assert found == {("/srv/docs/x.txt", 5): (a, b), ("/srv/docs/y.txt", 6): (a,), ("/srv/docs/y.txt", 7): (b,)}
    assert store.stats()["entries"] == 4  # docs (once), x (once), y twice
    assert [e.path for e in store.children(b, "/srv/docs") or []] == ["/srv/docs/x.txt", "/srv/docs/y.txt"]


def test_a_catalog_of_an_older_layout_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE snapshot(id INTEGER PRIMARY KEY, short_id TEXT)")
        db.execute("INSERT INTO snapshot(short_id) VALUES ('aaaaaaaa')")
        db.execute(f"PRAGMA user_version={LAYOUT - 1}")

    store = CatalogStore(path)

    assert store.snapshots(INSTANCE, REPO) == [] and store.broken is None
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LAYOUT


def test_a_damaged_member_list_is_refused_not_read(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    store = CatalogStore(path)
    row = index(store, "a", {"/srv/docs/x.txt": (5, 100)})
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE snapshot SET checksum = checksum + 1 WHERE id=?", (row,))

    with pytest.raises(CatalogUnavailable):
        CatalogStore(path).find([row], lambda n: True)


def test_a_full_disk_leaves_the_snapshot_not_indexed_and_turns_the_catalog_off(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "c.sqlite")
    row = store.upsert_snapshot(INSTANCE, REPO, "f" * 64, "ffffffff", 1000, "/srv")
    store._conn().execute("PRAGMA max_page_count=12")  # SQLite answers "database or disk is full" past it
    writer = store.writer()
    for i in range(5000):
        writer.add(f"/srv/big/file-{i:05d}-{'x' * 40}.txt", "file", i, 100)

    with pytest.raises(CatalogUnavailable, match="full"):
        writer.complete(row, "tar", 1.0)

    assert store.broken is not None and "disk is full" in store.broken
    reopened = CatalogStore(tmp_path / "c.sqlite")
    assert [r.complete for r in reopened.snapshots(INSTANCE, REPO)] == [False]


def test_a_walked_folder_answers_from_its_saved_listing_until_the_walk_completes_the_snapshot(
    tmp_path: Path,
) -> None:
    store = CatalogStore(tmp_path / "c.sqlite")
    row = store.upsert_snapshot(INSTANCE, REPO, "w" * 64, "wwwwwwww", 1000, "/srv")
    writer = store.writer()
    for path in ("/srv/docs", "/srv/docs/b.txt", "/srv/docs/a.txt", "/srv/other"):
        writer.add(path, "dir" if "." not in path else "file", 1, 100)
    top, b, a, other = writer.flush()
    store.save_listing(row, "/srv/docs", [b, a])
    store.save_listing(row, "/srv", [top, other])

    assert [(e.path, e.kind) for e in store.listing(row, "/srv/docs") or []] == [
        ("/srv/docs/a.txt", "file"),
        ("/srv/docs/b.txt", "file"),
    ]
    assert store.listing(row, "/srv/other") is None  # known folder, no listing saved
    assert store.listing(row, "/srv/nowhere") is None  # folder the catalog never met
    assert store.listed_folders(row) == {"/srv", "/srv/docs"}
    with pytest.raises(CatalogUnavailable):
        store.children(row, "/srv/docs")  # not complete: no members to answer from

    assert store.complete_from_listings(row, "walk", 0.5) == 4
    assert [e.path for e in store.children(row, "/srv") or []] == ["/srv/docs", "/srv/other"]
    assert store.children(row, "/srv/nowhere") is None
    assert store.listing(row, "/srv/docs") is None  # listings are dropped once the snapshot is complete
