"""Repository routes: CRUD, stats, snapshots, files, dump, restore, doctor, delete and tag."""

from __future__ import annotations

import json
import posixpath
import re
import urllib.parse
from collections.abc import AsyncIterator, Iterator

from starlette.responses import Response, StreamingResponse

from .. import validation as v
from .._util import (
    Json,
    iso_from_ms,
    unseal_config,
)
from ..cache import snapshots_key
from ..files import dump_entries, ls_path, ls_walk, tar_stream
from ..model import ApiError, fail
from .backups import drop_schedule
from .common import (
    Ctx,
    body_name,
    int_query,
    json_response,
    task_started,
    zod_error,
)

# ==================================================================================================
# repositories
# ==================================================================================================


def _repo_or_404(ctx: Ctx) -> Json:
    row = ctx.sim.find_repository(ctx.params["shortId"])
    if row is None or row["shortId"] != ctx.params["shortId"]:
        raise fail(404, "Repository not found")
    return row


def list_repositories(ctx: Ctx) -> Response:
    return json_response([ctx.sim.repository_row(r) for r in ctx.sim.repositories.values()])


def create_repository(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.REPOSITORY_CREATE)
    name = body_name(body, "Repository name cannot be empty")
    config = dict(body["config"])
    row = sim._insert_repository(name, config, compression_mode=body.get("compressionMode") or "auto")
    if config["backend"] == "local" and not config.get("isExistingRepository"):
        row["config"]["path"] = f"{str(config['path']).rstrip('/')}/{row['shortId']}"
    error = sim.repository_init_errors.get(name)
    if error is not None:
        del sim.repositories[row["id"]]
        sim._snapshots.pop(row["id"], None)
        raise fail(500, f"Failed to initialize repository: {error}")
    before = sim.repository_row(row)
    row.update(status="healthy", lastChecked=sim.now_ms(), lastError=None)
    return json_response({"message": "Repository created", "repository": before}, 201)


def rclone_remotes(ctx: Ctx) -> Response:
    return json_response([dict(r) for r in ctx.sim.rclone_remotes])


def get_repository(ctx: Ctx) -> Response:
    return json_response(ctx.sim.repository_row(_repo_or_404(ctx)))


def update_repository(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.REPOSITORY_UPDATE)
    row = _repo_or_404(ctx)
    if "name" in body:
        row["name"] = body_name(body, "Repository name cannot be empty")
    if "compressionMode" in body:
        row["compressionMode"] = body["compressionMode"]
    if "config" in body:
        new = dict(body["config"])
        if new.get("backend") != row["type"]:
            raise fail(400, "Repository backend cannot be changed")
        stored_plain = unseal_config(sim._box, row["config"])
        if new != stored_plain:  # sealed echoes count as a change, like the real server
            row["config"] = sim._seal_repo_config(new)
            sim.invalidate_repository(row)
            row.update(
                status="unknown", lastChecked=None, lastError=None, doctorResult=None, stats=None, statsUpdatedAt=None
            )
    row["updatedAt"] = sim.now_ms()
    return json_response(sim.repository_row(row))


