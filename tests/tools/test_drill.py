"""drill_backup on the simulator: what it reads, how it hashes and checks, and how each failure is told.

The real-server stories (tests/real/test_story_drill.py) prove the same against a real Zerobyte with a
damaged pack on disk and a wrong password; here the faults come from the simulator's fault rules.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_server.config import Settings
from mcp_server.server import create_server
from mcp_server.simulator import Simulator
from mcp_server.simulator.files import build_tree
from tests.helpers import DAY_MS, data, text, writes

pytestmark = pytest.mark.anyio

LEDGER = b"ledger line\n" * 5000  # 60,000 bytes
NOTES_V1 = b"first notes"
NOTES_V2 = b"second notes, longer"


def tree(notes: bytes) -> dict[str, Any]:
    return {
        "ledger.bin": LEDGER,
        "notes.txt": notes,
        "letters": {"a.txt": b"dear a", "b.txt": b"dear b", "c.txt": b"dear c"},
    }


def seed(sim: Simulator) -> tuple[str, str, list[str]]:
    """Two snapshots of /srv/docs: notes.txt changed between them, the rest unchanged (same size and mtime)."""
    now = sim.now_ms()
    mtime = now - 3 * DAY_MS
    sim.add_volume("docs", path="/srv/docs")
    sim.set_volume_files("docs", build_tree(tree(NOTES_V1), mtime_ms=mtime))
    repo = sim.add_repository("local-repo")["shortId"]
    job = sim.add_backup_job(
        "docs-daily", volume="docs", repository=repo, last_status="success", last_backup_at=now - DAY_MS // 2
    )["shortId"]
    old = sim.add_snapshot(repo, job=job, time_ms=now - 2 * DAY_MS)["short_id"]
    sim.set_volume_files("docs", build_tree(tree(NOTES_V2), mtime_ms=mtime))
    new = sim.add_snapshot(repo, job=job, time_ms=now - DAY_MS)["short_id"]
    return repo, job, [new, old]


@pytest.fixture
async def drill_mcp(settings: Settings, tmp_path: Path) -> AsyncIterator[Client]:
    settings = replace(settings, catalog_path=tmp_path / "catalog.sqlite", access="read-only")
    async with Client(create_server(settings)) as client:
        yield client


async def drill(mcp: Client, **args: Any) -> dict[str, Any]:
    result = await mcp.call_tool("drill_backup", args)
    assert not result.is_error, text(result)
    data: dict[str, Any] = result.structured_content or {}
    return data


def dumps(sim: Simulator, since: int = 0) -> list[str]:
    return [r.query.get("path", "") for r in sim.requests[since:] if r.path.endswith("/dump")]


async def test_a_healthy_job_is_restorable_and_every_file_is_hashed_as_read(sim: Simulator, drill_mcp: Client) -> None:
    repo, job, (new, old) = seed(sim)

    answer = await drill(drill_mcp, backup_job_id=job, seed=7)

    assert answer["verdict"] == "restorable", answer
    (snap,) = answer["snapshots"]
    assert (snap["snapshot"], snap["repository"], snap["job"], snap["files_in_snapshot"]) == (
        new,
        repo,
        "docs-daily",
        5,
    )
    read = {f["path"]: f for f in snap["files"] if f["why"] == "all"}
    expected = {
        "/srv/docs/ledger.bin": LEDGER,
        "/srv/docs/notes.txt": NOTES_V2,
        "/srv/docs/letters/a.txt": b"dear a",
        "/srv/docs/letters/b.txt": b"dear b",
        "/srv/docs/letters/c.txt": b"dear c",
    }
    # A file read back whole says only its listed size: read_bytes appears when the two differ.
    assert {p: (f["size"], f.get("read_bytes"), f["sha256"], f["result"]) for p, f in read.items()} == {
        p: (len(c), None, hashlib.sha256(c).hexdigest(), "ok") for p, c in expected.items()
    }
    # One unchanged file read again from the older snapshot hashes the same; notes.txt changed, so not it.
    (cross,) = [f for f in snap["files"] if f["why"] == "cross-check"]
    assert cross["snapshot"] == old and cross["path"] != "/srv/docs/notes.txt"
    assert cross["sha256"] == read[cross["path"]]["sha256"] and cross["result"] == "ok"
    # The folder holding the most sampled files within the limits, read as one tar: here the whole snapshot.
    total = sum(len(c) for c in expected.values())
    assert snap["folder"] == {"path": "/srv/docs", "files": 5, "size": total, "read_bytes": total, "result": "ok"}
    assert answer["files_verified"] == 6 and answer["seed"] == 7
    assert answer["verified_bytes"] == total + cross["size"] + total
    assert "RESTORABLE" in answer["summary"]
    assert writes(sim) == []  # a drill only reads


async def test_a_file_zerobyte_sends_short_fails_by_name_and_the_others_still_run(
    sim: Simulator, drill_mcp: Client
) -> None:
    _, job, _ = seed(sim)
    # What a real Zerobyte does when restic cannot decrypt a file's blobs: 200 and no bytes.
    sim.faults.add(method="GET", path=r"/dump$", query=r"path=/srv/docs/ledger\.bin", status=200, body=b"")

    answer = await drill(drill_mcp, backup_job_id=job)

    assert answer["verdict"] == "failed"
    (snap,) = answer["snapshots"]
    bad = [f for f in snap["files"] if f["result"] == "failed"]
    assert [f["path"] for f in bad] == ["/srv/docs/ledger.bin"]
    assert bad[0]["read_bytes"] == 0 and "stopped after 0 B of 58.6 KiB" in bad[0]["reason"]
    assert "sha256" not in bad[0]
    assert sum(1 for f in snap["files"] if f["result"] == "ok") >= 4
    assert "did not read back (first: /srv/docs/ledger.bin, 0 B of 58.6 KiB)" in snap["reason"]
    assert "run_doctor" in snap["next_step"] and "run_backup while the source" in snap["next_step"]
    assert "ledger.bin" in answer["summary"] and answer["next_step"] == snap["next_step"]


async def test_a_dump_that_breaks_mid_stream_is_that_files_failure(sim: Simulator, drill_mcp: Client) -> None:
    _, job, _ = seed(sim)
    sim.faults.add(method="GET", path=r"/dump$", query=r"path=/srv/docs/ledger\.bin", reset=True)

    answer = await drill(drill_mcp, backup_job_id=job)

    (snap,) = answer["snapshots"]
    results = {f["path"]: f["result"] for f in snap["files"] if f["why"] == "all"}
    assert results.pop("/srv/docs/ledger.bin") == "failed"
    assert set(results.values()) == {"ok"} and answer["verdict"] == "failed"


async def test_over_the_byte_budget_the_drill_is_incomplete_and_says_what_it_left_out(
    sim: Simulator, drill_mcp: Client
) -> None:
    sim.add_volume("media", path="/srv/media", files={"film.mkv": 3 * 2**20, "poster.jpg": 5000})
    repo = sim.add_repository("media-repo")["shortId"]
    job = sim.add_backup_job("media", volume="media", repository=repo)["shortId"]
    sim.add_snapshot(repo, job=job, time_ms=sim.now_ms() - DAY_MS)

    answer = await drill(drill_mcp, backup_job_id=job, max_bytes=2**20)

    assert answer["verdict"] == "incomplete"
    (snap,) = answer["snapshots"]
    assert snap["left_out"] == ["/srv/media/film.mkv (largest, 3.0 MiB): over the byte budget"]
    assert [(f["path"], f["result"]) for f in snap["files"]] == [("/srv/media/poster.jpg", "ok")]
    assert "max_bytes" in snap["next_step"]


async def test_every_jobs_newest_snapshot_by_default(sim: Simulator, drill_mcp: Client) -> None:
    _, _, (new, _) = seed(sim)
    sim.add_volume("photos", path="/srv/photos", files={"p.jpg": b"jpeg"})
    repo2 = sim.add_repository("photo-repo")["shortId"]
    job2 = sim.add_backup_job("photos", volume="photos", repository=repo2)["shortId"]
    photo = sim.add_snapshot(repo2, job=job2, time_ms=sim.now_ms() - DAY_MS)["short_id"]
    sim.add_backup_job("never-ran", volume="photos", repository=repo2)

    answer = await drill(drill_mcp)

    assert sorted(s["snapshot"] for s in answer["snapshots"]) == sorted([new, photo])
    assert answer["verdict"] == "restorable"
    assert "'never-ran' has no snapshot yet" in answer["note"]


async def test_a_seed_repeats_the_random_pick(sim: Simulator, drill_mcp: Client) -> None:
    sim.add_volume("many", path="/srv/many", files={f"f{i:03}.txt": f"file {i}" for i in range(120)})
    repo = sim.add_repository("many-repo")["shortId"]
    job = sim.add_backup_job("many", volume="many", repository=repo)["shortId"]
    sim.add_snapshot(repo, job=job, time_ms=sim.now_ms() - DAY_MS)

    def picked(answer: dict[str, Any]) -> list[str]:
        return sorted(f["path"] for f in answer["snapshots"][0]["files"] if f["why"] == "random")

    first = await drill(drill_mcp, backup_job_id=job, seed=42)
    again = await drill(drill_mcp, backup_job_id=job, seed=42)
    other = await drill(drill_mcp, backup_job_id=job, seed=43)

    assert len(picked(first)) == 5 and picked(first) == picked(again) != picked(other)
    assert {f["why"] for f in first["snapshots"][0]["files"]} == {"largest", "random"}


async def test_named_paths_are_read_and_one_not_in_the_snapshot_is_refused_before_any_dump(
    sim: Simulator, drill_mcp: Client
) -> None:
    _, job, _ = seed(sim)

    named = await drill(drill_mcp, backup_job_id=job, paths=["/srv/docs/notes.txt"])
    before = len(sim.requests)
    missing = await drill_mcp.call_tool("drill_backup", {"backup_job_id": job, "paths": ["/srv/docs/tax.pdf"]})
    outside = await drill_mcp.call_tool("drill_backup", {"backup_job_id": job, "paths": ["/srv/../etc/passwd"]})

    assert any(f["path"] == "/srv/docs/notes.txt" and f["result"] == "ok" for f in named["snapshots"][0]["files"])
    assert missing.is_error and "'/srv/docs/tax.pdf' is not a file in snapshot" in text(missing)
    assert outside.is_error and ".." in text(outside)
    assert dumps(sim, before) == []


async def test_bad_ids_are_refused_before_any_request(sim: Simulator, drill_mcp: Client) -> None:
    seed(sim)
    before = len(sim.requests)

    bad = await drill_mcp.call_tool("drill_backup", {"repository_id": "../etc"})
    lonely = await drill_mcp.call_tool("drill_backup", {"snapshot_id": "abcdef12"})

    assert bad.is_error and "repository_id" in text(bad)
    assert lonely.is_error and "needs repository_id or backup_job_id" in text(lonely)
    assert len(sim.requests) == before


# --- the kept history: backup_health, zerobyte://drills, zerobyte-mcp drill ----------------------------------


async def test_health_names_each_jobs_last_proof_and_a_failed_drill_is_critical(
    sim: Simulator, drill_mcp: Client
) -> None:
    _, job, _ = seed(sim)
    sim.add_volume("photos", path="/srv/photos", files={"p.jpg": b"jpeg"})
    repo2 = sim.add_repository("photo-repo")["shortId"]
    job2 = sim.add_backup_job(
        "photos", volume="photos", repository=repo2, last_status="success", last_backup_at=sim.now_ms() - DAY_MS // 2
    )["shortId"]
    sim.add_snapshot(repo2, job=job2, time_ms=sim.now_ms() - DAY_MS)

    before = data(await drill_mcp.call_tool("backup_health", {}))
    await drill(drill_mcp, backup_job_id=job)
    one = data(await drill_mcp.call_tool("backup_health", {}))
    sim.faults.add(method="GET", path=r"/dump$", query=r"path=/srv/photos/p\.jpg", status=200, body=b"")
    await drill(drill_mcp, backup_job_id=job2)
    broken = data(await drill_mcp.call_tool("backup_health", {}))
    history = await drill_mcp.read_resource("zerobyte://drills")

    assert before["verdict"] == "ok" and "drills" not in before
    docs = next(j for j in one["jobs"] if j["id"] == job)
    assert docs["restore"].startswith("proven ") and "6 files / " in docs["restore"]
    # Once drills are in use, a job never drilled is a (warning) problem with its next step.
    assert one["verdict"] == "warning" and [(d["job"], d["problem"]) for d in one["drills"]] == [(job2, "never")]
    assert f"drill_backup backup_job_id={job2}" in one["drills"][0]["next_step"]
    assert broken["verdict"] == "critical" and broken["counts"]["drills_failed"] == 1
    (issue,) = broken["drills"]
    assert (issue["job"], issue["problem"]) == (job2, "failed") and "p.jpg" in issue["reason"]
    assert "failed a restore drill" in broken["summary"]
    kept = json.loads(getattr(history.contents[0], "text", ""))
    assert [(d["job"], d["verdict"]) for d in kept["drills"]] == [(job2, "failed"), (job, "restorable")]


def test_the_drill_command_exits_by_verdict_for_cron(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("ZEROBYTE_MCP_CONFIG", None)
    command = [sys.executable, "-m", "mcp_server", "--demo", "drill"]
    plain = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    as_json = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, timeout=120, check=False)
    unknown = subprocess.run(
        [sys.executable, "-m", "mcp_server", "drill", "--json"],
        env={**env, "ZEROBYTE_URL": "http://127.0.0.1:9", "ZEROBYTE_API_KEY": "zb_unreachable_key_0123"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    verdict = json.loads(as_json.stdout)
    assert as_json.returncode == {"restorable": 0, "incomplete": 1, "failed": 2}[verdict["verdict"]]
    assert verdict["files_verified"] > 0 and verdict["snapshots"]
    assert plain.returncode == as_json.returncode and plain.stdout.startswith("ZEROBYTE DRILL ")
    assert unknown.returncode == 3 and json.loads(unknown.stdout)["verdict"] == "unknown"
    assert "zerobyte-mcp drill: UNKNOWN" in unknown.stderr and "zb_unreachable_key_0123" not in unknown.stderr
