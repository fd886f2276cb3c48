"""One verdict for "are my backups OK?": every job, repository, volume and recent failure at once.

This is the tool agents call first, so it answers from a handful of list calls made concurrently
(backup jobs, repositories, volumes, active tasks, two task-history pages; two of them once warm), never one
call per object,
and keeps its answer compact: problems in detail, healthy jobs in one line each. Staleness comes from
each job's cron (the longest gap it allows) because Zerobyte itself never says a job stopped running.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from weakref import WeakKeyDictionary

import anyio
from pydantic import BaseModel, Field, WithJsonSchema

from ..answers.concurrency import gather
from ..answers.output import human_bytes, iso, iso_from_ms, render_text, shape
from ..answers.task_views import ARRAY, OBJECT, ActiveTask, active_task, history_target, next_step_for
from ..cron import CronError, describe_cron, parse_cron
from ..zerobyte import NotFound, ZerobyteClient, ZerobyteError
from ..zerobyte.models import BackupJob, Repository, Task, TaskHistoryItem, TaskHistoryPage, Volume
from .base import Ctx, app_of, client_of, tool

if TYPE_CHECKING:
    from ..catalog import DrillRecord

__all__ = [
    "JOB_STATES",
    "DrillIssue",
    "Estate",
    "Failure",
    "HealthReport",
    "JobHealth",
    "RepositoryIssue",
    "VolumeIssue",
    "backup_health",
    "gather_estate",
    "gather_health",
    "job_state",
    "newest_drills",
    "repository_trouble",
    "with_drills",
]

T = TypeVar("T")

# Most severe first: the order problems are listed in.
JOB_STATES = ("failing", "stale", "warning", "never_ran", "running", "disabled", "ok")
MAX_JOBS_LISTED = 60
MAX_TEXT = 30_000  # the report must stay well under ~8k tokens whatever the organization's size
MAX_FAILURES = 8
MESSAGE_LIMIT = 240
MIN_GRACE = timedelta(hours=1)
MAX_GRACE = timedelta(days=1)


class JobHealth(BaseModel, defer_build=True):
    id: str
    name: str
    state: str = Field(description="ok, warning, failing, stale, disabled, never_ran, running")
    last_run: str | None = None
    last_success: str | None = None
    next_run: str | None = None
    reason: str | None = None
    message: str | None = None
    next_step: str | None = None
    restore: str | None = None  # the last restore drill (drill_backup), when one was kept


class DrillIssue(BaseModel, defer_build=True):
    job: str
    name: str
    problem: str = Field(description="failed, stale or never")
    last_drill: str | None = None
    reason: str | None = None
    next_step: str | None = None


class RepositoryIssue(BaseModel, defer_build=True):
    id: str
    name: str
    status: str | None = None
    message: str | None = None
    next_step: str | None = None


class VolumeIssue(BaseModel, defer_build=True):
    id: str
    name: str
    status: str | None = None
    message: str | None = None
    used_by: list[str] = Field(default_factory=list)
    next_step: str | None = None


class Failure(BaseModel, defer_build=True):
    task_id: str
    kind: str
    outcome: str | None = None
    target: str | None = None
    finished: str | None = None
    message: str | None = None
    next_step: str | None = None


class HealthReport(BaseModel, defer_build=True):
    verdict: str = Field(description="ok, warning or critical")
    summary: str
    checked_at: str
    counts: Annotated[dict[str, int], OBJECT]
    jobs: Annotated[
        list[JobHealth],
        WithJsonSchema(
            {"type": "array", "description": "Worst first; state ok|warning|failing|stale|disabled|never_ran|running"}
        ),
    ]
    not_listed: Annotated[dict[str, int] | None, WithJsonSchema({"type": "object", "description": "Items cut"})] = None
    repositories: Annotated[list[RepositoryIssue], ARRAY] = Field(default_factory=list)
    volumes: Annotated[list[VolumeIssue], ARRAY] = Field(default_factory=list)
    running: Annotated[list[ActiveTask], ARRAY] = Field(default_factory=list)
    recent_failures: Annotated[list[Failure], ARRAY] = Field(default_factory=list)
    drills: Annotated[list[DrillIssue], ARRAY] = Field(default_factory=list)
    notes: list[str] | None = None


# --- job verdicts ----------------------------------------------------------------------------------


@dataclass
class _Inputs:
    jobs: list[BackupJob] = field(default_factory=list)
    repositories: list[Repository] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    tasks: list[Task] | None = None
    history: list[TaskHistoryItem] | None = None
    notes: list[str] = field(default_factory=list)
    # Newest snapshot time per job, read only for jobs whose last run made none and whose last success the
    # history does not show (v0.41 has no history): the last success is the last run that made a snapshot.
    last_snapshot: dict[str, float] = field(default_factory=dict)


def _grace(gap: timedelta) -> timedelta:
    """Slack before a job counts as stale: a quarter of its cadence, between 1 hour and 1 day."""
    return min(MAX_GRACE, max(MIN_GRACE, gap / 4))


def _max_gap(expr: str | None, now: datetime, cache: dict[str, timedelta | None]) -> timedelta | None:
    if not expr:
        return None
    if expr not in cache:
        try:
            cache[expr] = parse_cron(expr).max_gap(now)
        except CronError:
            cache[expr] = None
    return cache[expr]


def _describe(expr: str) -> str:
    try:
        return describe_cron(expr)
    except CronError:
        return f"cron {expr!r}"


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {rest // 60}m" if rest // 60 else f"{hours}h"
    return f"{max(1, rest // 60)}m"


def job_state(
    job: BackupJob,
    *,
    now: datetime,
    running: bool = False,
    last_success_ms: float | None = None,
    gap_cache: dict[str, timedelta | None] | None = None,
    history: bool = True,
) -> JobHealth:
    """One job's verdict from its schedule row (plus whether a backup task is active and the last success)."""
    cache = gap_cache if gap_cache is not None else {}
    status = job.last_outcome
    if status in ("success", "warning") and job.lastBackupAt is not None:
        last_success_ms = max(last_success_ms or 0.0, job.lastBackupAt)
    view = JobHealth(
        id=job.shortId,
        name=job.name,
        state="ok",
        last_run=iso_from_ms(job.lastBackupAt),
        last_success=iso_from_ms(last_success_ms),
        next_run=iso_from_ms(job.nextBackupAt) if job.enabled else None,
    )
    message = _clip(job.lastBackupError)
    if running or status == "in_progress":
        view.state = "running"
        return view
    if not job.enabled:
        view.state = "disabled"
        view.message = message
        return view
    if status == "error":
        view.state = "failing"
        view.message = message or "the last backup failed (no error message recorded)"
        read = "read the failed task (task_history outcome=error)" if history else "fix what the message says"
        view.next_step = next_step_for(message) or f"{read}, then rerun"
        return view

    gap = _max_gap(job.cronExpression, now, cache)
    if gap is not None:
        allowed = gap + _grace(gap)
        since = last_success_ms if last_success_ms is not None else job.createdAt
        if since is not None and now - datetime.fromtimestamp(since / 1000, UTC) > allowed:
            age = _age(now - datetime.fromtimestamp(since / 1000, UTC))
            if last_success_ms is not None:
                what = f"last successful backup {age} ago"
            elif job.lastBackupAt is not None:
                what = f"no successful backup since it was created {age} ago"
            else:
                what = f"created {age} ago, never ran"
            view.state = "stale"
            view.reason = (
                f"{what}; schedule {_describe(job.cronExpression or '')} allows at most {_age(gap)} between runs"
            )
    if view.state == "ok" and job.nextBackupAt is not None:
        overdue = now - datetime.fromtimestamp(job.nextBackupAt / 1000, UTC)
        if overdue > _grace(gap or timedelta(0)):
            view.state = "stale"
            view.reason = f"next run was due {_age(overdue)} ago and has not happened"
    if view.state == "stale":
        view.message = message
        view.next_step = (
            "check that Zerobyte's scheduler runs and the job's volume and repository are healthy, then run the "
            "backup (run_backup)"
        )
        return view
    if status in ("cancelled", "stale"):
        view.state = "warning"
        why = "was stopped" if status == "cancelled" else "was cut short by a Zerobyte restart"
        view.message = f"the last run {why} before it finished and made no snapshot ({message or status})"
        view.next_step = "run the backup again (run_backup)"
        return view
    if status == "warning":
        view.state = "warning"
        view.message = message or "the last backup finished with warnings"
        view.next_step = next_step_for(message)
        return view
    if job.lastBackupAt is None:
        view.state = "never_ran"
        view.reason = "no backup has run yet"
    return view


