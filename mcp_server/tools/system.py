"""System tool: what this Zerobyte is and can do, so an agent knows which backends and features exist.

Zerobyte has no version in ``/system/info`` and ``currentVersion`` may be ``dev`` on a source build, so
features (tasks API, task history) are reported as detected by route, next to the version strings.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..answers.concurrency import gather
from ..zerobyte.errors import NotFound
from ..zerobyte.legacy import differences
from ..zerobyte.models import SystemUpdates
from .base import Ctx, app_of, client_of, tool

__all__ = ["SystemInfo", "get_system_info"]


class SystemInfo(BaseModel, defer_build=True):
    runtime: str | None = Field(None, description="server or desktop")
    version: str | None = None
    latest_version: str | None = None
    update_available: bool | None = None
    missed_releases: list[str] = []
    features: list[str] = Field([], description="tasks, task_history, rclone, sys_admin")
    volume_backends: list[str] = []
    repository_backends: list[str] = []
    notes: list[str] = []


@tool(title="Get system info")
async def get_system_info(ctx: Ctx) -> SystemInfo:
    """Zerobyte version, update, runtime, usable volume/repository backends, features."""
    client = client_of(ctx)
    info, caps, updates = await gather([client.system_info(), app_of(ctx).get_capabilities(), _updates(ctx)])
    features = info.capabilities
    return SystemInfo(
        runtime=info.runtime,
        version=updates.currentVersion if updates else None,
        latest_version=updates.latestVersion if updates else None,
        update_available=updates.hasUpdate if updates else None,
        missed_releases=[str(r.get("version") or r.get("name") or "?") for r in updates.missedReleases]
        if updates
        else [],
        features=[
            name
            for name, on in (
                ("tasks", caps.tasks_api),
                ("task_history", caps.task_history),
                ("rclone", features.get("rclone") is True),
                # Without SYS_ADMIN the container cannot mount NFS/SMB/WebDAV volumes.
                ("sys_admin", features.get("sysAdmin") is True),
            )
            if on
        ],
        volume_backends=_names(features.get("volumeBackends")),
        repository_backends=_names(features.get("repositoryBackends")),
        # Every tool that works differently, or not at all (left out of tools/list), on this Zerobyte.
        notes=differences(caps, app_of(ctx).exposed or None) or list(caps.notes),
    )


async def _updates(ctx: Ctx) -> SystemUpdates | None:
    try:
        return await client_of(ctx).system_updates()
    except NotFound:
        return None


def _names(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
