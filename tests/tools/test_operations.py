"""Operation tools end to end: access levels, followed tasks, restore guards, previews, quirks, audit.

Every test drives the real server through the SDK's in-memory client (both protocol eras) against the
simulator over HTTP, and checks what reached Zerobyte (``sim.requests``) as well as what the agent read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import (
    OFFSITE_SECRET,
    TEST_KEY,
    answering,
    connect,
    data,
    sample_arguments,
    seed_world,
    text,
    writes,
)

pytestmark = pytest.mark.anyio

OPERATION_TOOLS = {
    "read": set(),
    "operate": {"wait_for_task", "run_backup", "cancel_task", "run_doctor", "sync_mirror", "tag_snapshots", "restore"},
    "full": {
        "restore_in_place",
        "apply_retention",
        "delete_snapshots",
        "delete_backup_job",
        "delete_volume",
        "delete_repository",
        "delete_notification_destination",
    },
}


# --- access levels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("access", ["read-only", "operate", "full"])
async def test_each_access_level_registers_exactly_its_operation_tools(
    sim_server: SimulatorServer, era: str, access: str
) -> None:
    levels = {"read-only": ["read"], "operate": ["read", "operate"], "full": ["read", "operate", "full"]}[access]
    expected = set().union(*(OPERATION_TOOLS[level] for level in levels))
    every = set().union(*OPERATION_TOOLS.values())
    async with connect(sim_server, era, access=access) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) & every == expected
    for name in expected & OPERATION_TOOLS["full"]:
        annotations = tools[name].annotations
        assert annotations is not None and annotations.destructive_hint is True
    if "run_backup" in tools:
        annotations = tools["run_backup"].annotations
        assert annotations is not None and annotations.read_only_hint is False and not annotations.destructive_hint


async def test_a_read_only_session_that_calls_every_tool_sends_no_write_to_zerobyte(
    sim: Simulator, sim_server: SimulatorServer, era: str, tmp_path: Path
) -> None:
    world = seed_world(sim)
    finished = sim.add_task("backup", job=world.job)
    catalog = tmp_path / "catalog.sqlite"  # compare_snapshots answers from the local snapshot catalog
    async with connect(sim_server, era, access="read-only", catalog_path=catalog) as client:
        tools = (await client.list_tools()).tools
        names = {t.name for t in tools}
        assert "get_task" in names and not names & (OPERATION_TOOLS["operate"] | OPERATION_TOOLS["full"])
        answers: dict[str, dict[str, Any]] = {}
        for t in tools:
            args = sample_arguments(t.input_schema, world)
            if "repository_id" in t.input_schema.get("properties", {}):
                args.setdefault("repository_id", world.repo)  # snapshot tools need a scope
            if t.name == "get_mirror_status":
                args["repository_id"] = world.offsite  # photos-daily mirrors into offsite-b2
            if t.name in ("wait_for_task", "get_task"):
                args = {"task_id": finished["id"]}
            answers[t.name] = data(await client.call_tool(t.name, args))
    assert writes(sim) == []
    assert set(answers) == names  # every read tool answered on the seeded world, none refused
    assert answers["get_task"]["id"] == finished["id"]
    assert answers["get_backup_job"]["id"] == world.job
    assert answers["get_mirror_status"]["source_snapshots"] == len(world.snapshots)
    assert {v["id"] for v in answers["list_volumes"]["volumes"]} == {world.volume, world.docs_volume}
    assert {r["id"] for r in answers["list_repositories"]["repositories"]} == {world.repo, world.offsite}
    assert [s["id"] for s in answers["list_snapshots"]["snapshots"]] == world.snapshots[::-1]
    assert answers["read_snapshot_file"]["text"] == "hi"


# --- followed tasks --------------------------------------------------------------------------------


async def test_run_backup_follows_the_task_and_reports_the_new_snapshot(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate") as client:
        result = data(await client.call_tool("run_backup", {"job_id": world.job}))
        listed = data(await client.call_tool("list_snapshots", {"repository_id": world.repo, "limit": 50}))
    assert result["kind"] == "backup" and result["status"] == "succeeded" and result["outcome"] == "success"
    snapshot_id = result["result"]["snapshot_id"]
    assert len(snapshot_id) == 8  # the short id that list_snapshots shows and every tool accepts
    assert snapshot_id in {s["id"] for s in listed["snapshots"]}
    assert "photos-daily" in result["target"]


async def test_a_backup_with_unreadable_files_is_reported_as_a_warning(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    sim.next_backup_outcome = "warning"
    async with connect(sim_server, era, access="operate") as client:
        result = data(await client.call_tool("run_backup", {"job_id": world.job}))
    assert result["status"] == "succeeded" and result["outcome"] == "warning"
    assert "could not be read" in result["warnings"] or "permission denied" in result["warnings"]


async def test_a_second_run_of_a_busy_job_names_the_running_task(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    sim.task_seconds = 1.5
    async with connect(sim_server, era, access="operate") as client:
        first = data(await client.call_tool("run_backup", {"job_id": world.job, "wait": False}))
        second = await client.call_tool("run_backup", {"job_id": world.job})
    assert first["outcome"] == "running" and "wait_for_task" in first["next_step"]
    assert second.is_error
    message = text(second)
    assert "already running" in message and first["id"] in message and "wait_for_task" in message
    sim.wait_task(first["id"])


async def test_run_doctor_reports_each_step(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate") as client:
        result = data(await client.call_tool("run_doctor", {"repository_id": world.repo}))
    assert result["kind"] == "doctor" and result["outcome"] == "success"
    assert [s["step"] for s in result["result"]["doctor_steps"]][:2] == ["unlock", "check"]


async def test_sync_mirror_copies_to_a_configured_mirror_and_refuses_others(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate") as client:
        done = data(await client.call_tool("sync_mirror", {"job_id": world.job, "mirror_repository_id": world.offsite}))
        wrong = await client.call_tool("sync_mirror", {"job_id": world.job, "mirror_repository_id": world.repo})
    assert done["task"]["kind"] == "mirrorSync" and done["task"]["status"] == "succeeded"
    # Every missing snapshot was sent; the job's retention (last 2) then forgot the two oldest on the mirror.
    assert done["outcome"] == "success" and done["copied"] == world.snapshots[-2:]
    assert "Not kept" in done["message"] and "retention (last 2)" in done["message"]
    assert wrong.is_error and "not a mirror" in text(wrong) and "offsite-b2" in text(wrong)


async def test_sync_mirror_sends_only_the_given_snapshots_and_refuses_unknown_ones(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    newest = world.snapshots[-1]
    args = {"job_id": world.job, "mirror_repository_id": world.offsite}
    async with connect(sim_server, era, access="operate") as client:
        wrong = await client.call_tool("sync_mirror", {**args, "snapshot_ids": ["0badc0de"]})
        assert writes(sim) == []
        one = data(await client.call_tool("sync_mirror", {**args, "snapshot_ids": [newest]}))
        again = data(await client.call_tool("sync_mirror", {**args, "snapshot_ids": [newest]}))
    assert wrong.is_error and "No snapshot 0badc0de of backup job 'photos-daily'" in text(wrong)
    assert [r.body for r in sim.requests if r.path.endswith("/sync")] == [{"snapshotIds": [newest]}]
    assert one["outcome"] == "success" and one["copied"] == [newest]
    assert [line.split()[0] for line in one["still_missing"]] == world.snapshots[:-1]
    assert again["outcome"] == "success" and "Nothing to copy" in again["message"] and "copied" not in again


async def test_sync_mirror_on_v041_reports_what_arrived_though_there_is_no_task(era: str) -> None:
    sim = Simulator(api_keys=[TEST_KEY], legacy=True, task_seconds=0.4, progress_interval=0.05)
    world = seed_world(sim)
    with SimulatorServer(sim) as server:
        async with connect(server, era, access="operate") as client:
            done = data(
                await client.call_tool("sync_mirror", {"job_id": world.job, "mirror_repository_id": world.offsite})
            )
    assert done["outcome"] == "success" and "task" not in done
    # All four were sent (not only the newest); the job's retention (last 2) keeps two of them on the mirror.
    assert [r.body for r in sim.requests if r.path.endswith("/sync")] == [{"snapshotIds": world.snapshots}]
    assert done["copied"] == world.snapshots[-2:]


async def test_cancel_task_stops_a_running_backup(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    world = seed_world(sim)
    sim.task_seconds = 5.0
    async with connect(sim_server, era, access="operate") as client:
        started = data(await client.call_tool("run_backup", {"job_id": world.job, "wait": False}))
        cancelled = data(await client.call_tool("cancel_task", {"task_id": started["id"]}))
        again = await client.call_tool("cancel_task", {"task_id": started["id"]})
    assert cancelled["status"] == "cancelled" and cancelled["outcome"] == "cancelled"
    assert again.is_error and "already ended" in text(again)


async def test_tag_snapshots_returns_the_new_ids(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    world = seed_world(sim)
    old = world.snapshots[-1]
    async with connect(sim_server, era, access="operate") as client:
        result = data(
            await client.call_tool(
                "tag_snapshots", {"repository_id": world.repo, "snapshot_ids": [old], "add_tags": ["keep-me"]}
            )
        )
        listed = data(await client.call_tool("list_snapshots", {"repository_id": world.repo, "limit": 50}))
    (retag,) = result["retagged"]
    assert retag["old_id"] == old and retag["new_id"] and retag["new_id"] != old
    assert "keep-me" in retag["tags"]
    listing = json.dumps(listed)
    assert retag["new_id"] in listing and old not in listing


async def test_tag_snapshots_refuses_a_missing_snapshot_before_any_write(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate") as client:
        result = await client.call_tool(
            "tag_snapshots", {"repository_id": world.repo, "snapshot_ids": ["deadbeef"], "add_tags": ["x"]}
        )
    assert result.is_error and "deadbeef" in text(result)
    assert writes(sim) == []


# --- restore ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("/srv/restore/../etc", "'..'"),
        ("/etc/cron.d", "outside"),
        ("//srv/restore/x", "'//'"),
        ("srv/restore/x", "relative"),
        ("~/restore", "relative"),
        ("/srv/restore\\..\\etc", "backslash"),
        ("/srv/restored", "outside"),
    ],
)
async def test_restore_refuses_escaping_targets_without_sending_anything(
    sim: Simulator, sim_server: SimulatorServer, era: str, target: str, why: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate", restore_allowed_roots=("/srv/restore",)) as client:
        before = len(sim.requests)
        result = await client.call_tool(
            "restore",
            {
                "repository_id": world.repo,
                "snapshot_id": world.snapshots[-1],
                "paths": ["/srv/photos/n.txt"],
                "target_path": target,
            },
        )
    assert result.is_error and why in text(result)
    assert sim.requests[before:] == []


async def test_restore_without_configured_roots_explains_how_to_enable_it(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate") as client:
        result = await client.call_tool(
            "restore",
            {
                "repository_id": world.repo,
                "snapshot_id": world.snapshots[-1],
                "paths": ["/srv/photos/n.txt"],
                "target_path": "/srv/restore",
            },
        )
    assert result.is_error and "restore.allowed_roots" in text(result)
    assert sim.requests == []


async def test_a_path_given_inside_the_volume_is_refused_naming_the_full_path_the_snapshot_holds(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)  # the photos volume is /srv/photos: snapshots hold /srv/photos/n.txt
    async with connect(sim_server, era, access="operate", restore_allowed_roots=("/srv/restore",)) as client:
        arguments = {"repository_id": world.repo, "snapshot_id": world.snapshots[-1], "target_path": "/srv/restore/a"}
        inside = await client.call_tool("restore", {**arguments, "paths": ["/n.txt"]})
        nowhere = await client.call_tool("restore", {**arguments, "paths": ["/no/such.txt"]})
    assert inside.is_error and "but '/srv/photos/n.txt' is (snapshots hold the volume's full path" in text(inside)
    assert nowhere.is_error and "(it holds '/srv/photos')" in text(nowhere) and "but" not in text(nowhere)
    assert not [r for r in sim.requests if r.path.endswith("/restore")]


async def test_restore_of_a_file_and_of_a_folder_says_where_they_landed(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    snap = world.snapshots[-1]
    async with connect(sim_server, era, access="operate", restore_allowed_roots=("/srv/restore",)) as client:
        one = data(
            await client.call_tool(
                "restore",
                {
                    "repository_id": world.repo,
                    "snapshot_id": snap,
                    "paths": ["/srv/photos/n.txt"],
                    "target_path": "/srv/restore/a",
                },
            )
        )
        folder = data(
            await client.call_tool(
                "restore",
                {
                    "repository_id": world.repo,
                    "snapshot_id": snap,
                    "paths": ["/srv/photos/2026"],
                    "target_path": "/srv/restore/b/",
                },
            )
        )
    assert one["outcome"] == "success" and one["landed"] == ["/srv/photos/n.txt -> /srv/restore/a/n.txt"]
    assert folder["landed"] == ["contents of /srv/photos/2026/ -> /srv/restore/b/"]
    assert one["task"]["result"]["files_restored"] == 1
    # restic counts the folders it creates among "files restored": a folder restore reports bytes instead.
    assert "files_restored" not in folder["task"]["result"] and folder["task"]["result"]["restored_bytes"] > 0
    assert folder["message"].startswith("Restored the folder's contents") and "KiB written" in folder["message"]
    bodies = [r.body for r in sim.requests if r.path.endswith("/restore")]
    assert [b["overwrite"] for b in bodies] == ["never", "never"]
    assert [b["selectedItemKind"] for b in bodies] == ["file", "dir"]
    assert bodies[1]["targetPath"] == "/srv/restore/b"


async def test_restore_refuses_a_path_missing_from_the_snapshot(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate", restore_allowed_roots=("/srv/restore",)) as client:
        result = await client.call_tool(
            "restore",
            {
                "repository_id": world.repo,
                "snapshot_id": world.snapshots[-1],
                "paths": ["/srv/photos/nope.txt"],
                "target_path": "/srv/restore",
            },
        )
    assert result.is_error and "not in snapshot" in text(result)
    assert writes(sim) == []


async def test_restore_in_place_needs_confirmation_and_then_restores_to_the_original_location(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    args = {"repository_id": world.repo, "snapshot_id": world.snapshots[-1], "paths": ["/srv/photos/n.txt"]}
    async with connect(sim_server, era) as client:
        preview = data(await client.call_tool("restore_in_place", args))
        assert writes(sim) == []
        done = data(await client.call_tool("restore_in_place", {**args, "confirm_token": preview["confirm_token"]}))
    assert preview["outcome"] == "confirmation_required"
    assert (
        "original location" in preview["preview"]["action"] and "overwrite=always" in preview["preview"]["effects"][0]
    )
    # The file there still has the snapshot's content: restic writes nothing and the answer says so.
    assert done["outcome"] == "success" and "already identical" in done["message"]
    assert done["not_restored"] == [
        "/srv/photos/n.txt (original location): is already identical to the snapshot's version"
    ]
    (body,) = [r.body for r in sim.requests if r.path.endswith("/restore")]
    assert "targetPath" not in body and body["overwrite"] == "always"


@pytest.mark.both_eras  # refused with an elicitation-capable client
async def test_restore_in_place_over_a_folder_says_which_files_were_already_identical(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    sim.set_volume_files(world.volume, {"2026": {"a.jpg": 1000, "b.jpg": "edited since"}, "n.txt": "hi"})
    args = {
        "repository_id": world.repo,
        "snapshot_id": world.snapshots[-1],
        "paths": ["/srv/photos/2026"],
        "overwrite": "always",
    }
    async with connect(sim_server, era) as client:
        preview = data(await client.call_tool("restore_in_place", args))
        done = data(await client.call_tool("restore_in_place", {**args, "confirm_token": preview["confirm_token"]}))
    # b.jpg was rewritten; a.jpg already had the snapshot's content, which is what was asked: success.
    assert done["outcome"] == "success"
    assert "1 file(s) already identical to the snapshot's version, left as they were" in done["message"]
    assert done["task"]["result"]["files_skipped"] == 1 and "files_restored" not in done["task"]["result"]


async def test_restore_in_place_with_a_target_still_needs_an_allowed_root(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    args = {
        "repository_id": world.repo,
        "snapshot_id": world.snapshots[-1],
        "paths": ["/srv/photos/n.txt"],
        "target_path": "/etc",
        "overwrite": "if-newer",
    }
    async with connect(sim_server, era, restore_allowed_roots=("/srv/restore",), elicit=answering("accept")) as client:
        result = await client.call_tool("restore_in_place", args)
    assert result.is_error and "outside the allowed restore folders" in text(result)
    assert sim.requests == []


# --- previews and destructive actions ---------------------------------------------------------------


async def test_deleting_a_repository_previews_the_jobs_and_mirrors_it_takes_along(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era) as client:
        preview = data(await client.call_tool("delete_repository", {"repository_id": world.offsite}))
        local = data(await client.call_tool("delete_repository", {"repository_id": world.repo}))
    shown = preview["preview"]
    assert shown["action"] == f"Delete repository 'offsite-b2' ({world.offsite})"
    effects = " ".join(shown["effects"])
    assert "'docs-daily'" in effects and "will be deleted" in effects
    assert "1 mirror into it (from 'photos-daily')" in effects and "zb-offsite" in effects
    assert {(i["kind"], i["name"]) for i in shown["items"]} == {
        ("backup_job", "docs-daily"),
        ("mirror", "photos-daily"),
    }
    assert "Backup job 'photos-daily' and 1 mirror use it" in " ".join(local["preview"]["effects"])
    assert writes(sim) == []


async def test_deleting_a_volume_previews_its_backup_jobs(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era) as client:
        preview = data(await client.call_tool("delete_volume", {"volume_id": world.volume}))
        done = data(
            await client.call_tool(
                "delete_volume", {"volume_id": world.volume, "confirm_token": preview["confirm_token"]}
            )
        )
        jobs = data(await client.call_tool("list_backup_jobs", {}))
    assert "Backup job 'photos-daily' and 1 mirror use it and will be deleted" in preview["preview"]["effects"][0]
    assert done["outcome"] == "done" and "Deleted volume 'photos'" in done["message"]
    assert [j["name"] for j in jobs["jobs"]] == ["docs-daily"]


async def test_apply_retention_previews_exactly_the_snapshots_forget_removes(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era) as client:
        preview = data(await client.call_tool("apply_retention", {"job_id": world.job}))
        going = [i["id"] for i in preview["preview"]["items"]]
        done = data(
            await client.call_tool("apply_retention", {"job_id": world.job, "confirm_token": preview["confirm_token"]})
        )
        listed = data(await client.call_tool("list_snapshots", {"repository_id": world.repo, "limit": 50}))
    assert going == world.snapshots[:2]  # keepLast=2 keeps the two newest
    assert all(i["time"] and i["size"] for i in preview["preview"]["items"])
    assert "Forgets 2 of 4 snapshots" in preview["preview"]["effects"][0]
    assert done["outcome"] == "success" and "2 snapshot(s) forgotten" in done["message"]
    remaining = json.dumps(listed)
    assert all(s not in remaining for s in going) and all(s in remaining for s in world.snapshots[2:])


async def test_delete_snapshots_previews_them_and_refuses_missing_ones(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era) as client:
        missing = await client.call_tool(
            "delete_snapshots", {"repository_id": world.repo, "snapshot_ids": ["deadbeef"]}
        )
        preview = data(
            await client.call_tool(
                "delete_snapshots", {"repository_id": world.repo, "snapshot_ids": [world.snapshots[-1]]}
            )
        )
        done = data(
            await client.call_tool(
                "delete_snapshots",
                {
                    "repository_id": world.repo,
                    "snapshot_ids": [world.snapshots[-1]],
                    "confirm_token": preview["confirm_token"],
                },
            )
        )
    assert missing.is_error and "deadbeef" in text(missing) and "nothing was changed" in text(missing)
    (item,) = preview["preview"]["items"]
    assert item["id"] == world.snapshots[-1] and item["size"] == 4_000_000 and item["time"].endswith("Z")
    assert "newest snapshot of backup job 'photos-daily'" in " ".join(preview["preview"]["effects"])
    assert done["outcome"] == "success"
    assert writes(sim) == [f"DELETE /api/v1/repositories/{world.repo}/snapshots"]


async def test_deleting_a_notification_destination_names_the_jobs_that_lose_it(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, confirm_destructive=False) as client:
        done = data(await client.call_tool("delete_notification_destination", {"destination_id": world.destination}))
    assert done["outcome"] == "done" and "'photos-daily' notifies it" in done["message"]
    assert sim.destinations == {}


async def test_deleting_a_backup_job_keeps_its_snapshots(sim: Simulator, sim_server: SimulatorServer, era: str) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, confirm_destructive=False) as client:
        done = data(await client.call_tool("delete_backup_job", {"job_id": world.job}))
        listed = data(await client.call_tool("list_snapshots", {"repository_id": world.repo, "limit": 50}))
    assert "1 mirror link and 1 notification link go with it" in done["message"]
    assert all(s in json.dumps(listed) for s in world.snapshots)


# --- audit ----------------------------------------------------------------------------------------


async def test_the_audit_log_has_one_line_per_mutation_and_no_secret(
    sim: Simulator, sim_server: SimulatorServer, era: str, tmp_path: Path
) -> None:
    world = seed_world(sim)
    log = tmp_path / "audit.jsonl"
    async with connect(sim_server, era, audit_log=log) as client:
        await client.call_tool("list_volumes", {})
        backup = data(await client.call_tool("run_backup", {"job_id": world.job}))
        preview = data(await client.call_tool("delete_volume", {"volume_id": world.docs_volume}))
        await client.call_tool(
            "delete_volume", {"volume_id": world.docs_volume, "confirm_token": preview["confirm_token"]}
        )
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["tool"], e["outcome"]) for e in lines] == [
        ("run_backup", "success"),
        ("delete_volume", "confirmation_required"),
        ("delete_volume", "done"),
    ]
    assert lines[0]["task_id"] == backup["id"] and lines[0]["zerobyte_status"] == 202
    assert lines[2]["zerobyte_status"] == 200
    raw = log.read_text()
    assert TEST_KEY not in raw and OFFSITE_SECRET not in raw
