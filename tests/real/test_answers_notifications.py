"""Issue 12.7 on a real Zerobyte: a failed test message whose cause is on the Zerobyte host says so, and
one call routes a destination for every job (or a list of jobs, by id or name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, make_files, mcp_stdio, unique
from tests.real.seed import job, repository, volume
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


def _routes(zb: RealZerobyte, job_id: str) -> dict[int, bool]:
    return {a["destinationId"]: a["notifyOnFailure"] for a in zb.get(f"/backups/{job_id}/notifications")}


async def test_a_host_side_test_failure_says_so_and_one_call_routes_every_job(
    zb: RealZerobyte, data_root: Path
) -> None:
    repo = repository(zb, data_root / "repo")
    jobs = [
        job(zb, volume(zb, make_files(data_root / f"src{i}", {"f.txt": str(i)}))["shortId"], repo["shortId"])
        for i in range(3)
    ]
    async with mcp_stdio(zb, data_root / "mcp", McpConfig(access="operate")) as client:
        created = await call(
            client,
            "create_notification_destination",
            name=unique("hook"),
            type="generic",
            url="http://127.0.0.1:9/hook",
        )
        did = created["destination"]["id"]
        tested = await call(client, "update_notification_destination", destination_id=did, test=True)
        everyone = await call(client, "route_notifications", destination_id=did, events=["failure"], job_ids=["*"])
        two = await call(
            client,
            "route_notifications",
            destination_id=created["destination"]["name"],  # a name works where the id goes
            events=[],
            job_ids=[jobs[0]["name"], jobs[1]["shortId"]],
        )
    row = zb.get(f"/notifications/destinations/{did}")
    last_error = row["lastError"]
    assert tested["outcome"] == "failed"
    # The test turned the destination's status to error on the server, and the answer says so.
    assert row["status"] == tested["destination"]["status"] == "error"
    assert (
        f"changed its status on Zerobyte from {created['destination'].get('status') or 'unknown'} to error"
        in (tested["note"])
    )
    # A loopback hook URL is no capability (only this host can call it): it stays readable, as documented.
    assert tested["destination"]["target"] == "POST http://127.0.0.1:9/hook"
    assert "Check the address and credentials" not in tested["note"]
    if "Executable not found" in last_error:
        assert "the Zerobyte host lacks the shoutrrr program" in tested["note"] and "install shoutrrr" in tested["note"]
    else:
        assert "the Zerobyte host could not" in tested["note"], (last_error, tested["note"])
    assert everyone["outcome"] == "updated" and everyone["note"].startswith("3 of 3 job(s) changed")
    assert two["outcome"] == "updated" and two["note"].startswith("2 of 2 job(s) changed")
    assert f"job_ids {jobs[0]['name']!r} = {jobs[0]['shortId']}" in two["resolved"]
    assert f"destination_id {created['destination']['name']!r} = {did}" in two["resolved"]
    assert [_routes(zb, j["shortId"]) for j in jobs] == [{}, {}, {did: True}]
