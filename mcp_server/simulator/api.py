"""The simulator's HTTP surface: Zerobyte's ``/api/v1`` routes, auth, errors, SSE and fault injection.

Exists to turn ``Simulator`` state into the exact wire behaviour of a real Zerobyte: the same status
codes, JSON shapes and headers, the two kinds of 401, zod-shaped 400s, text 404s for unknown routes,
500 for malformed JSON, 202 task starts, binary/tar dumps, never-ending event streams, rate limiting,
plus the test-only fault rules (latency, proxy errors, truncated/wrongly-typed JSON, resets).
``create_app`` returns a Starlette app; ``server.py`` serves it over real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import posixpath
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import cron
from . import validation as v
from ._util import (
    NOTIFICATION_SECRET_FIELDS,
    VOLUME_SECRET_FIELDS,
    Json,
    iso_from_ms,
    seal_config,
    unseal_config,
)
from .cache import snapshots_key
from .costs import charge
from .faults import FaultRule, mutate_types
from .files import dump_entries, ls_path, ls_walk, tar_stream, volume_listing
from .state import (
    ORG_OWNER_USER_ID,
    ApiError,
    RecordedRequest,
    Simulator,
    Task,
    fail,
    sse_frame,
)

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=UTF-8"
API = "/api/v1"
AUTH_MOUNTS = ("/volumes", "/repositories", "/backups", "/notifications", "/tasks", "/events")
STATE_DROP_SSE = "zb_drop_sse_after"
BODY_LIMIT = 10 * 1024 * 1024
WEB_UI = '<!DOCTYPE html><html lang="en"><head><title>Zerobyte</title></head><body><div id="root"></div></body></html>'
# hono/secure-headers defaults, sent by a production Zerobyte on every answer (see sample 69)
SECURE_HEADERS = {
    "x-content-type-options": "nosniff",
    "cross-origin-resource-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=15552000; includeSubDomains",
    "x-dns-prefetch-control": "off",
    "x-frame-options": "SAMEORIGIN",
    "x-xss-protection": "0",
    "vary": "Origin",
    "origin-agent-cluster": "?1",
    "x-download-options": "noopen",
    "x-permitted-cross-domain-policies": "none",
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(data, status_code=status, headers=headers, media_type=JSON_TYPE)


def text_response(body: str, status: int, headers: dict[str, str] | None = None) -> Response:
    hdrs = {"content-type": TEXT_TYPE, **(headers or {})}
    return Response(body.encode(), status_code=status, headers=hdrs)


def not_found_text() -> Response:
    return text_response("404 Not Found", 404)


def zod_error(issues: list[Json], data: Any) -> ApiError:
    return ApiError(400, {"data": data, "error": issues, "success": False})


@dataclass
class Ctx:
    sim: Simulator
    request: Request
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    owner: object

    def validate(self, schema: v.Schema, value: Any | None = None) -> Any:
        data = self.body if value is None else value
        parsed, issues = v.validate(schema, data)
        if issues:
            raise zod_error(issues, data)
        return parsed


Handler = Callable[[Ctx], Response]


@dataclass
class RouteDef:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    auth: str  # "public" | "key" | "browser" | "docs"
    body: bool  # parse a JSON body (Hono's json validator semantics)
    only: str | None  # None: always; "modern"; "legacy"; "tasks" (v0.41+: not on v0.40)


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}$")


# ==================================================================================================
# volumes
# ==================================================================================================


def _volume_or_404(ctx: Ctx) -> Json:
    row = ctx.sim.volume_by_short_id(ctx.params["shortId"])
    if row is None:
        raise fail(404, "Volume not found")
    return row


def _unique_violation(table: str) -> ApiError:
    return fail(500, f"UNIQUE constraint failed: {table}.name, {table}.organization_id")


def list_volumes(ctx: Ctx) -> Response:
    return json_response([ctx.sim.volume_row(r) for r in sorted(ctx.sim.volumes.values(), key=lambda r: r["id"])])


def create_volume(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.VOLUME_CREATE)
    name = str(body["name"]).strip()
    if not name:
        raise fail(400, "Volume name cannot be empty")
    if sim.volume_by_name(name) is not None:
        raise _unique_violation("volumes_table")
    config = seal_config(sim._box, body["config"], VOLUME_SECRET_FIELDS.get(body["config"]["backend"], ()))
    row = sim._insert_volume(name, config, status="unmounted", last_error=None)
    before = sim.volume_row(row, with_path=True)
    sim.mount(row)
    return json_response(before, 201)


def check_volume_connection(ctx: Ctx) -> Response:
    body = ctx.validate(v.TEST_CONNECTION)
    fake = {"name": "", "config": body["config"]}
    problem = ctx.sim.mount_problem(fake)
    if problem:
        return json_response({"success": False, "message": problem})
    return json_response({"success": True, "message": "Connection successful"})


def browse_filesystem(ctx: Ctx) -> Response:
    sim = ctx.sim
    path = posixpath.normpath(ctx.query.get("path") or "/")
    dirs: dict[str, set[str]] = {"/": set()}

    def add(p: str) -> None:
        parts = [x for x in p.split("/") if x]
        for i in range(len(parts)):
            parent = "/" + "/".join(parts[:i])
            dirs.setdefault(parent, set()).add(parts[i])
            dirs.setdefault("/" + "/".join(parts[: i + 1]), set())

    for base in ("/srv", "/mnt", "/media", "/home", "/opt", "/var/lib", "/etc", "/tmp"):
        add(base)
    for vol in sim.volumes.values():
        if vol["config"].get("backend") != "directory" or sim.mount_problem(vol):
            continue
        vpath = sim.volume_path(vol)
        add(vpath)
        for child in sim.volume_tree(vol).children():
            if child.kind == "dir":
                add(f"{vpath.rstrip('/')}/{child.name}")
    if path not in dirs:
        raise fail(500, f"Failed to browse filesystem: ENOENT: no such file or directory, scandir '{path}'")
    now = sim.now_ms()
    entries = [
        {"name": name, "path": posixpath.join(path, name), "type": "directory", "modifiedAt": now - 86_400_000}
        for name in sorted(dirs[path])
    ]
    return json_response({"directories": entries, "path": path})


def get_volume(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _volume_or_404(ctx)
    if row["status"] == "mounted":
        tree = sim.volume_tree(row)
        used = max(tree.total_bytes(), 1 << 20) * 3
        statfs = {"total": 4 * 1024**4, "used": used, "free": 4 * 1024**4 - used}
    else:
        statfs = {"total": 0, "used": 0, "free": 0}
    return json_response({"volume": sim.volume_row(row, with_path=True), "statfs": statfs})


def update_volume(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.VOLUME_UPDATE)
    row = _volume_or_404(ctx)
    now = sim.now_ms()
    if "name" in body:
        name = str(body["name"]).strip()
        if not name:
            raise fail(400, "Volume name cannot be empty")
        other = sim.volume_by_name(name)
        if other is not None and other is not row:
            raise _unique_violation("volumes_table")
        row["name"] = name
    if "autoRemount" in body:
        row["autoRemount"] = body["autoRemount"]
    remount = False
    if "config" in body:
        new = body["config"]
        if new.get("backend") != row["config"].get("backend"):
            raise fail(400, "Invalid volume configuration")
        if new != row["config"]:
            row["config"] = seal_config(sim._box, new, VOLUME_SECRET_FIELDS.get(new["backend"], ()))
            row["status"] = "unmounted"
            remount = True
    row["updatedAt"] = now
    before = sim.volume_row(row, with_path=True)
    sim._org_event("volume:updated", volumeName=row["name"])
    if remount:
        sim.mount(row)
    return json_response(before)


def delete_volume(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _volume_or_404(ctx)
    for sched in [s for s in sim.schedules.values() if s["volumeId"] == row["id"]]:
        _delete_schedule(sim, sched)
    del sim.volumes[row["id"]]
    sim._trees.pop(row["id"], None)
    sim._org_event("volume:unmounted", volumeName=row["name"])
    return json_response({"message": "Volume deleted"})


def mount_volume(ctx: Ctx) -> Response:
    row = _volume_or_404(ctx)
    problem = ctx.sim.mount(row)
    if problem:
        return json_response({"status": "error", "error": problem}, 500)
    return json_response({"status": "mounted"})


def unmount_volume(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _volume_or_404(ctx)
    now = sim.now_ms()
    row.update(status="unmounted", lastError=None, updatedAt=now)
    sim._org_event("volume:unmounted", volumeName=row["name"])
    return json_response({"status": "unmounted"})


def health_check_volume(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _volume_or_404(ctx)
    now = sim.now_ms()
    problem = sim.mount_problem(row)
    if problem:
        row.update(status="error", lastError=problem, lastHealthCheck=now, updatedAt=now)
        return json_response({"error": problem, "status": "error"})
    if row["status"] == "unmounted":
        row.update(lastHealthCheck=now)
        return json_response({"status": "unmounted"})
    row.update(status="mounted", lastError=None, lastHealthCheck=now, updatedAt=now)
    return json_response({"status": "mounted"})


def _int_query(ctx: Ctx, key: str, default: int) -> int:
    raw = ctx.query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if math.isnan(value) or not value.is_integer():
        issue = {
            "expected": "int",
            "code": "invalid_type",
            "received": "NaN" if math.isnan(value) else "number",
            "path": [key],
            "message": f"Invalid input: expected int, received {'NaN' if math.isnan(value) else 'number'}",
        }
        raise zod_error([issue], dict(ctx.query))
    return int(value)


def list_volume_files(ctx: Ctx) -> Response:
    sim = ctx.sim
    offset = max(0, _int_query(ctx, "offset", 0))
    limit = min(500, max(1, min(1000, _int_query(ctx, "limit", 500))))
    row = _volume_or_404(ctx)
    if row["status"] != "mounted":
        raise fail(500, "Volume is not mounted")
    raw_path = ctx.query.get("path") or "/"
    parts = [p for p in raw_path.split("/") if p and p != "."]
    if ".." in parts:
        raise fail(500, "Failed to list files: Invalid path")
    node = sim.volume_tree(row).resolve("/".join(parts))
    if node is None or node.kind != "dir":
        raise fail(500, "Failed to list files: Directory not found")
    rel = "/" + "/".join(parts)
    entries = volume_listing(node, rel)
    page = entries[offset : offset + limit]
    body = {
        "files": page,
        "path": rel,
        "offset": offset,
        "limit": limit,
        "total": len(entries),
        "hasMore": offset + len(page) < len(entries),
    }
    return json_response(body, headers={"cache-control": "public, max-age=10, stale-while-revalidate=60"})


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
    name = str(body["name"]).strip()
    if not name:
        raise fail(400, "Repository name cannot be empty")
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
        name = str(body["name"]).strip()
        if not name:
            raise fail(400, "Repository name cannot be empty")
        row["name"] = name
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
        _delete_schedule(sim, sched)
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
    offset = max(0, _int_query(ctx, "offset", 0))
    limit = min(500, max(1, min(1000, _int_query(ctx, "limit", 500))))
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
            chunks = tar_stream(dump_entries(node, posixpath.basename(norm)))
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
        vol = sim._volume_containing(snap.paths[0] if snap.paths else "/")
        if vol is not None and vol["config"].get("readOnly"):
            raise fail(400, "Cannot restore to the original location of a read-only volume")
    task = sim.start_restore(row, snap, body, body["snapshotId"])
    # v0.40 has a restore id too, but no task behind it to follow.
    return json_response({"restoreId": task if isinstance(task, str) else task.id, "status": "started"}, 202)


def start_doctor(ctx: Ctx) -> Response:
    row = _repo_or_404(ctx)
    task = ctx.sim.start_doctor(row)
    if task is None:  # v0.40: doctor ran before the answer
        return json_response({"message": "Doctor completed", "repositoryId": row["shortId"]})
    return json_response({"taskId": task.id, "status": "started"}, 202)


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
    if task is None:  # v0.40: deleted before the answer
        return json_response({"message": "Snapshot deleted"})
    return json_response({"taskId": task.id, "status": "started"}, 202)


def delete_snapshots(ctx: Ctx) -> Response:
    body = ctx.validate(v.SNAPSHOT_IDS)
    row = _repo_or_404(ctx)
    task = ctx.sim.start_delete_snapshots(row, body["snapshotIds"])
    if task is None:  # v0.40: deleted before the answer
        return json_response({"message": "Snapshots deleted"})
    return json_response({"taskId": task.id, "status": "started"}, 202)


def tag_snapshots(ctx: Ctx) -> Response:
    body = ctx.validate(v.TAG)
    row = _repo_or_404(ctx)
    task = ctx.sim.start_tag(row, body)
    if task is None:  # v0.40: retagged before the answer
        return json_response({"message": "Snapshots tagged"})
    return json_response({"taskId": task.id, "status": "started"}, 202)


# ==================================================================================================
# backup schedules
# ==================================================================================================


def _schedule_or_404(ctx: Ctx, key: str = "shortId") -> Json:
    row = ctx.sim.find_schedule(ctx.params[key])
    if row is None:
        raise fail(404, "Backup schedule not found")
    return row


def _delete_schedule(sim: Simulator, row: Json) -> None:
    sim._assignments = [a for a in sim._assignments if a["scheduleId"] != row["id"]]
    for mid in [m["id"] for m in sim._mirrors.values() if m["scheduleId"] == row["id"]]:
        del sim._mirrors[mid]
    sim.schedules.pop(row["id"], None)


def list_backups(ctx: Ctx) -> Response:
    rows = sorted(ctx.sim.schedules.values(), key=lambda r: (r["sortOrder"], r["id"]))
    return json_response([ctx.sim.schedule_dto(r, full=True) for r in rows])


def get_backup(ctx: Ctx) -> Response:
    return json_response(ctx.sim.schedule_dto(_schedule_or_404(ctx), full=True))


def backup_for_volume(ctx: Ctx) -> Response:
    sim = ctx.sim
    vol = sim.find_volume(ctx.params["volumeShortId"])
    if vol is None:
        return json_response(None)
    rows = sorted((s for s in sim.schedules.values() if s["volumeId"] == vol["id"]), key=lambda r: r["id"])
    return json_response(sim.schedule_dto(rows[0], full=True) if rows else None)


def _check_cron(enabled: bool, expr: str) -> None:
    if not expr:
        if enabled:
            raise fail(400, "Enabled schedules require a cron expression")
        return
    if not cron.is_valid(expr):
        raise fail(400, "Invalid cron expression")


def _resolve_schedule_refs(sim: Simulator, body: Json) -> tuple[Json | None, Json]:
    vol = None
    if "volumeId" in body:
        vol = sim.find_volume(body["volumeId"])
        if vol is None:
            raise fail(404, "Volume not found")
    repo = sim.find_repository(str(body["repositoryId"]))
    if repo is None:
        raise fail(404, "Repository not found")
    return vol, repo


def create_backup(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.SCHEDULE_CREATE)
    if any(s["name"] == str(body["name"]).strip() for s in sim.schedules.values()):
        raise fail(409, "A backup schedule with this name already exists")
    _check_cron(bool(body["enabled"]), body["cronExpression"])
    vol, repo = _resolve_schedule_refs(sim, body)
    assert vol is not None
    row = sim._insert_schedule(body, vol, repo)
    return json_response(sim.schedule_dto(row), 201)


def update_backup(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.SCHEDULE_UPDATE)
    row = _schedule_or_404(ctx)
    if "name" in body:
        name = str(body["name"]).strip()
        if any(s["name"] == name and s is not row for s in sim.schedules.values()):
            raise fail(409, "A backup schedule with this name already exists")
        row["name"] = name
    enabled = bool(body.get("enabled", row["enabled"]))
    _check_cron(enabled, body["cronExpression"])
    vol, repo = _resolve_schedule_refs(sim, body)
    if vol is not None:
        row["volumeId"] = vol["id"]
    row["repositoryId"] = repo["id"]
    row["enabled"] = enabled
    row["cronExpression"] = body["cronExpression"]
    if "retentionPolicy" in body:
        row["retentionPolicy"] = body["retentionPolicy"] or None
    for key in (
        "excludePatterns",
        "excludeIfPresent",
        "includePaths",
        "includePatterns",
        "oneFileSystem",
        "customResticParams",
        "compressionMode",
        "backupWebhooks",
    ):
        if key in body:
            row[key] = body[key]
    row["maxRetries"] = body["maxRetries"]
    row["retryDelay"] = body["retryDelay"]
    now = sim.now_ms()
    row["nextBackupAt"] = cron.next_run(row["cronExpression"], now) if row["cronExpression"] else None
    row["updatedAt"] = now
    return json_response(sim.schedule_dto(row))


def delete_backup(ctx: Ctx) -> Response:
    _delete_schedule(ctx.sim, _schedule_or_404(ctx))
    return json_response({"success": True})


def run_backup(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _schedule_or_404(ctx)
    if sim.legacy and row["lastBackupStatus"] == "in_progress":
        return json_response({"success": True})  # v0.41 skips a run while one is in progress, and says success
    vol = sim.volumes.get(row["volumeId"])
    if vol is None:
        raise fail(404, "Volume not found")
    if row["repositoryId"] not in sim.repositories:
        raise fail(404, "Repository not found")
    if vol["status"] == "unmounted":
        raise fail(400, vol["lastError"] or "Volume is not mounted")
    unhealthy = vol["status"] == "error" or sim.mount_problem(vol) is not None
    if unhealthy and (not vol["autoRemount"] or sim.mount(vol)):
        raise fail(400, vol["lastError"] or "Volume health check failed")
    sim.start_backup(row, manual=True)
    if sim.legacy:
        return json_response({"success": True})
    task = sim.active_task("backup", row["shortId"])
    assert task is not None
    return json_response({"taskId": task.id, "status": "started"}, 202)


def stop_backup(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _schedule_or_404(ctx)
    task = sim.active_task("backup", str(row["id"]))
    if task is None:
        raise fail(409, "No backup is currently running for this schedule")
    sim.request_cancel(task, message="Backup was stopped by the user")
    return json_response({"success": True})


def backup_progress(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _schedule_or_404(ctx)
    task = sim.active_task("backup", str(row["id"]))
    if row["lastBackupStatus"] != "in_progress" or task is None or task.progress is None:
        return json_response(None)
    vol = sim.volumes.get(row["volumeId"])
    repo = sim.repositories.get(row["repositoryId"])
    progress = dict(task.progress.get("progress") or {})
    progress.pop("message_type", None)
    return json_response(
        {
            "scheduleId": row["shortId"],
            "volumeName": vol["name"] if vol else "",
            "repositoryName": repo["name"] if repo else "",
            **progress,
        }
    )


def run_forget(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _schedule_or_404(ctx)
    if not row.get("retentionPolicy"):
        raise fail(400, "No retention policy configured for this schedule")
    if row["repositoryId"] not in sim.repositories:
        raise fail(404, "Repository not found")
    task = sim.start_forget(row, trigger="manual")
    if sim.legacy or task is None:
        return json_response({"success": True})
    return json_response({"taskId": task.id, "status": "started"}, 202)


def get_schedule_notifications(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _schedule_or_404(ctx)
    return json_response([sim.assignment_dto(a) for a in sim._assignments if a["scheduleId"] == row["id"]])


def put_schedule_notifications(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.ASSIGNMENTS)
    row = _schedule_or_404(ctx)
    wanted = body["assignments"]
    if any(int(a["destinationId"]) not in sim.destinations for a in wanted):
        raise fail(404, "One or more notification destinations were not found")
    now = sim.now_ms()
    sim._assignments = [a for a in sim._assignments if a["scheduleId"] != row["id"]]
    for a in wanted:
        sim._assignments.append(
            {
                "scheduleId": row["id"],
                "destinationId": int(a["destinationId"]),
                "notifyOnStart": a["notifyOnStart"],
                "notifyOnSuccess": a["notifyOnSuccess"],
                "notifyOnWarning": a["notifyOnWarning"],
                "notifyOnFailure": a["notifyOnFailure"],
                "createdAt": now,
            }
        )
    return json_response([sim.assignment_dto(a) for a in sim._assignments if a["scheduleId"] == row["id"]])


def get_mirrors(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _schedule_or_404(ctx)
    return json_response([sim.mirror_dto(m) for m in sim.mirrors_of(row)])


def put_mirrors(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.MIRRORS)
    row = _schedule_or_404(ctx)
    resolved: list[tuple[Json, bool]] = []
    for item in body["mirrors"]:
        repo = sim.find_repository(item["repositoryId"])
        if repo is None:
            raise fail(404, f"Repository {item['repositoryId']} not found")
        if repo["id"] == row["repositoryId"]:
            raise fail(400, "Cannot add the primary repository as a mirror")
        resolved.append((repo, item["enabled"]))
    existing = {m["repositoryId"]: m for m in sim.mirrors_of(row)}
    for m in existing.values():
        del sim._mirrors[m["id"]]
    for repo, enabled in resolved:
        old = existing.get(repo["id"])
        if old is not None:
            old["enabled"] = enabled
            sim._mirrors[old["id"]] = old
        else:
            sim.add_mirror(row["shortId"], repo["shortId"], enabled=enabled)
    return json_response([sim.mirror_dto(m) for m in sim.mirrors_of(row)])


def mirror_compatibility(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _schedule_or_404(ctx)
    out = []
    for repo in sim.repositories.values():
        if repo["id"] == row["repositoryId"]:
            continue
        out.append({"repositoryId": repo["shortId"], "compatible": True, "reason": None})
    return json_response(out)


def _mirror_or_404(ctx: Ctx, row: Json) -> tuple[Json, Json]:
    sim = ctx.sim
    repo = sim.find_repository(ctx.params["mirrorShortId"])
    if repo is None:
        raise fail(404, "Mirror repository not found")
    mirror = next((m for m in sim.mirrors_of(row) if m["repositoryId"] == repo["id"]), None)
    if mirror is None:
        raise fail(404, "Mirror not found for this schedule")
    return repo, mirror


def mirror_status(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _schedule_or_404(ctx)
    repo, _ = _mirror_or_404(ctx, row)
    source = sim.repositories.get(row["repositoryId"])
    tag = row["shortId"]
    src = [s for s in (sim.snapshots_of(source) if source else []) if tag in s.tags]
    dst = [s for s in sim.snapshots_of(repo) if tag in s.tags]
    have = {s.time_ms for s in dst}
    missing = [
        {"short_id": s.short_id, "time": iso_from_ms(s.time_ms, nanos=False), "size": s.size}
        for s in sorted(src, key=lambda s: s.time_ms)
        if s.time_ms not in have
    ]
    return json_response({"sourceCount": len(src), "mirrorCount": len(dst), "missingSnapshots": missing})


def sync_mirror(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.MIRROR_SYNC)
    row = _schedule_or_404(ctx)
    _, mirror = _mirror_or_404(ctx, row)
    task = sim.start_mirror_sync(row, mirror, snapshot_ids=body.get("snapshotIds") or None)
    if sim.legacy or task is None:
        return json_response({"success": True})
    return json_response({"taskId": task.id, "status": "started"}, 202)


def reorder_backups(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.REORDER)
    ids = list(body["scheduleShortIds"])
    if len(set(ids)) != len(ids):
        raise fail(400, "Duplicate schedule IDs in reorder request")
    rows = []
    for sid in ids:
        row = next((s for s in sim.schedules.values() if s["shortId"] == sid), None)
        if row is None:
            raise fail(404, f"Backup schedule {sid} not found")
        rows.append(row)
    for index, row in enumerate(rows):
        row["sortOrder"] = index
    return json_response({"success": True})


# ==================================================================================================
# notifications
# ==================================================================================================


def _destination_or_404(ctx: Ctx) -> Json:
    match = re.match(r"^\s*[+-]?\d+", ctx.params["id"])  # parseInt semantics: "5abc" -> 5
    row = ctx.sim.destinations.get(int(match.group(0))) if match else None
    if row is None:
        raise fail(404, "Notification destination not found")
    return row


def _destination_dto(row: Json) -> Json:
    return dict(row, config=dict(row["config"]))


def list_destinations(ctx: Ctx) -> Response:
    rows = sorted(ctx.sim.destinations.values(), key=lambda r: r["name"])
    return json_response([_destination_dto(r) for r in rows])


def create_destination(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.DESTINATION_CREATE)
    name = str(body["name"]).strip()
    if not name:
        raise fail(400, "Name cannot be empty")
    row = sim._insert_destination(name, body["config"])
    return json_response(_destination_dto(row), 201)


def get_destination(ctx: Ctx) -> Response:
    return json_response(_destination_dto(_destination_or_404(ctx)))


def update_destination(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.DESTINATION_UPDATE)
    row = _destination_or_404(ctx)
    if "name" in body:
        name = str(body["name"]).strip()
        if not name:
            raise fail(400, "Name cannot be empty")
        row["name"] = name
    if "enabled" in body:
        row["enabled"] = body["enabled"]
    if "config" in body:
        new = body["config"]
        if unseal_config(sim._box, new) != unseal_config(sim._box, row["config"]):
            row["config"] = seal_config(sim._box, new, NOTIFICATION_SECRET_FIELDS.get(new["type"], ()))
            row["type"] = new["type"]
            row.update(status="unknown", lastChecked=None, lastError=None)
    row["updatedAt"] = sim.now_ms()
    return json_response(_destination_dto(row))


def delete_destination(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _destination_or_404(ctx)
    sim._assignments = [a for a in sim._assignments if a["destinationId"] != row["id"]]
    del sim.destinations[row["id"]]
    return json_response({"message": "Notification destination deleted"})


def send_test_notification(ctx: Ctx) -> Response:
    sim = ctx.sim
    row = _destination_or_404(ctx)
    now = sim.now_ms()
    error = sim.notification_test_error
    row.update(status="error" if error else "healthy", lastChecked=now, lastError=error, updatedAt=now)
    sim._org_event("notification:updated", notificationId=row["id"], notificationName=row["name"], status=row["status"])
    if error:
        raise fail(500, f"Failed to send test notification: {error}")
    return json_response({"success": True})


# ==================================================================================================
# tasks and events
# ==================================================================================================


def _task_filter(ctx: Ctx) -> Callable[[Json], bool]:
    q = ctx.query
    issues: list[Json] = []
    if "kind" in q and q["kind"] not in v.TASK_KINDS:
        v.Enum(v.TASK_KINDS).parse(q["kind"], ["kind"], issues)
    if "resourceType" in q and q["resourceType"] not in ("backup_schedule", "repository"):
        v.Enum(("backup_schedule", "repository")).parse(q["resourceType"], ["resourceType"], issues)
    if ("resourceType" in q) != ("resourceId" in q):
        issues.append(
            {
                "code": "custom",
                "path": ["resourceId"],
                "message": "resourceType and resourceId must be provided together",
            }
        )
    if issues:
        raise zod_error(issues, dict(q))

    def wants(dto: Json) -> bool:
        return (
            ("kind" not in q or dto["kind"] == q["kind"])
            and ("resourceType" not in q or dto["resourceType"] == q["resourceType"])
            and ("resourceId" not in q or dto["resourceId"] == q["resourceId"])
            and ("operationKey" not in q or dto["operationKey"] == q["operationKey"])
        )

    return wants


def _newest_first(tasks: list[Task]) -> list[Task]:
    return sorted(tasks, key=lambda t: (t.created_at, t.seq), reverse=True)


def list_tasks(ctx: Ctx) -> Response:
    wants = _task_filter(ctx)
    tasks = _newest_first([t for t in ctx.sim.tasks.values() if t.active])
    return json_response([d for d in (t.dto() for t in tasks) if wants(d)])


def task_history(ctx: Ctx) -> Response:
    sim = ctx.sim
    q = ctx.query
    issues: list[Json] = []
    if "kind" in q:
        v.Enum(v.TASK_KINDS).parse(q["kind"], ["kind"], issues)
    if "outcome" in q:
        v.Enum(v.HISTORY_OUTCOMES).parse(q["outcome"], ["outcome"], issues)
    page = 1
    if "page" in q:
        try:
            page = int(q["page"])
            if page <= 0 or str(page) != q["page"].strip().lstrip("+"):
                raise ValueError
        except ValueError:
            issues.append(
                {
                    "origin": "number",
                    "code": "too_small",
                    "minimum": 0,
                    "inclusive": False,
                    "path": ["page"],
                    "message": "Too small: expected number to be >0",
                }
            )
    if issues:
        raise zod_error(issues, dict(q))
    items = _newest_first(list(sim.tasks.values()))
    if "kind" in q:
        items = [t for t in items if t.kind == q["kind"]]
    if "outcome" in q:
        items = [t for t in items if t.history_outcome() == q["outcome"]]
    size = 25
    total = len(items)
    page_items = items[(page - 1) * size : page * size]
    return json_response(
        {
            "organizationId": sim.organization_id,
            "items": [_history_item(t) for t in page_items],
            "page": page,
            "pageSize": size,
            "totalItems": total,
            "totalPages": math.ceil(total / size),
        }
    )


def _history_item(task: Task) -> Json:
    item = task.lifecycle_item()
    if task.resource_type == "backup_schedule" and task.kind in ("backup", "mirrorSync", "forget"):
        target: Json = {
            "kind": "backupSchedule",
            "label": task.target_display_name,
            "secondary": None,
            "scheduleShortId": task.input.get("scheduleShortId", task.resource_id),
        }
    elif task.resource_type == "repository" and task.kind == "restore":
        target = {
            "kind": "repository",
            "label": task.input.get("snapshotId", ""),
            "secondary": task.target_display_name,
            "repositoryShortId": task.resource_id,
            "snapshotId": task.input.get("snapshotId"),
        }
    elif task.resource_type == "repository":
        target = {
            "kind": "repository",
            "label": task.target_display_name,
            "secondary": None,
            "repositoryShortId": task.resource_id,
            "snapshotId": None,
        }
    else:
        target = {"kind": "unavailable", "label": task.target_display_name, "secondary": None}
    return {**item, "target": target, "createdAt": task.created_at}


def _task_or_404(ctx: Ctx) -> Task:
    task = ctx.sim.tasks.get(ctx.params["taskId"])
    if task is None:
        raise fail(404, "Task not found")
    return task


def get_task(ctx: Ctx) -> Response:
    return json_response(_task_or_404(ctx).dto())


def cancel_task(ctx: Ctx) -> Response:
    task = _task_or_404(ctx)
    # v0.41 runs backups outside the task lifecycle: only /backups/{id}/stop stops them (tasks.controller.ts).
    legacy_backup = ctx.sim.legacy and task.kind == "backup"
    if not task.active or not task.cancellable or legacy_backup:
        raise fail(409, "Task is not cancellable or is no longer running")
    ctx.sim.request_cancel(task)
    return json_response({"status": "cancelling"}, 202)


def _sse(ctx: Ctx, initial: Callable[[], list[str]], wants: Callable[[str, Json], bool]) -> Response:
    sim = ctx.sim
    state = ctx.request.scope.get("state") or {}
    drop_after = state.get(STATE_DROP_SSE)
    owner = ctx.owner

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        sub = sim.subscribe(loop, queue, wants, owner)
        sent = 0
        try:
            interval = max(0.01, sim.heartbeat_interval)
            with sim.lock:
                frames = [sse_frame("connected", {"type": "connected", "timestamp": sim.now_ms()}), *initial()]
            frames.append(sse_frame("heartbeat", {"timestamp": sim.now_ms()}))
            for frame in frames:
                yield frame
                sent += 1
                if drop_after is not None and sent >= drop_after:
                    return
            next_beat = loop.time() + interval
            while True:
                timeout = next_beat - loop.time()
                if timeout <= 0:
                    item: str | None = sse_frame("heartbeat", {"timestamp": sim.now_ms()})
                    next_beat = loop.time() + interval
                else:
                    try:
                        item = await asyncio.wait_for(queue.get(), timeout)
                    except TimeoutError:
                        continue
                if item is None:
                    return
                yield item
                sent += 1
                if drop_after is not None and sent >= drop_after:
                    return
        finally:
            sim.unsubscribe(sub)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


def task_events(ctx: Ctx) -> Response:
    task = _task_or_404(ctx)
    task_id = task.id

    def initial() -> list[str]:
        return [sse_frame("task:changed", ctx.sim.tasks[task_id].dto())]

    return _sse(ctx, initial, lambda ev, data: ev == "task:changed" and data.get("id") == task_id)


def tasks_events(ctx: Ctx) -> Response:
    match = _task_filter(ctx)

    def initial() -> list[str]:
        active = _newest_first([t for t in ctx.sim.tasks.values() if t.active])
        return [sse_frame("tasks:snapshot", [d for d in (t.dto() for t in active) if match(d)])]

    return _sse(ctx, initial, lambda ev, data: ev == "task:changed" and match(data))


def org_events(ctx: Ctx) -> Response:
    return _sse(ctx, list, lambda ev, data: ev != "task:changed")


# ==================================================================================================
# system, auth, docs
# ==================================================================================================


def system_info(ctx: Ctx) -> Response:
    rclone = bool(ctx.sim.rclone_remotes)
    vols = ["directory", "nfs", "smb", "webdav", *(["rclone"] if rclone else []), "sftp"]
    repos = ["local", "s3", "r2", "gcs", "azure", "sftp", "rest", *(["rclone"] if rclone else [])]
    return json_response(
        {
            "runtime": "server",
            "capabilities": {"rclone": rclone, "sysAdmin": True, "volumeBackends": vols, "repositoryBackends": repos},
        }
    )


def system_updates(ctx: Ctx) -> Response:
    sim = ctx.sim
    current = sim.app_version
    latest = sim.latest_version or current
    missed: list[Json] = []
    has_update = latest != current and current.startswith("v") and latest.startswith("v")
    if has_update:
        missed.append(
            {
                "version": latest,
                "url": f"https://github.com/nicotsx/zerobyte/releases/tag/{latest}",
                "publishedAt": iso_from_ms(sim.now_ms() - 5 * 86_400_000, nanos=False),
                "body": "## What's Changed\n* Bug fixes and improvements",
            }
        )
    return json_response(
        {"currentVersion": current, "latestVersion": latest, "hasUpdate": has_update, "missedReleases": missed},
        headers={"cache-control": "no-store"},
    )


def registration_status(ctx: Ctx) -> Response:
    return json_response({"enabled": ctx.sim.registration_enabled})


def password_login_status(ctx: Ctx) -> Response:
    return json_response({"disabled": ctx.sim.password_login_disabled})


def dev_panel(ctx: Ctx) -> Response:
    return json_response({"enabled": ctx.sim.dev_panel_enabled})


def auth_status(ctx: Ctx) -> Response:
    return json_response({"hasUsers": True})


def sso_providers(ctx: Ctx) -> Response:
    return json_response({"providers": []})


def login_error(ctx: Ctx) -> Response:
    error = urllib.parse.quote(ctx.query.get("error") or "unknown_error")
    return Response(b"", status_code=302, headers={"location": f"/login?error={error}"})


def org_members(ctx: Ctx) -> Response:
    sim = ctx.sim
    return json_response(
        {
            "members": [
                {
                    "id": "mbr_owner0000000000000000000000",
                    "userId": ORG_OWNER_USER_ID,
                    "role": "owner",
                    "createdAt": iso_from_ms(sim.now_ms() - 90 * 86_400_000, nanos=False),
                    "user": {"name": "admin", "email": "admin@example.com"},
                }
            ]
        }
    )


def org_member_role(ctx: Ctx) -> Response:
    if ctx.params["memberId"] == "mbr_owner0000000000000000000000":
        raise fail(403, "Cannot change the role of the organization owner")
    raise fail(404, "Member not found")


def org_member_delete(ctx: Ctx) -> Response:
    if ctx.params["memberId"] == "mbr_owner0000000000000000000000":
        raise fail(403, "Cannot remove the organization owner")
    raise fail(404, "Member not found")


def desktop_session(ctx: Ctx) -> Response:
    raise fail(400, "Desktop runtime is not enabled")


def never(ctx: Ctx) -> Response:  # browser-only routes: auth answers before this runs
    raise fail(401, "Browser session required")


def openapi_doc(ctx: Ctx) -> Response:
    paths: dict[str, dict[str, Json]] = {}
    for route in ROUTES:
        if _hidden(ctx.sim, route):
            continue
        paths.setdefault(API + route.template, {})[route.method.lower()] = {"operationId": route.handler.__name__}
    return json_response(
        {
            "openapi": "3.1.0",
            "info": {"title": "Zerobyte API", "description": "API for managing volumes", "version": "1.0.0"},
            "servers": [{"url": "http://127.0.0.1:4096", "description": "Development Server"}],
            "paths": paths,
        }
    )


def docs_page(ctx: Ctx) -> Response:
    html = (
        "<!doctype html><html><head><title>Zerobyte API</title></head>"
        "<body>Zerobyte API reference (simulator)</body></html>"
    )
    return Response(html.encode(), media_type="text/html; charset=UTF-8")


# ==================================================================================================
# route table
# ==================================================================================================


def _route(
    method: str,
    template: str,
    handler: Handler,
    *,
    auth: str = "key",
    body: bool = False,
    only: str | None = None,
) -> RouteDef:
    return RouteDef(method, template, _compile(template), handler, auth, body, only)


ROUTES: list[RouteDef] = [
    # auth
    _route("GET", "/auth/status", auth_status, auth="public"),
    _route("GET", "/auth/sso-providers", sso_providers, auth="public"),
    _route("GET", "/auth/login-error", login_error, auth="public"),
    _route("GET", "/auth/org-members", org_members),
    _route("PATCH", "/auth/org-members/{memberId}/role", org_member_role),
    _route("DELETE", "/auth/org-members/{memberId}", org_member_delete),
    _route("GET", "/auth/admin-users", never, auth="browser"),
    _route("DELETE", "/auth/admin-users/{userId}/accounts/{accountId}", never, auth="browser"),
    _route("GET", "/auth/deletion-impact/{userId}", never, auth="browser"),
    _route("GET", "/auth/api-keys", never, auth="browser"),
    _route("POST", "/auth/api-keys", never, auth="browser"),
    _route("DELETE", "/auth/api-keys/{keyId}", never, auth="browser"),
    _route("GET", "/auth/sso-settings", never, auth="browser"),
    _route("GET", "/auth/sso-invitations", never, auth="browser"),
    _route("POST", "/auth/sso-invitations/{invitationId}/verify", never, auth="browser"),
    _route("DELETE", "/auth/sso-providers/{providerId}", never, auth="browser"),
    _route("PATCH", "/auth/sso-providers/{providerId}/auto-linking", never, auth="browser"),
    _route("DELETE", "/auth/sso-invitations/{invitationId}", never, auth="browser"),
    # volumes
    _route("GET", "/volumes", list_volumes),
    _route("POST", "/volumes", create_volume, body=True),
    _route("POST", "/volumes/test-connection", check_volume_connection, body=True),
    _route("GET", "/volumes/filesystem/browse", browse_filesystem),
    _route("GET", "/volumes/{shortId}", get_volume),
    _route("PUT", "/volumes/{shortId}", update_volume, body=True),
    _route("DELETE", "/volumes/{shortId}", delete_volume),
    _route("POST", "/volumes/{shortId}/mount", mount_volume),
    _route("POST", "/volumes/{shortId}/unmount", unmount_volume),
    _route("POST", "/volumes/{shortId}/health-check", health_check_volume),
    _route("GET", "/volumes/{shortId}/files", list_volume_files),
    # repositories
    _route("GET", "/repositories", list_repositories),
    _route("POST", "/repositories", create_repository, body=True),
    _route("GET", "/repositories/rclone-remotes", rclone_remotes),
    _route("GET", "/repositories/{shortId}", get_repository),
    _route("PATCH", "/repositories/{shortId}", update_repository, body=True),
    _route("DELETE", "/repositories/{shortId}", delete_repository),
    _route("GET", "/repositories/{shortId}/stats", repository_stats),
    _route("POST", "/repositories/{shortId}/stats/refresh", refresh_repository_stats),
    _route("GET", "/repositories/{shortId}/snapshots", list_snapshots),
    _route("DELETE", "/repositories/{shortId}/snapshots", delete_snapshots, body=True),
    _route("POST", "/repositories/{shortId}/snapshots/refresh", refresh_snapshots),
    _route("POST", "/repositories/{shortId}/snapshots/tag", tag_snapshots, body=True),
    _route("GET", "/repositories/{shortId}/snapshots/{snapshotId}", snapshot_details),
    _route("DELETE", "/repositories/{shortId}/snapshots/{snapshotId}", delete_snapshot),
    _route("GET", "/repositories/{shortId}/snapshots/{snapshotId}/files", snapshot_files),
    _route("GET", "/repositories/{shortId}/snapshots/{snapshotId}/dump", dump_snapshot),
    _route("POST", "/repositories/{shortId}/restore", restore_snapshot, body=True),
    _route("POST", "/repositories/{shortId}/doctor", start_doctor),
    _route("POST", "/repositories/{shortId}/unlock", unlock_repository),
    _route("POST", "/repositories/{shortId}/exec", never, auth="browser"),
    # backups
    _route("GET", "/backups", list_backups),
    _route("POST", "/backups", create_backup, body=True),
    _route("POST", "/backups/reorder", reorder_backups, body=True),
    _route("GET", "/backups/volume/{volumeShortId}", backup_for_volume),
    _route("GET", "/backups/{shortId}", get_backup),
    _route("PATCH", "/backups/{shortId}", update_backup, body=True),
    _route("DELETE", "/backups/{shortId}", delete_backup),
    _route("POST", "/backups/{shortId}/run", run_backup),
    _route("POST", "/backups/{shortId}/stop", stop_backup, only="legacy"),
    _route("GET", "/backups/{shortId}/progress", backup_progress, only="legacy"),
    _route("POST", "/backups/{shortId}/forget", run_forget),
    _route("GET", "/backups/{shortId}/notifications", get_schedule_notifications),
    _route("PUT", "/backups/{shortId}/notifications", put_schedule_notifications, body=True),
    _route("GET", "/backups/{shortId}/mirrors", get_mirrors),
    _route("PUT", "/backups/{shortId}/mirrors", put_mirrors, body=True),
    _route("GET", "/backups/{shortId}/mirrors/compatibility", mirror_compatibility),
    _route("GET", "/backups/{shortId}/mirrors/{mirrorShortId}/status", mirror_status),
    _route("POST", "/backups/{shortId}/mirrors/{mirrorShortId}/sync", sync_mirror, body=True),
    # notifications
    _route("GET", "/notifications/destinations", list_destinations),
    _route("POST", "/notifications/destinations", create_destination, body=True),
    _route("GET", "/notifications/destinations/{id}", get_destination),
    _route("PATCH", "/notifications/destinations/{id}", update_destination, body=True),
    _route("DELETE", "/notifications/destinations/{id}", delete_destination),
    _route("POST", "/notifications/destinations/{id}/test", send_test_notification),
    # system
    _route("GET", "/system/info", system_info),
    _route("GET", "/system/updates", system_updates),
    _route("GET", "/system/registration-status", registration_status),
    _route("PUT", "/system/registration-status", never, auth="browser"),
    _route("POST", "/system/restic-password", never, auth="browser"),
    _route("GET", "/system/password-login-status", password_login_status),
    _route("PUT", "/system/password-login-status", never, auth="browser"),
    _route("GET", "/system/dev-panel", dev_panel),
    # tasks and events
    _route("GET", "/tasks", list_tasks, only="tasks"),
    _route("GET", "/tasks/events", tasks_events, only="tasks"),
    _route("GET", "/tasks/history", task_history, only="modern"),
    _route("GET", "/tasks/{taskId}/events", task_events, only="tasks"),
    _route("GET", "/tasks/{taskId}", get_task, only="tasks"),
    _route("POST", "/tasks/{taskId}/cancel", cancel_task, only="tasks"),
    _route("GET", "/events", org_events, only="tasks"),
    # desktop and docs
    _route("POST", "/desktop/session", desktop_session, auth="public"),
    _route("GET", "/openapi.json", openapi_doc, auth="docs"),
    _route("GET", "/docs", docs_page, auth="docs"),
]

# ==================================================================================================
# dispatch
# ==================================================================================================


def _auth_error(sim: Simulator, request: Request) -> Response | None:
    key = (request.headers.get("x-api-key") or "").strip()
    if not key or key not in sim.api_keys:
        return json_response({"message": "Invalid or expired session"}, 401)
    if sim.org_member_removed:
        return json_response({"message": "Invalid organization context"}, 403)
    return None


def _hidden(sim: Simulator, route: RouteDef) -> bool:
    """Routes this simulated Zerobyte version does not have."""
    if route.only == "tasks":
        return not sim.tasks_api
    return route.only == ("modern" if sim.legacy else "legacy")


def _match(sim: Simulator, method: str, sub: str) -> tuple[RouteDef | None, dict[str, str], bool]:
    """(route, params, path_exists): path_exists tells a method mismatch from an unknown path."""
    path_exists = False
    for route in ROUTES:
        if _hidden(sim, route):
            continue
        m = route.regex.match(sub)
        if m is None:
            continue
        path_exists = True
        if route.method == method or (method == "HEAD" and route.method == "GET"):
            return route, {k: urllib.parse.unquote(val) for k, val in m.groupdict().items()}, True
    return None, {}, path_exists


async def _dispatch(sim: Simulator, request: Request, owner: object) -> Response:
    path = request.url.path
    method = request.method.upper()
    if method == "OPTIONS":  # hono/cors answers every preflight before routing and auth
        headers = {
            "access-control-allow-methods": "GET,HEAD,PUT,POST,DELETE,PATCH",
            "vary": "Origin, Access-Control-Request-Headers",
        }
        requested = request.headers.get("access-control-request-headers")
        if requested:
            headers["access-control-allow-headers"] = requested
        origin = request.headers.get("origin")
        if origin and origin in sim.trusted_origins:
            headers["access-control-allow-origin"] = origin
        return Response(b"", status_code=204, headers=headers)
    if path == "/api/healthcheck" and method == "GET":
        return json_response({"status": "ok"})
    if path.startswith("/api/auth/"):
        if path.startswith("/api/auth/api-key/"):
            return json_response({"message": "API key management is only supported through API v1 routes"}, 404)
        if (request.headers.get("x-api-key") or "").strip():
            return json_response({"message": "API key authentication is only supported for API v1 routes"}, 401)
        if path == "/api/auth/get-session" and method == "GET":
            return json_response(None)
        return not_found_text()
    if not (path == API or path.startswith(API + "/")):
        if method in ("GET", "HEAD") and not path.startswith("/api/"):
            return Response(WEB_UI.encode(), media_type="text/html; charset=utf-8")  # the web UI's pages
        return not_found_text()
    sub = path[len(API) :] or "/"
    route, params, _ = _match(sim, method, sub)
    if route is None:
        if any(sub == p or sub.startswith(p + "/") for p in AUTH_MOUNTS):
            denied = _auth_error(sim, request)
            if denied is not None:
                return denied
        return not_found_text()
    if route.auth in ("key", "browser") or (route.auth == "docs" and not sim.legacy):
        denied = _auth_error(sim, request)
        if denied is not None:
            return denied
        if route.auth == "browser":
            return json_response({"message": "Browser session required"}, 401)
    body: Any = None
    raw = await request.body()
    if len(raw) > BODY_LIMIT:
        return json_response({"message": "Request body too large"}, 413)
    if route.body:
        if "application/json" in (request.headers.get("content-type") or "").lower():
            try:
                body = json.loads(raw.decode("utf-8") if raw else "")
            except (ValueError, UnicodeDecodeError):
                return json_response({"message": "Malformed JSON in request body"}, 500)
        else:
            body = {}
    query = dict(urllib.parse.parse_qsl(request.url.query, keep_blank_values=True))
    ctx = Ctx(sim=sim, request=request, params=params, query=query, body=body, owner=owner)
    cost = None
    if sim.costs is not None:
        with sim.lock:
            cost = charge(sim, sim.costs, route.handler.__name__, params, query)
        if cost.slot is not None:
            async with cost.slot:
                await asyncio.sleep(cost.seconds)
        else:
            await asyncio.sleep(cost.seconds)
    try:
        with sim.lock:
            response = route.handler(ctx)
        if cost is not None and response.status_code == 200:
            for key in cost.warms:
                sim.cache.set(key)
        return response
    except ApiError as err:
        return json_response(err.body, err.status)
    except Exception as exc:  # mirror app.onError: anything else is a 500 {message}
        return json_response({"message": f"{type(exc).__name__}: {exc}"}, 500)


# ==================================================================================================
# outer ASGI layer: recording, faults, rate limit
# ==================================================================================================


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    """``send`` that adds ``extra`` headers to the response start."""
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *raw]}
        await send(message)

    return wrapped


class _Outer:
    """Records every request, applies fault rules and the rate limiter, then calls the app."""

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sim = self.sim
        chunks: list[bytes] = []
        disconnected = False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        self._record(scope, raw)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if disconnected:
                    return {"type": "http.disconnect"}
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        method = str(scope["method"]).upper()
        path = str(scope["path"])
        rule = sim.faults.take(method, path)
        if rule is not None:
            if rule.latency:
                await asyncio.sleep(rule.latency)
            if rule.status is not None:
                await self._canned(rule, send)
                return
            if rule.drop_sse_after is not None:
                scope.setdefault("state", {})[STATE_DROP_SSE] = rule.drop_sse_after
        client = (scope.get("client") or ("", 0))[0]
        # Zerobyte's limiter covers /api only; the key is the socket address (X-Forwarded-For is overwritten)
        rate = sim.rate_count(str(client)) if path.startswith("/api/") else None
        if rate is not None and rate.remaining < 0:
            response = text_response(
                "Too many requests, please try again later.",
                429,
                {**SECURE_HEADERS, **rate.headers(), "retry-after": str(rate.reset)},
            )
            await response(scope, replay, send)
            return
        if rate is not None:
            send = _with_headers(send, rate.headers())
        if rule is not None and (rule.truncate_json or rule.wrong_types or rule.reset):
            await self._mangled(rule, scope, replay, send)
            return
        await self.app(scope, replay, send)

    def _record(self, scope: Scope, raw: bytes) -> None:
        headers: dict[str, str] = {}
        for k, val in scope.get("headers", []):
            name = k.decode("latin-1").lower()
            headers[name] = "<redacted>" if name == "x-api-key" else val.decode("latin-1")
        qs = scope.get("query_string", b"").decode("latin-1")
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        with self.sim.lock:
            self.sim.requests.append(
                RecordedRequest(
                    method=str(scope["method"]).upper(),
                    path=str(scope["path"]),
                    query=dict(urllib.parse.parse_qsl(qs, keep_blank_values=True)),
                    query_string=qs,
                    headers=headers,
                    body=body,
                    time=time.time(),
                    client=str((scope.get("client") or ("", 0))[0]),
                    raw_body=raw,
                )
            )

    @staticmethod
    async def _canned(rule: FaultRule, send: Send) -> None:
        body = rule.body
        if isinstance(body, bytes):
            data = body
            ctype = rule.content_type or "application/octet-stream"
        elif isinstance(body, str):
            data = body.encode()
            ctype = rule.content_type or TEXT_TYPE
        elif body is None:
            data = b""
            ctype = rule.content_type or TEXT_TYPE
        else:
            data = json.dumps(body).encode()
            ctype = rule.content_type or JSON_TYPE
        headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(data)).encode())]
        headers += [(k.lower().encode(), str(val).encode()) for k, val in rule.headers.items()]
        await send({"type": "http.response.start", "status": rule.status, "headers": headers})
        await send({"type": "http.response.body", "body": data, "more_body": False})

    async def _mangled(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        parts: list[bytes] = []
        passthrough = False

        async def capture(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                ctype = dict(message.get("headers", [])).get(b"content-type", b"")
                if ctype.startswith(b"text/event-stream"):
                    passthrough = True
                    await send(message)
                    return
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if passthrough or start is None:
            return
        body = b"".join(parts)
        headers = [(k, val) for k, val in start.get("headers", []) if k.lower() != b"content-length"]
        if rule.reset:
            cut = body[: max(1, len(body) // 2)] if body else b""
            headers.append((b"content-length", str(max(len(body), len(cut) + 1)).encode()))
            await send({"type": "http.response.start", "status": start["status"], "headers": headers})
            await send({"type": "http.response.body", "body": cut, "more_body": True})
            return  # uvicorn closes the connection: the response was never completed
        if rule.wrong_types:
            with contextlib.suppress(ValueError):
                body = json.dumps(mutate_types(json.loads(body))).encode()
        if rule.truncate_json:
            body = body[: max(1, len(body) // 2)]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def create_app(sim: Simulator) -> Starlette:
    """A Starlette app serving ``sim`` as a Zerobyte server (all routes, faults, recording)."""
    owner = object()

    async def endpoint(request: Request) -> Response:
        response = await _dispatch(sim, request, owner)
        for name, value in SECURE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(routes=[StarletteRoute("/{path:path}", endpoint, methods=methods)])
    app.state.zb_owner = owner
    app.state.zb_sim = sim
    app.add_middleware(_OuterMiddleware, sim=sim)
    return app


class _OuterMiddleware(_Outer):
    """``_Outer`` under the name Starlette's middleware stack instantiates."""
