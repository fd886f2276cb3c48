"""Repository tools: the encrypted restic destinations backups are written to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..answers.concurrency import gather
from ..answers.notation import format_location
from ..answers.output import iso_from_ms
from ..safety.redact import redact, redact_text
from ..zerobyte import ZerobyteError
from ..zerobyte.models import Repository, ResticStats, Snapshot
from .base import Ctx, client_of, tool
from .health import repository_trouble

__all__ = [
    "Growth",
    "RepositoryDetail",
    "RepositoryList",
    "RepositorySummary",
    "get_repository",
    "growth_of",
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
    stats_updated: str | None = None
    stats_age_days: float | None = None
    stats_note: str | None = Field(None, description="Why stored_bytes is unknown")
    growth: Growth | None = None


class GrowthWeek(BaseModel, defer_build=True):
    week: str  # the Monday it starts (UTC)
    snapshots: int
    added_bytes: int  # new data the week's backups found (restic data_added)
    stored_added_bytes: int  # what the repository grew by, compressed (restic data_added_packed)


class Growth(BaseModel, defer_build=True):
    snapshots: int
    first: str | None = None
    newest: str | None = None
    weeks: list[GrowthWeek] = []
    without_summary: int | None = None  # snapshots restic wrote no summary for (copies, older restic)
    note: str | None = None


class RepositoryList(BaseModel, defer_build=True):
    repositories: list[RepositorySummary]
    total: int


NO_STATS = (
    "unknown, because Zerobyte has not computed this repository's stats yet (restic stats runs when its web "
    "UI refreshes them)"
)


def stats_age(updated_ms: float | None, now: datetime | None = None) -> float | None:
    """Days since Zerobyte computed a repository's stats, to one decimal."""
    if updated_ms is None:
        return None
    now = now or datetime.now(UTC)
    return round(max(0.0, now.timestamp() - updated_ms / 1000) / 86400, 1)


def repository_summary(r: Repository) -> RepositorySummary:
    config: dict[str, Any] = redact(r.config)  # type: ignore[assignment]
    stats = r.stats
    known = stats is not None and (bool(stats.total_size) or bool(stats.snapshots_count) or bool(r.statsUpdatedAt))
    return RepositorySummary(
        id=r.shortId,
        name=r.name,
        backend=config.get("backend") or r.type,
        status=r.status,
        location=format_location(config),
        last_checked=iso_from_ms(r.lastChecked),
        last_error=redact_text(r.lastError) if r.lastError else None,
        compression=r.compressionMode,
        stored_bytes=int(stats.total_size or 0) if stats is not None and known else None,
        snapshots_count=stats.snapshots_count if stats is not None and known else None,
        stats_updated=iso_from_ms(r.statsUpdatedAt),
        stats_age_days=stats_age(r.statsUpdatedAt),
        stats_note=None if known else NO_STATS,
    )


@tool(title="List repositories")
async def list_repositories(
    ctx: Ctx,
    growth: Annotated[bool, Field(description="Add data added per week, from snapshot summaries")] = False,
) -> RepositoryList:
    """Every repository (restic destination): backend, location, status, error, stored size, snapshots."""
    client = client_of(ctx)
    repositories = await client.list_repositories()
    rows = [repository_summary(r) for r in repositories]
    if growth:
        # One snapshot listing per repository: Zerobyte keeps it cached (until a backup, deletion or tag
        # changes it), so asking again runs no restic.
        async def grown(row: RepositorySummary) -> None:
            try:
                row.growth = growth_of(await client.list_snapshots(row.id))
            except ZerobyteError as exc:
                row.growth = Growth(snapshots=0, note=f"unknown, because the snapshots could not be listed: {exc}")

        await gather([grown(r) for r in rows], limit=4)
    return RepositoryList(repositories=rows, total=len(repositories))


GROWTH_WEEKS = 8


def growth_of(snapshots: list[Snapshot], weeks: int = GROWTH_WEEKS) -> Growth:
    """Data added per week (newest first, the last ``weeks`` weeks holding snapshots) from restic's summaries."""
    by_week: dict[str, GrowthWeek] = {}
    bare = 0
    for snap in snapshots:
        summary = snap.summary or {}
        added, packed = summary.get("data_added"), summary.get("data_added_packed")
        if not isinstance(added, int | float):
            bare += 1
            continue
        day = datetime.fromtimestamp(snap.time / 1000, UTC).date()
        monday = (day - timedelta(days=day.weekday())).isoformat()
        week = by_week.setdefault(monday, GrowthWeek(week=monday, snapshots=0, added_bytes=0, stored_added_bytes=0))
        week.snapshots += 1
        week.added_bytes += int(added)
        week.stored_added_bytes += int(packed) if isinstance(packed, int | float) else 0
    shown = [by_week[k] for k in sorted(by_week, reverse=True)[:weeks]]
    times = [s.time for s in snapshots]
    note = None
    if len(by_week) > weeks:
        note = f"the {weeks} newest of {len(by_week)} weeks with snapshots"
    return Growth(
        snapshots=len(snapshots),
        first=iso_from_ms(min(times)) if times else None,
        newest=iso_from_ms(max(times)) if times else None,
        weeks=shown,
        without_summary=bare or None,
        note=note,
    )


# --- detail ----------------------------------------------------------------------------------------

# Mirrors are only listed per backup job; beyond this many jobs the per-job lookups cost too many requests.
MIRROR_ROWS_READ = 6  # other jobs whose mirror rows are read one by one; beyond, the snapshot tags tell


class RepositoryStats(BaseModel, defer_build=True):
    stored_bytes: int | None = None
    uncompressed_bytes: int | None = None
    compression_ratio: float | None = None
    snapshots_count: int | None = None
    updated: str | None = Field(None, description="When Zerobyte last computed these stats")
    age_days: float | None = None
    note: str | None = Field(None, description="Why stored_bytes is unknown")


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
    trouble: str | None = Field(None, description="What backup_health reports of it")
    next_step: str | None = None
    note: str | None = None


@tool(title="Get repository")
async def get_repository(
    ctx: Ctx,
    repository_id: str,
) -> RepositoryDetail:
    """A repository: status (as backup_health judges it), error, stored size, snapshots, doctor result, jobs."""
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
    snapshots: list[Snapshot] | None = None  # listed at most once per answer: each listing is a restic run
    if len(others) > MIRROR_ROWS_READ:
        # Zerobyte tags each snapshot with its job's short id, and a mirror copy keeps the tag: one snapshot
        # list names the jobs that copy here, instead of one mirrors request per job.
        snapshots = await client.list_snapshots(repo.shortId)
        tagged = {tag for snap in snapshots for tag in snap.tags}
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
    if detail.stats is None:
        # No stats: say so, and count the snapshots from the listing (one request, cached by Zerobyte).
        try:
            count: int | None = len(snapshots if snapshots is not None else await client.list_snapshots(repo.shortId))
        except ZerobyteError:
            count = None
        detail.stats = RepositoryStats(snapshots_count=count, note=NO_STATS)
    trouble = repository_trouble(repo, jobs)
    if trouble is not None:  # the same words as backup_health: one never calls healthy what the other does not
        detail.status = trouble.status
        detail.trouble = redact_text(trouble.message) if trouble.message else None
        detail.next_step = trouble.next_step
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
        age_days=stats_age(updated_ms),
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
