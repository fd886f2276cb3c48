"""Story: "what changed since the last backup?" in one call, against a real Zerobyte, checked against the two
snapshots' own listings on the server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import anyio
import pytest

from tests.real.conftest import McpConfig, call, mcp_stdio, stdio_params, unique
from tests.real.story_world import World, backup_directly, build_world, files_in
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def world(zb: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(zb, tmp_path_factory.mktemp("catalog-compare"))


async def test_the_latest_snapshot_compared_with_the_previous_one_of_its_job_names_every_change(
    zb: RealZerobyte, world: World
) -> None:
    docs = f"{world.source}/docs"
    async with mcp_stdio(zb, world.root / unique("mcp"), McpConfig()) as client:
        changed = await call(client, "compare_snapshots", repository_id=world.repository_id, snapshot_id="latest")
        photos = await call(
            client,
            "compare_snapshots",
            repository_id=world.repository_id,
            snapshot_id=world.second,
            base_snapshot_id=world.first,
            path=f"{world.source}/photos",
        )

    before, after = (
        files_in(zb, world.repository_id, world.first, docs),
        files_in(zb, world.repository_id, world.second, docs),
    )
    assert (changed["snapshot"], changed["base"]) == (world.second, world.first)
    by_change = {c["path"].rsplit("/", 1)[-1]: c["change"] for c in changed["changes"]}
    assert {n for n, c in by_change.items() if c == "added"} == set(after) - set(before) == {"new-plan.md"}
    assert {n for n, c in by_change.items() if c == "removed"} == set(before) - set(after) == {"old-plan.md"}
    assert by_change["report.txt"] == "modified" and len(by_change) == 3
    assert (changed["added"], changed["removed"], changed["modified"]) == (1, 1, 1)
    report = next(c for c in changed["changes"] if c["path"].endswith("report.txt"))
    assert (report["old_size"], report["size"]) == (
        len("quarterly report, first draft\n"),
        (world.source / "docs/report.txt").stat().st_size,
    )
    # Nothing changed below photos/.
    assert (photos["added"], photos["removed"], photos["modified"]) == (0, 0, 0) and not photos.get("changes")


def test_the_index_command_fills_the_catalog_with_every_snapshot_and_then_has_nothing_left(
    zb: RealZerobyte, world: World
) -> None:
    folder = world.root / unique("cron")
    params = stdio_params(zb, folder, McpConfig())
    command = [sys.executable, "-m", "mcp_server", "index"]
    first = subprocess.run(
        command, env=params.env, cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )
    second = subprocess.run(
        command, env=params.env, cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )

    assert first.returncode == 0, first.stderr
    assert "2 snapshot(s) to index" in first.stderr and first.stdout == ""
    assert f"[1/2] {world.repository_id} {world.second} tar" in first.stderr
    assert "done, 2 indexed, 0 failed" in first.stderr
    assert second.returncode == 0 and "0 snapshot(s) to index" in second.stderr
    with sqlite3.connect(folder / "xdg-cache" / "zerobyte-mcp" / "catalog.sqlite") as db:
        rows = set(db.execute("SELECT short_id, complete FROM snapshot"))
    assert rows == {(s["short_id"], 1) for s in zb.snapshots(world.repository_id)}


async def test_a_snapshot_made_while_the_server_runs_is_indexed_without_being_asked_about(
    zb: RealZerobyte, world: World
) -> None:
    folder = world.root / unique("mcp")
    catalog = folder / "xdg-cache" / "zerobyte-mcp" / "catalog.sqlite"

    def indexed() -> set[str]:
        with sqlite3.connect(catalog) as db:
            return {r[0] for r in db.execute("SELECT short_id FROM snapshot WHERE complete=1")}

    async with mcp_stdio(zb, folder, McpConfig()) as client:
        await call(client, "find_file", pattern="report.txt", repository_id=world.repository_id)
        before = indexed()
        new = await anyio.to_thread.run_sync(backup_directly, zb, world.job_id, world.repository_id)
        for _ in range(90):  # the catalog file is all there is to watch: poll it, no tool call in between
            if new in indexed():
                break
            await anyio.sleep(1)
        after = indexed()

    assert new not in before and new in after
    assert new in {s["short_id"] for s in zb.snapshots(world.repository_id)}
