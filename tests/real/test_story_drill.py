"""Story: "are my backups restorable?" asked at read-only against a real Zerobyte (v0.42 and v0.41.0), then asked
again after a data pack of the real restic repository is damaged on disk, and for a repository whose password
Zerobyte no longer has. What the drill says it read is checked against the files on disk, and its requests are
counted at a proxy in front of the server."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.real.conftest import McpConfig, ask, mcp_stdio, unique
from tests.real.counting_proxy import CountingProxy
from tests.real.story_world import Arranged, arrange_job, backup_directly
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

BIG = 3 * 2**20  # one incompressible file large enough to own most of a data pack


@dataclass
class Drilled:
    root: Path
    job: Arranged
    snapshots: list[str]  # oldest first
    other: Arranged  # a second job and repository, for the wrong-password story


def restic_repo(zb: RealZerobyte, repository_id: str) -> Path:
    """The restic repository on disk behind a local Zerobyte repository (its config path, as Zerobyte lists it)."""
    (listed,) = [r for r in zb.get("/repositories") if r["shortId"] == repository_id]
    root = Path(listed["config"]["path"])
    found = [p.parent for p in root.rglob("config") if (p.parent / "data").is_dir() and (p.parent / "keys").is_dir()]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def world(zb_any: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Drilled:
    root = tmp_path_factory.mktemp("drill")
    files = {"docs/report.txt": "quarterly report\n", "docs/plan.md": "# plan\n", "notes.txt": "notes v1\n"}
    job = arrange_job(zb_any, root, files)
    (job.source / "media").mkdir()
    (job.source / "media/big.bin").write_bytes(os.urandom(BIG))
    first = backup_directly(zb_any, job.job_id, job.repository_id)
    (job.source / "notes.txt").write_text("notes v2, changed\n")
    second = backup_directly(zb_any, job.job_id, job.repository_id)
    other = arrange_job(zb_any, root, {"keys.txt": "a file of the other job\n"})
    backup_directly(zb_any, other.job_id, other.repository_id)
    return Drilled(root, job, [first, second], other)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _drill(zb: RealZerobyte, world: Drilled, **arguments: Any) -> tuple[dict[str, Any], list[str]]:
    """A read-only drill through a counting proxy: its answer and every request that reached Zerobyte."""
    proxy = CountingProxy(zb.url).start()
    try:
        async with mcp_stdio(replace(zb, url=proxy.url), world.root / unique("mcp"), McpConfig()) as client:
            answer = await ask(client, "drill_backup", **arguments)
            assert not answer.is_error, answer.text
            return answer.data, list(proxy.requests)
    finally:
        proxy.stop()


async def test_a_healthy_job_is_restorable_byte_for_byte_and_the_drill_only_reads(
    zb_any: RealZerobyte, world: Drilled
) -> None:
    answer, requests = await _drill(zb_any, world, backup_job_id=world.job.job_id, seed=11)

    assert answer["verdict"] == "restorable", answer
    (snap,) = answer["snapshots"]
    newest = max(zb_any.snapshots(world.job.repository_id, world.job.job_id), key=lambda s: s["time"])
    assert snap["snapshot"] == newest["short_id"] == world.snapshots[1]
    read = {f["path"]: f for f in snap["files"] if f["why"] == "all"}
    on_disk = {str(p): p for p in world.job.source.rglob("*") if p.is_file()}
    # Each file's path as the snapshot holds it ends with its path in the source.
    assert len(read) == len(on_disk) == 4
    for path, item in read.items():
        (local,) = [p for name, p in on_disk.items() if path.endswith(name[len(str(world.job.source)) :])]
        assert (item["size"], item.get("read_bytes"), item["sha256"], item["result"]) == (
            local.stat().st_size,
            None,  # read back whole: only the listed size is said
            sha256(local),
            "ok",
        )
    (cross,) = [f for f in snap["files"] if f["why"] == "cross-check"]
    assert cross["snapshot"] == world.snapshots[0] and not cross["path"].endswith("notes.txt")
    assert cross["sha256"] == read[cross["path"]]["sha256"]
    assert snap["folder"]["result"] == "ok" and snap["folder"]["files"] >= 2
    assert answer["files_verified"] == 5 and answer["verified_bytes"] >= BIG
    assert answer["bytes_per_second"] > 0
    assert [r for r in requests if not r.startswith("GET ")] == [], requests  # zero writes, counted on the wire
    dumps = [r for r in requests if "/dump?" in r]
    assert sum("kind=file" in r for r in dumps) == 5  # one request per file read, the cross-check included


async def test_a_repository_whose_password_zerobyte_lacks_fails_with_its_own_reason(
    zb_any: RealZerobyte, world: Drilled
) -> None:
    rid = imported_repository_with_a_changed_password(zb_any, world)

    answer, requests = await _drill(zb_any, world, repository_id=rid)

    assert answer["verdict"] == "failed", answer
    (failed,) = answer["snapshots"]
    assert "wrong password or no key found" in failed["reason"], failed
    assert "password" in failed["next_step"] and "update_repository" in failed["next_step"]
    assert [r for r in requests if not r.startswith("GET ")] == []


def imported_repository_with_a_changed_password(zb: RealZerobyte, world: Drilled) -> str:
    """A restic repository made outside Zerobyte, imported with its password, which is then changed."""
    restic = restic_binary()
    location = world.root / unique("imported")
    env = {**os.environ, "RESTIC_PASSWORD": "the-right-one", "RESTIC_REPOSITORY": str(location)}
    subprocess.run([restic, "init", "-q"], env=env, check=True, capture_output=True)
    subprocess.run([restic, "backup", "-q", str(world.job.source / "docs")], env=env, check=True, capture_output=True)
    created = zb.post(
        "/repositories",
        {
            "name": unique("imported"),
            "config": {
                "backend": "local",
                "path": str(location),
                "isExistingRepository": True,
                "customPassword": "the-right-one",
            },
        },
    )
    rid = created["repository"]["shortId"]
    assert len(zb.snapshots(rid)) == 1
    new_password = world.root / unique("password")
    new_password.write_text("another-one\n")
    subprocess.run(
        [restic, "key", "passwd", "-q", "--new-password-file", str(new_password)],
        env=env,
        check=True,
        capture_output=True,
    )
    # Arrange: Zerobyte forgets its cached listing (the refresh itself already fails: restic cannot open it).
    zb.request("POST", f"/repositories/{rid}/snapshots/refresh")
    return str(rid)


def restic_binary() -> str:
    """The restic zb-server runs Zerobyte with (it fetches one when the machine has none)."""
    tools = Path(os.environ.get("ZB_TOOLS_DIR", Path.home() / ".cache" / "zerobyte-server"))
    for candidate in (tools / "restic" / "usr" / "bin" / "restic", shutil.which("restic")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    raise AssertionError("no restic binary: zb-server fetches one on its first start")


async def test_a_damaged_data_pack_on_disk_is_reported_failed_naming_the_file(
    zb_any: RealZerobyte, world: Drilled
) -> None:
    repo = restic_repo(zb_any, world.job.repository_id)
    packs = sorted((p for p in (repo / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    pack = packs[-1]  # the largest: big.bin's data
    assert pack.stat().st_size > BIG // 2
    pack.chmod(0o644)
    with pack.open("r+b") as f:
        f.seek(pack.stat().st_size // 2)
        chunk = f.read(64)
        f.seek(pack.stat().st_size // 2)
        f.write(bytes(b ^ 0xFF for b in chunk))

    answer, requests = await _drill(zb_any, world, backup_job_id=world.job.job_id)

    assert answer["verdict"] == "failed", answer
    (snap,) = answer["snapshots"]
    bad = [f for f in snap["files"] if f["result"] == "failed"]
    assert bad and all(f["path"].endswith("media/big.bin") for f in bad), snap
    assert bad[0]["read_bytes"] < BIG and "stopped after" in bad[0]["reason"]
    assert "big.bin" in answer["summary"] and "run_doctor" in answer["next_step"]
    assert [f["result"] for f in snap["files"] if not f["path"].endswith("big.bin")] == ["ok"] * (
        len(snap["files"]) - len(bad)
    )
    assert [r for r in requests if not r.startswith("GET ")] == []


async def test_a_drill_over_its_byte_budget_is_incomplete_and_names_what_it_left_out(
    zb_any: RealZerobyte, world: Drilled
) -> None:
    answer, _ = await _drill(
        zb_any, world, repository_id=world.job.repository_id, snapshot_id=world.snapshots[0], max_bytes=2**20
    )
    (snap,) = answer["snapshots"]
    assert any("big.bin" in left and "over the byte budget" in left for left in snap["left_out"]), snap
    assert not any(f["path"].endswith("big.bin") for f in snap["files"] if f["why"] != "cross-check")
    assert answer["verdict"] == "incomplete", answer


async def test_cancelling_a_drill_stops_its_dump_streams(zb_any: RealZerobyte, world: Drilled) -> None:
    size = 400 * 2**20
    job = arrange_job(zb_any, world.root, {"small.txt": "small\n"})
    with (job.source / "huge.bin").open("wb") as f:
        for _ in range(size // 2**20):
            f.write(os.urandom(2**20))
    backup_directly(zb_any, job.job_id, job.repository_id)
    listed = zb_any.request(
        "GET",
        f"/repositories/{job.repository_id}/snapshots/{_newest(zb_any, job)}/files",
        params={"path": str(job.source)},
    ).json()
    huge = next(e["path"] for e in listed["files"] if e["path"].endswith("huge.bin"))
    proxy = CountingProxy(zb_any.url).start()
    reading = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if progress > 0 and "huge.bin" in (message or ""):
            reading.set()

    try:
        async with mcp_stdio(replace(zb_any, url=proxy.url), world.root / unique("mcp"), McpConfig()) as client:
            scope = anyio.CancelScope()

            async def drill() -> None:
                with scope:
                    await client.call_tool(
                        "drill_backup",
                        {"backup_job_id": job.job_id, "paths": [huge], "max_bytes": 2 * size},
                        progress_callback=on_progress,
                    )

            async with anyio.create_task_group() as group:
                group.start_soon(drill)
                with anyio.fail_after(120):
                    await reading.wait()
                scope.cancel()
            at_cancel = proxy.received
            await anyio.sleep(2)
            settled = proxy.received
            await anyio.sleep(2)
            after = proxy.received
            still = await ask(client, "list_repositories")
    finally:
        proxy.stop()
    # Only the catalog watcher's event stream may still trickle in (heartbeats), never a dump's megabytes.
    assert after - settled < 65536, "bytes kept arriving after the cancel: a dump stream was left open"
    assert settled - at_cancel < size // 2, (at_cancel, settled)
    assert not still.is_error


def _newest(zb: RealZerobyte, job: Arranged) -> str:
    return str(max(zb.snapshots(job.repository_id, job.job_id), key=lambda s: s["time"])["short_id"])
