"""Backup job tools: what is backed up, where to, when, and how long it is kept."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..output import iso_from_ms
from ..zerobyte.models import BackupJob
from .base import Ctx, client_of, tool

__all__ = ["BackupJobList", "BackupJobSummary", "job_summary", "list_backup_jobs"]


class BackupJobSummary(BaseModel):
    id: str = Field(description="Backup job short id")
    name: str
    enabled: bool
    volume: str | None = Field(None, description="Volume name (id)")
    repository: str | None = Field(None, description="Repository name (id)")
    cron: str | None = None
    last_run: str | None = None
    last_status: str | None = Field(None, description="success, warning, error or in_progress")
    last_error: str | None = None
    next_run: str | None = None


class BackupJobList(BaseModel):
    jobs: list[BackupJobSummary]
    total: int


def job_summary(j: BackupJob) -> BackupJobSummary:
    return BackupJobSummary(
        id=j.shortId,
        name=j.name,
        enabled=j.enabled,
        volume=f"{j.volume.name} ({j.volume.shortId})" if j.volume else None,
        repository=f"{j.repository.name} ({j.repository.shortId})" if j.repository else None,
        cron=j.cronExpression or None,
        last_run=iso_from_ms(j.lastBackupAt),
        last_status=j.lastBackupStatus,
        last_error=j.lastBackupError,
        next_run=iso_from_ms(j.nextBackupAt),
    )


@tool(toolset="backups", title="List backup jobs")
async def list_backup_jobs(ctx: Ctx) -> BackupJobList:
    """List every backup job with its volume, repository, schedule, last run (status, error) and next run."""
    jobs = await client_of(ctx).list_backup_jobs()
    return BackupJobList(jobs=[job_summary(j) for j in jobs], total=len(jobs))
