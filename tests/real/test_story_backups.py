"""The daily life of one backup job on a real Zerobyte, on v0.42 (beta) and v0.41.0 (stable).

Set up through our tools, backed up twice with a change of files in between, then read, restored, tagged and
pruned through our tools; every story checks what the real server now holds with direct ``/api/v1`` calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.real.conftest import ask, call, make_files, mcp_stdio
from tests.real.story_world import Agents, World, backup_directly, build_world, files_in
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"  # module scope, so that one set of MCP clients serves every story of a server


@pytest.fixture(scope="module")
async def agents(world: World) -> AsyncIterator[Agents]:
    """Our server as three long-running stdio processes, one per access level, as an agent would keep them."""
    async with (
        mcp_stdio(world.zb, world.mcp_folder(), world.config("read-only")) as reader,
        mcp_stdio(world.zb, world.mcp_folder(), world.config("operate")) as operator,
        mcp_stdio(world.zb, world.mcp_folder(), world.config("full")) as admin,
    ):
        yield Agents(reader, operator, admin)


@pytest.fixture(scope="module")
def world(zb_any: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(zb_any, tmp_path_factory.mktemp("backups"))


def test_setup_volume_repository_and_job_with_retention_and_excludes(world: World) -> None:
    zb = world.zb
    job = zb.job(world.job_id)
    assert job["name"] == world.job_name
    assert job["cronExpression"] == "0 3 1 1 *"
    assert job["enabled"] is True
    assert job["retentionPolicy"] == {"keepLast": 5, "keepDaily": 7}
    assert job["excludePatterns"] == ["*.tmp"]
    assert job["maxRetries"] == 4
    assert job["retryDelay"] == 20
    assert job["volume"]["shortId"] == world.volume_id
    assert job["repository"]["shortId"] == world.repository_id
    volume = zb.get(f"/volumes/{world.volume_id}")
    volume = volume.get("volume", volume)
    assert volume["config"] == {"backend": "directory", "path": str(world.source)}
    assert volume["status"] == "mounted"
    repository = zb.get(f"/repositories/{world.repository_id}")
    assert repository["type"] == "local"
    assert repository["config"]["path"] == f"{world.repository_path}/{world.repository_id}"
    assert repository["status"] in ("healthy", "unknown")
    # What our tools answered names the same objects.
    assert world.created["job"]["job"]["id"] == world.job_id
    assert world.created["volume"]["volume"]["id"] == world.volume_id


def test_a_backup_is_followed_to_its_end_with_progress(world: World) -> None:
    zb = world.zb
    assert world.first_run["outcome"] == "success"
    assert zb.job(world.job_id)["lastBackupStatus"] == "success"
    # The excluded file is not in the snapshot, the others are.
    assert files_in(zb, world.repository_id, world.first, str(world.source)) == {
        "docs": "dir",
        "photos": "dir",
        "cache": "dir",
    }
    assert files_in(zb, world.repository_id, world.first, f"{world.source}/cache") == {}
    # The answer names the task and the snapshot it made (v0.41 too, from its task); progress reached the client.
    assert world.first_run["result"]["snapshot_id"] == world.first
    assert zb.get(f"/tasks/{world.first_run['id']}")["kind"] == "backup"
    assert world.progress, "no progress notification arrived"
    values = [p for p, _, _ in world.progress]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert world.progress[-1][0] == 100 and world.progress[-1][1] == 100


def test_changed_files_are_in_the_second_backup(world: World) -> None:
    zb = world.zb
    assert world.second_run["outcome"] == "success"
    snapshots = zb.snapshots(world.repository_id, world.job_id)
    assert [s["short_id"] for s in snapshots][:2] == [world.first, world.second]
    docs = f"{world.source}/docs"
    assert set(files_in(zb, world.repository_id, world.first, docs)) == {
        "report.txt",
        "budget 2026.csv",
        "old-plan.md",
    }
    assert set(files_in(zb, world.repository_id, world.second, docs)) == {
        "report.txt",
        "budget 2026.csv",
        "new-plan.md",
    }


async def test_an_old_version_is_read_from_the_older_snapshot(world: World, agents: Agents) -> None:
    path = f"{world.source}/docs/report.txt"
    client = agents.reader
    old = await call(
        client, "read_snapshot_file", repository_id=world.repository_id, snapshot_id=world.first, path=path
    )
    new = await call(
        client, "read_snapshot_file", repository_id=world.repository_id, snapshot_id=world.second, path=path
    )
    assert "first draft" in old["text"]
    assert "final version" in new["text"]
    # Zerobyte itself serves the same old bytes.
    dumped = world.zb.request(
        "GET",
        f"/repositories/{world.repository_id}/snapshots/{world.first}/dump",
        params={"path": path, "kind": "file"},
    )
    assert dumped.text == "quarterly report, first draft\n"


async def test_a_deleted_file_is_restored_into_a_new_folder(world: World, agents: Agents) -> None:
    target = world.restore_root / "deleted-plan"
    client = agents.operator
    answer = await call(
        client,
        "restore",
        repository_id=world.repository_id,
        snapshot_id=world.first,
        paths=[f"{world.source}/docs/old-plan.md"],
        target_path=str(target),
    )
    both = await call(
        client,
        "restore",
        repository_id=world.repository_id,
        snapshot_id=world.first,
        paths=[f"{world.source}/docs/report.txt", f"{world.source}/photos/cat.txt"],
        target_path=str(world.restore_root / "two-folders"),
    )
    assert answer["outcome"] == "success"
    assert answer["landed"] == [f"{world.source}/docs/old-plan.md -> {target}/old-plan.md"]
    assert (target / "old-plan.md").read_text() == "# plan that will be deleted\n"
    assert sorted(p.name for p in target.iterdir()) == ["old-plan.md"]
    assert not (world.source / "docs/old-plan.md").exists()  # the original location was not touched
    # Files from two folders keep their layout below the folder they share, as the answer says.
    assert both["outcome"] == "success" and both["task"]["result"]["files_restored"] == 2
    landed = {line.split(" -> ")[1] for line in both["landed"]}
    on_disk = {str(p) for p in (world.restore_root / "two-folders").rglob("*") if p.is_file()}
    assert (
        landed
        == on_disk
        == {
            f"{world.restore_root}/two-folders/docs/report.txt",
            f"{world.restore_root}/two-folders/photos/cat.txt",
        }
    )


async def restore_over(
    world: World, agents: Agents, folder: str, existing: dict[str, str], snapshot: str, path: str
) -> dict[str, Any]:
    """Restore ``path`` of ``snapshot`` into a new folder of the allowed root that already holds ``existing``."""
    make_files(world.restore_root / folder, existing)
    client = agents.operator
    return await call(
        client,
        "restore",
        repository_id=world.repository_id,
        snapshot_id=snapshot,
        paths=[f"{world.source}/{path}"],
        target_path=str(world.restore_root / folder),
    )


async def test_a_restore_over_an_existing_file_says_it_was_not_restored(world: World, agents: Agents) -> None:
    target = world.restore_root / "existing-file"
    answer = await restore_over(
        world, agents, target.name, {"report.txt": "my local edits\n"}, world.first, "docs/report.txt"
    )
    assert answer["outcome"] == "skipped"
    assert answer["message"].startswith(
        f"Not restored: already exists at {target}/report.txt; restore into a new folder"
    )
    assert answer.get("landed", []) == []  # nothing is claimed as written
    assert answer["not_restored"] == [f"{world.source}/docs/report.txt -> {target}/report.txt: already exists"]
    assert (target / "report.txt").read_text() == "my local edits\n"
    assert sorted(p.name for p in target.iterdir()) == ["report.txt"]


async def test_a_folder_restored_over_some_existing_files_is_partial(world: World, agents: Agents) -> None:
    target = world.restore_root / "half-there"
    answer = await restore_over(world, agents, target.name, {"report.txt": "mine\n"}, world.second, "docs")
    assert answer["outcome"] == "partial"
    assert f"1 file(s) not restored: already exists in {target}; restore into a new folder" in answer["message"]
    assert answer["task"]["result"]["files_skipped"] == 1
    assert "files_restored" not in answer["task"]["result"]  # restic's count includes folders
    assert (target / "report.txt").read_text() == "mine\n"
    assert (target / "new-plan.md").read_text() == "# the new plan\n"
    assert (target / "budget 2026.csv").read_text() == "item,amount\nrent,1000\n"


async def test_restore_in_place_puts_back_a_deleted_file_and_an_old_version_after_confirmation(
    world: World, agents: Agents
) -> None:
    deleted, edited = world.source / "docs/old-plan.md", world.source / "docs/report.txt"
    edited.write_text("edited after the backups\n")
    arguments = {"repository_id": world.repository_id, "snapshot_id": world.first}
    client = agents.admin
    asked = await call(client, "restore_in_place", **arguments, paths=[str(deleted)])
    assert asked["outcome"] == "confirmation_required"
    assert not deleted.exists()  # nothing restored before the confirmation
    back = await call(
        client, "restore_in_place", **arguments, paths=[str(deleted)], confirm_token=asked["confirm_token"]
    )
    asked = await call(client, "restore_in_place", **arguments, paths=[str(edited)], overwrite="always")
    assert edited.read_text() == "edited after the backups\n"
    old = await call(
        client,
        "restore_in_place",
        **arguments,
        paths=[str(edited)],
        overwrite="always",
        confirm_token=asked["confirm_token"],
    )
    assert back["outcome"] == "success" and back["landed"] == [f"{deleted} (original location)"]
    assert deleted.read_text() == "# plan that will be deleted\n"
    assert old["outcome"] == "success" and old["landed"] == [f"{edited} (original location)"]
    assert edited.read_text() == "quarterly report, first draft\n"


async def test_a_restore_outside_the_allowed_folders_is_refused_and_sends_nothing(world: World, agents: Agents) -> None:
    elsewhere = world.root / "not-allowed"
    before = world.zb.get("/tasks")
    client = agents.operator
    answer = await ask(
        client,
        "restore",
        repository_id=world.repository_id,
        snapshot_id=world.first,
        paths=[f"{world.source}/docs/report.txt"],
        target_path=str(elsewhere),
    )
    assert answer.is_error
    assert str(world.restore_root) in answer.text
    assert not elsewhere.exists()
    assert world.zb.get("/tasks") == before


async def test_doctor_checks_the_repository(world: World, agents: Agents) -> None:
    client = agents.operator
    answer = await call(client, "run_doctor", repository_id=world.repository_id)
    assert answer["outcome"] == "success"
    repository = world.zb.get(f"/repositories/{world.repository_id}")
    assert repository["status"] == "healthy"
    assert repository["lastChecked"] is not None


async def test_tagging_a_snapshot_maps_its_old_id_to_the_new_one(world: World, agents: Agents) -> None:
    zb = world.zb
    old = backup_directly(zb, world.job_id, world.repository_id)
    client = agents.operator
    answer = await call(
        client, "tag_snapshots", repository_id=world.repository_id, snapshot_ids=[old], add_tags=["keep-forever"]
    )
    [mapping] = answer["retagged"]
    assert mapping["old_id"] == old
    new = mapping["new_id"]
    assert new and new != old
    on_server = {s["short_id"]: s for s in zb.snapshots(world.repository_id)}
    assert old not in on_server
    assert "keep-forever" in on_server[new]["tags"]
    assert world.job_id in on_server[new]["tags"]  # still the job's snapshot
    assert "keep-forever" in mapping["tags"]


async def test_deleting_a_snapshot_needs_the_confirmation_token(world: World, agents: Agents) -> None:
    zb = world.zb
    doomed = backup_directly(zb, world.job_id, world.repository_id)
    client = agents.admin
    preview = await call(client, "delete_snapshots", repository_id=world.repository_id, snapshot_ids=[doomed])
    assert preview["outcome"] == "confirmation_required"
    assert [item["id"] for item in preview["preview"]["items"]] == [doomed]
    assert doomed in {s["short_id"] for s in zb.snapshots(world.repository_id)}  # nothing deleted yet
    done = await call(
        client,
        "delete_snapshots",
        repository_id=world.repository_id,
        snapshot_ids=[doomed],
        confirm_token=preview["confirm_token"],
    )
    assert done["outcome"] == "success"
    left = {s["short_id"] for s in zb.snapshots(world.repository_id)}
    assert doomed not in left
    assert {world.first, world.second} <= left


async def test_the_task_of_a_finished_backup_is_read_back(world: World, agents: Agents) -> None:
    task_id = world.first_run["id"]
    on_server = world.zb.get(f"/tasks/{task_id}")
    client = agents.reader
    task = await call(client, "get_task", task_id=task_id)
    history = None if world.zb.legacy else await call(client, "task_history", kind="backup")
    assert on_server["kind"] == "backup" and on_server["status"] == "succeeded"
    assert (task["id"], task["kind"], task["status"], task["outcome"]) == (task_id, "backup", "succeeded", "success")
    assert task["result"]["snapshot_id"] == world.first
    assert world.job_id in task["target"]
    if history is not None:  # v0.41 has no task history route
        assert task_id in [item["id"] for item in history["items"]]
