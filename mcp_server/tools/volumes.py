"""Volume tools: the sources Zerobyte backs up (directories, NFS, SMB, WebDAV, SFTP, rclone)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..answers.concurrency import gather
from ..answers.notation import format_source
from ..answers.output import iso_from_ms
from ..safety.redact import redact, redact_text
from ..zerobyte.models import Volume
from .base import Ctx, client_of, tool

__all__ = [
    "VolumeDetail",
    "VolumeList",
    "VolumeSummary",
    "browse_server_filesystem",
    "browse_volume_files",
    "get_volume",
    "list_volumes",
    "volume_summary",
]


class VolumeSummary(BaseModel, defer_build=True):
    id: str = Field(description="Volume short id")
    name: str
    backend: str | None = None
    status: str | None = Field(None, description="mounted, unmounted or error")
    source: str | None = Field(None, description="Path, share or remote the volume reads")
    last_error: str | None = None
    last_health_check: str | None = None
    auto_remount: bool | None = None
    read_only: bool | None = None


class VolumeList(BaseModel, defer_build=True):
    volumes: list[VolumeSummary]
    total: int


def volume_summary(v: Volume) -> VolumeSummary:
    config: dict[str, Any] = redact(v.config)  # type: ignore[assignment]
    return VolumeSummary(
        id=v.shortId,
        name=v.name,
        backend=config.get("backend") or v.type,
        status=v.status,
        source=format_source(config) or v.path,
        last_error=redact_text(v.lastError) if v.lastError else None,
        last_health_check=iso_from_ms(v.lastHealthCheck),
        auto_remount=v.autoRemount,
        read_only=config.get("readOnly") or None,
    )


@tool(title="List volumes")
async def list_volumes(ctx: Ctx) -> VolumeList:
    """Every volume (backup source): backend, source path, mount status, last error."""
    volumes = await client_of(ctx).list_volumes()
    return VolumeList(volumes=[volume_summary(v) for v in volumes], total=len(volumes))


# --- detail and browsing ---------------------------------------------------------------------------


class Capacity(BaseModel, defer_build=True):
    total_bytes: int
    used_bytes: int
    free_bytes: int


class JobRef(BaseModel, defer_build=True):
    id: str
    name: str
    enabled: bool
    last_status: str | None = None
    last_run: str | None = None


class VolumeDetail(VolumeSummary):
    capacity: Capacity | None = Field(None, description="Filesystem of the mounted volume")
    backup_jobs: list[JobRef] = []


@tool(title="Get volume")
async def get_volume(
    ctx: Ctx,
    volume_id: str,
) -> VolumeDetail:
    """A volume: source, mount status, last error, disk capacity, jobs reading it."""
    client = client_of(ctx)
    detail, jobs = await gather([client.get_volume(volume_id), client.list_backup_jobs()])
    volume = detail.volume
    statfs = detail.statfs
    # Zerobyte reports statfs as zeros while the volume is not mounted: no capacity known.
    capacity = (
        Capacity(total_bytes=int(statfs.total), used_bytes=int(statfs.used), free_bytes=int(statfs.free))
        if statfs is not None and statfs.total > 0
        else None
    )
    using = [j for j in jobs if j.reads(volume)]
    return VolumeDetail(
        **volume_summary(volume).model_dump(),
        capacity=capacity,
        backup_jobs=[
            JobRef(
                id=j.shortId,
                name=j.name,
                enabled=j.enabled,
                last_status=j.last_outcome,
                last_run=iso_from_ms(j.lastBackupAt),
            )
            for j in using
        ],
    )


class VolumeEntry(BaseModel, defer_build=True):
    name: str
    type: str = Field(description="file or directory")
    size: int | None = None
    modified: str | None = None


class VolumeFiles(BaseModel, defer_build=True):
    path: str
    entries: list[VolumeEntry]
    total: int
    next_offset: int | None = Field(None, description="Pass as offset for the next page")


@tool(title="Browse volume files")
async def browse_volume_files(
    ctx: Ctx,
    volume_id: str,
    path: Annotated[str, Field(description="Folder in the volume, e.g. '/docs'")] = "/",
    offset: Annotated[int, Field(description="Entries to skip", ge=0)] = 0,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
) -> VolumeFiles:
    """List a folder of a mounted volume's live files (not a snapshot), paged."""
    page = await client_of(ctx).list_volume_files(volume_id, path, offset=offset, limit=limit)
    total = page.total if page.total is not None else offset + len(page.files)
    end = offset + len(page.files)
    return VolumeFiles(
        path=page.path or path,
        entries=[
            VolumeEntry(name=f.name, type=f.type, size=f.size, modified=iso_from_ms(f.modifiedAt)) for f in page.files
        ],
        total=total,
        next_offset=end if (page.hasMore or end < total) and page.files else None,
    )


class ServerDirectory(BaseModel, defer_build=True):
    name: str
    path: str


class ServerDirectories(BaseModel, defer_build=True):
    path: str
    directories: list[ServerDirectory]
    total: int
    note: str | None = None


# Zerobyte lists a folder unpaged; a folder with more sub-folders than this is cut (it is never a volume root).
MAX_SERVER_DIRECTORIES = 300


@tool(title="Browse server filesystem", read_only=True)
async def browse_server_filesystem(
    ctx: Ctx,
    path: Annotated[str, Field(description="Absolute folder on the Zerobyte server")] = "/",
) -> ServerDirectories:
    """List folders on the Zerobyte server's own filesystem, to pick a path for a new directory volume."""
    browse = await client_of(ctx).browse_filesystem(path)
    dirs = browse.directories
    shown = dirs[:MAX_SERVER_DIRECTORIES]
    return ServerDirectories(
        path=browse.path or path,
        directories=[ServerDirectory(name=d.name, path=d.path) for d in shown],
        total=len(dirs),
        note=f"Showing the first {len(shown)} of {len(dirs)}: browse a deeper path."
        if len(shown) < len(dirs)
        else None,
    )
