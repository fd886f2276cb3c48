"""The 18-task exercise of issue 15, done through our tools (stdio) against a real Zerobyte, on the shortest path.

Each task is the fewest calls an agent that read tools/list needs; every answer is printed for a human to read
as an agent would, with automatic checks of what a right answer must contain, and the calls are counted.

    PYTHONPATH=. python bench/v041_exercise.py [v0.41|v0.42] [folder]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client

from tests.real import zbserver
from tests.real.conftest import Answer, McpConfig, ask, make_files, mcp_stdio
from tests.real.zbserver import RealZerobyte


@dataclass
class Task:
    title: str
    shortest: int
    calls: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Exercise:
    client: Client
    tasks: list[Task] = field(default_factory=list)

    def task(self, title: str, shortest: int) -> Task:
        self.tasks.append(Task(title, shortest))
        print(f"\n=== {len(self.tasks)}. {title}")
        return self.tasks[-1]

    async def call(self, tool: str, **arguments: Any) -> Answer:
        self.tasks[-1].calls += 1
        answer = await ask(self.client, tool, **arguments)
        shown = json.dumps(answer.data)[:900] if answer.data else answer.text[:900]
        print(f"--> {tool}({json.dumps(arguments)[:200]}){' ERROR' if answer.is_error else ''}\n    {shown}")
        return answer

    def expect(self, ok: bool, problem: str) -> None:
        if not ok:
            self.tasks[-1].problems.append(problem)
            print(f"    !! {problem}")


def _running_backup(zb: RealZerobyte, job: dict[str, Any]) -> None:
    zb.post(f"/backups/{job['shortId']}/run")
    resource = str(job["id"]) if zb.legacy else job["shortId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if zb.get("/tasks", kind="backup", resourceType="backup_schedule", resourceId=resource):
            return
        time.sleep(0.2)


async def exercise(zb: RealZerobyte, root: Path) -> list[Task]:
    source = make_files(root / "photos", {"notes.txt": "first", "docs/a.txt": "alpha", "docs/b.txt": "beta"})
    big = root / "big"
    big.mkdir()
    with (big / "big.bin").open("wb") as out:
        for _ in range(256):
            out.write(os.urandom(1 << 20))
    restore_root = root / "restore"
    restore_root.mkdir()
    config = McpConfig(access="full", restore_roots=(str(restore_root),), volume_roots=(str(root),))
    async with mcp_stdio(zb, root / "mcp", config) as client:
        ex = Exercise(client)
        await client.list_tools()

        ex.task("What is this Zerobyte, and what can it not do?", 1)
        info = (await ex.call("get_system_info")).data
        ex.expect(bool(info.get("version")), "no version")
        if zb.legacy:
            ex.expect(any("task_history" in n for n in info.get("notes", [])), "missing task_history not named")

        ex.task("Add the folder ./photos as a volume", 1)
        vol = (await ex.call("create_volume", name="photos", backend="directory", source=str(source))).data
        volume_id = vol["volume"]["id"]

        ex.task("Create a local encrypted repository", 1)
        repo = (await ex.call("create_repository", name="local", backend="local", location=str(root / "r"))).data
        repo_id = repo["repository"]["id"]

        ex.task("Back it up daily at 02:00, keep 7 daily, exclude *.tmp", 1)
        job = await ex.call(
            "create_backup_job",
            name="photos-nightly",
            volume_id=volume_id,
            repository_id=repo_id,
            schedule="0 2 * * *",
            retention="7 daily",
            exclude_patterns=["*.tmp"],
        )
        job_id = job.data["job"]["id"]

        ex.task("Back up now and tell me when it is done", 1)
        first = (await ex.call("run_backup", job_id=job_id)).data
        ex.expect(first.get("outcome") == "success", "backup not reported as a success")
        ex.expect(bool(first.get("id")), "no task id")
        snap1 = (first.get("result") or {}).get("snapshot_id")
        ex.expect(bool(snap1), "no snapshot id")
        ex.expect((first.get("result") or {}).get("files_new") == 3, "files_new is not 3")

        ex.task("I changed notes.txt: back up again", 1)
        (source / "notes.txt").write_text("second")
        second = (await ex.call("run_backup", job_id=job_id)).data
        ex.expect((second.get("result") or {}).get("files_changed") == 1, "files_changed is not 1")

        ex.task("Are my backups healthy?", 1)
        health = (await ex.call("backup_health")).data
        ex.expect(health.get("verdict") == "ok", f"verdict {health.get('verdict')}")

        ex.task("Which backups hold notes.txt?", 1)
        found = await ex.call("find_file", pattern="notes.txt", backup_job_id=job_id)
        ex.expect(not found.is_error and "notes.txt" in found.text, "notes.txt not found")

        ex.task("What did notes.txt say in the first backup?", 1)
        text = await ex.call("read_snapshot_file", snapshot_id=snap1, path=f"{source}/notes.txt", repository_id=repo_id)
        ex.expect("first" in text.text, "old content not shown")

        ex.task("Restore the docs folder from the first backup into the restore folder", 1)
        restored = await ex.call(
            "restore",
            repository_id=repo_id,
            snapshot_id=snap1,
            paths=[f"{source}/docs"],
            target_path=str(restore_root / "docs"),
        )
        ex.expect((restore_root / "docs" / "a.txt").is_file(), "docs/a.txt not restored")
        ex.expect(restored.data.get("outcome") == "success", "restore not reported as a success")

        ex.task("Add an offsite copy (second repository as a mirror)", 2)
        off = (await ex.call("create_repository", name="offsite", backend="local", location=str(root / "m"))).data
        mirror_id = off["repository"]["id"]
        mirrored = await ex.call("set_mirror", job_id=job_id, repository_id=mirror_id)
        ex.expect(not mirrored.is_error, "mirror not added")

        ex.task("Copy everything to the mirror now and tell me when done", 1)
        synced = await ex.call("sync_mirror", job_id=job_id, mirror_repository_id=mirror_id)
        ex.expect(synced.data.get("outcome") == "success", "sync not reported as a success")
        ex.expect("unknown" not in synced.text, "a made-up id in the answer")
        ex.expect(len(zb.snapshots(mirror_id)) == 2, f"mirror holds {len(zb.snapshots(mirror_id))} snapshots, not 2")

        ex.task("Is the mirror complete?", 1)
        status = (await ex.call("get_mirror_status", job_id=job_id, repository_id=mirror_id)).data
        ex.expect(status.get("in_sync") is True, "mirror not in sync")

        # A long backup of another job, started outside the tools (the user's schedule or web UI).
        big_vol = zb.post("/volumes", {"name": "big", "config": {"backend": "directory", "path": str(big)}})
        big_job = zb.post(
            "/backups",
            {
                "name": "big-job",
                "volumeId": big_vol["shortId"],
                "repositoryId": repo_id,
                "enabled": True,
                "cronExpression": "0 3 1 1 *",
            },
        )
        _running_backup(zb, big_job)
        ex.task("A backup is running for ages: stop it", 2)
        active = (await ex.call("list_active_tasks")).data
        running = [t for t in active.get("tasks", []) if t.get("kind") == "backup"]
        ex.expect(bool(running), "running backup not listed")
        if running:
            stopped = (await ex.call("cancel_task", task_id=running[0]["id"])).data
            ex.expect(stopped.get("outcome") == "cancelled", f"outcome {stopped.get('outcome')}")
        ex.expect(zb.job(big_job["shortId"])["lastBackupStatus"] != "in_progress", "still running on the server")

        ex.task("Keep only the last backup from now on, and apply it now", 4)
        changed = (await ex.call("update_backup_job", job_id=job_id, retention="last 1, daily 0")).data
        if changed.get("outcome") == "confirmation_required":
            token = changed["confirm_token"]
            changed = (
                await ex.call("update_backup_job", job_id=job_id, retention="last 1, daily 0", confirm_token=token)
            ).data
        ex.expect(changed.get("outcome") == "updated", f"update {changed.get('outcome')}")
        asked = (await ex.call("apply_retention", job_id=job_id)).data
        if asked.get("outcome") == "confirmation_required":
            done = (await ex.call("apply_retention", job_id=job_id, confirm_token=asked["confirm_token"])).data
        else:
            done = asked
            ex.expect(False, "no confirmation asked")
        ex.expect(done.get("outcome") == "success", f"outcome {done.get('outcome')}")
        newest = str((second.get("result") or {}).get("snapshot_id"))
        ex.expect(f"({newest}" not in str(done.get("message")), "the kept snapshot named as forgotten")
        ex.expect(str(snap1) in str(done.get("message")), "does not name the forgotten snapshot")
        left = [x["short_id"] for x in zb.snapshots(repo_id, job_id)]
        ex.expect(left == [newest], f"server keeps {left}")

        ex.task("Tag the remaining backup keep-forever", 1)
        tagged = await ex.call(
            "tag_snapshots", repository_id=repo_id, snapshot_ids=[left[0]], add_tags=["keep-forever"]
        )
        ex.expect(not tagged.is_error and "keep-forever" in tagged.text, "not tagged")

        ex.task("What ran recently, and how did it end?", 1)
        jobs = (await ex.call("list_backup_jobs")).data
        statuses = {j["name"]: j.get("last_status") for j in jobs.get("jobs", [])}
        ex.expect(statuses.get("big-job") == "cancelled", f"big-job shows {statuses.get('big-job')}")

        ex.task("Check the repository's integrity", 1)
        doctor = (await ex.call("run_doctor", repository_id=repo_id)).data
        ex.expect(doctor.get("outcome") == "success", f"doctor {doctor.get('outcome')}")
    return ex.tasks


def main() -> None:
    version = sys.argv[1] if len(sys.argv) > 1 else "v0.41"
    root = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="v041-exercise-"))
    zb = zbserver.start(version, root / "state")
    try:
        tasks = asyncio.run(exercise(zb, root / "data"))
    finally:
        zb.stop()
    print(f"\n{'task':<66} calls shortest problems")
    for i, t in enumerate(tasks, 1):
        print(f"{i:>2}. {t.title[:61]:<62} {t.calls:>5} {t.shortest:>8} {'; '.join(t.problems) or '-'}")
    total, best = sum(t.calls for t in tasks), sum(t.shortest for t in tasks)
    wrong = sum(1 for t in tasks if t.problems)
    print(f"{len(tasks)} tasks, {total} calls (shortest {best}), {wrong} with problems")


if __name__ == "__main__":
    main()
