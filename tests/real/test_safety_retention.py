"""Retention is destructive (issue 11, holes 1 and 2), judged by Zerobyte's own forget on a real server.

Zerobyte runs ``forget --group-by tags --tag <job> --prune`` with the job's policy after every successful
backup and on apply_retention. These stories check that a change which makes it forget existing
snapshots is refused at operate, confirmed at full with a preview WE compute, and that the preview
names exactly the snapshots Zerobyte's forget then removes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.real.conftest import McpConfig, ask, call, make_files, mcp_stdio, refused, unique
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

FULL = McpConfig(access="full", confirm_destructive=True)
OPERATE = McpConfig(access="operate")


async def _job(client: Client, data_root: Path, retention: str, backups: int) -> tuple[str, str]:
    """A volume, a repository and a job made through our tools, with ``backups`` snapshots; (repo, job) ids."""
    source = make_files(data_root / unique("src"), {"a.txt": "hello"})
    volume = await call(client, "create_volume", name=unique("vol"), backend="directory", source=str(source))
    repository = await call(
        client, "create_repository", name=unique("repo"), backend="local", location=str(data_root / unique("r"))
    )
    job = await call(
        client,
        "create_backup_job",
        name=unique("job"),
        volume_id=volume["volume"]["id"],
        repository_id=repository["repository"]["id"],
        schedule="0 3 1 1 *",
        retention=retention,
    )
    for n in range(backups):
        (source / "a.txt").write_text(f"version {n}")
        assert (await call(client, "run_backup", job_id=job["job"]["id"]))["outcome"] == "success"
    return repository["repository"]["id"], job["job"]["id"]


def _ids(snapshots: list[dict[str, Any]]) -> list[str]:
    return [s["short_id"] for s in sorted(snapshots, key=lambda s: s["time"])]


async def _confirmed(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a gated tool twice: the preview (returned), then with its token (must succeed)."""
    first = await call(client, tool, **arguments)
    assert first["outcome"] == "confirmation_required", first
    await call(client, tool, **arguments, confirm_token=first["confirm_token"])
    return first


async def test_a_tighter_policy_is_refused_at_operate_and_our_preview_is_what_zerobytes_forget_removes(
    zb: RealZerobyte, data_root: Path
) -> None:
    async with mcp_stdio(zb, data_root / "full", FULL) as full:
        repo, job = await _job(full, data_root, "last 5", backups=2)
        existing = _ids(zb.snapshots(repo, job))
        async with mcp_stdio(zb, data_root / "operate", OPERATE) as operate:
            text = await refused(operate, "update_backup_job", job_id=job, retention="last 1")
        assert "needs access level full" in text and all(sid in text for sid in existing)
        assert zb.job(job)["retentionPolicy"] == {"keepLast": 5}  # nothing changed on the server

        preview = await _confirmed(full, "update_backup_job", job_id=job, retention="last 1")
        assert zb.job(job)["retentionPolicy"] == {"keepLast": 1}
        # Last 5 -> last 1: the next backup leaves only itself, so both existing snapshots go.
        assert [i["id"] for i in preview["preview"]["items"]] == existing
        run = await call(full, "run_backup", job_id=job)
    after = _ids(zb.snapshots(repo, job))
    assert len(after) == 1 and after[0] not in existing  # Zerobyte's own forget removed exactly our preview
    assert f"forgot {len(existing)} snapshot(s): {', '.join(existing)}" in run["retention"]


async def test_apply_retention_previews_from_our_computation_not_zerobytes_stale_cache(
    zb: RealZerobyte, data_root: Path
) -> None:
    async with mcp_stdio(zb, data_root / "full", FULL) as full:
        repo, job = await _job(full, data_root, "last 5", backups=3)
        cached = zb.snapshots(repo, job)  # Zerobyte computes (and caches) retentionCategories: all kept
        assert all(s["retentionCategories"] for s in cached)
        await _confirmed(full, "update_backup_job", job_id=job, retention="last 1")
        stale = zb.snapshots(repo, job)
        listed = await call(full, "list_snapshots", repository_id=repo, backup_job_id=job)
        preview = await call(full, "apply_retention", job_id=job)
        going = [i["id"] for i in preview["preview"]["items"]]
        done = await call(full, "apply_retention", job_id=job, confirm_token=preview["confirm_token"])
    existing = _ids(cached)
    assert going == existing[:2]  # last 1 of 3: the two older ones
    # Zerobyte's cache still says every snapshot is kept: a preview built on it would have found nothing.
    assert all(s["retentionCategories"] for s in stale)
    # Our list_snapshots shows the current policy's verdict instead: the two older ones go.
    assert sorted(s["id"] for s in listed["snapshots"] if not s.get("retention")) == sorted(going)
    assert _ids(zb.snapshots(repo, job)) == existing[2:]
    assert (
        done["outcome"] == "success" and f"2 snapshot(s) forgotten and pruned ({', '.join(going)})" in done["message"]
    )


async def test_tagging_a_snapshot_into_another_jobs_group_is_refused_at_operate(
    zb: RealZerobyte, data_root: Path
) -> None:
    async with mcp_stdio(zb, data_root / "full", FULL) as full:
        repo, keeper = await _job(full, data_root, "last 1", backups=1)
        own = _ids(zb.snapshots(repo, keeper))
        volume = zb.job(keeper)["volumeId"]
        other = await call(
            full,
            "create_backup_job",
            name=unique("job"),
            volume_id=str(next(v["shortId"] for v in zb.get("/volumes") if v["id"] == volume)),
            repository_id=repo,
            schedule="0 3 1 1 *",
            retention="last 5",
        )
        other_id = other["job"]["id"]
        assert (await call(full, "run_backup", job_id=other_id))["outcome"] == "success"
        newer = _ids(zb.snapshots(repo, other_id))
        args = {"repository_id": repo, "snapshot_ids": newer, "set_tags": [keeper]}
        async with mcp_stdio(zb, data_root / "operate", OPERATE) as operate:
            answer = await ask(operate, "tag_snapshots", **args)
        assert answer.is_error and "needs access level full" in answer.text and own[0] in answer.text
        assert _ids(zb.snapshots(repo, keeper)) == own  # untouched
        preview = await _confirmed(full, "tag_snapshots", **args)
        assert sorted(i["id"] for i in preview["preview"]["items"]) == sorted(own + newer)
        run = await call(full, "run_backup", job_id=keeper)
    left = _ids(zb.snapshots(repo, keeper))
    assert len(left) == 1 and left[0] not in own  # Zerobyte's forget removed what the preview said
    assert "forgot 2 snapshot(s)" in run["retention"]
