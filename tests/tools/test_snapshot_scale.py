"""Snapshot tools at scale (5,000 snapshots of 100,000 files): answers stay small and requests stay bounded."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from mcp_server.simulator import Simulator, seed_scale
from mcp_server.tools.snapshots.search import FIND_BUDGET

MAX_TEXT = 32_000


async def call(mcp: Client, tool: str, **args: Any) -> tuple[dict[str, Any], str]:
    result = await mcp.call_tool(tool, args)
    assert not result.is_error, result.content
    text: str = getattr(result.content[0], "text", "")
    data: dict[str, Any] = result.structured_content or {}
    return data, text


def files_requests(sim: Simulator, since: int) -> list[str]:
    return [r.query.get("path", "") for r in sim.requests[since:] if r.path.endswith("/files")]


@pytest.fixture
def world(sim: Simulator) -> dict[str, Any]:
    ids: dict[str, Any] = seed_scale(sim, history=0)
    return ids


@pytest.mark.anyio
async def test_the_default_snapshot_page_is_small_and_pages_on_with_a_cursor(
    sim: Simulator, mcp: Client, world: dict[str, Any]
) -> None:
    page, text = await call(mcp, "list_snapshots", backup_job_id=world["schedule"])
    second, _ = await call(mcp, "list_snapshots", backup_job_id=world["schedule"], cursor=page["next_cursor"])

    assert len(text) < MAX_TEXT
    assert page["total"] == 5000
    assert len(page["snapshots"]) == 20
    assert page["snapshots"][0]["id"] == world["latest_snapshot"]
    assert "hourly" in page["snapshots"][0]["retention"]
    times = [s["time"] for s in page["snapshots"] + second["snapshots"]]
    assert times == sorted(times, reverse=True) and len(set(times)) == 40


@pytest.mark.anyio
async def test_an_exact_path_costs_one_request_per_snapshot_and_collapses_to_one_version(
    sim: Simulator, mcp: Client, world: dict[str, Any]
) -> None:
    before = len(sim.requests)

    found, text = await call(
        mcp, "find_file", repository_id=world["repository"], pattern="/srv/bulk/bulk/dir_0042/file_042123.bin"
    )

    assert len(text) < MAX_TEXT
    assert len(found["versions"]) == 1
    assert found["versions"][0]["in_snapshots"] == 20
    assert len(found["versions"][0]["snapshots"]) == 10  # ids shown are capped; the count says the rest
    assert files_requests(sim, before) == ["/srv/bulk/bulk/dir_0042/file_042123.bin"] * 20
    assert "4980 older snapshot(s) in range not searched" in found["not_searched"][0]


@pytest.mark.anyio
async def test_a_bare_name_walk_stops_at_the_request_budget_and_says_what_it_did_not_list(
    sim: Simulator, mcp: Client, world: dict[str, Any]
) -> None:
    before = len(sim.requests)

    found, text = await call(mcp, "find_file", repository_id=world["repository"], pattern="file_099999.bin")

    listed = files_requests(sim, before)
    assert len(text) < MAX_TEXT
    assert len(listed) <= FIND_BUDGET
    assert found["complete"] is False
    partly = next(n for n in found["not_searched"] if "searched only partly" in n)
    assert "folder(s) not listed" in partly and "/srv/bulk/bulk/dir_00" in partly
    assert any("not searched" in n for n in found["not_searched"])


@pytest.mark.anyio
async def test_a_glob_with_many_matches_stays_under_the_size_and_request_limits(
    sim: Simulator, mcp: Client, world: dict[str, Any]
) -> None:
    before = len(sim.requests)

    found, text = await call(mcp, "find_file", repository_id=world["repository"], pattern="*.bin", max_results=200)

    assert len(text) < MAX_TEXT
    assert len(files_requests(sim, before)) <= FIND_BUDGET
    assert 0 < len(found["versions"]) <= 200
    assert found["total_versions"] >= len(found["versions"])
    assert found["complete"] is False
    assert found["versions"][0]["path"].startswith("/srv/bulk/bulk/dir_0000/")


@pytest.mark.anyio
async def test_a_folder_of_1000_files_pages_in_500_entry_pages(
    sim: Simulator, mcp: Client, world: dict[str, Any]
) -> None:
    args = {"repository_id": world["repository"], "snapshot_id": world["latest_snapshot"]}
    folder = "/srv/bulk/bulk/dir_0007"
    names: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page, text = await call(mcp, "list_snapshot_files", **args, path=folder, limit=500, offset=offset)
        assert len(text) < 2 * MAX_TEXT  # a 500-entry page is an explicit request for a big answer
        assert page["total"] == 1000
        names.extend(e["name"] for e in page["entries"])
        offset = page.get("next_offset")
        pages += 1

    # 500 entries, each with its size in bytes and as text, fill max_response_chars: each page is cut to fit
    # (the folder's own entry also takes one place on Zerobyte's first page), and paging on skips none.
    assert pages == 4
    assert len(names) == 1000 == len(set(names))
    assert names[0] == "file_007000.bin" and names[-1] == "file_007999.bin"
    too_big = await mcp.call_tool("list_snapshot_files", {**args, "path": folder, "limit": 501})
    assert too_big.is_error
