"""find_file and compare_snapshots on the local catalog, over the simulator (the real-server stories are in
tests/real/test_catalog_*.py): complete answers once indexed, differences by path, a folder filter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from mcp import Client

from mcp_server.config import Settings
from mcp_server.server import create_server
from mcp_server.simulator import Simulator
from tests.tools.test_snapshot_tools import CONFIG_V1, CONFIG_V2, PDF, call, fails, seed

pytestmark = pytest.mark.anyio


@pytest.fixture
async def mcp(settings: Settings, tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(create_server(replace(settings, catalog_path=tmp_path / "catalog.sqlite"))) as client:
        yield client


async def test_a_name_found_from_the_catalog_is_complete_in_every_snapshot(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    found = await call(mcp, "find_file", backup_job_id=s.daily, pattern="TAX.PDF")

    assert [(v["path"], v["size"], v["snapshots"]) for v in found["versions"]] == [
        ("/srv/data/docs/tax.pdf", len(PDF), s.daily_ids[3:])
    ]
    assert found["complete"] is True and found["snapshots_searched"] == 10
    # Each snapshot was read once, as a tar; a second question costs no listing or dump.
    dumps = [r for r in sim.requests if r.path.endswith("/dump")]
    assert len(dumps) == 10
    before = len(sim.requests)
    again = await call(mcp, "find_file", backup_job_id=s.daily, pattern="*.yaml")
    assert not [r for r in sim.requests[before:] if r.path.endswith(("/dump", "/files"))]
    assert sorted(v["size"] for v in again["versions"]) == [len(CONFIG_V1), len(CONFIG_V2)]


async def test_compare_with_the_previous_snapshot_of_the_job_names_what_was_removed_and_modified(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)

    removed = await call(mcp, "compare_snapshots", repository_id=s.repo, snapshot_id=s.daily_ids[2])
    modified = await call(mcp, "compare_snapshots", repository_id=s.repo, snapshot_id=s.daily_ids[4])

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


async def test_compare_below_a_folder_and_in_pages(sim: Simulator, mcp: Client) -> None:
    s = seed(sim)

    docs = await call(
        mcp,
        "compare_snapshots",
        repository_id=s.repo,
        snapshot_id=s.daily_ids[0],
        base_snapshot_id=s.daily_ids[9],
        path="/srv/data/docs",
    )
    everything = await call(
        mcp,
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
        mcp,
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


async def test_compare_refuses_a_first_snapshot_without_base_and_a_snapshot_of_another_repository(
    sim: Simulator, mcp: Client
) -> None:
    s = seed(sim)

    first = await fails(mcp, "compare_snapshots", repository_id=s.repo, snapshot_id=s.daily_ids[-1])
    unknown = await fails(mcp, "compare_snapshots", repository_id=s.repo, snapshot_id="deadbeef")

    assert "first of its job" in first and "base_snapshot_id" in first
    assert "'deadbeef'" in unknown and "list_snapshots" in unknown
