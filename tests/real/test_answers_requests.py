"""Issue 12.11 on a real Zerobyte: get_repository answers from what a few requests say, not one mirrors
request per backup job. Counted at a proxy in front of the real server, not from our own logs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, make_files, mcp_stdio
from tests.real.counting_proxy import CountingProxy
from tests.real.seed import job, repository, run_backup, volume, wait_task
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio
JOBS = 7  # more than MIRROR_ROWS_READ other jobs


async def test_get_repository_of_a_mirror_reads_one_mirror_row_not_one_per_job(
    zb: RealZerobyte, data_root: Path
) -> None:
    primary = repository(zb, data_root / "primary")
    offsite = repository(zb, data_root / "offsite")
    jobs = [
        job(zb, volume(zb, make_files(data_root / f"src{i}", {"f.txt": str(i)}))["shortId"], primary["shortId"])
        for i in range(JOBS)
    ]
    mirrored = jobs[3]["shortId"]
    assert run_backup(zb, mirrored)["status"] == "succeeded"
    zb.request(
        "PUT", f"/backups/{mirrored}/mirrors", json={"mirrors": [{"repositoryId": offsite["shortId"], "enabled": True}]}
    )
    synced = zb.post(f"/backups/{mirrored}/mirrors/{offsite['shortId']}/sync", {})
    assert wait_task(zb, synced["taskId"])["status"] == "succeeded"
    proxy = CountingProxy(zb.url).start()
    try:
        async with mcp_stdio(replace(zb, url=proxy.url), data_root / "mcp", McpConfig()) as client:
            await call(client, "list_repositories")  # first call: capability detection happens here
            proxy.requests.clear()
            detail = await call(client, "get_repository", repository_id=offsite["shortId"])
            asked = list(proxy.requests)
    finally:
        proxy.stop()
    assert [(j["id"], j["role"]) for j in detail["backup_jobs"]] == [(mirrored, "mirror")]
    assert detail["backup_jobs"][0]["last_status"] == "succeeded"
    assert [m["repositoryId"] for m in zb.get(f"/backups/{mirrored}/mirrors")] == [offsite["shortId"]]
    assert sum("/mirrors" in r for r in asked) == 1, asked
    assert len(asked) <= 5, asked  # repository, stats, jobs, snapshots, one mirror row (was 3 + one per job)
    assert "snapshots copied here" in detail["note"]
