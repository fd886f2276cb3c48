"""A backed-up world for the real-server stories: a volume, a repository and a job made through our tools.

Building it costs a few restic runs, so a story module builds one per server (module scope) and its stories
share it; stories that change snapshots (tag, delete) make their own with ``backup_directly``. The direct
``/api/v1`` helpers here only arrange or check state on the real server: the action under test always goes
through our MCP server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from tests.real import seed
from tests.real.conftest import McpConfig, call, make_files, mcp_stdio, unique
from tests.real.zbserver import RealZerobyte

SCHEDULE = "0 3 1 1 *"
FIRST_FILES = {
    "docs/report.txt": "quarterly report, first draft\n",
    "docs/budget 2026.csv": "item,amount\nrent,1000\n",
    "docs/old-plan.md": "# plan that will be deleted\n",
    "photos/cat.txt": "a cat\n",
    "cache/build.tmp": "scratch that is excluded\n",
}


@dataclass
class Agents:
    """MCP clients of our server at each access level (read-only, operate, full)."""

    reader: Client
    operator: Client
    admin: Client


@dataclass
class World:
    """Ids and paths of one backed-up job on one real server, and what our tools answered while building it."""

    zb: RealZerobyte
    root: Path
    source: Path
    restore_root: Path
    volume_id: str
    repository_id: str
    repository_path: Path
    job_id: str
    job_name: str
    first: str
    second: str
    created: dict[str, Any] = field(default_factory=dict)
    first_run: dict[str, Any] = field(default_factory=dict)
    second_run: dict[str, Any] = field(default_factory=dict)
    progress: list[tuple[float, float | None, str | None]] = field(default_factory=list)

    def config(self, access: str = "operate", **changes: Any) -> McpConfig:
        return McpConfig(access=access, restore_roots=(str(self.restore_root),), **changes)

    def mcp_folder(self) -> Path:
        return self.root / unique("mcp")


def build_world(zb: RealZerobyte, root: Path) -> World:
    """Volume + repository + job (retention, excludes), a backup, a change of files, a second backup."""
    return anyio.run(_build, zb, root)


async def _build(zb: RealZerobyte, root: Path) -> World:
    source = make_files(root / "source", FIRST_FILES)
    restore_root = root / "restores"
    restore_root.mkdir()
    repository_path = root / "repository"
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with mcp_stdio(zb, root / "mcp-build", McpConfig(access="operate")) as client:
        volume = await call(client, "create_volume", name=unique("vol"), backend="directory", source=str(source))
        repository = await call(
            client, "create_repository", name=unique("repo"), backend="local", location=str(repository_path)
        )
        job_name = unique("nightly")
        job = await call(
            client,
            "create_backup_job",
            name=job_name,
            volume_id=volume["volume"]["id"],
            repository_id=repository["repository"]["id"],
            schedule=SCHEDULE,
            retention="last 5, daily 7",
            exclude_patterns=["*.tmp"],
            options=["max_retries=4", "retry_delay=20"],
        )
        job_id = job["job"]["id"]
        result = await client.call_tool("run_backup", {"job_id": job_id}, progress_callback=on_progress)
        assert not result.is_error, result.content
        first_run = dict(result.structured_content or {})
        # The second backup: one file changed, one deleted, one added.
        (source / "docs/report.txt").write_text("quarterly report, final version\n")
        (source / "docs/old-plan.md").unlink()
        (source / "docs/new-plan.md").write_text("# the new plan\n")
        second_run = await call(client, "run_backup", job_id=job_id)
    repository_id = repository["repository"]["id"]
    snapshots = wait_for_snapshots(zb, repository_id, 2)
    return World(
        zb=zb,
        root=root,
        source=source,
        restore_root=restore_root,
        volume_id=volume["volume"]["id"],
        repository_id=repository_id,
        repository_path=repository_path,
        job_id=job_id,
        job_name=job_name,
        first=snapshots[0]["short_id"],
        second=snapshots[1]["short_id"],
        created={"volume": volume, "repository": repository, "job": job},
        first_run=first_run,
        second_run=second_run,
        progress=seen,
    )


def wait_for_snapshots(zb: RealZerobyte, repository_id: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The repository's snapshots (oldest first) once at least ``count`` are listed."""
    deadline = time.monotonic() + timeout
    while True:
        snapshots = zb.snapshots(repository_id)
        if len(snapshots) >= count or time.monotonic() > deadline:
            return snapshots
        time.sleep(0.5)


def backup_directly(zb: RealZerobyte, job_id: str, repository_id: str) -> str:
    """Arrange one more snapshot with a direct run (not the action under test); its short id."""
    before = {s["short_id"] for s in zb.snapshots(repository_id)}
    zb.post(f"/backups/{job_id}/run")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = [s for s in zb.snapshots(repository_id) if s["short_id"] not in before]
        if new and zb.job(job_id).get("lastBackupStatus") != "in_progress":
            return str(new[-1]["short_id"])
        time.sleep(0.5)
    raise AssertionError(f"no new snapshot of job {job_id} within 60 s")


def files_in(zb: RealZerobyte, repository_id: str, snapshot_id: str, folder: str) -> dict[str, str]:
    """Name -> type of the entries of one folder of a snapshot, straight from Zerobyte."""
    response = zb.request(
        "GET", f"/repositories/{repository_id}/snapshots/{snapshot_id}/files", params={"path": folder, "limit": 500}
    )
    response.raise_for_status()
    page = response.json()
    return {
        str(node["path"]).rstrip("/").rsplit("/", 1)[-1]: str(node["type"])
        for node in page["files"]
        if str(node["path"]).rstrip("/") != folder.rstrip("/")
    }


@dataclass
class Arranged:
    """A volume, a repository and a job made with direct calls: arrangement for stories about something else."""

    source: Path
    volume_id: str
    repository_id: str
    job_id: str


def arrange_job(zb: RealZerobyte, root: Path, files: dict[str, str], **job: Any) -> Arranged:
    """A job over ``files`` (any extra schedule fields in ``job``), works on v0.41 and v0.42; no backup yet."""
    source = make_files(root / unique("src"), files)
    volume = seed.volume(zb, source)
    repository = seed.repository(zb, root / unique("repo"))
    body = {
        "name": unique("job"),
        "volumeId": volume["shortId"],
        "repositoryId": repository["shortId"],
        "cronExpression": SCHEDULE,
        "enabled": True,
        **job,
    }
    created = zb.post("/backups", body)
    return Arranged(source, str(volume["shortId"]), str(repository["shortId"]), str(created["shortId"]))
