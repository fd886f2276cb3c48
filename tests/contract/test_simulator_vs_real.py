"""Differential check: one scripted scenario against the simulator and against a real Zerobyte, answers equal.

The same HTTP requests (httpx, straight to ``/api/v1``) go to a real Zerobyte v0.42 started with
``../shared/zerobyte-server/zb-server`` and to a ``SimulatorServer`` given the same folders and files. Each
step's status, content type and JSON body are normalised (ids, times, durations and storage figures masked;
the ids the scenario created are named by role) and must be equal, step by step. Every accepted difference
is listed with its reason in ``accepted_differences.py``; anything else is a simulator bug.

The scenario walks the quirks our tools depend on: PATCH resets of ``maxRetries``/``retryDelay``, 400/404/409
texts, a task's lifecycle and SSE events, the forget Zerobyte queues after every backup, ``retentionCategories``
that stay stale after a policy change, list PUT replacement (mirrors, notifications), mirror sync copying only
the newest snapshot, file paging and the 500-entry cap, a restore that skips files already there, tagging that
changes snapshot ids, and deleting a snapshot that does not exist.
"""

from __future__ import annotations

import io
import re
import shutil
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.simulator.testing import TEST_KEY, EventStream
from tests.contract.accepted_differences import ACCEPTED, ACCEPTED_V041, Accepted
from tests.real import zbserver

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not zbserver.available(), reason=zbserver.ABSENT_REASON),
]

