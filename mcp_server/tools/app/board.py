"""The app's two tools: the health board (``show_backups``) and a job's snapshots (``show_snapshots``).

Both answer any client: without MCP Apps, the data as JSON like every other tool (the board without its
per-snapshot series, which only a chart needs). A host with Apps renders ``backups.html`` from the same
data; then the agent reads a few lines (what the user is shown) instead of the JSON.

The board costs what ``backup_health`` costs, plus one mirror request per job and, for the charts, one
snapshot listing per repository (Zerobyte caches those: no restic run when nothing changed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

import anyio
from mcp.server.apps import client_supports_apps
from pydantic import BaseModel, Field

from ...answers.concurrency import gather
from ...answers.coverage import Coverage, coverage
from ...answers.output import iso_from_ms, mark_untrusted
from ...safety.redact import redact_text
from ...zerobyte import ZerobyteClient, ZerobyteError
from ...zerobyte.ids import check_snapshot_id
from ...zerobyte.models import BackupJob, Mirror, Repository, Snapshot, Volume
from ..backups import mirrors_of_jobs, schedule_words
from ..base import Ctx, ShownInApp, ToolFailure, app_of, client_of, tool
from ..health import JobHealth, gather_estate, newest_drills, with_drills
from ..repositories import repository_summary
from ..snapshots.common import (
    OptRepoArg,
    check_scope_args,
    newest_first,
    resolve_scope,
    snapshots_in_scope,
)
from ..volumes import volume_summary
from . import APP_URI

if TYPE_CHECKING:
    from ...catalog import DrillRecord

__all__ = ["Board", "SnapshotsView", "show_backups", "show_snapshots"]

SERIES = 30  # snapshots per job the timeline and its sparkline show
# Write tools the page may offer, each only when this server offers it (never at read-only).
ACTIONS = ("run_backup", "sync_mirror", "restore", "delete_snapshots")


class Ref(BaseModel, defer_build=True):
    id: str
    name: str
    backend: str | None = None


class MirrorCard(BaseModel, defer_build=True):
    id: str
    name: str
    backend: str | None = None
    enabled: bool = True


class Point(BaseModel, defer_build=True):
    """One snapshot on a timeline."""

    id: str
    time: str | None = None
    size: int | None = None
    added_bytes: int | None = None  # new data this backup found (restic data_added)
    files: int | None = None
    paths: list[str] = Field(default_factory=list)


class RestoreProof(BaseModel, defer_build=True):
    """The job's last restore drill (drill_backup), from the local catalog file."""

    at: str
    verdict: str
    snapshot: str
    files: int
    read_bytes: int
    reason: str | None = None


class JobCard(BaseModel, defer_build=True):
    id: str
    name: str
    state: str = Field(description="ok, warning, failing, stale, disabled, never_ran, running")
    enabled: bool
    schedule: str | None = None
    cron: str | None = None
    last_run: str | None = None
    last_status: str | None = None
    last_success: str | None = None
    next_run: str | None = None
    reason: str | None = None
    message: str | None = None  # Zerobyte's error text, marked untrusted
    next_step: str | None = None
    volume: Ref | None = None
    repository: Ref | None = None
    mirrors: list[MirrorCard] = Field(default_factory=list)
    coverage: Coverage | None = None
    snapshots_total: int | None = None
    snapshots: list[Point] = Field(default_factory=list)
    restore: RestoreProof | None = None


class RepositoryCard(BaseModel, defer_build=True):
    id: str
    name: str
    backend: str | None = None
    status: str | None = None
    stored_bytes: int | None = None
    snapshots_count: int | None = None
    stats_updated: str | None = None
    message: str | None = None


class VolumeCard(BaseModel, defer_build=True):
    id: str
    name: str
    backend: str | None = None
    status: str | None = None
    message: str | None = None
    used_by: list[str] = Field(default_factory=list)


class Board(ShownInApp, defer_build=True):
    view: Literal["board"] = "board"
    verdict: str = Field(description="ok, warning or critical")
    summary: str
    checked_at: str
    access: str
    actions: list[str] = Field(default_factory=list)
    restore_roots: list[str] = Field(default_factory=list)
    jobs: list[JobCard]
    repositories: list[RepositoryCard] = Field(default_factory=list)
    volumes: list[VolumeCard] = Field(default_factory=list)
    notes: list[str] | None = None


class SnapshotsView(ShownInApp, defer_build=True):
    view: Literal["snapshots"] = "snapshots"
    access: str
    actions: list[str] = Field(default_factory=list)
    restore_roots: list[str] = Field(default_factory=list)
    job: Ref | None = None
    repository: Ref
    snapshots: list[Point]
    total: int
    selected: str | None = None


# --- show_backups -------------------------------------------------------------------------------------