# --- gathering ------------------------------------------------------------------------------------


async def _optional(call: Callable[[], Awaitable[T]], what: str, notes: list[str]) -> T | None:
    """A list call whose route older Zerobytes lack: None plus a note instead of an error.

    Any 404 counts: v0.41 routes /tasks/history to /tasks/{taskId} and answers "Task not found".
    """
    try:
        return await call()
    except NotFound:
        notes.append(_absent(what))
        return None


def _absent(what: str) -> str:
    return f"this Zerobyte has no {what} (older than v0.42): that part of the report is missing"


# --- what a warm check re-reads ---------------------------------------------------------------------------
#
# Every check re-reads what a verdict stands on: the backup jobs (each with the volume and the repository it
# uses, status and last error embedded by Zerobyte) and the first page of task history (v0.41: the active
# tasks). Finished history items never change, so they are kept by task id and only the page that holds the
# news is read. The volume and repository *lists* add only what no job uses; they are re-read when a job names
# one the last listing lacks, when a task other than a backup started or ended, after any change sent through
# this server, and at most LISTS_TTL apart; a report built from an older listing says how old.

HISTORY_WINDOW = 50  # two history pages: the newest tasks a report looks at, warm or cold
LISTS_TTL = 300.0  # seconds


@dataclass
class _Memo:
    """What the previous check of one client read, reused while nothing says it changed."""

    history: list[TaskHistoryItem] | None = None  # newest first, contiguous, at most HISTORY_WINDOW
    has_history: bool = True
    volumes: list[Volume] | None = None
    repositories: list[Repository] | None = None
    lists_read: float = 0.0  # monotonic time of the listing
    writes: int = -1  # the client's write count then
    other_tasks: frozenset[str] = frozenset()  # v0.41: the active tasks other than backups the last check saw
    # job short id -> ((lastBackupAt, lastBackupStatus) when read, its newest snapshot's time)
    last_snapshot: dict[str, tuple[tuple[float | None, str | None], float | None]] = field(default_factory=dict)


