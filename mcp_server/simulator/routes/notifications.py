"""Notification destination routes: CRUD and test sends."""

from __future__ import annotations

import re

from starlette.responses import Response

from .. import validation as v
from .._util import (
    NOTIFICATION_SECRET_FIELDS,
    Json,
    seal_config,
    unseal_config,
)
from ..model import fail
from .common import (
    Ctx,
    body_name,
    json_response,
)

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
    name = body_name(body, "Name cannot be empty")
    row = sim._insert_destination(name, body["config"])
    return json_response(_destination_dto(row), 201)


def get_destination(ctx: Ctx) -> Response:
    return json_response(_destination_dto(_destination_or_404(ctx)))


def update_destination(ctx: Ctx) -> Response:
    sim = ctx.sim
    body = ctx.validate(v.DESTINATION_UPDATE)
    row = _destination_or_404(ctx)
    if "name" in body:
        row["name"] = body_name(body, "Name cannot be empty")
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