@tool(title="Show backups (app)", app=APP_URI)
async def show_backups(ctx: Ctx) -> Board:
    """Show the user a board of all backups (MCP App; data elsewhere): job verdicts, last/next run, sizes,
    snapshots, 3-2-1 copies, restore drills."""
    client = client_of(ctx)
    app = app_of(ctx)
    in_app = client_supports_apps(ctx)
    now = datetime.now(UTC)
    estate = await gather_estate(client, now=now)
    report = estate.report
    drills = await anyio.to_thread.run_sync(app.kept_drills)
    if drills is not None:
        with_drills(report, drills, now=now)

    mirrors = await mirrors_of_jobs(client, estate.jobs)
    series = await _series(estate.jobs, estate.repositories, client) if in_app else {}
    health = {j.id: j for j in report.jobs}
    newest_drill = newest_drills(drills or [])
    jobs = [
        _job_card(
            j, health.get(j.shortId), found, estate.repositories, series.get(j.shortId), newest_drill.get(j.shortId)
        )
        for j, found in zip(estate.jobs, mirrors, strict=True)
    ]
    order = {state: n for n, state in enumerate(("failing", "stale", "warning", "never_ran", "running", "ok"))}
    jobs.sort(key=lambda c: (order.get(c.state, len(order)), c.name.lower()))
    users: dict[str, list[str]] = {}
    for j in estate.jobs:
        if j.volume is not None:
            users.setdefault(j.volume.shortId, []).append(j.name)
    board = Board(
        verdict=report.verdict,
        summary=report.summary,
        checked_at=report.checked_at,
        access=app.settings.access,
        actions=[name for name in ACTIONS if name in app.exposed],
        restore_roots=list(app.settings.restore_allowed_roots) if "restore" in app.exposed else [],
        jobs=jobs,
        repositories=[_repository_card(r) for r in estate.repositories],
        volumes=[_volume_card(v, users.get(v.shortId, [])) for v in estate.volumes],
        notes=report.notes,
    )
    if in_app:
        board.say(_board_said(board))
    return board


async def _series(
    jobs: list[BackupJob], repositories: list[Repository], client: ZerobyteClient
) -> dict[str, tuple[int, list[Point]]]:
    """Each job's newest snapshots (count, points) from one listing per repository a job writes to."""
    wanted = sorted({r.shortId for j in jobs for r in repositories if j.writes_to(r)})
    listed: dict[str, list[Snapshot]] = {}

    async def read(repository_id: str) -> None:
        try:
            listed[repository_id] = await client.list_snapshots(repository_id)
        except ZerobyteError:
            return  # that repository's jobs show no timeline; their cards still do

    await gather([read(r) for r in wanted], limit=4)
    out: dict[str, tuple[int, list[Point]]] = {}
    for j in jobs:
        for r in repositories:
            if j.writes_to(r) and r.shortId in listed:
                mine = sorted((s for s in listed[r.shortId] if j.shortId in s.tags), key=newest_first)
                out[j.shortId] = (len(mine), [point(s) for s in mine[:SERIES]])
    return out


def point(s: Snapshot) -> Point:
    summary = s.summary or {}
    added = summary.get("data_added")
    files = summary.get("total_files_processed")
    return Point(
        id=s.short_id,
        time=iso_from_ms(s.time),
        size=int(s.size) if s.size is not None else None,
        added_bytes=int(added) if isinstance(added, int | float) else None,
        files=int(files) if isinstance(files, int | float) else None,
        paths=s.paths,
    )


def _untrusted(text: str | None) -> str | None:
    return mark_untrusted(redact_text(text)) if text else None


def _backend(r: Repository | Volume | None) -> str | None:
    """The backend as list_repositories / list_volumes name it."""
    if r is None:
        return None
    return repository_summary(r).backend if isinstance(r, Repository) else volume_summary(r).backend


def _job_card(
    j: BackupJob,
    health: JobHealth | None,
    mirrors: list[Mirror] | None,
    repositories: list[Repository],
    series: tuple[int, list[Point]] | None,
    drill: DrillRecord | None,
) -> JobCard:
    by_id = {r.shortId: r for r in repositories}
    repo = next((r for r in repositories if j.writes_to(r)), None)
    total, points = series if series is not None else (None, [])
    return JobCard(
        id=j.shortId,
        name=j.name,
        state=health.state if health is not None else ("disabled" if not j.enabled else "ok"),
        enabled=j.enabled,
        schedule=schedule_words(j.cronExpression, j.nextBackupAt),
        cron=j.cronExpression or None,
        last_run=iso_from_ms(j.lastBackupAt),
        last_status=j.last_outcome,
        last_success=health.last_success if health is not None else None,
        next_run=iso_from_ms(j.nextBackupAt),
        reason=health.reason if health is not None else None,
        message=_untrusted(j.lastBackupError) if j.last_outcome in ("error", "warning") else None,
        next_step=health.next_step if health is not None else None,
        volume=Ref(id=j.volume.shortId, name=j.volume.name, backend=_backend(j.volume)) if j.volume else None,
        repository=Ref(id=repo.shortId, name=repo.name, backend=_backend(repo)) if repo is not None else None,
        mirrors=[
            MirrorCard(
                id=m.repositoryId,
                name=m.repository.name if m.repository else m.repositoryId,
                backend=_backend(by_id.get(m.repositoryId) or m.repository),
                enabled=m.enabled,
            )
            for m in mirrors or []
        ],
        coverage=coverage(j, mirrors, repositories),
        snapshots_total=total,
        snapshots=points,
        restore=_proof(drill),
    )