_MEMOS: WeakKeyDictionary[ZerobyteClient, _Memo] = WeakKeyDictionary()


def _memo(client: ZerobyteClient) -> _Memo:
    memo = _MEMOS.get(client)
    if memo is None:
        memo = _MEMOS[client] = _Memo()
    return memo


async def _fetch(client: ZerobyteClient) -> _Inputs:
    memo = _memo(client)
    if memo.repositories is None or memo.volumes is None or (memo.has_history and memo.history is None):
        return await _fetch_all(client, memo)
    return await _fetch_warm(client, memo)


async def _fetch_all(client: ZerobyteClient, memo: _Memo) -> _Inputs:
    """The first check: every list at once (two history pages: one round trip for the latest runs of most jobs)."""
    data = _Inputs()
    pages: list[TaskHistoryPage | None] = [None, None]
    writes = client.http.writes

    async def jobs() -> None:
        data.jobs = await client.list_backup_jobs()

    async def repositories() -> None:
        data.repositories = await client.list_repositories()

    async def volumes() -> None:
        data.volumes = await client.list_volumes()

    async def tasks() -> None:
        data.tasks = await _optional(client.list_tasks, "tasks API", data.notes)

    async def history(page: int) -> None:
        notes: list[str] = []
        pages[page - 1] = await _optional(lambda: client.task_history(page=page), "task history", notes)
        if page == 1:
            data.notes.extend(notes)

    await gather([jobs(), repositories(), volumes(), tasks(), history(1), history(2)])
    memo.has_history = pages[0] is not None
    if pages[0] is not None:
        data.history = _merge([item for page in pages if page is not None for item in page.items], [])
    memo.history = data.history
    memo.volumes, memo.repositories = data.volumes, data.repositories
    memo.lists_read, memo.writes = time.monotonic(), writes
    memo.last_snapshot.clear()
    return data


