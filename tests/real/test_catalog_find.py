"""Stories of find_file on the local catalog, against a real Zerobyte: complete answers by name, glob and path
across repositories; a restarted server reuses its catalog; a forgotten snapshot leaves it; a corrupt catalog
file is rebuilt, never believed.

Each answer is checked against what the real server lists for the same snapshots (its own /files route).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.real.conftest import McpConfig, call, make_files, mcp_stdio, unique
from tests.real.counting_proxy import CountingProxy
from tests.real.story_world import SCHEDULE, World, backup_directly, build_world, files_in, wait_for_snapshots
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

RESUME = "Résumé 2026.txt"


@dataclass
class Two:
    """The story world (repository A: two snapshots) plus repository B: one snapshot of the same volume."""

    world: World
    other_repository: str
    other_job: str
    other_snapshot: str


@pytest.fixture(scope="module")
def two(zb: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Two:
    world = build_world(zb, tmp_path_factory.mktemp("catalog-find"))
    make_files(world.source, {f"docs/{RESUME}": "cv\n"})

    async def arrange() -> tuple[str, str]:
        async with mcp_stdio(zb, world.root / "mcp-arrange", McpConfig(access="operate")) as client:
            repo = await call(
                client, "create_repository", name=unique("repo-b"), backend="local", location=str(world.root / "b")
            )
            job = await call(
                client,
                "create_backup_job",
                name=unique("job-b"),
                volume_id=world.volume_id,
                repository_id=repo["repository"]["id"],
                schedule=SCHEDULE,
                retention="last 5",
            )
            await call(client, "run_backup", job_id=job["job"]["id"])
        return repo["repository"]["id"], job["job"]["id"]

    other_repository, other_job = anyio.run(arrange)
    snaps = wait_for_snapshots(zb, other_repository, 1)
    return Two(world, other_repository, other_job, snaps[-1]["short_id"])


def catalog_file(folder: Path) -> Path:
    return folder / "xdg-cache" / "zerobyte-mcp" / "catalog.sqlite"


def sizes_on_server(zb: RealZerobyte, repository: str, folder: str, name: str) -> dict[str, int]:
    """Snapshot id -> size of ``folder/name`` in each snapshot of ``repository``, as Zerobyte lists it."""
    out: dict[str, int] = {}
    for snap in zb.snapshots(repository):
        response = zb.request(
            "GET",
            f"/repositories/{repository}/snapshots/{snap['short_id']}/files",
            params={"path": folder, "limit": 500},
        )
        response.raise_for_status()
        for node in response.json()["files"]:
            if node["path"] == f"{folder}/{name}":
                out[snap["short_id"]] = int(node["size"])
    return out


def by_snapshot(found: dict[str, Any]) -> dict[tuple[str | None, str], int]:
    """(repository, snapshot id) -> size, from find_file's versions."""
    out: dict[tuple[str | None, str], int] = {}
    for version in found["versions"]:
        for sid in version["snapshots"]:
            out[(version.get("repository"), sid)] = version["size"]
    return out


async def test_a_name_is_found_in_every_repository_with_each_version_and_the_snapshots_holding_it(
    zb: RealZerobyte, two: Two
) -> None:
    world = two.world
    docs = f"{world.source}/docs"
    async with mcp_stdio(zb, world.root / unique("mcp"), McpConfig()) as client:
        found = await call(client, "find_file", pattern="REPORT.TXT")

    truth = {
        (world.repository_id, s): n for s, n in sizes_on_server(zb, world.repository_id, docs, "report.txt").items()
    }
    truth |= {
        (two.other_repository, s): n for s, n in sizes_on_server(zb, two.other_repository, docs, "report.txt").items()
    }
    assert len(truth) == 3  # two snapshots in A, one in B
    assert by_snapshot(found) == truth
    assert found["complete"] is True and not found.get("not_searched"), found
    assert {v["path"] for v in found["versions"]} == {f"{docs}/report.txt"}
    # The first draft and the final version are two versions; B holds the final one too.
    assert len({(v["repository"], v["size"]) for v in found["versions"]}) == 3


async def test_a_glob_ignores_case_and_accents_unless_asked_and_says_complete_when_nothing_matches(
    zb: RealZerobyte, two: Two
) -> None:
    world = two.world
    async with mcp_stdio(zb, world.root / unique("mcp"), McpConfig()) as client:
        loose = await call(client, "find_file", pattern="resume*")
        strict = await call(client, "find_file", pattern="resume*", ignore_accents=False)
        by_case = await call(client, "find_file", pattern="RÉSUMÉ*.TXT", repository_id=two.other_repository)

    listed = files_in(zb, two.other_repository, two.other_snapshot, f"{world.source}/docs")
    assert listed[RESUME] == "file"
    assert [(v["repository"], v["path"], v["snapshots"]) for v in loose["versions"]] == [
        (two.other_repository, f"{world.source}/docs/{RESUME}", [two.other_snapshot])
    ]
    assert loose["complete"] is True
    # With accents kept "resume" is not "Résumé", and that "not found" is a complete answer.
    assert not strict.get("versions") and strict["complete"] is True and strict["snapshots_searched"] == 3
    assert f"{RESUME!r}" in strict["hint"]  # the near name it holds
    assert [v["snapshots"] for v in by_case["versions"]] == [[two.other_snapshot]]