def _proof(drill: DrillRecord | None) -> RestoreProof | None:
    if drill is None:
        return None
    failures = drill.detail.get("failures")
    reason = None
    if isinstance(failures, list) and failures:
        first = failures[0]
        reason = str(first.get("reason") if isinstance(first, dict) else first)
    return RestoreProof(
        at=iso_from_ms(drill.at_ms) or "",
        verdict=drill.verdict,
        snapshot=drill.snapshot,
        files=drill.files,
        read_bytes=drill.bytes,
        reason=reason,
    )


def _repository_card(r: Repository) -> RepositoryCard:
    listed = repository_summary(r)  # the sizes exactly as list_repositories gives them (unknown: absent)
    return RepositoryCard(
        id=listed.id,
        name=listed.name,
        backend=listed.backend,
        status=listed.status,
        stored_bytes=listed.stored_bytes,
        snapshots_count=listed.snapshots_count,
        stats_updated=listed.stats_updated,
        message=_untrusted(r.lastError) if r.status == "error" else None,
    )


def _volume_card(v: Volume, used_by: list[str]) -> VolumeCard:
    return VolumeCard(
        id=v.shortId,
        name=v.name,
        backend=_backend(v),
        status=v.status,
        message=_untrusted(v.lastError) if v.status == "error" else None,
        used_by=used_by,
    )


def _board_said(board: Board) -> str:
    """What the agent reads when the user sees the board: the verdict and one line per job."""
    lines = [f"Shown to the user as the Zerobyte backups board. {board.summary}"]
    for j in board.jobs:
        bits = [j.state]
        if j.last_run:
            bits.append(f"last run {j.last_run} {j.last_status or ''}".strip())
        if j.coverage is not None:
            bits.append(j.coverage.verdict)
        if j.restore is not None:
            bits.append(f"drill {j.restore.verdict}")
        lines.append(f"- {j.name} ({j.id}): {', '.join(bits)}")
    lines.append("Ask for details with backup_health, list_snapshots or get_backup_job.")
    return "\n".join(lines)


# --- show_snapshots -----------------------------------------------------------------------------------


@tool(title="Show snapshots (app)", app=APP_URI)
async def show_snapshots(
    ctx: Ctx,
    backup_job_id: Annotated[str | None, Field(description="Or repository_id")] = None,
    repository_id: OptRepoArg = None,
    snapshot_id: Annotated[str | None, Field(description="Default: newest")] = None,
) -> SnapshotsView:
    """Show the user a job's snapshot timeline to browse, compare and see file versions (MCP App; data
    elsewhere)."""
    rid, jid = check_scope_args(repository_id, backup_job_id)
    if snapshot_id is not None and snapshot_id != "latest":
        snapshot_id = check_snapshot_id("snapshot_id", snapshot_id)
    client = client_of(ctx)
    app = app_of(ctx)
    in_app = client_supports_apps(ctx)
    scope = await resolve_scope(client, rid, jid)
    snaps = await snapshots_in_scope(client, scope)
    embedded = scope.job.repository if scope.job is not None else None
    if embedded is not None and embedded.shortId == scope.repository_id:
        repo: Repository | None = embedded  # the job's listing carries it: no request more
    else:
        repo = next((r for r in await client.list_repositories() if r.shortId == scope.repository_id), None)
    shown = [point(s) for s in snaps[: SERIES * 4 if in_app else SERIES]]
    selected = next((s.short_id for s in snaps if snapshot_id in (s.short_id, s.id)), None) if snapshot_id else None
    if snapshot_id not in (None, "latest") and selected is None:
        whose = f"job {scope.job.name!r}" if scope.job else f"repository {scope.repository_id}"
        raise ToolFailure(
            f"Snapshot {snapshot_id!r} is not among the {len(snaps)} snapshots of {whose}: list_snapshots shows them."
        )
    view = SnapshotsView(
        access=app.settings.access,
        actions=[name for name in ACTIONS if name in app.exposed],
        restore_roots=list(app.settings.restore_allowed_roots) if "restore" in app.exposed else [],
        job=Ref(id=scope.job.shortId, name=scope.job.name) if scope.job is not None else None,
        repository=Ref(id=scope.repository_id, name=repo.name if repo else scope.repository_id, backend=_backend(repo)),
        snapshots=shown,
        total=len(snaps),
        selected=selected or (snaps[0].short_id if snaps else None),
    )
    if in_app:
        whose = f"job {view.job.name}" if view.job else f"repository {view.repository.name}"
        newest = shown[0].time if shown else "none"
        view.say(
            f"Shown to the user as the snapshot timeline of {whose}: {len(snaps)} snapshots (newest {newest}); "
            f"opened {view.selected or 'none'}. list_snapshots, list_snapshot_files and compare_snapshots answer "
            "the same questions as data."
        )
    return view
