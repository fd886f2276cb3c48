"""Volume tools: the sources Zerobyte backs up (directories, NFS, SMB, WebDAV, SFTP, rclone)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..output import iso_from_ms
from ..redact import redact
from ..zerobyte.models import Volume
from .base import Ctx, client_of, tool

__all__ = ["VolumeList", "VolumeSummary", "list_volumes", "volume_summary"]


class VolumeSummary(BaseModel):
    id: str = Field(description="Volume short id")
    name: str
    backend: str | None = None
    status: str | None = Field(None, description="mounted, unmounted or error")
    source: str | None = Field(None, description="Path, share or remote the volume reads")
    last_error: str | None = None
    last_health_check: str | None = None
    auto_remount: bool | None = None
    read_only: bool | None = None


class VolumeList(BaseModel):
    volumes: list[VolumeSummary]
    total: int


def volume_summary(v: Volume) -> VolumeSummary:
    config: dict[str, Any] = redact(v.config)  # type: ignore[assignment]
    return VolumeSummary(
        id=v.shortId,
        name=v.name,
        backend=config.get("backend") or v.type,
        status=v.status,
        source=_source(config) or v.path,
        last_error=v.lastError,
        last_health_check=iso_from_ms(v.lastHealthCheck),
        auto_remount=v.autoRemount,
        read_only=config.get("readOnly") or None,
    )


def _source(config: dict[str, Any]) -> str | None:
    backend = config.get("backend")
    if backend == "directory":
        return str(config.get("path") or "") or None
    if backend == "nfs":
        return f"{config.get('server')}:{config.get('exportPath')}"
    if backend == "smb":
        return f"//{config.get('server')}/{config.get('share')}"
    if backend in ("webdav", "rclone"):
        return f"{config.get('server') or config.get('remote')}:{config.get('path')}"
    if backend == "sftp":
        return f"{config.get('username')}@{config.get('host')}:{config.get('path')}"
    return None


@tool(toolset="volumes", title="List volumes")
async def list_volumes(ctx: Ctx) -> VolumeList:
    """List every volume (backup source) with backend, source path, mount status and last error."""
    volumes = await client_of(ctx).list_volumes()
    return VolumeList(volumes=[volume_summary(v) for v in volumes], total=len(volumes))