async def test_an_absolute_path_gives_each_version_with_its_snapshots(zb: RealZerobyte, two: Two) -> None:
    world = two.world
    path = f"{world.source}/docs/report.txt"
    async with mcp_stdio(zb, world.root / unique("mcp"), McpConfig()) as client:
        found = await call(client, "find_file", pattern=path, repository_id=world.repository_id)

    truth = sizes_on_server(zb, world.repository_id, f"{world.source}/docs", "report.txt")
    assert {sid: v["size"] for v in found["versions"] for sid in v["snapshots"]} == truth
    assert [v["snapshots"] for v in found["versions"]] == [[world.second], [world.first]]
    assert found["complete"] is True


async def test_a_restarted_server_answers_from_its_catalog_without_listing_or_dumping_again(
    zb: RealZerobyte, two: Two
) -> None:
    world = two.world
    folder = world.root / unique("mcp")
    proxy = CountingProxy(zb.url).start()
    try:
        through_proxy = replace(zb, url=proxy.url)
        async with mcp_stdio(through_proxy, folder, McpConfig()) as client:
            first = await call(client, "find_file", pattern="*.md")
        indexing = list(proxy.requests)
        proxy.requests.clear()
        async with mcp_stdio(through_proxy, folder, McpConfig()) as client:
            again = await call(client, "find_file", pattern="*.md")
            other = await call(client, "find_file", pattern="budget*")
    finally:
        proxy.stop()

    assert again == first and first["complete"] is True
    paths = {v["path"].rsplit("/", 1)[-1] for v in first["versions"]}
    assert paths == {"old-plan.md", "new-plan.md"}
    # One unchanged file: one version per repository, three snapshots in all.
    assert other["complete"] is True
    assert sorted((v["repository"], v["in_snapshots"]) for v in other["versions"]) == sorted(
        [(world.repository_id, 2), (two.other_repository, 1)]
    )
    # The first server dumped each snapshot once; after the restart only the repository and snapshot lists
    # were asked for: no folder listing, no tar.
    assert sum(1 for r in indexing if "/dump" in r) == 3
    assert proxy.count("/files") == 0 and proxy.count("/dump") == 0
    # What else reached Zerobyte: the one-time capability probe (task history) and the event stream
    # that tells the catalog when a backup finished.
    others = ("GET /api/v1/repositories", "GET /api/v1/system/", "GET /api/v1/tasks", "GET /api/v1/events")
    assert all(r.startswith(others) for r in proxy.requests), proxy.requests
    lists = ["GET /api/v1/repositories"] + [
        f"GET /api/v1/repositories/{r}/snapshots" for r in (world.repository_id, two.other_repository)
    ]
    assert sorted(r for r in proxy.requests if r.startswith("GET /api/v1/repositories")) == sorted(lists * 2)


def wait_task(zb: RealZerobyte, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task: dict[str, Any] = zb.get(f"/tasks/{task_id}")
        if task["status"] in ("succeeded", "failed", "cancelled", "stale"):
            return task
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} did not finish")


async def test_a_snapshot_zerobyte_forgot_leaves_the_catalog_and_the_answers(zb: RealZerobyte, two: Two) -> None:
    world = two.world
    extra = backup_directly(zb, two.other_job, two.other_repository)
    folder = world.root / unique("mcp")
    async with mcp_stdio(zb, folder, McpConfig()) as client:
        before = await call(client, "find_file", pattern="cat.txt", repository_id=two.other_repository)
        started = zb.request("DELETE", f"/repositories/{two.other_repository}/snapshots/{extra}")
        started.raise_for_status()
        assert wait_task(zb, started.json()["taskId"])["status"] == "succeeded"
        after = await call(client, "find_file", pattern="cat.txt", repository_id=two.other_repository)

    assert extra not in {s["short_id"] for s in zb.snapshots(two.other_repository)}
    assert [v["snapshots"] for v in before["versions"]] == [[extra, two.other_snapshot]]
    assert [v["snapshots"] for v in after["versions"]] == [[two.other_snapshot]]
    with sqlite3.connect(catalog_file(folder)) as db:
        kept = {r[0] for r in db.execute("SELECT short_id FROM snapshot WHERE repository=?", (two.other_repository,))}
    assert kept == {two.other_snapshot}


@pytest.fixture
def corrupt_folder(two: Two) -> Path:
    folder = two.world.root / unique("mcp")
    path = catalog_file(folder)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"SQLite format 3\x00" + b"\xde\xad\xbe\xef" * 4096)
    return folder


async def test_a_corrupt_catalog_file_is_rebuilt_and_never_answers(
    zb: RealZerobyte, two: Two, corrupt_folder: Path
) -> None:
    world = two.world
    async with mcp_stdio(zb, corrupt_folder, McpConfig()) as client:
        found = await call(client, "find_file", pattern="report.txt", repository_id=world.repository_id)

    truth = sizes_on_server(zb, world.repository_id, f"{world.source}/docs", "report.txt")
    assert {sid: v["size"] for v in found["versions"] for sid in v["snapshots"]} == truth
    assert found["complete"] is True
    with sqlite3.connect(catalog_file(corrupt_folder)) as db:
        indexed = {r[0] for r in db.execute("SELECT short_id FROM snapshot WHERE complete=1")}
    assert indexed == set(truth)
