"""Repository tools: the encrypted restic destinations backups are written to."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..answers.concurrency import gather
from ..answers.notation import format_location
from ..answers.output import iso_from_ms
from ..safety.redact import redact, redact_text
from ..zerobyte.models import Repository, ResticStats
from .base import Ctx, client_of, tool

__all__ = [
    "RepositoryDetail",
    "RepositoryList",
    "RepositorySummary",
    "get_repository",
    "list_repositories",
    "repository_summary",
    "stats_view",
]


class RepositorySummary(BaseModel, defer_build=True):
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


class RepositoryList(BaseModel, defer_build=True):
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
        location=format_location(config),
        last_checked=iso_from_ms(r.lastChecked),
        last_error=redact_text(r.lastError) if r.lastError else None,
        compression=r.compressionMode,
        stored_bytes=int(stats.total_size) if stats and stats.total_size else None,
        snapshots_count=stats.snapshots_count if stats else None,
    )


@tool(title="List repositories")
async def list_repositories(ctx: Ctx) -> RepositoryList:
    """List every repository (restic destination) with backend, location, status, last error and stored size."""
    repositories = await client_of(ctx).list_repositories()
    return RepositoryList(repositories=[repository_summary(r) for r in repositories], total=len(repositories))


# --- detail ----------------------------------------------------------------------------------------

# Mirrors are only listed per backup job; beyond this many jobs the per-job lookups cost too many requests.
MIRROR_ROWS_READ = 6  # other jobs whose mirror rows are read one by one; beyond, the snapshot tags tell


class RepositoryStats(BaseModel, defer_build=True):
    stored_bytes: int | None = None
    uncompressed_bytes: int | None = None
    compression_ratio: float | None = None
    snapshots_count: int | None = None
    updated: str | None = Field(None, description="When Zerobyte last computed these stats")


class DoctorStep(BaseModel, defer_build=True):
    step: str
    success: bool | None = None
    error: str | None = None


class DoctorSummary(BaseModel, defer_build=True):
    success: bool | None = None
    completed: str | None = None
    steps: list[DoctorStep] = []


class JobUse(BaseModel, defer_build=True):
    id: str
    name: str
    role: str = Field(description="primary or mirror")
    enabled: bool | None = None
    last_status: str | None = None
    last_time: str | None = None


class RepositoryDetail(BaseModel, defer_build=True):
    id: str
    name: str
    backend: str | None = None
    location: str | None = Field(None, description="Credentials redacted")
    status: str | None = None
    last_checked: str | None = None
    last_error: str | None = None
    compression: str | None = None
    stats: RepositoryStats | None = None
    doctor: DoctorSummary | None = Field(None, description="Last doctor run")
    backup_jobs: list[JobUse] = []
    note: str | None = None


@tool(title="Get repository")
async def get_repository(
    ctx: Ctx,
    repository_id: Annotated[str, Field(description="Repository short id")],
) -> RepositoryDetail:
    """A repository's status, last error, stored size, compression, snapshot count, doctor result and the jobs using
    it."""
    client = client_of(ctx)
    repo, stats, jobs = await gather(
        [
            client.get_repository(repository_id),
            client.get_repository_stats(repository_id),
            client.list_backup_jobs(),
        ]
    )
    primary = [j for j in jobs if j.writes_to(repo)]
    uses = [
        JobUse(
            id=j.shortId,
            name=j.name,
            role="primary",
            enabled=j.enabled,
            last_status=j.last_outcome,
            last_time=iso_from_ms(j.lastBackupAt),
        )
        for j in primary
    ]
    others = [j for j in jobs if j not in primary]
    note = None
    candidates = others
    if len(others) > MIRROR_ROWS_READ:
        # Zerobyte tags each snapshot with its job's short id, and a mirror copy keeps the tag: one snapshot
        # list names the jobs that copy here, instead of one mirrors request per job.
        tagged = {tag for snap in await client.list_snapshots(repo.shortId) for tag in snap.tags}
        candidates = [j for j in others if j.shortId in tagged]
        note = (
            f"Mirrors found from the snapshots copied here ({len(others)} other jobs): one added since the last "
            "copy is not listed yet (get_backup_job shows a job's mirrors)."
        )
    mirror_lists = await gather((client.get_job_mirrors(j.shortId) for j in candidates), limit=6)
    for job, mirrors in zip(candidates, mirror_lists, strict=True):
        for m in mirrors:
            if m.repositoryId == repo.shortId or (m.repository and m.repository.shortId == repo.shortId):
                sync = m.last_sync
                uses.append(
                    JobUse(
                        id=job.shortId,
                        name=job.name,
                        role="mirror",
                        enabled=m.enabled,
                        last_status=sync.get("status"),
                        last_time=iso_from_ms(sync.get("finishedAt")),
                    )
                )
    summary = repository_summary(repo)
    detail = RepositoryDetail(
        **summary.model_dump(include=set(RepositoryDetail.model_fields)),
        stats=_stats(stats, repo),
        doctor=_doctor(repo.doctorResult),
        backup_jobs=uses,
        note=note,
    )
    return detail


def _stats(stats: ResticStats, repo: Repository) -> RepositoryStats | None:
    # GET stats answers all zeros when restic stats never ran; that is "unknown", not "empty".
    if not stats.snapshots_count and not stats.total_size and repo.statsUpdatedAt is None:
        return None
    return stats_view(stats, repo.statsUpdatedAt)


def stats_view(stats: ResticStats, updated_ms: float | None = None) -> RepositoryStats:
    """restic's repository stats as agents see them: whole bytes stored and uncompressed, ratio to 2 decimals."""
    return RepositoryStats(
        stored_bytes=int(stats.total_size) if stats.total_size is not None else None,
        uncompressed_bytes=int(stats.total_uncompressed_size) if stats.total_uncompressed_size is not None else None,
        compression_ratio=round(stats.compression_ratio, 2) if stats.compression_ratio else None,
        snapshots_count=stats.snapshots_count,
        updated=iso_from_ms(updated_ms),
    )


def _doctor(result: dict[str, Any] | None) -> DoctorSummary | None:
    if not result:
        return None
    steps = result.get("steps")
    completed = result.get("completedAt")
    return DoctorSummary(
        success=result.get("success") if isinstance(result.get("success"), bool) else None,
        completed=iso_from_ms(completed) if isinstance(completed, int | float) else None,
        steps=[
            DoctorStep(
                step=str(s.get("step", "?")),
                success=s.get("success") if isinstance(s.get("success"), bool) else None,
                error=_short(redact_text(str(s["error"]))) if s.get("error") else None,
            )
            for s in (steps if isinstance(steps, list) else [])
            if isinstance(s, dict)
        ],
    )


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
