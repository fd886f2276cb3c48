"""Volume routes: CRUD, mount/unmount, health checks, browsing and the volume's files."""

from __future__ import annotations

import posixpath

from starlette.responses import Response

from .. import validation as v
from .._util import (
    VOLUME_SECRET_FIELDS,
    Json,
    seal_config,
)
from ..files import volume_listing
from ..model import ApiError, fail
from .backups import drop_schedule
from .common import (
    Ctx,
    body_name,
    int_query,
    json_response,
)

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
    name = body_name(body, "Volume name cannot be empty")
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
        name = body_name(body, "Volume name cannot be empty")
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
        drop_schedule(sim, sched)
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


def list_volume_files(ctx: Ctx) -> Response:
    sim = ctx.sim
    offset = max(0, int_query(ctx, "offset", 0))
    limit = min(500, max(1, min(1000, int_query(ctx, "limit", 500))))
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
