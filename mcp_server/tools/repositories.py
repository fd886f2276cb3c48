"""Repository tools: the encrypted restic destinations backups are written to."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..output import iso_from_ms
from ..redact import redact
from ..zerobyte.models import Repository
from .base import Ctx, client_of, tool

__all__ = ["RepositoryList", "RepositorySummary", "list_repositories", "repository_summary"]


class RepositorySummary(BaseModel):
    id: str = Field(description="Repository short id")
    name: str
    backend: str | None = None
    status: str | None = Field(None, description="healthy, error, unknown, doctor or cancelled")
    location: str | None = Field(None, description="Bucket, path or URL (credentials redacted)")
    last_checked: str | None = None
    last_error: str | None = None
    compression: str | None = None
    stored_bytes: int | None = None
    snapshots_count: int | None = None


class RepositoryList(BaseModel):
    repositories: list[RepositorySummary]
    total: int


def repository_summary(r: Repository) -> RepositorySummary:
    config: dict[str, Any] = redact(r.config)  # type: ignore[assignment]
    stats = r.stats
    return RepositorySummary(
        id=r.shortId,
        name=r.name,
        backend=config.get("backend") or r.type,
        status=r.status,
        location=_location(config),
        last_checked=iso_from_ms(r.lastChecked),
        last_error=r.lastError,
        compression=r.compressionMode,
        stored_bytes=int(stats.total_size) if stats and stats.total_size else None,
        snapshots_count=stats.snapshots_count if stats else None,
    )


def _location(config: dict[str, Any]) -> str | None:
    backend = config.get("backend")
    if backend in ("s3", "r2", "gcs"):
        return f"{backend}://{config.get('bucket')}" + (f" ({config['endpoint']})" if config.get("endpoint") else "")
    if backend == "azure":
        return f"azure://{config.get('accountName')}/{config.get('container')}"
    if backend in ("local", "rclone"):
        prefix = f"{config['remote']}:" if config.get("remote") else ""
        return f"{prefix}{config.get('path')}"
    if backend == "rest":
        return str(config.get("url") or "") or None
    if backend == "sftp":
        return f"sftp://{config.get('user')}@{config.get('host')}:{config.get('path')}"
    return None


@tool(toolset="repositories", title="List repositories")
async def list_repositories(ctx: Ctx) -> RepositoryList:
    """List every repository (restic destination) with backend, location, status, last error and stored size."""
    repositories = await client_of(ctx).list_repositories()
    return RepositoryList(repositories=[repository_summary(r) for r in repositories], total=len(repositories))
