"""Set-up for real stories that are not about set-up: a volume, a repository and a job made straight
through ``/api/v1`` (no MCP), with a few backups run and awaited. One module builds it once and its
stories share it, which keeps the suite fast and under Zerobyte's rate limit."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.real.conftest import make_files, unique
from tests.real.zbserver import RealZerobyte


@dataclass
class Seeded:
    volume_id: str
    volume_name: str
    repository_id: str
    repository_name: str
    job_id: str
    job_name: str
    source: Path
    snapshots: list[str] = field(default_factory=list)  # short ids, oldest first


def wait_task(zb: RealZerobyte, task_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = zb.get(f"/tasks/{task_id}")
        if task.get("status") not in ("queued", "running", "cancelling"):
            return task
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {task_id} still {task.get('status')}")
        time.sleep(0.3)


def run_backup(zb: RealZerobyte, job_id: str) -> dict[str, Any]:
    started = zb.post(f"/backups/{job_id}/run")
    return wait_task(zb, started["taskId"])


def volume(zb: RealZerobyte, source: Path, name: str | None = None) -> dict[str, Any]:
    created: dict[str, Any] = zb.post(
        "/volumes", {"name": name or unique("vol"), "config": {"backend": "directory", "path": str(source)}}
    )
    return created


def repository(zb: RealZerobyte, path: Path, name: str | None = None) -> dict[str, Any]:
    created = zb.post(
        "/repositories", {"name": name or unique("repo"), "config": {"backend": "local", "path": str(path)}}
    )
    repo: dict[str, Any] = created["repository"]
    return repo


def job(zb: RealZerobyte, volume_id: Any, repository_id: Any, name: str | None = None) -> dict[str, Any]:
    created: dict[str, Any] = zb.post(
        "/backups",
        {
            "name": name or unique("job"),
            "volumeId": volume_id,
            "repositoryId": repository_id,
            "enabled": True,
            "cronExpression": "0 3 1 1 *",
            "retentionPolicy": {"keepLast": 10},
        },
    )
    return created


def backed_up_job(zb: RealZerobyte, root: Path, files: dict[str, str], runs: int = 1) -> Seeded:
    """A job over ``files`` with ``runs`` backups done (files change between runs: '<run>' is appended)."""
    source = make_files(root / "source", files)
    vol = volume(zb, source)
    repo = repository(zb, root / "repo")
    sched = job(zb, vol["shortId"], repo["shortId"])
    seeded = Seeded(
        volume_id=vol["shortId"],
        volume_name=vol["name"],
        repository_id=repo["shortId"],
        repository_name=repo["name"],
        job_id=sched["shortId"],
        job_name=sched["name"],
        source=source,
    )
    for run in range(runs):
        if run:
            for relative in files:
                (source / relative).write_text(f"{files[relative]} {run}")
        task = run_backup(zb, seeded.job_id)
        assert task["status"] == "succeeded", task
    seeded.snapshots = [s["short_id"] for s in sorted(zb.snapshots(seeded.repository_id), key=lambda s: s["time"])]
    return seeded
