"""The cost model: which requests pay for a restic run, what Zerobyte's cache saves, and what clears it.

No timings here (they belong in ``bench/``): the model's charges are checked as values, and the cache it
reads is checked through real requests with the delays set to almost nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mcp_server.simulator import CostModel, Simulator, SimulatorServer
from mcp_server.simulator.cache import ls_key, snapshots_key
from mcp_server.simulator.costs import charge
from mcp_server.simulator.testing import World, build_sample_world, fast_simulator, http_client, wait_task


@pytest.fixture
def costed() -> Iterator[tuple[Simulator, World, httpx.Client]]:
    model = CostModel(base=0.0, cached=0.0, ls=0.001, snapshots=0.001, retention=0.001, dump=0.001)
    sim = fast_simulator(costs=model)
    world = build_sample_world(sim)
    with SimulatorServer(sim) as server, http_client(f"{server.url}/api/v1") as client:
        yield sim, world, client
    sim.close()


def _repo_id(sim: Simulator, world: World) -> str:
    row = sim.find_repository(world.repository)
    assert row is not None
    return str(row["id"])


def test_costs_are_off_by_default_and_turn_the_rate_limit_on() -> None:
    assert Simulator().costs is None and Simulator().rate_limit is None
    sim = Simulator(costs=CostModel())
    assert (sim.rate_limit, sim.rate_limit_window) == (1000, 300.0)


def test_an_uncached_file_page_pays_for_restic_ls_in_one_of_two_slots_then_is_cached(
    costed: tuple[Simulator, World, httpx.Client],
) -> None:
    sim, world, client = costed
    assert sim.costs is not None
    snap = sim.add_snapshot(world.repository, job=world.schedule, time_ms=sim.now_ms())
    params = {"shortId": world.repository, "snapshotId": snap["short_id"]}
    query = {"path": "/srv/data", "limit": "100"}
    first = charge(sim, sim.costs, "snapshot_files", params, query)
    assert first.seconds == sim.costs.base + sim.costs.ls
    assert first.slot is sim.costs.ls_slot(_repo_id(sim, world))
    assert first.warms == [ls_key(_repo_id(sim, world), snap["short_id"], "/srv/data", 0, 100)]
    files_url = f"/repositories/{world.repository}/snapshots/{snap['short_id']}/files"
    assert client.get(files_url, params=query).status_code == 200
    again = charge(sim, sim.costs, "snapshot_files", params, query)
    assert (again.seconds, again.slot) == (sim.costs.base + sim.costs.cached, None)
    other_page = charge(sim, sim.costs, "snapshot_files", params, {**query, "offset": "100"})
    assert other_page.seconds == sim.costs.base + sim.costs.ls
    # a backup clears the repository's cache, as Zerobyte's finalizeSuccessfulBackup does
    wait_task(client, client.post(f"/backups/{world.schedule}/run").json()["taskId"])
    assert charge(sim, sim.costs, "snapshot_files", params, query).seconds == sim.costs.base + sim.costs.ls


def test_a_failed_listing_warms_nothing(costed: tuple[Simulator, World, httpx.Client]) -> None:
    sim, world, client = costed
    assert client.get(f"/repositories/{world.repository}/snapshots/deadbeef/files").status_code == 500
    assert not sim.cache.has(ls_key(_repo_id(sim, world), "deadbeef", None, 0, 500))


def test_snapshot_lists_pay_for_restic_and_the_retention_dry_run_once(
    costed: tuple[Simulator, World, httpx.Client],
) -> None:
    sim, world, client = costed
    assert sim.costs is not None
    model = sim.costs
    params, query = {"shortId": world.repository}, {"backupId": world.schedule}
    assert charge(sim, model, "list_snapshots", params, query).seconds == model.base + max(
        model.snapshots, model.retention
    )
    assert client.get(f"/repositories/{world.repository}/snapshots", params=query).status_code == 200
    assert sim.cache.has(snapshots_key(_repo_id(sim, world), world.schedule))
    assert charge(sim, model, "list_snapshots", params, query).seconds == model.base + model.cached
    assert charge(sim, model, "list_snapshots", params, {}).seconds == model.base + model.snapshots
    assert charge(sim, model, "dump_snapshot", {**params, "snapshotId": "x"}, {}).seconds == model.base + model.dump
    assert charge(sim, model, "list_volumes", {}, {}).seconds == model.base
