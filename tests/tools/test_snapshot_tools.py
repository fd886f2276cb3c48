"""Snapshot tools: listing with filters and cursors, details, folder pages, cross-snapshot find, file reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_server.config import Settings
from mcp_server.server import create_server
from mcp_server.simulator import Node, Simulator
from mcp_server.simulator.files import build_tree, dump_entries

HOUR = 3_600_000
DAY = 24 * HOUR
BASE_MTIME = 1_790_000_000_000  # same base for every tree: unchanged files keep their mtime across snapshots
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8

CONFIG_V1 = "listen: 8080\nworkers: 2\n"
CONFIG_V2 = "listen: 8443\nworkers: 4\ntls: true\n"


def docs_tree(config: str, *, with_tax: bool) -> Node:
    docs: dict[str, Any] = {"notes.md": "# notes\n", "report.txt": "quarterly report\n"}
    if with_tax:
        docs["tax.pdf"] = PDF
    spec: dict[str, Any] = {
        "config.yaml": config,
        "docs": docs,
        "big.log": "line of log text\n" * 20_000,
        "data.bin": b"\x00\x01\x02binary",
        "latin1.txt": "caf\xe9 cr\xe8me\n".encode("latin-1") * 3,
        "photos": {f"img_{i:03d}.jpg": 1000 + i for i in range(7)},
    }
    return build_tree(spec, mtime_ms=BASE_MTIME)


@dataclass
class Seeded:
    repo: str
    daily: str
    photos: str
    daily_ids: list[str]  # newest first
    photo_ids: list[str]  # newest first
    manual: str


def seed(sim: Simulator) -> Seeded:
    """Ten daily snapshots of /srv/data (config changes 5 days ago, tax.pdf deleted 3 days ago), three of
    /srv/photos (one from host 'nas', one tagged 'keep-me') and one manual snapshot from host 'laptop'."""
    now = sim.now_ms()
    sim.add_volume("data", path="/srv/data")
    sim.add_volume("photos", path="/srv/photos", files={"a.jpg": 10, "b.jpg": 20})
    repo = sim.add_repository("local-repo")["shortId"]
    daily = sim.add_backup_job("daily", volume="data", repository=repo, retention={"keepLast": 3})["shortId"]
    photos = sim.add_backup_job("photos", volume="photos", repository=repo)["shortId"]
    daily_ids: list[str] = []
    for days in range(10, 0, -1):  # oldest first, as a real history grows
        sim.set_volume_files("data", docs_tree(CONFIG_V1 if days > 5 else CONFIG_V2, with_tax=days > 3))
        snap = sim.add_snapshot(repo, job=daily, time_ms=now - days * DAY - HOUR)
        daily_ids.insert(0, snap["short_id"])
    photo_ids: list[str] = []
    for days, host, tags in ((9, "zerobyte", []), (6, "nas", []), (2, "zerobyte", ["keep-me"])):
        snap = sim.add_snapshot(repo, job=photos, time_ms=now - days * DAY, hostname=host, tags=tags)
        photo_ids.insert(0, snap["short_id"])
    manual = sim.add_snapshot(
        repo, time_ms=now - 4 * DAY, files={"x.txt": "x"}, paths=["/home/me"], hostname="laptop", tags=["manual"]
    )["short_id"]
    return Seeded(repo, daily, photos, daily_ids, photo_ids, manual)


async def call(mcp: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await mcp.call_tool(tool, args)
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content or {}
    return data


async def fails(mcp: Client, tool: str, **args: Any) -> str:
    result = await mcp.call_tool(tool, args)
    assert result.is_error, result.structured_content
    text: str = getattr(result.content[0], "text", "")
    return text


def ids(page: dict[str, Any]) -> list[str]:
    return [s["id"] for s in page["snapshots"]]


# --- list_snapshots ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_snapshots_of_a_job_come_newest_first_with_job_name_retention_and_the_repository_resolved(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)

    page = await call(mcp, "list_snapshots", backup_job_id=s.daily, limit=5)

    assert page["repository"] == s.repo
    assert page["total"] == 10
    assert ids(page) == s.daily_ids[:5]
    first = page["snapshots"][0]
    assert first["backup_job"] == f"daily ({s.daily})"
    assert "last" in first["retention"]
    assert first["paths"] == ["/srv/data"]
    assert first["duration_s"] > 0 and first["size"] > 0
    assert first["time"].endswith("Z")
    assert page["next_cursor"]
    assert "cursor" in page["hint"]


@pytest.mark.anyio
async def test_since_7d_until_and_tag_filters_select_by_time_and_tag(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    recent = await call(mcp, "list_snapshots", repository_id=s.repo, since="7d", limit=50)
    tagged = await call(mcp, "list_snapshots", repository_id=s.repo, tag="keep-me")
    old = await call(mcp, "list_snapshots", backup_job_id=s.daily, until="8d")

    # days 1..6 of the daily job, the photos of 6 and 2 days ago, the manual one of 4 days ago
    assert set(ids(recent)) == {*s.daily_ids[:6], *s.photo_ids[:2], s.manual}
    assert recent["total"] == 9
    times = [x["time"] for x in recent["snapshots"]]
    assert times == sorted(times, reverse=True)
    assert ids(tagged) == [s.photo_ids[0]]
    assert ids(old) == s.daily_ids[7:]


@pytest.mark.anyio
async def test_host_filter_finds_the_one_snapshot_from_that_host(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    page = await call(mcp, "list_snapshots", repository_id=s.repo, host="NAS")

    assert ids(page) == [s.photo_ids[1]]
    assert page["snapshots"][0]["hostname"] == "nas"


@pytest.mark.anyio
async def test_paging_with_the_cursor_visits_every_snapshot_exactly_once(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        args: dict[str, Any] = {"repository_id": s.repo, "limit": 3}
        if cursor:
            args["cursor"] = cursor
        page = await call(mcp, "list_snapshots", **args)
        assert page["total"] == 14
        seen.extend(ids(page))
        pages += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break

    assert pages == 5
    assert len(seen) == 14 == len(set(seen))
    assert set(seen) == {*s.daily_ids, *s.photo_ids, s.manual}


@pytest.mark.anyio
async def test_a_cursor_reused_with_other_filters_or_forged_is_refused_before_any_request(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)
    page = await call(mcp, "list_snapshots", repository_id=s.repo, limit=2)
    before = len(sim.requests)

    other = await fails(mcp, "list_snapshots", repository_id=s.repo, tag="manual", cursor=page["next_cursor"])
    forged = await fails(mcp, "list_snapshots", repository_id=s.repo, cursor="s1.bm90LWpzb24")

    assert "other filters" in other and "without cursor" in other
    assert "not one list_snapshots issued" in forged
    assert len(sim.requests) == before


@pytest.mark.anyio
async def test_bad_arguments_are_refused_without_any_request(sim: Simulator, mcp: Client) -> None:
    seed(sim)
    sim.requests.clear()  # the client's first listing asked Zerobyte what it supports

    messages = [
        await fails(mcp, "list_snapshots"),
        await fails(mcp, "list_snapshots", repository_id="../auth/api-keys"),
        await fails(mcp, "list_snapshots", repository_id="abcd1234", since="last tuesday"),
        await fails(mcp, "list_snapshots", repository_id="abcd1234", since="2026-11-20", until="2026-11-01"),
        await fails(mcp, "get_snapshot", repository_id="abcd1234", snapshot_id="not-hex!"),
        await fails(mcp, "list_snapshot_files", repository_id="abcd1234", snapshot_id="abcd1234", path="etc"),
        await fails(mcp, "find_file", repository_id="abcd1234", pattern="/srv/../etc/passwd"),
        await fails(mcp, "find_file", repository_id="abcd1234", pattern="**"),
        await fails(mcp, "read_snapshot_file", repository_id="abcd1234", snapshot_id="latest", path="rel/x"),
    ]

    assert sim.requests == []
    assert "repository_id" in messages[0] and "backup_job_id" in messages[0]
    assert "Invalid repository_id" in messages[1]
    assert "Invalid since" in messages[2] and "7d" in messages[2]
    assert "since" in messages[3] and "after until" in messages[3]
    assert "Invalid snapshot_id" in messages[4]
    assert "absolute path" in messages[5]
    assert "'..'" in messages[6]
    assert "must end with a name" in messages[7]
    assert "absolute path" in messages[8]


@pytest.mark.anyio
async def test_an_unknown_job_and_a_job_of_another_repository_are_explained(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)
    other_repo = sim.add_repository("offsite")["shortId"]

    unknown = await fails(mcp, "list_snapshots", backup_job_id="nosuchjb")
    mismatch = await fails(mcp, "list_snapshots", repository_id=other_repo, backup_job_id=s.daily)

    assert "'nosuchjb' was not found" in unknown and "list_backup_jobs" in unknown
    assert f"writes to repository {s.repo!r}" in mismatch


# --- get_snapshot --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_snapshot_detail_has_summary_host_job_and_the_retention_the_detail_route_lacks(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)

    detail = await call(mcp, "get_snapshot", repository_id=s.repo, snapshot_id=s.daily_ids[0])

    assert detail["id"] == s.daily_ids[0]
    assert detail["hostname"] == "zerobyte"
    assert detail["backup_job"] == f"daily ({s.daily})"
    assert "last" in detail["retention"]
    summary = detail["summary"]
    assert summary["total_files_processed"] == 13  # tax.pdf is gone from the newest
    assert summary["backup_start"].endswith("Z") and summary["backup_end"] >= summary["backup_start"]
    assert summary["added_bytes"] > 0


@pytest.mark.anyio
async def test_an_unknown_snapshot_is_a_clear_not_found(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    message = await fails(mcp, "get_snapshot", repository_id=s.repo, snapshot_id="deadbeef")

    assert "'deadbeef'" in message and "not found" in message


# --- list_snapshot_files ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_files_default_to_the_snapshot_path_and_page_through_every_entry(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)
    sid = s.daily_ids[0]

    first = await call(mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=sid, limit=2)
    names = [e["name"] for e in first["entries"]]
    offset = first.get("next_offset")
    while offset is not None:
        page = await call(mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=sid, limit=2, offset=offset)
        names.extend(e["name"] for e in page["entries"])
        offset = page.get("next_offset")

    assert first["path"] == "/srv/data"
    assert first["total"] == 6
    assert sorted(names) == ["big.log", "config.yaml", "data.bin", "docs", "latin1.txt", "photos"]
    config = next(
        e
        for e in (await call(mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=sid))["entries"]
        if e["name"] == "config.yaml"
    )
    assert config == {"name": "config.yaml", "type": "file", "size": len(CONFIG_V2), "mtime": config["mtime"]}
    assert config["mtime"].endswith("Z")
    files_requests = [r for r in sim.requests if r.path.endswith("/files")]
    assert all("path" in r.query for r in files_requests)


@pytest.mark.anyio
async def test_a_subfolder_lists_its_children_only(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    page = await call(
        mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=s.daily_ids[-1], path="/srv/data/docs"
    )

    assert [e["name"] for e in page["entries"]] == ["notes.md", "report.txt", "tax.pdf"]
    assert page["total"] == 3
    assert "next_offset" not in page


@pytest.mark.anyio
async def test_listing_a_file_or_a_missing_folder_explains_what_to_do(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)
    sid = s.daily_ids[0]

    as_file = await fails(
        mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=sid, path="/srv/data/config.yaml"
    )
    missing = await fails(mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=sid, path="/srv/nothing")

    assert "is a file" in as_file and "read_snapshot_file" in as_file
    assert "'/srv/nothing' is not in snapshot" in missing and "'/srv/data'" in missing


# --- find_file -----------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_exact_path_gives_one_row_per_version_with_the_snapshots_holding_it(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)
    before = len(sim.requests)

    found = await call(mcp, "find_file", backup_job_id=s.daily, pattern="/srv/data/config.yaml")

    versions = found["versions"]
    assert [v["size"] for v in versions] == [len(CONFIG_V2), len(CONFIG_V1)]
    assert versions[0]["snapshots"] == s.daily_ids[:5] and versions[0]["in_snapshots"] == 5
    assert versions[1]["snapshots"] == s.daily_ids[5:] and versions[1]["in_snapshots"] == 5
    assert versions[0]["newest"] > versions[1]["newest"]
    assert found["complete"] is True and "not_searched" not in found
    assert found["snapshots_searched"] == 10
    # one stat per snapshot, plus the job and snapshot lists
    assert len(sim.requests) - before == 12
    assert "read_snapshot_file" in found["hint"]


@pytest.mark.anyio
async def test_a_glob_in_a_folder_lists_that_folder_only_and_shows_when_a_file_disappeared(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)

    found = await call(mcp, "find_file", backup_job_id=s.daily, pattern="/srv/data/docs/*.pdf")

    assert [(v["path"], v["in_snapshots"]) for v in found["versions"]] == [("/srv/data/docs/tax.pdf", 7)]
    assert found["versions"][0]["snapshots"] == s.daily_ids[3:]
    listed = {r.query.get("path") for r in sim.requests if r.path.endswith("/files")}
    assert listed == {"/srv/data/docs"}


@pytest.mark.anyio
async def test_a_bare_name_finds_a_deleted_file_in_older_snapshots_any_case(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    found = await call(mcp, "find_file", backup_job_id=s.daily, pattern="TAX.PDF")

    assert len(found["versions"]) == 1
    version = found["versions"][0]
    assert version["path"] == "/srv/data/docs/tax.pdf"
    assert version["size"] == len(PDF)
    assert version["snapshots"] == s.daily_ids[3:]
    assert found["snapshots_searched"] == 10
    # the three newest were walked in full; the others only checked where tax.pdf was found
    assert found["complete"] is False
    assert any("checked only at the paths found" in n for n in found["not_searched"])


@pytest.mark.anyio
async def test_a_relative_glob_matches_anywhere_below_the_snapshot_paths(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    found = await call(mcp, "find_file", repository_id=s.repo, pattern="photos/img_00[0-2].jpg", max_snapshots=1)

    assert sorted(v["path"] for v in found["versions"]) == [f"/srv/data/photos/img_00{i}.jpg" for i in range(3)]
    assert found["snapshots_in_range"] == 14


@pytest.mark.anyio
async def test_a_repository_wide_name_search_walks_each_source_of_snapshots_on_its_own(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)

    found = await call(mcp, "find_file", repository_id=s.repo, pattern="*.jpg")

    by_path = {v["path"]: v for v in found["versions"]}
    assert by_path["/srv/photos/a.jpg"]["snapshots"] == s.photo_ids
    assert by_path["/srv/data/photos/img_006.jpg"]["in_snapshots"] == 10
    assert len(by_path) == 9
    assert found["snapshots_searched"] == 14


@pytest.mark.anyio
async def test_a_wildcard_folder_in_an_absolute_pattern_finds_the_file_below_each_match(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)

    found = await call(mcp, "find_file", backup_job_id=s.daily, pattern="/srv/data/*/tax.pdf")

    assert [(v["path"], v["in_snapshots"]) for v in found["versions"]] == [("/srv/data/docs/tax.pdf", 7)]


@pytest.mark.anyio
async def test_snapshots_beyond_max_snapshots_are_reported_as_not_searched(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    found = await call(mcp, "find_file", backup_job_id=s.daily, pattern="/srv/data/docs/tax.pdf", max_snapshots=3)

    assert found["versions"] == []
    assert found["snapshots_searched"] == 3 and found["snapshots_in_range"] == 10
    assert found["complete"] is False
    assert "7 older snapshot(s) in range not searched" in found["not_searched"][0]
    assert "max_snapshots" in found["not_searched"][0]


@pytest.mark.anyio
async def test_many_matches_page_on_with_a_cursor_and_the_cut_says_how(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)
    args = {"backup_job_id": s.daily, "pattern": "*.jpg", "max_snapshots": 2}
    everything = await call(mcp, "find_file", **args, max_results=200)
    assert everything.get("next_cursor") is None and len(everything["versions"]) == everything["total_versions"] > 3

    seen: list[tuple[str, str | None]] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await call(mcp, "find_file", **args, max_results=3, **({"cursor": cursor} if cursor else {}))
        pages += 1
        assert len(page["versions"]) <= 3
        seen.extend((v["path"], v.get("newest")) for v in page["versions"])
        cursor = page.get("next_cursor")
        if cursor is None:
            break
        assert f"cursor={cursor!r}" in page["hint"]  # the cut says how to get more
    assert seen == [(v["path"], v.get("newest")) for v in everything["versions"]]  # all reached, none repeated
    assert pages == -(-everything["total_versions"] // 3)
    bad = await mcp.call_tool("find_file", {**args, "cursor": "50"})
    assert bad.is_error and "'v50'" in bad.content[0].text  # type: ignore[union-attr]


# --- read_snapshot_file -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_reading_a_config_as_it_was_last_week_returns_its_text(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    old = await call(
        mcp, "read_snapshot_file", repository_id=s.repo, snapshot_id=s.daily_ids[6], path="/srv/data/config.yaml"
    )
    latest = await call(
        mcp, "read_snapshot_file", backup_job_id=s.daily, snapshot_id="latest", path="/srv/data/config.yaml"
    )

    assert old["text"] == CONFIG_V1 and old["truncated"] is False and old["size"] == len(CONFIG_V1)
    assert latest["text"] == CONFIG_V2 and latest["snapshot"] == s.daily_ids[0]


@pytest.mark.anyio
async def test_reading_a_file_dumps_it_without_listing_its_folder_first(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)
    before = len(sim.requests)

    await call(
        mcp, "read_snapshot_file", repository_id=s.repo, snapshot_id=s.daily_ids[6], path="/srv/data/config.yaml"
    )

    snapshot_routes = [r.path.rsplit("/", 1)[-1] for r in sim.requests[before:] if "/snapshots/" in r.path]
    assert snapshot_routes == ["dump"]


@pytest.mark.anyio
async def test_a_long_file_is_truncated_at_max_bytes_and_flagged(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    part = await call(
        mcp,
        "read_snapshot_file",
        repository_id=s.repo,
        snapshot_id=s.daily_ids[0],
        path="/srv/data/big.log",
        max_bytes=100,
    )

    assert part["truncated"] is True
    assert part["text"] == ("line of log text\n" * 7)[:100]
    assert "size" not in part
    assert "first 100 of more bytes" in part["note"] and "max_bytes" in part["note"]


@pytest.mark.anyio
async def test_binary_folders_and_missing_files_are_refused_with_a_reason(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)
    old = s.daily_ids[-1]

    pdf = await fails(mcp, "read_snapshot_file", repository_id=s.repo, snapshot_id=old, path="/srv/data/docs/tax.pdf")
    nul = await fails(mcp, "read_snapshot_file", repository_id=s.repo, snapshot_id=old, path="/srv/data/data.bin")
    folder = await fails(mcp, "read_snapshot_file", repository_id=s.repo, snapshot_id=old, path="/srv/data/docs")
    gone = await fails(
        mcp, "read_snapshot_file", repository_id=s.repo, snapshot_id=s.daily_ids[0], path="/srv/data/docs/tax.pdf"
    )
    no_snap = await fails(
        mcp, "read_snapshot_file", repository_id=s.repo, snapshot_id="deadbeef", path="/srv/data/config.yaml"
    )

    assert "binary (PDF document" in pdf and "restore" in pdf
    assert "binary" in nul
    assert "is a folder" in folder and "list_snapshot_files" in folder
    assert "is not in snapshot" in gone and "find_file" in gone
    assert "'deadbeef' was not found" in no_snap


@pytest.mark.anyio
async def test_a_few_latin1_bytes_are_shown_replaced_with_a_note(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    text = await call(
        mcp, "read_snapshot_file", repository_id=s.repo, snapshot_id=s.daily_ids[0], path="/srv/data/latin1.txt"
    )

    assert text["text"].startswith("caf\ufffd cr\ufffdme\n")
    assert "not UTF-8" in text["note"]


# --- find_file and compare_snapshots on the catalog ----------------------------------------------------------


@pytest.fixture
async def catalog_mcp(settings: Settings, tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(create_server(replace(settings, catalog_path=tmp_path / "catalog.sqlite"))) as client:
        yield client


@pytest.mark.anyio
async def test_a_name_found_from_the_catalog_is_complete_in_every_snapshot(sim: Simulator, catalog_mcp: Client) -> None:
    s = seed(sim)

    found = await call(catalog_mcp, "find_file", backup_job_id=s.daily, pattern="TAX.PDF")

    assert [(v["path"], v["size"], v["snapshots"]) for v in found["versions"]] == [
        ("/srv/data/docs/tax.pdf", len(PDF), s.daily_ids[3:])
    ]
    assert found["complete"] is True and found["snapshots_searched"] == 10
    # Each snapshot was read once, as a tar; a second question costs no listing or dump.
    dumps = [r for r in sim.requests if r.path.endswith("/dump")]
    assert len(dumps) == 10
    before = len(sim.requests)
    again = await call(catalog_mcp, "find_file", backup_job_id=s.daily, pattern="*.yaml")
    assert not [r for r in sim.requests[before:] if r.path.endswith(("/dump", "/files"))]
    assert sorted(v["size"] for v in again["versions"]) == [len(CONFIG_V1), len(CONFIG_V2)]


@pytest.mark.anyio
async def test_compare_with_the_previous_snapshot_of_the_job_names_what_was_removed_and_modified(
    sim: Simulator, catalog_mcp: Client
) -> None:
    s = seed(sim)

    removed = await call(catalog_mcp, "compare_snapshots", repository_id=s.repo, snapshot_id=s.daily_ids[2])
    modified = await call(catalog_mcp, "compare_snapshots", repository_id=s.repo, snapshot_id=s.daily_ids[4])

    assert (removed["base"], removed["removed"], removed["added"], removed["modified"]) == (s.daily_ids[3], 1, 0, 0)
    assert removed["changes"] == [
        {
            "path": "/srv/data/docs/tax.pdf",
            "change": "removed",
            "size": len(PDF),
            "mtime": removed["changes"][0]["mtime"],
        }
    ]
    assert modified["base"] == s.daily_ids[5] and modified["modified"] == 1
    change = modified["changes"][0]
    assert (change["path"], change["size"], change["old_size"]) == (
        "/srv/data/config.yaml",
        len(CONFIG_V2),
        len(CONFIG_V1),
    )


@pytest.mark.anyio
async def test_compare_below_a_folder_and_in_pages(sim: Simulator, catalog_mcp: Client) -> None:
    s = seed(sim)

    docs = await call(
        catalog_mcp,
        "compare_snapshots",
        repository_id=s.repo,
        snapshot_id=s.daily_ids[0],
        base_snapshot_id=s.daily_ids[9],
        path="/srv/data/docs",
    )
    everything = await call(
        catalog_mcp,
        "compare_snapshots",
        repository_id=s.repo,
        snapshot_id=s.daily_ids[9],
        base_snapshot_id=s.daily_ids[0],
        limit=1,
    )

    assert [(c["path"], c["change"]) for c in docs["changes"]] == [("/srv/data/docs/tax.pdf", "removed")]
    # Given in either order, the older snapshot is the base.
    assert everything["base"] == s.daily_ids[9] and (everything["removed"], everything["modified"]) == (1, 1)
    assert len(everything["changes"]) == 1 and everything["next_offset"] == 1
    rest = await call(
        catalog_mcp,
        "compare_snapshots",
        repository_id=s.repo,
        snapshot_id=s.daily_ids[0],
        base_snapshot_id=s.daily_ids[9],
        offset=1,
    )
    assert [c["path"] for c in everything["changes"] + rest["changes"]] == [
        "/srv/data/config.yaml",
        "/srv/data/docs/tax.pdf",
    ]


@pytest.mark.anyio
async def test_compare_refuses_a_first_snapshot_without_base_and_a_snapshot_of_another_repository(
    sim: Simulator, catalog_mcp: Client
) -> None:
    s = seed(sim)

    first = await fails(catalog_mcp, "compare_snapshots", repository_id=s.repo, snapshot_id=s.daily_ids[-1])
    unknown = await fails(catalog_mcp, "compare_snapshots", repository_id=s.repo, snapshot_id="deadbeef")

    assert "first of its job" in first and "base_snapshot_id" in first
    assert "'deadbeef'" in unknown and "list_snapshots" in unknown


@pytest.mark.anyio
async def test_a_name_the_catalog_does_not_hold_is_answered_with_the_nearest_names_it_does(
    sim: Simulator, catalog_mcp: Client
) -> None:
    s = seed(sim)

    found = await call(catalog_mcp, "find_file", backup_job_id=s.daily, pattern="REPORT.TXET")

    assert not found.get("versions") and found["complete"] is True
    assert "'report.txt'" in found["hint"]


@pytest.mark.anyio
async def test_the_biggest_files_of_the_latest_snapshot_come_from_the_catalog_in_one_call(
    sim: Simulator, catalog_mcp: Client
) -> None:
    s = seed(sim)

    top = await call(catalog_mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=s.daily_ids[0], largest=3)
    photos = await call(
        catalog_mcp,
        "list_snapshot_files",
        repository_id=s.repo,
        snapshot_id=s.daily_ids[0],
        path="/srv/data/photos",
        largest=2,
    )
    before = len(sim.requests)
    again = await call(catalog_mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=s.daily_ids[0], largest=3)

    tree = docs_tree(CONFIG_V2, with_tax=False)
    sizes = sorted(((n.size or 0, p) for p, n in dump_entries(tree, "/srv/data") if n.kind == "file"), reverse=True)
    assert [(e["path"], e["size"]) for e in top["entries"]] == [(p, size) for size, p in sizes[:3]]
    assert top["entries"][0]["path"] == "/srv/data/big.log" and top["entries"][0]["name"] == "big.log"
    assert top["complete"] is True and top["total"] == len(sizes)
    assert [e["name"] for e in photos["entries"]] == ["img_006.jpg", "img_005.jpg"] and photos["total"] == 7
    assert again == top
    assert [r.path for r in sim.requests[before:] if r.path.endswith(("/dump", "/files"))] == []


@pytest.mark.anyio
async def test_the_biggest_files_without_a_catalog_or_under_a_missing_folder_are_refused_clearly(
    sim: Simulator, mcp: Client, catalog_mcp: Client
) -> None:
    s = seed(sim)

    off = await fails(mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=s.daily_ids[0], largest=5)
    nowhere = await fails(
        catalog_mcp, "list_snapshot_files", repository_id=s.repo, snapshot_id=s.daily_ids[0], path="/nope", largest=5
    )

    assert "catalog" in off and "off" in off
    assert "No files under '/nope'" in nowhere and "/srv/data" in nowhere
