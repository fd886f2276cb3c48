"""Health of a real Zerobyte (v0.42) with a job whose repository lost its keys and a job whose source vanished.

Both break the way they break for users: the restic repository's ``keys/`` folder is deleted on disk, and a
directory volume's source folder is removed. The backups run through our tools fail, and ``backup_health``
names both jobs and the volume, as Zerobyte itself records them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, ask, call, mcp_stdio
from tests.real.story_world import arrange_job, backup_directly
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio


async def test_health_names_a_job_with_a_broken_repository_and_one_with_a_missing_source(
    zb: RealZerobyte, tmp_path: Path
) -> None:
    keyless = arrange_job(zb, tmp_path / "a", {"a.txt": "a"})
    backup_directly(zb, keyless.job_id, keyless.repository_id)
    repository_path = Path(zb.get(f"/repositories/{keyless.repository_id}")["config"]["path"])
    # The whole repository goes (deleting only keys/ left a later backup succeeding now and then on v0.42)
    shutil.rmtree(repository_path)
    sourceless = arrange_job(zb, tmp_path / "b", {"b.txt": "b"})
    backup_directly(zb, sourceless.job_id, sourceless.repository_id)
    shutil.rmtree(sourceless.source)

    async with mcp_stdio(zb, tmp_path / "mcp", McpConfig(access="operate")) as client:
        broken_repo = await ask(client, "run_backup", job_id=keyless.job_id)
        broken_source = await ask(client, "run_backup", job_id=sourceless.job_id)
        checked = await call(client, "mount_volume", volume_id=sourceless.volume_id, action="check")
        health = await call(client, "backup_health")
    # The keyless repository: the run fails with restic's reason, and Zerobyte records the failure.
    assert not broken_repo.is_error and broken_repo.data["outcome"] == "error", broken_repo.text
    job = zb.job(keyless.job_id)
    assert job["lastBackupStatus"] == "error", job
    reason = "repository does not exist"  # restic's reason, in Zerobyte's record and in our answer
    assert reason in str(job["lastBackupError"]) and reason in broken_repo.data["error"]
    # The missing source: nothing started, no snapshot made, and Zerobyte's volume is in error after the check.
    assert broken_source.is_error and sourceless.volume_id in broken_source.text
    assert "missing" in broken_source.text and "mount_volume" in broken_source.text
    assert len(zb.snapshots(sourceless.repository_id)) == 1
    assert checked["outcome"] == "failed"
    volume = zb.get(f"/volumes/{sourceless.volume_id}")
    assert volume.get("volume", volume)["status"] == "error"
    # backup_health names both, each with its evidence.
    assert health["verdict"] == "critical"
    jobs = {j["id"]: j for j in health["jobs"]}
    assert jobs[keyless.job_id]["state"] == "failing"
    assert reason in jobs[keyless.job_id]["message"]
    [volume_issue] = [v for v in health["volumes"] if v["id"] == sourceless.volume_id]
    assert volume_issue["status"] == "error" and "ENOENT" in volume_issue["message"]
    assert zb.job(sourceless.job_id)["name"] in volume_issue["used_by"]
    assert keyless.repository_id in {r["id"] for r in health["repositories"]}
    assert keyless.job_id in {f["target"].split("(")[-1].rstrip(")") for f in health["recent_failures"]}
