"""System, auth, organization and docs routes."""

from __future__ import annotations

import urllib.parse

from starlette.responses import Response

from .._util import (
    Json,
    iso_from_ms,
)
from ..model import ORG_OWNER_USER_ID, fail
from .common import (
    Ctx,
    json_response,
)

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


def docs_page(ctx: Ctx) -> Response:
    html = (
        "<!doctype html><html><head><title>Zerobyte API</title></head>"
        "<body>Zerobyte API reference (simulator)</body></html>"
    )
    return Response(html.encode(), media_type="text/html; charset=UTF-8")
