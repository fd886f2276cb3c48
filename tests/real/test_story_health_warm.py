"""A warm backup_health on a real Zerobyte (v0.42, v0.41): two requests, counted at a proxy, and never stale.

The first report reads every list; later ones re-read only the backup jobs (which carry the volume and the
repository each job uses) and the newest task-history page (v0.41: the active tasks). A failure that happened
in between is in the very next report, which says what a report from a fresh server says.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.real import seed
from tests.real.conftest import call, make_files, mcp_stdio
from tests.real.counting_proxy import CountingProxy
from tests.real.story_world import arrange_job, backup_directly
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


def _essence(report: dict[str, Any]) -> dict[str, Any]:
    """What a verdict stands on (not the time it was made, nor a listing's age)."""
    return {
        "verdict": report["verdict"],
        "counts": report["counts"],
        "jobs": [(j["id"], j["state"], j.get("next_step")) for j in report["jobs"]],
        "repositories": [(r["id"], r.get("status")) for r in report.get("repositories", [])],
        "volumes": [(v["id"], v.get("status")) for v in report.get("volumes", [])],
        "failures": [f["task_id"] for f in report.get("recent_failures", [])],
    }


async def test_a_warm_health_asks_twice_and_sees_a_failure_at_once(
    zb_any: RealZerobyte, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    root = tmp_path_factory.mktemp("warm")
    job = arrange_job(zb_any, root, {"a.txt": "a"})
    backup_directly(zb_any, job.job_id, job.repository_id)
    seed.volume(zb_any, make_files(root / "spare", {"s.txt": "s"}))  # no job uses it: it comes from the listing
    proxy = CountingProxy(zb_any.url).start()
    try:
        async with mcp_stdio(replace(zb_any, url=proxy.url), tmp_path / "mcp") as client:
            first = await call(client, "backup_health")
            proxy.requests.clear()
            warm = await call(client, "backup_health")
            warm_asked = list(proxy.requests)

            # In between, the job's repository loses its folder and a run fails (sent straight to Zerobyte).
            repo = zb_any.get(f"/repositories/{job.repository_id}")
            shutil.rmtree((repo.get("repository") or repo)["config"]["path"])
            zb_any.post(f"/backups/{job.job_id}/run")
            _wait_for(lambda: zb_any.job(job.job_id)["lastBackupStatus"] == "error")
            proxy.requests.clear()
            after = await call(client, "backup_health")
            after_asked = list(proxy.requests)
            proxy.requests.clear()
            again = await call(client, "backup_health")
            again_asked = list(proxy.requests)
        async with mcp_stdio(zb_any, tmp_path / "fresh") as fresh:
            cold = await call(fresh, "backup_health")
    finally:
        proxy.stop()
    news = "GET /api/v1/tasks" if zb_any.legacy else "GET /api/v1/tasks/history?page=1"
    assert sorted(warm_asked) == ["GET /api/v1/backups", news], warm_asked
    assert _essence(warm) == _essence(first)
    # v0.41 keeps no history: when a job's run fails, its last success is its newest snapshot (listed once).
    newest = [f"GET /api/v1/repositories/{job.repository_id}/snapshots"] if zb_any.legacy else []
    assert sorted(after_asked) == sorted(["GET /api/v1/backups", news, *newest]), after_asked
    assert sorted(again_asked) == ["GET /api/v1/backups", news], again_asked
    assert _essence(again) == _essence(after)
    [entry] = [j for j in after["jobs"] if j["id"] == job.job_id]
    on_server = zb_any.job(job.job_id)
    assert on_server["lastBackupStatus"] == "error" and entry["state"] == "failing"
    assert after["verdict"] == "critical"
    assert _essence(after) == _essence(cold)


def _wait_for(condition: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the real server did not get there in time"
        time.sleep(0.5)