TERMINAL = ("succeeded", "failed", "cancelled", "stale")
CRON = "0 3 1 1 *"
# times, durations, storage figures and machine facts: present on both sides, values differ by nature
VOLATILE = {
    "createdAt",
    "updatedAt",
    "startedAt",
    "finishedAt",
    "lastBackupAt",
    "nextBackupAt",
    "lastChecked",
    "lastHealthCheck",
    "lastCopyAt",
    "statsUpdatedAt",
    "time",
    "backup_start",
    "backup_end",
    "mtime",
    "atime",
    "ctime",
    "modifiedAt",
    "duration",
    "total_duration",
    "seconds_elapsed",
    "seconds_remaining",
    "data_added",
    "data_added_packed",
    "data_blobs",
    "tree_blobs",
    "uid",
    "gid",
    "total_size",
    "total_uncompressed_size",
    "compression_ratio",
    "compression_progress",
    "compression_space_saving",
    "snapshots_count",
    "statfs",
}
# restic reports progress once a second: whether a short task has any when it ends depends on the machine
TIMING = {"progress"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
SNAPSHOT_KEYS = {"short_id", "snapshot_id", "id"}


@dataclass
class Side:
    """One server under test: its HTTP client, and how to lay out a volume's files for it."""

    name: str
    http: httpx.Client
    write_files: Callable[[str, Path, dict[str, str]], None]
    names: dict[str, str] = field(default_factory=dict)
    snapshots: dict[str, str] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)

    def name_id(self, value: str, role: str) -> str:
        self.names[value] = f"<{role}>"
        return value

    def name_snapshot(self, value: str, role: str) -> str:
        self.snapshots[value[:8]] = f"<{role}>"
        return value

    # -- requests ---------------------------------------------------------------------------------------
    def call(self, step: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        kind = response.headers.get("content-type", "").split(";")[0]
        body = response.json() if kind == "application/json" else response.text
        self.record[step] = {"status": response.status_code, "type": kind, "body": body}
        return response

    def fact(self, step: str, value: Any) -> None:
        self.record[step] = value

    def normalised(self) -> dict[str, Any]:
        """Every step's answer with ids named or masked (once the scenario has named them all)."""
        return {step: self.mask(value) for step, value in self.record.items()}

    def wait_task(self, task_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dto: dict[str, Any] = self.http.get(f"/tasks/{task_id}").json()
            if dto["status"] in TERMINAL:
                return dto
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: task {task_id} did not end")

    def idle(self, timeout: float = 120) -> None:
        """No active task (the forget Zerobyte queues after a backup included)."""
        time.sleep(0.3)
        deadline = time.monotonic() + timeout
        while self.http.get("/tasks").json():
            assert time.monotonic() < deadline, f"{self.name}: tasks still active"
            time.sleep(0.2)

    # -- normalisation ----------------------------------------------------------------------------------
    def mask_text(self, text: str) -> str:
        for value, label in sorted({**self.names, **self.snapshots}.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(value, label)
        text = HEX64.sub("<hex64>", text)
        return UUID.sub("<uuid>", text)

    def mask(self, value: Any, key: str = "") -> Any:
        if key in TIMING:
            return "<timing>"
        if key in VOLATILE and value is not None:
            return f"<{type(value).__name__}>"
        if isinstance(value, dict):
            return {k: self.mask(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask(v, key) for v in value]
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            if key in SNAPSHOT_KEYS and value[:8] in self.snapshots:
                return self.snapshots[value[:8]]
            if key in SNAPSHOT_KEYS and re.fullmatch(r"[0-9a-f]{8}|[0-9a-f]{64}", value):
                return "<snapshot>"
            return self.mask_text(value)
        return value


# -- the two sides ----------------------------------------------------------------------------------------


def _tar_summary(response: httpx.Response) -> dict[str, Any]:
    """A tar answer as its status, type, disposition and member names (the few that are not the big folder's)."""
    members: list[str] = []
    if response.status_code == 200:
        with tarfile.open(fileobj=io.BytesIO(response.content)) as archive:
            members = archive.getnames()
    return {
        "status": response.status_code,
        "type": response.headers.get("content-type"),
        "disposition": response.headers.get("content-disposition"),
        "members": len(members),
        "names": sorted(n for n in members if "/f0" not in n and not n.startswith("f0")),
    }


def _write_disk(_volume: str, folder: Path, files: dict[str, str]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _nested(files: dict[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for relative, text in files.items():
        *folders, leaf = relative.split("/")
        node = tree
        for part in folders:
            node = node.setdefault(part, {})
        node[leaf] = text
    return tree


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zbserver.RealZerobyte]:
    server = zbserver.start("v0.42", tmp_path_factory.mktemp("zb-state"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def real41(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zbserver.RealZerobyte]:
    server = zbserver.start("v0.41", tmp_path_factory.mktemp("zb41-state"))
    try:
        yield server
    finally:
        server.stop()


def _scenario_files(count: int) -> dict[str, str]:
    files = {"a.txt": "alpha v1\n", "docs/readme.md": "# read me\n", "docs/old.txt": "old\n", "docs/deep/n.txt": "n\n"}
    files.update({f"big/f{i:04d}.txt": "x" * (i % 50) for i in range(count)})
    return files


BIG = 620  # more than one 500-entry page


def scenario(side: Side, root: Path) -> dict[str, Any]:
    """The scripted scenario; returns {step: normalised answer or derived fact}, in order."""
    h = side.http
    src, repo_dir, mirror_dir, restore_dir = root / "src", root / "repo", root / "mirror", root / "restored"
    files = _scenario_files(BIG)
    src.mkdir(parents=True, exist_ok=True)

    # -- volumes, repositories: create answers carry pre-mount / pre-init status ---------------------------
    vol = side.call(
        "create volume", "POST", "/volumes", json={"name": "vol", "config": {"backend": "directory", "path": str(src)}}
    )
    volume = side.name_id(vol.json()["shortId"], "vol")
    side.write_files("vol", src, files)
    side.call("get volume", "GET", f"/volumes/{volume}")
    side.call("volume 404", "GET", "/volumes/nOsUcHvl")
    repo = side.call(
        "create repository",
        "POST",
        "/repositories",
        json={"name": "repo", "config": {"backend": "local", "path": str(repo_dir)}},
    )
    repository = side.name_id(repo.json()["repository"]["shortId"], "repo")
    side.name_id(repo.json()["repository"]["id"], "repo-uuid")
    mir = h.post("/repositories", json={"name": "mirror", "config": {"backend": "local", "path": str(mirror_dir)}})
    mirror = side.name_id(mir.json()["repository"]["shortId"], "mirror")
    side.name_id(mir.json()["repository"]["id"], "mirror-uuid")
    side.call("get repository", "GET", f"/repositories/{repository}")
    side.call("repository 404", "GET", "/repositories/nOsUcHrp")

    # -- backup jobs: validation texts, duplicate name, PATCH resets ---------------------------------------
    job_body = {
        "name": "job",
        "volumeId": volume,
        "repositoryId": repository,
        "enabled": True,
        "cronExpression": CRON,
        "retentionPolicy": {"keepLast": 3},
        "maxRetries": 5,
        "retryDelay": 30,
    }
    side.call("create job bad cron", "POST", "/backups", json={**job_body, "cronExpression": "61 * * * *"})
    created = side.call("create job", "POST", "/backups", json=job_body)
    job = side.name_id(created.json()["shortId"], "job")
    side.call("create job duplicate name", "POST", "/backups", json=job_body)
    side.call("patch job without cron", "PATCH", f"/backups/{job}", json={"repositoryId": repository})
    side.call(
        "patch job resets retries",
        "PATCH",
        f"/backups/{job}",
        json={"repositoryId": repository, "cronExpression": CRON},
    )
    side.call("job 404", "GET", "/backups/nOsUcHjb")
    side.call("forget of an unknown job", "POST", "/backups/nOsUcHjb/forget")

    # -- a backup's task lifecycle, its events, a second run refused, the forget that follows --------------
    started = side.call("run backup", "POST", f"/backups/{job}/run")
    task_id = started.json()["taskId"]
    side.call("run backup again while running", "POST", f"/backups/{job}/run")
    with h.stream("GET", f"/tasks/{task_id}/events", timeout=httpx.Timeout(120)) as stream:
        events = EventStream(stream).read(
            until=lambda e: e.name == "task:changed" and isinstance(e.data, dict) and e.data.get("status") in TERMINAL
        )
    names = [e.name for e in events if e.name != "heartbeat"]  # heartbeats come by the clock
    side.fact("backup events", {"first": names[0], "kinds": sorted(set(names)), "last": events[-1].data})
    side.call("backup task", "GET", f"/tasks/{task_id}")
    side.call("cancel a finished task", "POST", f"/tasks/{task_id}/cancel")
    side.idle()
    for n in (2, 3):
        side.write_files("vol", src, {**files, "a.txt": f"alpha v{n}\n"})
        side.wait_task(h.post(f"/backups/{job}/run").json()["taskId"])
        side.idle()
    history = h.get("/tasks/history").json()["items"]
    side.fact("history kinds", [(i["kind"], i["status"], i["outcome"]) for i in history])
    forget = next(i for i in history if i["kind"] == "forget")
    side.call("post-backup forget task", "GET", f"/tasks/{forget['id']}")

    # -- snapshots and stale retention categories ----------------------------------------------------------
    listed = h.get(f"/repositories/{repository}/snapshots", params={"backupId": job}).json()
    for index, snap in enumerate(listed):
        side.name_snapshot(snap["short_id"], f"snap{index + 1}")
    side.call("snapshots of the job", "GET", f"/repositories/{repository}/snapshots", params={"backupId": job})
    tighter = {"repositoryId": repository, "cronExpression": CRON, "retentionPolicy": {"keepLast": 1}}
    side.call("tighten retention", "PATCH", f"/backups/{job}", json=tighter)
    side.call("categories stay stale", "GET", f"/repositories/{repository}/snapshots", params={"backupId": job})
    newest = listed[-1]["short_id"]
    side.call("snapshot 404", "GET", f"/repositories/{repository}/snapshots/0123abcd")

    # -- files: paging, the 500 cap, a folder listing, a dump ---------------------------------------------
    files_url = f"/repositories/{repository}/snapshots/{newest}/files"
    side.call("files capped at 500", "GET", files_url, params={"path": str(src / "big"), "limit": 1000})
    side.call("files second page", "GET", files_url, params={"path": str(src / "big"), "offset": 500})
    side.call("files of a folder", "GET", files_url, params={"path": str(src / "docs")})
    side.call("files walk first page", "GET", files_url, params={"limit": 5})
    side.call("files of a missing snapshot", "GET", f"/repositories/{repository}/snapshots/0123abcd/files")
    dump = h.get(
        f"/repositories/{repository}/snapshots/{newest}/dump", params={"path": str(src / "a.txt"), "kind": "file"}
    )
    side.fact("dump a file", {"status": dump.status_code, "type": dump.headers.get("content-type"), "body": dump.text})
    for label, params in (
        ("dump the whole snapshot", {}),
        ("dump a folder", {"path": str(src / "docs"), "kind": "dir"}),
        ("dump a sub-folder", {"path": str(src / "docs" / "deep"), "kind": "dir"}),
    ):
        tar = h.get(f"/repositories/{repository}/snapshots/{newest}/dump", params=params)
        side.fact(label, _tar_summary(tar))
    side.call(
        "dump without kind",
        "GET",
        f"/repositories/{repository}/snapshots/{newest}/dump",
        params={"path": str(src / "a.txt")},
    )

    # -- restores: a new folder, then in place over identical files ---------------------------------------
    fresh = h.post(
        f"/repositories/{repository}/restore",
        json={
            "snapshotId": newest,
            "include": [str(src / "docs")],
            "selectedItemKind": "dir",
            "targetPath": str(restore_dir),
        },
    )
    side.fact("restore into a new folder", side.wait_task(fresh.json()["restoreId"])["result"])
    in_place = h.post(
        f"/repositories/{repository}/restore",
        json={"snapshotId": newest, "include": [str(src / "a.txt")], "selectedItemKind": "file"},
    )
    side.fact("restore over identical files", side.wait_task(in_place.json()["restoreId"])["result"])
    side.call(
        "restore of a missing snapshot", "POST", f"/repositories/{repository}/restore", json={"snapshotId": "0123abcd"}
    )

    # -- mirrors: PUT replaces the list, sync without ids copies only the newest ---------------------------
    mirrors_url = f"/backups/{job}/mirrors"
    side.call("set mirror", "PUT", mirrors_url, json={"mirrors": [{"repositoryId": mirror, "enabled": False}]})
    side.call("mirror status before", "GET", f"{mirrors_url}/{mirror}/status")
    sync = side.call("sync mirror", "POST", f"{mirrors_url}/{mirror}/sync", json={})
    side.fact("sync mirror task", side.wait_task(sync.json()["taskId"]))
    side.idle()
    side.call("mirror status after sync", "GET", f"{mirrors_url}/{mirror}/status")
    side.call(
        "mirror of an unknown repository",
        "PUT",
        mirrors_url,
        json={"mirrors": [{"repositoryId": "nOsUcHrp", "enabled": True}]},
    )
    side.call("mirrors replaced by an empty list", "PUT", mirrors_url, json={"mirrors": []})

    # -- notifications: PUT replaces the routing ---------------------------------------------------------
    dest = h.post(
        "/notifications/destinations",
        json={"name": "hook", "config": {"type": "generic", "url": "http://127.0.0.1:9/hook", "method": "POST"}},
    )
    destination = dest.json()["id"]
    flags = {"notifyOnStart": False, "notifyOnSuccess": True, "notifyOnWarning": True, "notifyOnFailure": True}
    routes = f"/backups/{job}/notifications"
    side.call("route notifications", "PUT", routes, json={"assignments": [{"destinationId": destination, **flags}]})
    side.call("routing replaced by an empty list", "PUT", routes, json={"assignments": []})
    side.call(
        "routing to a missing destination", "PUT", routes, json={"assignments": [{"destinationId": 999, **flags}]}
    )

    # -- tagging changes ids; deleting a missing snapshot succeeds ---------------------------------------
    first = listed[0]["short_id"]
    tag = side.call(
        "tag a snapshot",
        "POST",
        f"/repositories/{repository}/snapshots/tag",
        json={"snapshotIds": [first], "add": ["keep"]},
    )
    tagged = side.wait_task(tag.json()["taskId"])
    side.fact("tag task result", tagged["result"])
    after = h.get(f"/repositories/{repository}/snapshots").json()
    retagged = [s for s in after if "keep" in s["tags"]]
    side.fact(
        "tagging changed the id",
        {"tagged": len(retagged), "new id differs": bool(retagged) and retagged[0]["short_id"] != first},
    )
    gone = side.call("delete a missing snapshot", "DELETE", f"/repositories/{repository}/snapshots/0123abcd")
    side.fact("delete a missing snapshot task", side.wait_task(gone.json()["taskId"]))

    # -- the post-backup forget applies the tightened policy ----------------------------------------------
    side.write_files("vol", src, {**files, "a.txt": "alpha v4\n"})
    side.wait_task(h.post(f"/backups/{job}/run").json()["taskId"])
    side.idle()
    left = h.get(f"/repositories/{repository}/snapshots", params={"backupId": job}).json()
    side.fact("after the post-backup forget", [(len(s["tags"]), s["retentionCategories"]) for s in left])
    side.call("task 404", "GET", "/tasks/01a233ec-0000-7000-8000-000000000000")
    side.call("unknown route", "GET", "/no-such-route")
    return side.normalised()


def _settle_job(side: Side, job: str, timeout: float = 120) -> None:
    """v0.41 runs a backup with no task id to follow: wait for the job's status, then for its forget."""
    deadline = time.monotonic() + timeout
    while side.http.get(f"/backups/{job}").json()["lastBackupStatus"] in (None, "in_progress"):
        assert time.monotonic() < deadline, f"{side.name}: the backup did not end"
        time.sleep(0.2)
    side.idle()
    time.sleep(2.0)  # the post-backup forget and mirror copy run after the task, with nothing to follow


def _wait_mirrored(side: Side, url: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        # While the copy holds the repository's lock, a real status read can answer an error: read again.
        response = side.http.get(url)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code == 200 and body.get("mirrorCount", 0) >= count:
            return
        assert time.monotonic() < deadline, (
            f"{side.name}: the mirror copy did not arrive ({response.status_code} {response.text[:200]})"
        )
        time.sleep(0.3)


def legacy_scenario(side: Side, root: Path) -> dict[str, Any]:
    """The routes whose answers differ on v0.41.0 (the latest stable release)."""
    h = side.http
    src, repo_dir, mirror_dir = root / "src", root / "repo", root / "mirror"
    files = {"a.txt": "alpha v1\n", "docs/readme.md": "# read me\n", "docs/old.txt": "old\n"}
    src.mkdir(parents=True, exist_ok=True)
    vol = h.post("/volumes", json={"name": "vol", "config": {"backend": "directory", "path": str(src)}})
    volume = side.name_id(vol.json()["shortId"], "vol")
    side.write_files("vol", src, files)
    repo = h.post("/repositories", json={"name": "repo", "config": {"backend": "local", "path": str(repo_dir)}})
    repository = side.name_id(repo.json()["repository"]["shortId"], "repo")
    side.name_id(repo.json()["repository"]["id"], "repo-uuid")
    mir = h.post("/repositories", json={"name": "mirror", "config": {"backend": "local", "path": str(mirror_dir)}})
    mirror = side.name_id(mir.json()["repository"]["shortId"], "mirror")
    side.name_id(mir.json()["repository"]["id"], "mirror-uuid")
    body = {
        "name": "job",
        "volumeId": volume,
        "repositoryId": repository,
        "enabled": True,
        "cronExpression": CRON,
        "retentionPolicy": {"keepLast": 3},
    }
    job = side.name_id(h.post("/backups", json=body).json()["shortId"], "job")

    side.call("run backup answers success with no task", "POST", f"/backups/{job}/run")
    side.call("run backup again while running", "POST", f"/backups/{job}/run")
    active = h.get("/tasks").json()
    side.fact("the running backup in /tasks", [(t["kind"], t["resourceType"], t["resourceId"]) for t in active])
    _settle_job(side, job)
    side.call("job after the backup", "GET", f"/backups/{job}")
    side.call("no task history", "GET", "/tasks/history")
    side.call("task filter needs type and id", "GET", "/tasks", params={"resourceType": "backup_schedule"})
    side.call("stop when nothing runs", "POST", f"/backups/{job}/stop")
    for n in (2, 3):
        side.write_files("vol", src, {**files, "a.txt": f"alpha v{n}\n"})
        h.post(f"/backups/{job}/run")
        _settle_job(side, job)
    listed = h.get(f"/repositories/{repository}/snapshots", params={"backupId": job}).json()
    for index, snap in enumerate(listed):
        side.name_snapshot(snap["short_id"], f"snap{index + 1}")
    side.call("snapshots of the job", "GET", f"/repositories/{repository}/snapshots", params={"backupId": job})

    mirrors_url = f"/backups/{job}/mirrors"
    side.call("set mirror", "PUT", mirrors_url, json={"mirrors": [{"repositoryId": mirror, "enabled": False}]})
    side.call("sync mirror answers success with no task", "POST", f"{mirrors_url}/{mirror}/sync", json={})
    _wait_mirrored(side, f"{mirrors_url}/{mirror}/status", 1)
    time.sleep(1.0)  # a second copy would have arrived by now
    side.call("mirror status after sync", "GET", f"{mirrors_url}/{mirror}/status")

    newest = listed[-1]["short_id"]
    in_place = h.post(
        f"/repositories/{repository}/restore",
        json={"snapshotId": newest, "include": [str(src / "a.txt")], "selectedItemKind": "file"},
    )
    side.fact("restore over identical files", side.wait_task(in_place.json()["restoreId"])["result"])

    tighter = {"repositoryId": repository, "cronExpression": CRON, "retentionPolicy": {"keepLast": 1}}
    h.patch(f"/backups/{job}", json=tighter)
    side.call("categories stay stale", "GET", f"/repositories/{repository}/snapshots", params={"backupId": job})
    side.call("forget answers success with no task", "POST", f"/backups/{job}/forget")
    side.call("snapshots after forget", "GET", f"/repositories/{repository}/snapshots", params={"backupId": job})
    gone = side.call("delete a missing snapshot", "DELETE", f"/repositories/{repository}/snapshots/0123abcd")
    side.fact("delete a missing snapshot task", side.wait_task(gone.json()["taskId"]))
    return side.normalised()


def _differences(real: Any, sim: Any, path: str = "") -> list[str]:
    """Where two normalised answers differ, as ``path: real != simulator`` lines."""
    if isinstance(real, dict) and isinstance(sim, dict):
        out = []
        for key in sorted(set(real) | set(sim)):
            if key not in sim:
                out.append(f"{path}/{key}: real {real[key]!r}, simulator has no such key")
            elif key not in real:
                out.append(f"{path}/{key}: simulator {sim[key]!r}, real has no such key")
            else:
                out += _differences(real[key], sim[key], f"{path}/{key}")
        return out
    if isinstance(real, list) and isinstance(sim, list) and len(real) == len(sim):
        return [
            line for i, (a, b) in enumerate(zip(real, sim, strict=True)) for line in _differences(a, b, f"{path}/{i}")
        ]
    return [] if real == sim else [f"{path or '/'}: real {real!r} != simulator {sim!r}"]


def _drop(value: Any, parts: list[str]) -> Any:
    if not parts:
        return "<accepted>"
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        return {k: (_drop(v, rest) if head in ("*", k) else v) for k, v in value.items()}
    if isinstance(value, list):
        return [(_drop(v, rest) if head in ("*", str(i)) else v) for i, v in enumerate(value)]
    return value


def _accept(accepted: dict[str, Accepted], step: str, value: Any) -> Any:
    entry = accepted.get(step)
    for path in entry.paths if entry else ():
        value = _drop(value, [p for p in path.split("/") if p])
    return value


def _compare(
    real: zbserver.RealZerobyte,
    root: Path,
    run: Callable[[Side, Path], dict[str, Any]],
    accepted: dict[str, Accepted],
    **sim_options: Any,
) -> None:
    expected = run(Side("real", real.http, _write_disk), root)
    # restic reports progress once a second (RESTIC_PROGRESS_FPS=1): these sub-second tasks report none
    # (the check masks progress anyway: on a slow machine a real backup may have reported some)
    sim = Simulator(api_keys=[TEST_KEY], task_seconds=0.6, progress_interval=1.0, heartbeat_interval=5.0, **sim_options)
    sim.hostname = "zerobyte"
    state = real.state
    sim.restore_blocked_roots = (
        str(state / "repositories"),
        str(state / "cache"),
        str(state),
        str(state / "tmp"),
        "/app",
    )

    def write_sim(volume: str, _folder: Path, files: dict[str, str]) -> None:
        sim.set_volume_files(volume, _nested(files))

    try:
        with (
            SimulatorServer(sim) as server,
            httpx.Client(base_url=f"{server.url}/api/v1", headers={"x-api-key": TEST_KEY}, timeout=60) as client,
        ):
            got = run(Side("simulator", client, write_sim), root)
    finally:
        sim.close()

    assert list(got) == list(expected)
    wrong, stale = [], []
    for step, real_answer in expected.items():
        if step in accepted and got[step] == real_answer:
            stale.append(step)
        lines = _differences(_accept(accepted, step, real_answer), _accept(accepted, step, got[step]))
        if lines:
            wrong.append(f"{step}:\n  " + "\n  ".join(line[:400] for line in lines))
    assert not stale, f"accepted differences that no longer differ (remove them): {stale}"
    assert not wrong, "the simulator differs from a real Zerobyte:\n" + "\n".join(wrong)


def test_the_simulator_answers_the_scenario_as_a_real_zerobyte_does(
    real: zbserver.RealZerobyte, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _compare(real, tmp_path_factory.mktemp("real-data"), scenario, ACCEPTED)


def test_the_v041_simulator_answers_as_a_real_v041_does(
    real41: zbserver.RealZerobyte, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("real41-data")
    _compare(real41, root, legacy_scenario, ACCEPTED_V041, legacy=True, legacy_version="v0.41")