def delete_repository(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _repo_or_404(ctx)
    for sched in [s for s in sim.schedules.values() if s["repositoryId"] == row["id"]]:
        drop_schedule(sim, sched)
    for mid in [m["id"] for m in sim._mirrors.values() if m["repositoryId"] == row["id"]]:
        del sim._mirrors[mid]
    del sim.repositories[row["id"]]
    sim._snapshots.pop(row["id"], None)
    sim.invalidate_repository(row)
    return json_response({"message": "Repository deleted"})


def repository_stats(ctx: Ctx) -> Response:
    row = _repo_or_404(ctx)
    stats = row.get("stats") or {
        "total_size": 0,
        "total_uncompressed_size": 0,
        "compression_ratio": 0,
        "compression_progress": 0,
        "compression_space_saving": 0,
        "snapshots_count": 0,
    }
    return json_response(dict(stats))


def refresh_repository_stats(ctx: Ctx) -> Response:
    row = _repo_or_404(ctx)
    return json_response(ctx.sim.refresh_stats(row))


def list_snapshots(ctx: Ctx) -> Response:
    row = _repo_or_404(ctx)
    return json_response(ctx.sim.list_snapshots(row, ctx.query.get("backupId") or None))


def refresh_snapshots(ctx: Ctx) -> Response:
    row = _repo_or_404(ctx)
    ctx.sim.invalidate_repository(row)
    ctx.sim.cache.set(snapshots_key(row["id"], None))
    return json_response({"message": "Snapshot cache cleared and refreshed", "count": len(ctx.sim.snapshots_of(row))})


def snapshot_details(ctx: Ctx) -> Response:
    row = _repo_or_404(ctx)
    snap = ctx.sim.find_snapshot(row, ctx.params["snapshotId"])
    if snap is None:
        raise fail(404, "Snapshot not found")
    return json_response(snap.detail())


_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _decode_again(raw: str) -> str:
    """The controller ``decodeURIComponent``s an already-decoded path (double-decoding quirk)."""
    if _BAD_PERCENT.search(raw):
        raise fail(500, "URI malformed")
    return urllib.parse.unquote(raw)


def _restic_no_match(snapshot_id: str) -> ApiError:
    """What ``restic ls`` of an unknown snapshot becomes on the real server (restic 0.18): a 500."""
    details = {"message_type": "exit_error", "code": 1, "message": f'no matching ID found for prefix "{snapshot_id}"'}
    return ApiError(
        500,
        {
            "message": "Command failed: An error occurred while executing the command.",
            "details": json.dumps(details, separators=(",", ":")),
        },
    )


def snapshot_files(ctx: Ctx) -> Response:
    offset = max(0, int_query(ctx, "offset", 0))
    limit = min(500, max(1, min(1000, int_query(ctx, "limit", 500))))
    row = _repo_or_404(ctx)
    snap = ctx.sim.find_snapshot(row, ctx.params["snapshotId"])
    if snap is None:
        raise _restic_no_match(ctx.params["snapshotId"])
    view = snap.view()
    raw_path = ctx.query.get("path")
    if raw_path:
        nodes = ls_path(view, _decode_again(raw_path))
        total = len(nodes)
        page = nodes[offset : offset + limit]
    else:
        page, total = ls_walk(view, offset, limit)
    body = {
        "snapshot": {
            "id": snap.id,
            "short_id": snap.short_id,
            "time": iso_from_ms(snap.time_ms),
            "hostname": snap.hostname,
            "paths": list(snap.paths),
        },
        "files": page,
        "offset": offset,
        "limit": limit,
        "total": total,
        "hasMore": offset + len(page) < total,
    }
    return json_response(body, headers={"cache-control": "max-age=300, stale-while-revalidate=600"})


async def _aiter(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def dump_snapshot(ctx: Ctx) -> Response:
    sim = ctx.sim
    kind = ctx.query.get("kind")
    if kind is not None and kind not in ("file", "dir"):
        raise zod_error(
            [
                {
                    "code": "invalid_value",
                    "values": ["file", "dir"],
                    "path": ["kind"],
                    "message": 'Invalid option: expected one of "file"|"dir"',
                }
            ],
            dict(ctx.query),
        )
    row = _repo_or_404(ctx)
    snap = sim.find_snapshot(row, ctx.params["snapshotId"])
    if snap is None:
        raise fail(404, "Snapshot not found")
    view = snap.view()
    raw_path = ctx.query.get("path") or ""
    norm = posixpath.normpath("/" + _decode_again(raw_path).lstrip("/")) if raw_path else "/"
    base_node = view.resolve(view.base_path) if view.base_path != "/" else None
    if norm in ("/", view.base_path) or (not raw_path):
        # Zerobyte dumps "<id>:<base path>" here (helpers/dump.ts): members are named relative to the base.
        filename = f"snapshot-{snap.short_id}.tar"
        chunks = tar_stream(dump_entries(base_node or view.top, ""))
        media = "application/x-tar"
    else:
        if kind is None:
            raise fail(400, "Path kind is required when downloading a specific snapshot path")
        base = view.base_path.rstrip("/")
        if not (norm == base or norm.startswith(base + "/") or base.startswith(norm + "/")):
            raise fail(400, "Requested path is outside the snapshot base path")
        node = view.resolve(norm)
        # Real Zerobyte sends its headers before restic runs: a missing path is 200 with no bytes; restic
        # writes a folder as a tar and a file as its bytes whatever `kind` says (observed on v0.42).
        filename = posixpath.basename(norm) if kind == "file" else f"snapshot-{snap.short_id}.tar"
        media = "application/octet-stream" if kind == "file" else "application/x-tar"
        if node is None:
            chunks = iter([b""])
        elif node.kind == "dir":
            # Members are named relative to the snapshot's base path (restic dump of "<id>:<base>"), so a
            # sub-folder's files keep their whole relative path: docs/deep/b.txt (checked on v0.42 and v0.41.0).
            inside = norm.startswith(base + "/")
            chunks = tar_stream(
                dump_entries(node, posixpath.relpath(norm, base) if inside else posixpath.basename(norm))
            )
        else:
            chunks = node.content_chunks()
    sim._org_event("dump:started", repositoryId=row["shortId"], snapshotId=snap.short_id, path=norm, filename=filename)
    return StreamingResponse(
        _aiter(chunks),
        media_type=media,
        headers={"content-disposition": f"attachment; filename={filename}"},
    )


def restore_snapshot(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.RESTORE)
    row = _repo_or_404(ctx)
    snap = sim.find_snapshot(row, body["snapshotId"])
    if snap is None:
        raise fail(404, "Snapshot not found")
    target = body.get("targetPath") or "/"
    if target != "/":
        norm = posixpath.normpath(target)
        if any(norm == p or norm.startswith(p + "/") for p in sim.restore_blocked_roots):
            raise fail(
                400,
                "Restore target path is not allowed. Restoring to this path could overwrite critical system "
                "files or application data.",
            )
    else:
        vol = sim.runners.volume_containing(snap.paths[0] if snap.paths else "/")
        if vol is not None and vol["config"].get("readOnly"):
            raise fail(400, "Cannot restore to the original location of a read-only volume")
    task = sim.start_restore(row, snap, body, body["snapshotId"])
    # v0.40 has a restore id too, but no task behind it to follow.
    return json_response({"restoreId": task if isinstance(task, str) else task.id, "status": "started"}, 202)


def start_doctor(ctx: Ctx) -> Response:
    row = _repo_or_404(ctx)
    task = ctx.sim.start_doctor(row)
    # v0.40: doctor ran before the answer
    return task_started(task, {"message": "Doctor completed", "repositoryId": row["shortId"]})


def unlock_repository(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _repo_or_404(ctx)
    sim._repo_lock_errors.pop(row["id"], None)
    if row["status"] == "error" and "lock" in str(row.get("lastError") or ""):
        row.update(status="healthy", lastError=None, lastChecked=sim.now_ms())
    return json_response({"success": True, "message": "Repository unlocked successfully"})


def delete_snapshot(ctx: Ctx) -> Response:
    row = _repo_or_404(ctx)
    task = ctx.sim.start_delete_snapshots(row, [ctx.params["snapshotId"]])
    # v0.40: deleted before the answer
    return task_started(task, {"message": "Snapshot deleted"})


def delete_snapshots(ctx: Ctx) -> Response:
    body = ctx.validate(v.SNAPSHOT_IDS)
    row = _repo_or_404(ctx)
    task = ctx.sim.start_delete_snapshots(row, body["snapshotIds"])
    # v0.40: deleted before the answer
    return task_started(task, {"message": "Snapshots deleted"})


def tag_snapshots(ctx: Ctx) -> Response:
    body = ctx.validate(v.TAG)
    row = _repo_or_404(ctx)
    task = ctx.sim.start_tag(row, body)
    # v0.40: retagged before the answer
    return task_started(task, {"message": "Snapshots tagged"})
