"""Backup job tools: what is backed up, where to, when, and how long it is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..answers.concurrency import gather
from ..answers.coverage import Coverage, coverage
from ..answers.notation import format_retention
from ..answers.output import MISSING_LISTED, iso_from_ms, missing_line
from ..answers.task_views import next_step_for
from ..cron import CronError, describe_cron, parse_cron
from ..safety.redact import REDACTED, redact, redact_text
from ..zerobyte import ZerobyteClient, ZerobyteError
from ..zerobyte.ids import check_job_id, check_short_id
from ..zerobyte.models import BackupJob, DestinationAssignment, Mirror
from .base import Ctx, client_of, tool

__all__ = [
    "BackupJobDetail",
    "BackupJobList",
    "BackupJobListed",
    "BackupJobSummary",
    "get_backup_job",
    "job_identity",
    "job_summary",
    "list_backup_jobs",
    "mirrors_of_jobs",
    "schedule_words",
]


class BackupJobSummary(BaseModel, defer_build=True):
    id: str = Field(description="Backup job short id")
    name: str
    enabled: bool
    volume: str | None = Field(None, description="Volume name (id)")
    repository: str | None = Field(None, description="Repository name (id)")
    cron: str | None = None
    schedule: str | None = Field(None, description="The cron in words")
    last_run: str | None = None
    last_status: str | None = Field(None, description="success, warning, error, cancelled, stale or in_progress")
    last_error: str | None = None
    next_step: str | None = None
    next_run: str | None = None


class BackupJobListed(BackupJobSummary):
    mirrors: list[str] = Field([], description="Enabled mirror repositories, name (id)")
    coverage: Coverage | None = Field(None, description="3-2-1: copies, backends, offsite, verdict, reason")


class BackupJobList(BaseModel, defer_build=True):
    jobs: list[BackupJobListed]
    total: int


def schedule_words(cron: str | None, next_ms: float | None = None) -> str | None:
    """The cron expression in words ("daily at 02:00 UTC"); "manual only" without one.

    Zerobyte runs cron in its own time zone (UTC unless its TZ is set): when the job's next run (``next_ms``)
    is not the one UTC gives, the times are said to be in "server time".
    """
    if not cron or not cron.strip():
        return "manual only"
    try:
        schedule = parse_cron(cron)
    except CronError:
        return None  # the raw cron stays visible beside it
    tz = "UTC"
    if next_ms is not None:
        try:
            ours = schedule.next_after(datetime.fromtimestamp(next_ms / 1000 - 1, tz=UTC))
        except CronError:
            ours = None
        if ours is not None and abs(ours.timestamp() * 1000 - next_ms) > 60_000:
            tz = "server time"
    return describe_cron(cron, tz)


def _job_next_step(j: BackupJob) -> str | None:
    outcome = j.last_outcome
    if outcome in ("cancelled", "stale"):
        why = "was stopped" if outcome == "cancelled" else "was cut short by a Zerobyte restart"
        return f"the last run {why} before it finished and made no snapshot: run it again (run_backup)"
    return next_step_for(j.lastBackupError) if outcome in ("error", "warning") else None


def job_identity(j: BackupJob) -> dict[str, Any]:
    """What every view of a job starts with: id, name, enabled, volume and repository as "name (id)", cron."""
    return {
        "id": j.shortId,
        "name": j.name,
        "enabled": j.enabled,
        "volume": f"{j.volume.name} ({j.volume.shortId})" if j.volume else None,
        "repository": f"{j.repository.name} ({j.repository.shortId})" if j.repository else None,
        "cron": j.cronExpression or None,
    }


def job_summary(j: BackupJob) -> BackupJobSummary:
    return BackupJobSummary(
        **job_identity(j),
        schedule=schedule_words(j.cronExpression, j.nextBackupAt),
        last_run=iso_from_ms(j.lastBackupAt),
        last_status=j.last_outcome,
        last_error=redact_text(j.lastBackupError) if j.lastBackupError else None,
        next_step=_job_next_step(j),
        next_run=iso_from_ms(j.nextBackupAt),
    )


@tool(title="List backup jobs")
async def list_backup_jobs(ctx: Ctx) -> BackupJobList:
    """Every backup job: volume, repository, mirrors, schedule, last run (status, error), next run."""
    client = client_of(ctx)
    jobs, repositories = await gather([client.list_backup_jobs(), client.list_repositories()])
    mirrors = await mirrors_of_jobs(client, jobs)
    listed = [
        BackupJobListed(
            **job_summary(j).model_dump(),
            mirrors=[_mirror_name(m) for m in found or [] if m.enabled],
            coverage=coverage(j, found, repositories),
        )
        for j, found in zip(jobs, mirrors, strict=True)
    ]
    return BackupJobList(jobs=listed, total=len(jobs))


async def mirrors_of_jobs(client: ZerobyteClient, jobs: list[BackupJob]) -> list[list[Mirror] | None]:
    """Each job's mirrors, one light request a job, four at once; None where they could not be read (the job
    is still shown; its coverage stays unknown)."""

    async def mirrors_of(job: BackupJob) -> list[Mirror] | None:
        try:
            return await client.get_job_mirrors(job.shortId)
        except ZerobyteError:
            return None

    result: list[list[Mirror] | None] = await gather([mirrors_of(j) for j in jobs], limit=4)
    return result


def _mirror_name(m: Mirror) -> str:
    return f"{m.repository.name if m.repository else '?'} ({m.repositoryId})"


# --- detail ----------------------------------------------------------------------------------------


class Hook(BaseModel, defer_build=True):
    url: str | None = None
    headers: list[str] = []
    body: str | None = None
    insecure_tls: bool | None = None


class MirrorInfo(BaseModel, defer_build=True):
    repository: str = Field(description="Repository name (id)")
    enabled: bool
    last_sync_status: str | None = None
    last_sync: str | None = None
    last_sync_error: str | None = None


class NotificationRoute(BaseModel, defer_build=True):
    destination: str = Field(description="Destination name (id)")
    type: str | None = None
    events: list[str] = Field([], description="start, success, warning, failure")


class Rules(BaseModel, defer_build=True):
    include_paths: list[str] = []
    include_patterns: list[str] = []
    exclude_patterns: list[str] = []
    exclude_if_present: list[str] = []
    one_file_system: bool | None = None


class Retries(BaseModel, defer_build=True):
    max: int | None = None
    delay_minutes: int | float | None = None


class Webhooks(BaseModel, defer_build=True):
    pre: Hook | None = None
    post: Hook | None = None


class BackupJobDetail(BackupJobSummary):
    retention: str | None = Field(None, description="As update_backup_job takes it, e.g. 'last 5, daily 7'")
    rules: Rules | None = Field(None, description="What is included and excluded")
    compression: str | None = None
    retries: Retries | None = None
    webhooks: Webhooks | None = Field(None, description="Credentials redacted")
    mirrors: list[MirrorInfo] = []
    coverage: Coverage | None = Field(None, description="3-2-1: copies, backends, offsite, verdict, reason")
    notifications: list[NotificationRoute] = []


@tool(title="Get backup job")
async def get_backup_job(
    ctx: Ctx,
    job_id: str,
) -> BackupJobDetail:
    """A backup job in full: schedule, retention, include/exclude, retries, webhooks, mirrors, notifications."""
    client = client_of(ctx)
    job, mirrors, routes, repositories = await gather(
        [
            client.get_backup_job(job_id),
            client.get_job_mirrors(job_id),
            client.get_job_notifications(job_id),
            client.list_repositories(),
        ]
    )
    policy = job.retentionPolicy
    hooks: dict[str, Any] = redact({"backupWebhooks": job.backupWebhooks or {}})["backupWebhooks"]  # type: ignore[index]
    return BackupJobDetail(
        **job_summary(job).model_dump(),
        retention=format_retention(policy.model_dump(exclude_none=True)) if policy is not None else None,
        rules=Rules(
            include_paths=job.includePaths or [],
            include_patterns=job.includePatterns or [],
            exclude_patterns=job.excludePatterns or [],
            exclude_if_present=job.excludeIfPresent or [],
            one_file_system=job.oneFileSystem,
        ),
        compression=job.compressionMode,
        retries=Retries(max=job.maxRetries, delay_minutes=_whole(job.retryDelay)),
        webhooks=Webhooks(pre=_hook(hooks.get("pre")), post=_hook(hooks.get("post"))),
        mirrors=[_mirror(m) for m in mirrors],
        coverage=coverage(job, mirrors, repositories),
        notifications=[_route(r) for r in routes],
    )


def _whole(value: float | None) -> int | float | None:
    return int(value) if value is not None and float(value).is_integer() else value


def _hook(value: Any) -> Hook | None:
    """A backup hook as already passed through redact(): URL reduced to its host, headers and body hidden."""
    if not isinstance(value, dict) or not value.get("url"):
        return None
    headers = value.get("headers")
    return Hook(
        url=str(value["url"]),
        headers=[str(h) for h in headers] if isinstance(headers, list) else [],
        body=REDACTED if value.get("body") else None,
        insecure_tls=value.get("insecureTls") or None,
    )


def _mirror(m: Mirror) -> MirrorInfo:
    sync = m.last_sync
    name = m.repository.name if m.repository else "?"
    error = sync.get("error")
    return MirrorInfo(
        repository=f"{name} ({m.repositoryId})",
        enabled=m.enabled,
        last_sync_status=sync.get("status"),
        last_sync=iso_from_ms(sync["finishedAt"]) if isinstance(sync.get("finishedAt"), int | float) else None,
        last_sync_error=redact_text(str(error)) if error else None,
    )


def _route(a: DestinationAssignment) -> NotificationRoute:
    dest = a.destination
    name = dest.name if dest else "?"
    return NotificationRoute(
        destination=f"{name} ({a.destinationId})", type=dest.type if dest else None, events=a.events
    )


# --- mirrors -------------------------------------------------------------------------------------------


class MirrorStatusView(BaseModel):
    """``in_sync`` plus source_snapshots, mirror_snapshots, missing_total and missing ("id time size", first
    20); only ``in_sync`` is in the output schema, which the read-only tools/list budget pays for."""

    model_config = ConfigDict(extra="allow")

    in_sync: bool


@tool(title="Mirror status")
async def get_mirror_status(
    ctx: Ctx,
    job_id: str,
    repository_id: Annotated[str, Field(description="Mirror repository short id")],
) -> MirrorStatusView:
    """Compare a job's snapshots with a mirror: counts and those not copied yet."""
    jid = check_job_id("job_id", job_id)
    rid = check_short_id("repository_id", repository_id)
    status = await client_of(ctx).get_mirror_status(jid, rid)
    missing = status.missingSnapshots
    return MirrorStatusView(
        in_sync=not missing,
        source_snapshots=status.sourceCount,
        mirror_snapshots=status.mirrorCount,
        missing_total=len(missing),
        missing=[missing_line(s) for s in missing[:MISSING_LISTED]],
    )