async def _fetch_warm(client: ZerobyteClient, memo: _Memo) -> _Inputs:
    data = _Inputs()
    writes = client.http.writes
    first: list[TaskHistoryPage] = []

    async def jobs() -> None:
        data.jobs = await client.list_backup_jobs()

    async def news() -> None:
        if memo.has_history:
            first.append(await client.task_history(page=1))
        else:
            data.tasks = await _optional(client.list_tasks, "tasks API", data.notes)

    await gather([jobs(), news()])
    lists_changed = False
    if memo.has_history:
        known = {i.id: i for i in memo.history or []}
        fresh = list(first[0].items)
        oldest = fresh[-1] if fresh else None
        # A full first page whose oldest item is new: more happened than one page holds (read the next one).
        gap = len(fresh) >= first[0].pageSize and oldest is not None and oldest.id not in known
        # A task the last check saw unfinished, now past the first page: read where it is to learn how it ended.
        beyond = oldest is not None and any(i.outcome == "running" for i in _older_than(memo.history or [], oldest))
        if gap or beyond:
            fresh += (await client.task_history(page=2)).items
        lists_changed = any(i.kind != "backup" and known.get(i.id) != i for i in fresh)
        data.history = memo.history = _merge(fresh, memo.history or [])
        if any(i.outcome == "running" for i in data.history):
            data.tasks = await _optional(client.list_tasks, "tasks API", data.notes)
        else:
            data.tasks = []  # the history's newest tasks include every active one: none is
    else:  # v0.41: a doctor or a snapshot deletion shows only while it runs, so its start and its end count
        data.notes.insert(0, _absent("task history"))
        others = frozenset(t.id for t in data.tasks or [] if t.kind != "backup")
        lists_changed = others != memo.other_tasks
        memo.other_tasks = others
    used_volumes = {j.volume.shortId: j.volume for j in data.jobs if j.volume is not None}
    used_repositories = {j.repository.shortId: j.repository for j in data.jobs if j.repository is not None}
    listed_volumes = {v.shortId for v in memo.volumes or []}
    listed_repositories = {r.shortId for r in memo.repositories or []}
    unlisted = (
        any(j.volume is None or j.repository is None for j in data.jobs)
        or not set(used_volumes) <= listed_volumes
        or not set(used_repositories) <= listed_repositories
    )
    age = time.monotonic() - memo.lists_read
    if lists_changed or unlisted or writes != memo.writes or age > LISTS_TTL:
        memo.last_snapshot.clear()

        async def volumes() -> None:
            memo.volumes = await client.list_volumes()

        async def repositories() -> None:
            memo.repositories = await client.list_repositories()

        await gather([volumes(), repositories()])
        memo.lists_read, memo.writes, age = time.monotonic(), writes, 0.0
    # What a job uses comes from this very read; the rest from the listing.
    data.volumes = [used_volumes.get(v.shortId, v) for v in memo.volumes or []]
    data.repositories = [_embedded(r, used_repositories.get(r.shortId)) for r in memo.repositories or []]
    unused = [
        f"{n} {what if n == 1 else plural}"
        for n, what, plural in (
            (len(listed_volumes - set(used_volumes)), "volume", "volumes"),
            (len(listed_repositories - set(used_repositories)), "repository", "repositories"),
        )
        if n
    ]
    if age > 0 and unused:
        data.notes.append(
            f"The status of {' and '.join(unused)} no job backs up from or into (mirror targets count) is from a "
            f"listing {math.ceil(age)} s old: listed again after a change through this server, a non-backup task, "
            "or 5 min."
        )
    return data


def _embedded(listed: Repository, used: Repository | None) -> Repository:
    """A listed repository with the status and error a job row just carried (the listing keeps its stats)."""
    if used is None:
        return listed
    return listed.model_copy(
        update={"status": used.status, "lastError": used.lastError, "lastChecked": used.lastChecked}
    )


def _older_than(history: list[TaskHistoryItem], item: TaskHistoryItem) -> list[TaskHistoryItem]:
    key = _order(item)
    return [i for i in history if _order(i) < key]


def _order(item: TaskHistoryItem) -> tuple[float, str]:
    """Zerobyte's history order (createdAt, then id; task ids are UUIDv7, so time-ordered too)."""
    return (item.createdAt or 0.0, item.id)


def _merge(fresh: list[TaskHistoryItem], known: list[TaskHistoryItem]) -> list[TaskHistoryItem]:
    """The newest HISTORY_WINDOW items: what was just read, then what was kept from before it (newest first)."""
    seen: set[str] = set()
    merged: list[TaskHistoryItem] = []
    oldest = fresh[-1] if fresh else None
    for item in [*fresh, *(_older_than(known, oldest) if oldest is not None else known)]:
        if item.id not in seen:
            seen.add(item.id)
            merged.append(item)
    return merged[:HISTORY_WINDOW]


