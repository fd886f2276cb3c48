"""Changes that make Zerobyte's retention forget snapshots are destructive: full level, confirmed, previewed by us.

photos-daily keeps the last 2 of its 4 snapshots (seed_world). The real-server twins of these stories,
where Zerobyte's own forget is the judge, are in tests/real/test_safety_retention.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import answering, connect, data, seed_world, text, writes

pytestmark = pytest.mark.anyio


def policy(sim: Simulator, short_id: str) -> Any:
    return next(s for s in sim.schedules.values() if s["shortId"] == short_id).get("retentionPolicy")


async def test_tightening_retention_at_operate_is_refused_naming_the_level_and_the_snapshots(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate") as client:
        tighter = await client.call_tool("update_backup_job", {"job_id": world.job, "retention": "last 1"})
        looser = data(await client.call_tool("update_backup_job", {"job_id": world.job, "retention": "last 3"}))
        other = data(await client.call_tool("update_backup_job", {"job_id": world.job, "name": "photos-2"}))
    assert tighter.is_error and "needs access level full" in text(tighter)
    # keepLast 2 -> 1 loses the second newest now and the newest at the next backup.
    assert world.snapshots[2] in text(tighter) and world.snapshots[3] in text(tighter)
    assert world.snapshots[0] not in text(tighter)  # going anyway under the current policy
    assert looser["outcome"] == "updated" and other["outcome"] == "updated"
    assert policy(sim, world.job) == {"keepLast": 3}
    assert [w for w in writes(sim) if w.startswith("PATCH")] == [f"PATCH /api/v1/backups/{world.job}"] * 2


async def test_tightening_retention_at_full_previews_our_computation_and_acts_only_on_the_token(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era) as client:
        first = data(await client.call_tool("update_backup_job", {"job_id": world.job, "retention": "last 1"}))
        assert writes(sim) == []
        done = data(
            await client.call_tool(
                "update_backup_job",
                {"job_id": world.job, "retention": "last 1", "confirm_token": first["confirm_token"]},
            )
        )
    assert first["outcome"] == "confirmation_required"
    assert [i["id"] for i in first["preview"]["items"]] == world.snapshots[2:]
    assert "from last 2 to last 1" in first["preview"]["action"]
    assert done["outcome"] == "updated" and policy(sim, world.job) == {"keepLast": 1}


async def test_a_user_who_declines_a_tighter_retention_keeps_the_old_one(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    seen: list[str] = []
    async with connect(sim_server, era, elicit=answering("decline", seen=seen)) as client:
        result = data(await client.call_tool("update_backup_job", {"job_id": world.job, "retention": "last 1"}))
    assert result["outcome"] == "declined" and "Nothing was changed" in result["message"]
    assert seen and "forgets and prunes" in seen[0]
    assert policy(sim, world.job) == {"keepLast": 2} and writes(sim) == []


async def test_tagging_a_snapshot_into_another_jobs_group_is_refused_at_operate(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    # docs-daily gets a policy; a newer photos snapshot moved into its group would displace its own one.
    sim_job = next(s for s in sim.schedules.values() if s["shortId"] == world.docs_job)
    sim_job["retentionPolicy"] = {"keepLast": 1}
    offsite_snap = sim.add_snapshot(world.offsite, job=world.job, time_ms=sim.now_ms())
    async with connect(sim_server, era, access="operate") as client:
        moved = await client.call_tool(
            "tag_snapshots",
            {"repository_id": world.offsite, "snapshot_ids": [offsite_snap["short_id"]], "set_tags": [world.docs_job]},
        )
        joined = data(
            await client.call_tool(
                "tag_snapshots",
                {"repository_id": world.repo, "snapshot_ids": [world.snapshots[0]], "add_tags": ["keep"]},
            )
        )
    assert moved.is_error and "needs access level full" in text(moved) and "this tagging" in text(moved)
    assert joined["outcome"] == "success"  # a tag no job uses: nothing is forgotten
    assert [w for w in writes(sim) if "tag" in w] == [f"POST /api/v1/repositories/{world.repo}/snapshots/tag"]


async def test_tagging_into_another_jobs_group_at_full_needs_the_token(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    sim_job = next(s for s in sim.schedules.values() if s["shortId"] == world.docs_job)
    sim_job["retentionPolicy"] = {"keepLast": 1}
    newer = sim.add_snapshot(world.offsite, job=world.job, time_ms=sim.now_ms())
    args = {"repository_id": world.offsite, "snapshot_ids": [newer["short_id"]], "set_tags": [world.docs_job]}
    async with connect(sim_server, era) as client:
        first = data(await client.call_tool("tag_snapshots", args))
        assert writes(sim) == []
        done = data(await client.call_tool("tag_snapshots", {**args, "confirm_token": first["confirm_token"]}))
    assert first["outcome"] == "confirmation_required"
    assert "docs-daily" in " ".join(first["preview"]["effects"])
    assert len(first["preview"]["items"]) == 2  # docs' own snapshot now, the moved one at the next backup
    assert done["outcome"] == "success" and done["retagged"][0]["tags"] == [world.docs_job]


async def test_run_backup_reports_what_zerobytes_retention_forgot_after_it(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate") as client:
        started = data(await client.call_tool("run_backup", {"job_id": world.job, "wait": False}))
        followed = data(await client.call_tool("wait_for_task", {"task_id": started["id"]}))
        assert followed["outcome"] == "success"
        run = data(await client.call_tool("run_backup", {"job_id": world.job}))
    # keepLast 2 over 4 snapshots + this backup: the 3 oldest go (one more each run).
    assert (
        started["retention"].startswith("Warning: when this backup succeeds")
        and "forgets 3 existing" in started["retention"]
    )
    assert run["outcome"] == "success" and "ran after the backup and forgot" in run["retention"]
    repo = next(r for r in sim.repositories.values() if r["shortId"] == world.repo)
    listed = sim.list_snapshots(repo)
    named = run["retention"].split(": ", 1)[1].rstrip(".").split(", ")
    assert named and not set(named) & {s["short_id"] for s in listed}  # what it names is really gone
    assert len([s for s in listed if world.job in s["tags"]]) == 2  # keepLast 2


async def test_moving_a_job_to_a_repository_holding_its_old_snapshots_is_a_retention_change(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    old = [
        sim.add_snapshot(world.offsite, job=world.job, time_ms=sim.now_ms() - (9 - i) * 86_400_000) for i in range(3)
    ]
    async with connect(sim_server, era, access="operate") as client:
        moved = await client.call_tool("update_backup_job", {"job_id": world.job, "repository_id": world.offsite})
    assert moved.is_error and "needs access level full" in text(moved)
    # keepLast 2 there: the next backup keeps itself and the newest old one.
    assert old[0]["short_id"] in text(moved) and old[1]["short_id"] in text(moved)
    assert old[2]["short_id"] not in text(moved)
    assert writes(sim) == []


async def test_a_tighter_retention_also_names_the_mirror_copies_it_forgets(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)  # photos-daily mirrors to offsite
    copies = [
        sim.add_snapshot(world.offsite, job=world.job, time_ms=sim.now_ms() - (5 - i) * 86_400_000) for i in range(2)
    ]
    async with connect(sim_server, era) as client:
        first = data(await client.call_tool("update_backup_job", {"job_id": world.job, "retention": "last 1"}))
    items = {i["id"]: i.get("note", "") for i in first["preview"]["items"]}
    assert set(items) == {*world.snapshots[2:], *(c["short_id"] for c in copies)}
    assert items[copies[0]["short_id"]] == f"mirror copy in repository {world.offsite}"


async def test_mirroring_into_a_repository_holding_the_jobs_snapshots_is_gated(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    usb = sim.add_repository("usb", config={"path": "/srv/usb"})["shortId"]
    held = [sim.add_snapshot(usb, job=world.job, time_ms=sim.now_ms() - (5 - i) * 86_400_000) for i in range(3)]
    async with connect(sim_server, era, access="operate") as client:
        refused = await client.call_tool("set_mirror", {"job_id": world.job, "repository_id": usb})
        paused = data(await client.call_tool("set_mirror", {"job_id": world.job, "repository_id": usb, "mode": "off"}))
    assert refused.is_error and "needs access level full" in text(refused)
    # keepLast 2 on the mirror: after the next sync the copy and the newest held one stay.
    assert held[0]["short_id"] in text(refused) and held[1]["short_id"] in text(refused)
    assert paused["outcome"] == "updated"  # a paused mirror forgets nothing
    assert [w for w in writes(sim) if "mirrors" in w] == [f"PUT /api/v1/backups/{world.job}/mirrors"]


async def test_list_snapshots_shows_retention_by_the_current_policy_not_zerobytes_stale_cache(
    sim: Simulator, sim_server: SimulatorServer, era: str
) -> None:
    world = seed_world(sim)
    async with connect(sim_server, era, access="operate") as client:
        before = data(
            await client.call_tool("list_snapshots", {"repository_id": world.repo, "backup_job_id": world.job})
        )
        await client.call_tool("update_backup_job", {"job_id": world.job, "retention": "last 3"})
        after = data(
            await client.call_tool("list_snapshots", {"repository_id": world.repo, "backup_job_id": world.job})
        )
        one = data(
            await client.call_tool("get_snapshot", {"repository_id": world.repo, "snapshot_id": world.snapshots[1]})
        )
    kept = {s["id"]: s.get("retention", []) for s in before["snapshots"]}
    assert [sid for sid in world.snapshots if kept[sid]] == world.snapshots[2:]  # last 2
    now = {s["id"]: s.get("retention", []) for s in after["snapshots"]}
    assert [sid for sid in world.snapshots if now[sid]] == world.snapshots[1:]  # last 3, at once
    assert one["retention"] == ["last"]
