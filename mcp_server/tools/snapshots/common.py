"""What every snapshot tool shares: argument types, time windows, the repository/job scope, and limits.

Zerobyte lists a repository's snapshots all at once (oldest first, no paging, no time filter); this module
turns the ``repository_id`` / ``backup_job_id`` / ``since`` / ``until`` arguments into a :class:`Scope` and a
time window, lists the scope's snapshots newest first (with retention categories recomputed from the job's
current policy), and holds the request limits and the errors that stay local to one snapshot.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field

from ...answers.output import iso, iso_from_ms, iso_from_seconds, mtime_seconds
from ...safety.retention import Policy, Snap, retention_categories
from ...zerobyte import BadRequest, NotFound, ServerError, ZerobyteClient, ZerobyteError, ZerobyteProtocolError
from ...zerobyte.ids import check_job_id, check_short_id
from ...zerobyte.models import BackupJob, Snapshot
from ...zerobyte.snapshots import SNAPSHOT_FILES_PAGE_CAP
from ..base import ToolFailure

__all__ = [
    "CONCURRENCY",
    "LOCAL_ERRORS",
    "PAGE_CAP",
    "JobArg",
    "OptRepoArg",
    "RepoArg",
    "Scope",
    "SinceArg",
    "SnapArg",
    "UntilArg",
    "check_scope_args",
    "file_mtime",
    "fresh_categories",
    "in_window",
    "newest_first",
    "parse_when",
    "resolve_scope",
    "snapshots_in_scope",
    "time_window",
]

PAGE_CAP = SNAPSHOT_FILES_PAGE_CAP  # Zerobyte clamps snapshot file pages to 500 entries
CONCURRENCY = 4  # Zerobyte runs at most 2 `restic ls` per repository; 4 keeps its queue full, no more

# --- arguments ---------------------------------------------------------------------------------------

RepoArg = str
OptRepoArg = Annotated[str | None, Field(description="Repository id (or backup_job_id)")]
JobArg = str | None
SnapArg = Annotated[str, Field(description="Snapshot id or 'latest'")]
SinceArg = Annotated[str | None, Field(description="ISO time, or age: 7d, 12h")]
UntilArg = Annotated[str | None, Field(description="ISO time (a date: its end), or age")]


# --- time filters --------------------------------------------------------------------------------------

_AGE = re.compile(r"(\d{1,6})\s*(m|min|h|d|w)", re.IGNORECASE)
_AGE_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_when(argument: str, value: str | None, *, end: bool, now: datetime | None = None) -> int | None:
    """An ISO date/datetime or an age (``7d``) as epoch ms; a bare date is its start (or, with ``end``, its end)."""
    if value is None or not value.strip():
        return None
    now = now or datetime.now(UTC)
    text = value.strip()
    age = _AGE.fullmatch(text)
    if age:
        delta = timedelta(**{_AGE_UNITS[age.group(2).lower()]: int(age.group(1))})
        return _ms(now - delta)
    lowered = text.lower()
    if lowered in ("now",):
        return _ms(now)
    if lowered in ("today", "yesterday"):
        day = now.date() - timedelta(days=1 if lowered == "yesterday" else 0)
        text = day.isoformat()
    if _DATE.fullmatch(text):
        try:
            start = datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            start = None
        if start is not None:
            return _ms(start + timedelta(days=1)) - 1 if end else _ms(start)
    else:
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return _ms(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    raise ToolFailure(
        f"Invalid {argument}: {text[:40]!r} is not a date ('2026-11-20'), a UTC time ('2026-11-20T08:00Z') "
        "or an age ('30m', '12h', '7d', '2w')."
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def time_window(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    lo = parse_when("since", since, end=False)
    hi = parse_when("until", until, end=True)
    if lo is not None and hi is not None and lo > hi:
        raise ToolFailure(f"Invalid since/until: since ({iso_from_ms(lo)}) is after until ({iso_from_ms(hi)}).")
    return lo, hi


# --- scope: which repository, which job ------------------------------------------------------------------


@dataclass
class Scope:
    repository_id: str
    job: BackupJob | None
    jobs: dict[str, BackupJob]

    def job_of(self, snapshot: Snapshot) -> BackupJob | None:
        for tag in snapshot.tags:
            if tag in self.jobs:
                return self.jobs[tag]
        return None


def check_scope_args(repository_id: str | None, backup_job_id: str | None) -> tuple[str | None, str | None]:
    """Validate ids before any request is made."""
    rid = check_short_id("repository_id", repository_id) if repository_id is not None else None
    jid = check_job_id("backup_job_id", backup_job_id) if backup_job_id is not None else None
    if rid is None and jid is None:
        raise ToolFailure(
            "Give repository_id (see list_repositories) or backup_job_id (see list_backup_jobs) to say whose "
            "snapshots to use."
        )
    return rid, jid


async def resolve_scope(client: ZerobyteClient, rid: str | None, jid: str | None, *, need_jobs: bool = True) -> Scope:
    jobs: dict[str, BackupJob] = {}
    if need_jobs or jid is not None:
        try:
            jobs = {j.shortId: j for j in await client.list_backup_jobs()}
        except ZerobyteError:
            if jid is not None:
                raise
            jobs = {}  # job names are a nicety; the snapshots themselves still answer
    job: BackupJob | None = None
    if jid is not None:
        job = jobs.get(jid) or next((j for j in jobs.values() if str(j.id) == jid), None)
        if job is None:
            raise ToolFailure(f"Backup job {jid!r} was not found: list_backup_jobs shows the existing jobs.")
        job_repo = await client.job_repository(job)
        if rid is not None and job_repo is not None and job_repo != rid:
            raise ToolFailure(
                f"Backup job {job.name!r} ({job.shortId}) writes to repository {job_repo!r}, not {rid!r}: "
                "drop repository_id or use that one."
            )
        rid = rid or job_repo
        if rid is None:
            raise ToolFailure(f"Backup job {job.shortId!r} names no repository; give repository_id.")
    assert rid is not None
    return Scope(repository_id=rid, job=job, jobs=jobs)


async def snapshots_in_scope(client: ZerobyteClient, scope: Scope) -> list[Snapshot]:
    """Newest first; filtered server-side by job tag (which also makes Zerobyte compute retention)."""
    job_id = scope.job.shortId if scope.job is not None else None
    snaps = await client.list_snapshots(scope.repository_id, backup_job_id=job_id)
    if scope.job is not None:
        fresh_categories(snaps, scope.job)
    return sorted(snaps, key=newest_first)


def fresh_categories(snaps: list[Snapshot], job: BackupJob) -> None:
    """Replace Zerobyte's retentionCategories, cached and stale after a policy change, with the rules of the
    job's current policy that keep each snapshot ([] = its next forget removes it)."""
    # Read tools stay free of the confirmation machinery (tools/forgetting.py): the few lines are repeated here.
    try:
        policy = Policy.from_zerobyte(
            job.retentionPolicy.model_dump(exclude_none=True) if job.retentionPolicy else None
        )
    except ValueError:
        return  # a policy we cannot evaluate: Zerobyte's own categories stay
    if policy is None:
        return
    judged = [Snap(id=s.short_id, time_ms=s.time, tags=tuple(s.tags)) for s in snaps]
    fresh = retention_categories(judged, policy, tag=job.shortId, now_ms=time.time() * 1000)
    for s in snaps:
        if s.short_id in fresh:
            s.retentionCategories = fresh[s.short_id]


def newest_first(s: Snapshot) -> tuple[float, str]:
    """Sort key: newest first, ties by id (the order of every list and of list_snapshots' cursor)."""
    return (-s.time, s.short_id)


def in_window(s: Snapshot, lo: int | None, hi: int | None) -> bool:
    return (lo is None or s.time >= lo) and (hi is None or s.time <= hi)


def file_mtime(value: str | None) -> str | None:
    """A file's mtime to the nearest second, as the catalog (and restic's tar) have it."""
    seconds = mtime_seconds(value)
    return iso_from_seconds(seconds) if seconds is not None else iso(value)


# Per-snapshot failures are reported and the search goes on; anything else (auth, rate limit, network)
# is the same for every request, so it ends the call with its own message.
LOCAL_ERRORS = (NotFound, ServerError, BadRequest, ZerobyteProtocolError)