async def gather_health(client: ZerobyteClient, *, now: datetime | None = None) -> HealthReport:
    """The whole-organization health report: six concurrent list calls the first time, then two (see _Memo)."""
    return (await gather_estate(client, now=now)).report


@dataclass(frozen=True)
class Estate:
    """The health report and the listings it was judged from (for views that show more than the verdict)."""

    report: HealthReport
    jobs: list[BackupJob]
    repositories: list[Repository]
    volumes: list[Volume]


async def gather_estate(client: ZerobyteClient, *, now: datetime | None = None) -> Estate:
    """:func:`gather_health` with the jobs, repositories and volumes it read (no request more)."""
    data = await _fetch(client)
    await _read_last_snapshots(client, data, _memo(client))
    report = build_report(data, now=now or datetime.now(UTC))
    return Estate(report, data.jobs, data.repositories, data.volumes)


async def _read_last_snapshots(client: ZerobyteClient, data: _Inputs, memo: _Memo) -> None:
    """For jobs whose last run made no snapshot and whose last success the history lacks: their newest snapshot.

    One snapshot listing per repository concerned (Zerobyte caches it), only when such jobs exist; kept while
    the job's last run and the listings stay the same.
    """
    known = _history_successes(data.history or [])
    wanted = [j for j in data.jobs if j.last_outcome in ("cancelled", "stale", "error") and j.shortId not in known]
    for j in list(wanted):
        kept = memo.last_snapshot.get(j.shortId)
        if kept is not None and kept[0] == (j.lastBackupAt, j.lastBackupStatus):
            wanted.remove(j)
            if kept[1] is not None:
                data.last_snapshot[j.shortId] = kept[1]
    repos = {j.shortId: r.shortId for j in wanted for r in data.repositories if j.writes_to(r)}
    if not repos:
        return
    runs = {j.shortId: (j.lastBackupAt, j.lastBackupStatus) for j in wanted}

    async def newest(repository_id: str) -> None:
        try:
            listed = await client.list_snapshots(repository_id)
        except ZerobyteError:
            return  # the report stays without it; the job's own entry still says what went wrong
        for job_id, repo_id in repos.items():
            if repo_id == repository_id:
                times = [s.time for s in listed if job_id in s.tags]
                if times:
                    data.last_snapshot[job_id] = max(times)
                memo.last_snapshot[job_id] = (runs[job_id], max(times) if times else None)

    await gather([newest(r) for r in sorted(set(repos.values()))], limit=4)


def _history_successes(history: list[TaskHistoryItem]) -> dict[str, float]:
    last_success: dict[str, float] = {}
    for item in history:
        sid = (item.target or {}).get("scheduleShortId")
        if item.kind == "backup" and item.outcome in ("success", "warning") and sid and item.finishedAt:
            last_success[sid] = max(last_success.get(sid, 0.0), item.finishedAt)
    return last_success


