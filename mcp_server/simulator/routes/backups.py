"""Backup schedule routes: CRUD, run/stop/progress, forget, notification routing, mirrors, reorder."""

from __future__ import annotations

from starlette.responses import Response

from .. import cron
from .. import validation as v
from .._util import (
    Json,
    iso_from_ms,
)
from ..model import SCHEDULE_OPTION_KEYS, fail
from ..state import Simulator
from .common import (
    Ctx,
    json_response,
    task_started,
)

# ==================================================================================================
# backup schedules
# ==================================================================================================


def _schedule_or_404(ctx: Ctx, key: str = "shortId") -> Json:
    row = ctx.sim.find_schedule(ctx.params[key])
    if row is None:
        raise fail(404, "Backup schedule not found")
    return row


def drop_schedule(sim: Simulator, row: Json) -> None:
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
    for key in SCHEDULE_OPTION_KEYS:
        if key in body:
            row[key] = body[key]
    row["maxRetries"] = body["maxRetries"]
    row["retryDelay"] = body["retryDelay"]
    now = sim.now_ms()
    row["nextBackupAt"] = cron.next_run(row["cronExpression"], now) if row["cronExpression"] else None
    row["updatedAt"] = now
    return json_response(sim.schedule_dto(row))


def delete_backup(ctx: Ctx) -> Response:
    drop_schedule(ctx.sim, _schedule_or_404(ctx))
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
    return task_started(task, {"success": True})  # None on v0.41 and older: no task


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
    return task_started(task, {"success": True})  # None on v0.41 and older: no task


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
