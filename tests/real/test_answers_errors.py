"""Issue 12.4 and 12.5 on a real Zerobyte: failures read as sentences with a next step, and health sees a
repository that Zerobyte still calls healthy while every job writing to it fails.

Three jobs are built and backed up once through /api/v1, then broken on disk the way users break them: a
repository whose keys were deleted (restic: wrong password or no key found), a repository folder removed
(restic: repository does not exist), and a volume whose source folder is gone.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.real.conftest import McpConfig, call, mcp_stdio, refused, unique
from tests.real.seed import Seeded, backed_up_job, run_backup
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

WRONG_PASSWORD = "restic: wrong password or no key found (exit 12)"


@dataclass
class Broken:
    keys_gone: Seeded
    repo_gone: Seeded
    source_gone: Seeded


@pytest.fixture(scope="module")
def broken(zb: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Broken:
    root = tmp_path_factory.mktemp("broken")
    world = Broken(*(backed_up_job(zb, root / name, {"a.txt": name}) for name in ("keys", "repo", "source")))
    keys = Path(zb.get(f"/repositories/{world.keys_gone.repository_id}")["config"]["path"]) / "keys"
    for key in keys.iterdir():
        key.unlink()
    shutil.rmtree(zb.get(f"/repositories/{world.repo_gone.repository_id}")["config"]["path"])
    assert run_backup(zb, world.repo_gone.job_id)["status"] == "failed"
    shutil.rmtree(world.source_gone.source)
    return world


async def test_a_wrong_password_reads_as_a_restic_sentence_with_a_next_step_in_every_answer(
    zb: RealZerobyte, broken: Broken, data_root: Path
) -> None:
    job_id = broken.keys_gone.job_id
    async with mcp_stdio(zb, data_root / "mcp", McpConfig(access="operate")) as client:
        run = await call(client, "run_backup", job_id=job_id)
        listed = await call(client, "list_backup_jobs")
        detail = await call(client, "get_backup_job", job_id=job_id)
        history = await call(client, "task_history", outcome="error")
    assert zb.job(job_id)["lastBackupStatus"] == "error"
    assert '"message_type"' in zb.job(job_id)["lastBackupError"]  # what Zerobyte itself says
    assert (run["outcome"], run["error"]) == ("error", WRONG_PASSWORD)
    entry = next(j for j in listed["jobs"] if j["id"] == job_id)
    for shown in (run, entry, detail):
        assert "run_doctor" in shown["next_step"] and "create_repository" in shown["next_step"], shown
    assert entry["last_error"] == detail["last_error"] == WRONG_PASSWORD
    failed = [i for i in history["items"] if broken.keys_gone.job_name in (i.get("target") or "")]
    assert failed and failed[0]["message"] == WRONG_PASSWORD and "run_doctor" in failed[0]["next_step"]
    assert not [i for i in history["items"] if "message_type" in (i.get("message") or "")]


async def test_health_lists_repositories_that_every_job_fails_to_open_although_zerobyte_calls_them_healthy(
    zb: RealZerobyte, broken: Broken, data_root: Path
) -> None:
    assert run_backup(zb, broken.keys_gone.job_id)["status"] == "failed"
    async with mcp_stdio(zb, data_root / "mcp") as client:
        health = await call(client, "backup_health")
    for seeded in (broken.keys_gone, broken.repo_gone):
        assert zb.get(f"/repositories/{seeded.repository_id}")["status"] == "healthy"
    issues = {r["id"]: r for r in health["repositories"]}
    keys, gone = issues[broken.keys_gone.repository_id], issues[broken.repo_gone.repository_id]
    assert keys["status"] == gone["status"] == "error"
    assert broken.keys_gone.job_name in keys["message"] and WRONG_PASSWORD in keys["message"]
    assert "restic: repository does not exist" in gone["message"]
    assert "run_doctor" in keys["next_step"] and "path/bucket" in gone["next_step"]
    assert broken.source_gone.repository_id not in issues
    assert health["verdict"] == "critical"
    failing_now = {f.get("target") for f in health["recent_failures"]}
    assert any(broken.keys_gone.job_name in (t or "") for t in failing_now), health["recent_failures"]


async def test_run_backup_on_a_missing_source_says_to_fix_or_remount_the_volume(
    zb: RealZerobyte, broken: Broken, data_root: Path
) -> None:
    seeded = broken.source_gone
    before = len(zb.snapshots(seeded.repository_id))
    async with mcp_stdio(zb, data_root / "mcp", McpConfig(access="operate")) as client:
        text = await refused(client, "run_backup", job_id=seeded.job_id)
        zb.post(f"/volumes/{seeded.volume_id}/unmount")
        created = await call(
            client,
            "create_backup_job",
            name=unique("job"),
            volume_id=seeded.volume_id,
            repository_id=seeded.repository_id,
            schedule="0 3 1 1 *",
            retention="last 3",
        )
    assert "source folder" in text and str(seeded.source) in text
    assert "update_volume" in text and "mount_volume" in text
    assert len(zb.snapshots(seeded.repository_id)) == before
    assert zb.get(f"/volumes/{seeded.volume_id}")["volume"]["status"] == "unmounted"
    assert zb.job(created["job"]["id"])["name"] == created["job"]["name"]
    assert "Warning: volume" in created["note"] and "unmounted" in created["note"] and "mount_volume" in created["note"]