def build_report(data: _Inputs, *, now: datetime) -> HealthReport:
    names = {j.shortId: j.name for j in data.jobs} | {r.shortId: r.name for r in data.repositories}
    history = data.history or []
    active = data.tasks or []
    running_jobs = {_task_job(t) for t in active if t.kind == "backup"}
    last_success = data.last_snapshot | _history_successes(history)

    cache: dict[str, timedelta | None] = {}
    jobs = [
        job_state(
            j,
            now=now,
            running=j.shortId in running_jobs,
            last_success_ms=last_success.get(j.shortId),
            gap_cache=cache,
            history=data.history is not None,
        )
        for j in data.jobs
    ]
    jobs.sort(key=lambda j: JOB_STATES.index(j.state))
    states = Counter(j.state for j in jobs)

    repositories = [_repository_issue(r) for r in data.repositories if r.status in ("error", "doctor", "cancelled")]
    flagged = {r.id for r in repositories}
    repositories += [
        issue for r in data.repositories if r.shortId not in flagged and (issue := _broken_by_jobs(r, data.jobs))
    ]
    enabled_users: dict[str, list[str]] = {}
    for j in data.jobs:
        if j.enabled:
            for key in _volume_keys(j):
                enabled_users.setdefault(key, []).append(j.name)
    down = [v for v in data.volumes if v.status in ("error", "unmounted")]
    users = {v.shortId: enabled_users.get(v.shortId) or enabled_users.get(str(v.id)) or [] for v in down}
    volumes = [_volume_issue(v, users[v.shortId]) for v in down]
    # An unmounted volume with auto-remount is remounted by the next backup; an errored one is not.
    volumes_blocking = sum(1 for v in down if users[v.shortId] and (v.status == "error" or v.autoRemount is False))
    failures, resolved = _failures(history)

    repos_error = sum(1 for r in repositories if r.status == "error")
    other_failures = sum(1 for f in failures if f.kind != "backup" and f.outcome == "error")
    critical = states["failing"] + states["stale"] + repos_error + volumes_blocking
    warning = (
        states["warning"]
        + states["never_ran"]
        + sum(1 for r in repositories if r.status == "cancelled")
        + (len(volumes) - volumes_blocking)
        + other_failures
    )
    verdict = "critical" if critical else "warning" if warning else "ok"

    counts: dict[str, int] = {f"jobs_{s}": states[s] for s in JOB_STATES if states[s]}
    counts["jobs_total"] = len(jobs)
    for key, value in (
        ("repositories_error", repos_error),
        ("repositories_doctor", sum(1 for r in repositories if r.status == "doctor")),
        ("volumes_down", len(volumes)),
        ("tasks_running", len(active)),
        ("failures_unresolved", len(failures)),
        ("failures_resolved", resolved),
    ):
        if value:
            counts[key] = value

    listed = [j if j.state != "ok" else JobHealth(id=j.id, name=j.name, state="ok", last_run=j.last_run) for j in jobs]
    report = HealthReport(
        verdict=verdict,
        summary=_summary(verdict, states, len(jobs), repos_error, len(volumes), len(active), other_failures),
        checked_at=iso(now) or "",
        counts=counts,
        jobs=listed[:MAX_JOBS_LISTED],
        repositories=repositories,
        volumes=volumes,
        running=[active_task(t, names) for t in active],
        recent_failures=failures,
        notes=data.notes or None,
    )
    cut = {"jobs": max(0, len(listed) - MAX_JOBS_LISTED)}
    return _fit(report, cut)


def _fit(report: HealthReport, cut: dict[str, int]) -> HealthReport:
    """Drop the least important list items (the tail of the longest list) until the text fits MAX_TEXT."""
    lists: dict[str, list[Any]] = {
        "jobs": report.jobs,
        "repositories": report.repositories,
        "volumes": report.volumes,
        "running": report.running,
        "recent_failures": report.recent_failures,
    }
    while len(render_text(shape(report))) > MAX_TEXT:
        name, longest = max(lists.items(), key=lambda kv: len(kv[1]))
        if not longest:
            break
        step = max(1, len(longest) // 4)
        del longest[-step:]
        cut[name] = cut.get(name, 0) + step
    report.not_listed = {k: v for k, v in cut.items() if v} or None
    return report


def _task_job(task: Task) -> str | None:
    # v0.41 put the schedule's numeric id in resourceId; the input always carries the short id.
    short_id = (task.input or {}).get("scheduleShortId")
    return short_id if isinstance(short_id, str) else task.resourceId


def _volume_keys(job: BackupJob) -> Iterable[str]:
    if job.volume is not None:
        yield job.volume.shortId
    if job.volumeId is not None:
        yield str(job.volumeId)


def repository_trouble(repo: Repository, jobs: list[BackupJob]) -> RepositoryIssue | None:
    """What backup_health says of one repository (None: nothing), so get_repository says the same."""
    if repo.status in ("error", "doctor", "cancelled"):
        return _repository_issue(repo)
    return _broken_by_jobs(repo, jobs)


def _repository_issue(r: Repository) -> RepositoryIssue:
    message = _clip(r.lastError)
    if r.status == "doctor":
        step = "doctor is running: wait for it (list_active_tasks kind=doctor)"
    elif r.status == "cancelled":
        step = "the last doctor run was cancelled: run doctor again (run_doctor)"
    else:
        step = next_step_for(message) or "run doctor on the repository (run_doctor) and read its report"
    return RepositoryIssue(id=r.shortId, name=r.name, status=r.status, message=message, next_step=step)


# restic failures that are the repository's, not the job's: every job writing there fails the same way.
_REPOSITORY_FAILURES = ("wrong password", "no key found", "repository does not exist", "is there a repository")


def _broken_by_jobs(repo: Repository, jobs: list[BackupJob]) -> RepositoryIssue | None:
    """A repository Zerobyte still calls healthy although every job that wrote to it last failed opening it."""
    writers = [j for j in jobs if j.writes_to(repo) and j.lastBackupStatus is not None]
    if not writers or any(
        j.lastBackupStatus != "error" or not any(n in (j.lastBackupError or "").lower() for n in _REPOSITORY_FAILURES)
        for j in writers
    ):
        return None
    message = _clip(writers[0].lastBackupError) or ""
    names = _join([f"{j.name!r}" for j in writers[:5]]) + (f" and {len(writers) - 5} more" if len(writers) > 5 else "")
    return RepositoryIssue(
        id=repo.shortId,
        name=repo.name,
        status="error",
        message=(
            f"Zerobyte reports it {repo.status or 'unchecked'}, but every job writing to it fails ({names}): {message}"
        ),
        next_step=next_step_for(message),
    )


def _volume_issue(v: Volume, used_by: list[str]) -> VolumeIssue:
    message = _clip(v.lastError)
    return VolumeIssue(
        id=v.shortId,
        name=v.name,
        status=v.status,
        message=message,
        used_by=used_by[:10],
        next_step=_volume_step(v, message, used_by),
    )


# A source folder (or share path) that no longer exists: mounting again cannot help.
_SOURCE_GONE = ("enoent", "no such file or directory", "does not exist", "not found")


def _volume_step(v: Volume, message: str | None, used_by: list[str]) -> str:
    """What to do about a volume in trouble, naming the enabled jobs that fail on it."""
    jobs = _join([repr(n) for n in used_by[:5]]) if used_by else ""
    jobs += f" and {len(used_by) - 5} more" if len(used_by) > 5 else ""
    if message and any(n in message.lower() for n in _SOURCE_GONE):
        step = "its source path is gone: re-point the volume (update_volume) or disable the job (update_backup_job)"
        return step + (f"; backup job {jobs} will fail until then" if used_by else "")
    if not used_by:
        return "mount the volume / check its health"
    if v.status == "unmounted" and v.autoRemount:
        return "mount the volume / check its health (auto-remount is on: the next backup tries to remount it)"
    return f"mount the volume / check its health: backup job {jobs} fails until it is mounted"


def _failures(history: list[TaskHistoryItem]) -> tuple[list[Failure], int]:
    """Unresolved failures, newest first (resolved = a newer run of the same kind and target succeeded)."""
    succeeded: set[tuple[str, str]] = set()
    failures: list[Failure] = []
    resolved = 0
    for item in history:  # newest first
        target = item.target or {}
        key = (item.kind, str(target.get("scheduleShortId") or target.get("repositoryShortId") or target.get("label")))
        if item.outcome == "success":
            succeeded.add(key)
            continue
        if item.outcome not in ("error", "warning", "cancelled", "stale"):
            continue
        if key in succeeded:
            resolved += 1
            continue
        succeeded.add(key)  # only the newest failure per target; older ones are the same story
        if len(failures) < MAX_FAILURES:
            message = _clip(item.message)
            failures.append(
                Failure(
                    task_id=item.id,
                    kind=item.kind,
                    outcome=item.outcome,
                    target=history_target(item),
                    finished=iso_from_ms(item.finishedAt or item.startedAt),
                    message=message,
                    next_step=next_step_for(message or item.outcome),
                )
            )
    return failures, resolved


def _summary(
    verdict: str,
    states: Counter[str],
    total_jobs: int,
    repos_error: int,
    volumes_down: int,
    running: int,
    other_failures: int,
) -> str:
    problems = [f"{states[s]} {s.replace('_', ' ')}" for s in ("failing", "stale", "warning", "never_ran") if states[s]]
    parts: list[str] = []
    if problems:
        parts.append(f"{_join(problems)} of {total_jobs} backup jobs")
    if repos_error:
        parts.append(f"{repos_error} repositor{'y' if repos_error == 1 else 'ies'} in error")
    if volumes_down:
        parts.append(f"{volumes_down} volume{'s' if volumes_down != 1 else ''} not mounted")
    if other_failures:
        parts.append(f"{other_failures} other task failure{'s' if other_failures != 1 else ''}")
    if not parts:
        enabled = total_jobs - states["disabled"]
        if total_jobs == 0:
            head = "no backup jobs are configured"
        else:
            head = f"all {enabled} enabled backup jobs are on schedule and their last runs succeeded"
        parts.append(head)
    sentence = f"{verdict.upper()}: " + "; ".join(parts)
    if running:
        sentence += f". {running} task{'s' if running != 1 else ''} running"
    return sentence + "."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _clip(text: str | None, limit: int = MESSAGE_LIMIT) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- tool ----------------------------------------------------------------------------------------


@tool(title="Backup health")
async def backup_health(ctx: Ctx) -> HealthReport:
    """Start here: one verdict (ok/warning/critical) for all backups; failing, stale or warning jobs, repos and
    volumes in trouble, running tasks, latest failures with next steps."""
    report = await gather_health(client_of(ctx))
    drills = await anyio.to_thread.run_sync(app_of(ctx).kept_drills)
    if drills is not None:
        with_drills(report, drills, now=datetime.now(UTC))
    return report


# --- restore drills (kept in the local catalog file by drill_backup: no Zerobyte request) ------------------

DRILL_MAX_AGE = timedelta(days=30)  # a proof older than this is stale: drill again


def _ago(at_ms: int, now: datetime) -> str:
    delta = now - datetime.fromtimestamp(at_ms / 1000, UTC)
    return "just now" if delta < timedelta(minutes=1) else f"{_age(delta)} ago"


def newest_drills(drills: list[DrillRecord]) -> dict[str, DrillRecord]:
    """Each job's last restore drill (``drills`` newest first, as the catalog keeps them)."""
    newest: dict[str, DrillRecord] = {}
    for kept in drills:
        if kept.job is not None and kept.job not in newest:
            newest[kept.job] = kept
    return newest


def with_drills(report: HealthReport, drills: list[DrillRecord], *, now: datetime) -> None:
    """Each job's last restore drill on its line; a failed drill (critical), a stale one or, once drills are
    in use here, a job never drilled (warning) as problems with their next step."""
    newest = newest_drills(drills)
    issues: list[DrillIssue] = []
    for job in report.jobs:
        record = newest.get(job.id)
        if job.state in ("disabled", "never_ran"):
            continue
        if record is None:
            if drills:
                issues.append(
                    DrillIssue(
                        job=job.id,
                        name=job.name,
                        problem="never",
                        next_step=f"drill_backup backup_job_id={job.id} proves its newest snapshot restores",
                    )
                )
            continue
        when = f"{iso_from_ms(record.at_ms)} ({_ago(record.at_ms, now)})"
        size = human_bytes(record.bytes)
        if record.verdict == "failed":
            reason = str(record.detail.get("reason") or "")[:MESSAGE_LIMIT]
            job.restore = f"drill FAILED {when}: see drills"
            issues.append(
                DrillIssue(
                    job=job.id,
                    name=job.name,
                    problem="failed",
                    last_drill=when,
                    reason=reason,
                    next_step=str(record.detail.get("next_step") or "drill_backup again, then run_doctor"),
                )
            )
            continue
        proven = f"{record.files} files / {size} read back"
        job.restore = f"{'proven' if record.verdict == 'restorable' else 'partly proven'} {when}: {proven}"
        if now - datetime.fromtimestamp(record.at_ms / 1000, UTC) > DRILL_MAX_AGE:
            issues.append(
                DrillIssue(
                    job=job.id,
                    name=job.name,
                    problem="stale",
                    last_drill=when,
                    next_step=f"drill_backup backup_job_id={job.id} (the last proof is over {DRILL_MAX_AGE.days} days)",
                )
            )
    if not issues:
        return
    report.drills = issues
    failed = sum(1 for i in issues if i.problem == "failed")
    others = len(issues) - failed
    for key, value in (("drills_failed", failed), ("drills_to_do", others)):
        if value:
            report.counts[key] = value
    verdict = "critical" if failed or report.verdict == "critical" else "warning"
    parts = []
    if failed:
        parts.append(f"{failed} job{'s' if failed != 1 else ''} failed a restore drill")
    if others:
        parts.append(f"{others} job{'s' if others != 1 else ''} with no recent proof of restore")
    body = report.summary.partition(": ")[2].rstrip(".")
    report.summary = f"{verdict.upper()}: " + "; ".join([p for p in [body, *parts] if p]) + "."
    report.verdict = verdict
