"""Backup job configuration tools: create a job, and change only the given settings of one.

``PATCH /backups/{id}`` is not partial (it needs repositoryId and cronExpression and resets the retry
settings it is not sent), so an update reads the RAW job, merges the change into the complete body
(:func:`_current_body`) and sends it all. Schedules are checked locally (Zerobyte only says "Invalid cron");
a retention change or a move to another repository that makes Zerobyte forget snapshots — on the job's
repository or on its mirrors — is previewed and confirmed first (:func:`_retention_change_preview`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Resolve
from pydantic import BaseModel, Field

from ...answers.notation import OptionKind, format_retention, parse_options, parse_retention
from ...answers.output import iso_from_ms
from ...cron import CronError, parse_cron, version_difference
from ...safety.audit import note
from ...safety.retention import Policy, newly_forgotten
from ...zerobyte import ZerobyteClient
from ...zerobyte.errors import NotFound
from ...zerobyte.ids import check_job_id, check_short_id
from ...zerobyte.models import BackupJob
from ..backups import job_identity, schedule_words
from ..base import Ctx, ToolFailure, client_of, tool
from ..confirm import ActionResult, Gate, Preview, decide
from ..forgetting import confirmed_if_forgetting, forget_effects, now_ms, policy_of, snaps, snapshot_items
from .common import Change, JobId, Name, OptName, RepositoryId, VolumeId, change, check_name, clean, given, reply

__all__ = ["JobView", "create_backup_job", "job_view", "set_backup_jobs_enabled", "update_backup_job"]

Schedule = Annotated[str, Field(description="Cron (server time, UTC by default); '' = manual")]
Retention = Annotated[str | None, Field(description="e.g. 'last 5, daily 7, weekly 4, within 30d'")]
IncludePaths = Annotated[list[str] | None, Field(description="Only these paths ([] = all)")]
Excludes = Annotated[list[str] | None, Field(description="Exclude globs, e.g. '*.tmp'")]
JobOptions = Annotated[
    list[str] | None,
    Field(description="e.g. max_retries=3, retry_delay=30 (minutes), compression=max, pre_webhook=URL"),
]

_JOB_OPTIONS: dict[str, OptionKind] = {
    "max_retries": "int",
    "retry_delay": "int",
    "one_file_system": "bool",
    "compression": "str",
    "exclude_if_present": "list",
    "include_patterns": "list",
    "pre_webhook": "str",
    "post_webhook": "str",
}
_HOOK_PHASES = (("pre_webhook", "pre"), ("post_webhook", "post"))


def _check_cron(schedule: str, *, enabled: bool) -> str:
    """Validate a schedule locally, before any request: Zerobyte's own 400 says only "Invalid cron"."""
    expr = schedule.strip()
    if expr in ("", "manual"):
        if enabled:
            raise ToolFailure(
                "A job without a schedule (manual only) must be disabled: pass enabled=false. Nothing was sent."
            )
        return ""
    try:
        parse_cron(expr)
    except CronError as exc:
        raise ToolFailure(f"Invalid schedule: {exc}. Nothing was sent.") from None
    if (why := version_difference(expr)) is not None:
        raise ToolFailure(f"Schedule {expr!r} is refused: {why}. Nothing was sent.")
    return expr


def _job_options(options: list[str] | None) -> dict[str, Any]:
    """Job ``options`` -> ScheduleCreate/Update fields (retryDelay is in minutes both ways)."""
    extra = parse_options(options, _JOB_OPTIONS, "backup jobs")
    body: dict[str, Any] = {}
    if "max_retries" in extra:
        if not 0 <= extra["max_retries"] <= 32:
            raise ToolFailure("options: max_retries must be 0-32; nothing was sent.")
        body["maxRetries"] = extra["max_retries"]
    if "retry_delay" in extra:
        if not 1 <= extra["retry_delay"] <= 1440:
            raise ToolFailure("options: retry_delay must be 1-1440 minutes; nothing was sent.")
        body["retryDelay"] = extra["retry_delay"]
    if "one_file_system" in extra:
        body["oneFileSystem"] = extra["one_file_system"]
    if "compression" in extra:
        mode = str(extra["compression"]).strip().lower()
        if mode not in ("off", "auto", "max", "repository"):
            raise ToolFailure("options: compression must be off, auto, max or repository; nothing was sent.")
        body["compressionMode"] = None if mode == "repository" else mode
    if "exclude_if_present" in extra:
        body["excludeIfPresent"] = extra["exclude_if_present"]
    if "include_patterns" in extra:
        body["includePatterns"] = extra["include_patterns"]
    hooks = {phase: _hook_url(option, extra[option]) for option, phase in _HOOK_PHASES if option in extra}
    if hooks:
        body["backupWebhooks"] = hooks  # only the phases given; merged with the job's own hooks
    return body


def _hook_url(option: str, raw: str) -> str | None:
    """A pre/post backup webhook URL ('none' removes it); Zerobyte POSTs the run's context to it."""
    value = raw.strip()
    if value.lower() in ("", "none", "off"):
        return None
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ToolFailure(f"options: {option} must be an http(s) URL or 'none'; nothing was sent.")
    return value


def _merge_hooks(current: Mapping[str, Any] | None, given: Mapping[str, str | None]) -> dict[str, Any] | None:
    """The job's raw webhooks with only the given phases replaced (headers/body of a kept hook stay)."""
    merged: dict[str, Any] = {"pre": None, "post": None, **(dict(current) if current else {})}
    for phase, url in given.items():
        merged[phase] = None if url is None else {**(merged.get(phase) or {}), "url": url}
    return merged if merged.get("pre") or merged.get("post") else None


class JobView(BaseModel):
    """A job's configuration as agents see it (webhook URLs and headers are never included)."""

    id: str
    name: str
    enabled: bool
    volume: str | None = None
    repository: str | None = None
    cron: str | None = None
    schedule: str | None = None
    next_run: str | None = None
    retention: str | None = None
    include_paths: list[str] | None = None
    include_patterns: list[str] | None = None
    exclude_patterns: list[str] | None = None
    exclude_if_present: list[str] | None = None
    one_file_system: bool | None = None
    compression: str | None = None
    max_retries: int | None = None
    retry_delay_minutes: int | None = None


def job_view(j: BackupJob) -> JobView:
    return JobView(
        **job_identity(j),
        schedule=schedule_words(j.cronExpression, j.nextBackupAt),
        next_run=iso_from_ms(j.nextBackupAt) if j.enabled else None,
        retention=format_retention(j.retentionPolicy.model_dump(exclude_none=True) if j.retentionPolicy else None),
        include_paths=list(j.includePaths or []) or None,
        include_patterns=list(j.includePatterns or []) or None,
        exclude_patterns=list(j.excludePatterns or []) or None,
        exclude_if_present=list(j.excludeIfPresent or []) or None,
        one_file_system=j.oneFileSystem,
        compression=j.compressionMode,
        max_retries=j.maxRetries,
        retry_delay_minutes=round(j.retryDelay) if j.retryDelay is not None else None,
    )


def _current_body(job: BackupJob) -> dict[str, Any]:
    """The complete PATCH body that leaves ``job`` as it is, from the RAW job Zerobyte sent."""
    repository_id = job.repository.shortId if job.repository else job.repositoryId
    if not repository_id:
        raise ToolFailure(f"Backup job {job.shortId!r} has no repository in Zerobyte's answer; cannot edit it safely.")
    body: dict[str, Any] = {
        "name": job.name,
        "repositoryId": repository_id,
        "enabled": job.enabled,
        "cronExpression": job.cronExpression or "",
        "excludePatterns": list(job.excludePatterns or []),
        "excludeIfPresent": list(job.excludeIfPresent or []),
        "includePaths": list(job.includePaths or []),
        "includePatterns": list(job.includePatterns or []),
        "oneFileSystem": bool(job.oneFileSystem),
        "customResticParams": list(job.customResticParams or []),
        "compressionMode": job.compressionMode,
    }
    # Omitted, these two are reset to 2 and 15 minutes.
    if job.maxRetries is not None:
        body["maxRetries"] = job.maxRetries
    if job.retryDelay is not None:
        body["retryDelay"] = round(job.retryDelay)
    if job.retentionPolicy is not None:
        body["retentionPolicy"] = job.retentionPolicy.model_dump(exclude_none=True)
    # The raw hooks as read (plain text); a redacted copy sent back would replace the real URL and headers.
    if job.backupWebhooks is not None:
        body["backupWebhooks"] = job.backupWebhooks
    return body


def _diff(before: JobView, after: JobView) -> list[str]:
    old = before.model_dump(exclude={"next_run", "schedule"})
    new = after.model_dump(exclude={"next_run", "schedule"})
    return [change(key, old.get(key), value) for key, value in new.items() if old.get(key) != value]


@tool(title="Create backup job")
async def create_backup_job(
    ctx: Ctx,
    name: Name,
    volume_id: VolumeId,
    repository_id: RepositoryId,
    schedule: Schedule,
    retention: Retention = None,
    enabled: Annotated[bool, Field(description="Run on schedule")] = True,
    include_paths: IncludePaths = None,
    exclude_patterns: Excludes = None,
    options: JobOptions = None,
) -> Change:
    """Back up a volume to a repository on a cron schedule, with retention."""
    clean_name = check_name(name)
    expr = _check_cron(schedule, enabled=enabled)
    vid = check_short_id("volume_id", volume_id)
    rid = check_short_id("repository_id", repository_id)
    policy = {k: v for k, v in parse_retention(retention or "").items() if v is not None}
    body: dict[str, Any] = {
        "name": clean_name,
        "volumeId": vid,
        "repositoryId": rid,
        "enabled": enabled,
        "cronExpression": expr,
        **_job_options(options),
    }
    if policy:
        body["retentionPolicy"] = policy
    if "backupWebhooks" in body:
        body["backupWebhooks"] = _merge_hooks(None, body["backupWebhooks"])
    body.update(given(includePaths=include_paths, excludePatterns=exclude_patterns))
    client = client_of(ctx)
    try:
        created = await client.create_backup_job(body)
    except NotFound as exc:
        raise ToolFailure(
            f"Zerobyte refused: {exc.upstream_message or 'not found'}. Check volume_id {vid!r} and repository_id "
            f"{rid!r} (list_volumes and list_repositories show the ids)."
        ) from None
    note(job_id=created.shortId)
    job = await client.get_backup_job(created.shortId)
    remarks = [] if policy else ["No retention: every snapshot is kept until you set one (update_backup_job)."]
    if job.volume is not None and job.volume.status not in (None, "mounted"):
        trouble = f": {clean(job.volume.lastError)}" if job.volume.lastError else ""
        remarks.append(
            f"Warning: volume {job.volume.name!r} ({job.volume.shortId}) is {job.volume.status}{trouble}. Its backups "
            "fail until it is mounted: fix its source (update_volume) or mount it (mount_volume)."
        )
    return reply("created", job=job_view(job), note=" ".join(remarks) or None)


def _merged_policy(current: Mapping[str, Any] | None, rules: Mapping[str, Any]) -> dict[str, Any]:
    """The job's policy with the given rules changed (None removes a rule; no rules at all clears it)."""
    policy = {} if not rules else dict(current or {})
    for key, value in rules.items():
        if value is None:
            policy.pop(key, None)
        else:
            policy[key] = value
    return policy


async def _retention_change_preview(
    client: ZerobyteClient, job_id: str, retention: str | None, repository_id: str | None
) -> Preview | None:
    """The snapshots a retention change, or a move to another repository, makes Zerobyte forget (now or at the
    next backup); None if none."""
    jid = check_job_id("job_id", job_id)
    rules = parse_retention(retention) if retention is not None else None
    job = await client.get_backup_job(jid)
    old = policy_of(job)
    raw = job.retentionPolicy.model_dump(exclude_none=True) if job.retentionPolicy else None
    try:
        new = Policy.from_zerobyte(_merged_policy(raw, rules)) if rules is not None else old
    except ValueError as exc:
        raise ToolFailure(f"retention: {exc}; nothing was sent.") from None
    current_repo = await client.job_repository(job)
    target = check_short_id("repository_id", repository_id) if repository_id is not None else current_repo
    if target is None:
        raise ToolFailure(f"Backup job {job.shortId!r} names no repository Zerobyte knows; nothing was sent.")
    try:
        listed = await client.list_snapshots(target)
    except NotFound:
        raise ToolFailure(
            f"Zerobyte refused the change: Repository not found: {target!r} (check repository_id; "
            "list_repositories shows them). Nothing was sent."
        ) from None
    mine = snaps(listed)
    # On another repository the old policy never ran: everything the new one forgets there is new loss.
    going = newly_forgotten(mine, mine, old if target == current_repo else None, new, tag=job.shortId, now_ms=now_ms())
    items = snapshot_items(going, listed, note=f"job {job.name}")
    if rules is not None:
        # Each mirror sync forgets by the same policy on the mirror repository (Zerobyte's mirror-sync-command).
        for mirror in await client.get_job_mirrors(jid):
            if not mirror.enabled or mirror.repositoryId == target:
                continue
            copies = await client.list_snapshots(mirror.repositoryId)
            lost = newly_forgotten(snaps(copies), snaps(copies), old, new, tag=job.shortId, now_ms=now_ms())
            going += lost
            items += snapshot_items(lost, copies, note=f"mirror copy in repository {mirror.repositoryId}")
    if not going:
        return None
    moved = f" and move it to repository {target}" if target != current_repo else ""
    return Preview(
        action=f"Change the retention of backup job {job.name!r} ({job.shortId}) from {old or 'none'} to "
        f"{new or 'none'}{moved}",
        effects=forget_effects(going, [f"backup job {job.name!r} ({job.shortId}, keeping {new})"]),
        items=items,
    )


@confirmed_if_forgetting("update_backup_job", "this change")
async def _update_backup_job_preview(
    ctx: Ctx,
    job_id: str,
    name: str | None,
    enabled: bool | None,
    schedule: str | None,
    retention: str | None,
    repository_id: str | None,
    include_paths: list[str] | None,
    exclude_patterns: list[str] | None,
    options: list[str] | None,
    confirm_token: str | None,
) -> Preview | None:
    # Every argument is named: the confirmation binds the whole change, not only the parts previewed.
    if retention is None and repository_id is None:
        return None
    return await _retention_change_preview(client_of(ctx), job_id, retention, repository_id)


@tool(title="Update backup job", idempotent=True)
async def update_backup_job(
    ctx: Ctx,
    job_id: JobId,
    answer: Annotated[ElicitationResult[Any], Resolve(_update_backup_job_preview)],
    name: OptName = None,
    enabled: Annotated[bool | None, Field(description="false pauses the schedule")] = None,
    schedule: Annotated[str | None, Field(description="Cron; '' = manual only")] = None,
    retention: Annotated[str | None, Field(description="Rules to change, e.g. 'weekly 4, daily 0'; 'none'")] = None,
    repository_id: Annotated[str | None, Field(description="Move to this repository")] = None,
    include_paths: IncludePaths = None,
    exclude_patterns: Excludes = None,
    options: JobOptions = None,
    confirm_token: Annotated[
        str | None, Field(description="Only for a retention change that forgets snapshots")
    ] = None,
) -> Change:
    """Change only the given settings of a backup job; keeps all others. A tighter retention is confirmed."""
    jid = check_job_id("job_id", job_id)
    changes: dict[str, Any] = _job_options(options)
    if name is not None:
        changes["name"] = check_name(name)
    if enabled is not None:
        changes["enabled"] = enabled
    if schedule is not None:
        # Whether an empty schedule is allowed depends on the merged "enabled", checked below.
        changes["cronExpression"] = _check_cron(schedule, enabled=False)
    if repository_id is not None:
        changes["repositoryId"] = check_short_id("repository_id", repository_id)
    changes.update(given(includePaths=include_paths, excludePatterns=exclude_patterns))
    rules = parse_retention(retention) if retention is not None else None
    decision = decide(answer, "update_backup_job", ActionResult)
    if not isinstance(decision, Gate):
        return Change(**decision.model_dump(exclude_none=True))

    client = client_of(ctx)
    job = await client.get_backup_job(jid)
    before = job_view(job)
    current = _current_body(job)
    body = {**current, **changes}
    if "backupWebhooks" in changes:
        body["backupWebhooks"] = _merge_hooks(current.get("backupWebhooks"), changes["backupWebhooks"])
    if rules is not None:
        policy = _merged_policy(current.get("retentionPolicy"), rules)
        if policy or job.retentionPolicy is not None:
            body["retentionPolicy"] = policy  # {} clears it
    if body["enabled"] and not body["cronExpression"]:
        raise ToolFailure(
            f"Backup job {job.shortId!r} would be enabled without a schedule: pass schedule (cron), or "
            "enabled=false for a manual-only job. Nothing was sent."
        )
    if body == current:
        return reply("unchanged", job=before, note="Nothing to change.")
    try:
        await client.update_backup_job(jid, body)
    except NotFound as exc:
        # The PATCH names the job in its 404, but Zerobyte may be reporting the new repository instead.
        if exc.upstream_message and "schedule" not in exc.upstream_message.lower():
            raise ToolFailure(f"Zerobyte refused the change: {exc.upstream_message} (check repository_id).") from None
        raise
    after = job_view(await client.get_backup_job(jid))
    remarks = []
    if body.get("retentionPolicy") == {} and job.retentionPolicy is not None:
        remarks.append("Retention cleared: snapshots of this job are now kept forever.")
    if body.get("backupWebhooks") != current.get("backupWebhooks"):
        hooks = body.get("backupWebhooks") or {}
        shown = ", ".join(f"{p}-backup {'set' if hooks.get(p) else 'none'}" for p in ("pre", "post"))
        remarks.append(f"Webhooks: {shown} (URLs are not shown: they often hold tokens).")
    remark = " ".join(remarks) or None
    return reply("updated", job=after, changes=_diff(before, after), note=remark)


# --- several jobs at once ------------------------------------------------------------------------------


@tool(title="Enable/disable jobs", idempotent=True)
async def set_backup_jobs_enabled(
    ctx: Ctx,
    job_ids: Annotated[list[str], Field(description="Jobs by id or name; ['*'] = every job")],
    enabled: Annotated[bool, Field(description="false pauses their schedules")],
    dry_run: Annotated[bool, Field(description="Only show what would change")] = False,
) -> Change:
    """Pause or resume several backup jobs in one call (one preview with dry_run); each says its next run before
    and after."""
    if not job_ids:
        raise ToolFailure("job_ids is empty: name the jobs, or ['*'] for every job; nothing was sent.")
    refs = [check_job_id("job_ids", r) for r in job_ids if r != "*"]
    client = client_of(ctx)
    jobs = await client.list_backup_jobs()
    if "*" in job_ids:
        chosen = jobs
    else:
        by_ref = {j.shortId: j for j in jobs} | {str(j.id): j for j in jobs}
        missing = [r for r in refs if r not in by_ref]
        if missing:
            raise ToolFailure(
                f"Backup job(s) {', '.join(repr(m) for m in missing)} not found (list_backup_jobs shows them); "
                "nothing was changed."
            )
        chosen = list({by_ref[r].shortId: by_ref[r] for r in refs}.values())
    changing = [j for j in chosen if j.enabled != enabled]
    if enabled:
        empty = [j for j in changing if not (j.cronExpression or "").strip()]
        if empty:
            names = ", ".join(f"{j.name!r} ({j.shortId})" for j in empty)
            raise ToolFailure(
                f"Backup job(s) {names} have no schedule, so they cannot be enabled (give one a schedule with "
                "update_backup_job); nothing was changed."
            )
    if dry_run or not changing:
        rows = [_bulk_row(j, None, enabled) for j in chosen]
        verb = "would change" if dry_run else "changed"
        return reply(
            "preview" if dry_run and changing else "unchanged",
            jobs=rows,
            note=f"{len(changing)} of {len(chosen)} job(s) {verb}"
            + (": call again without dry_run to apply." if dry_run and changing else "."),
        )
    for j in changing:
        await client.update_backup_job(j.shortId, {**_current_body(j), "enabled": enabled})
    after = {j.shortId: j for j in await client.list_backup_jobs()}
    rows = [_bulk_row(j, after.get(j.shortId), enabled) for j in chosen]
    return reply(
        "updated",
        jobs=rows,
        note=f"{len(changing)} of {len(chosen)} job(s) {'resumed' if enabled else 'paused'}; only 'enabled' changed.",
    )


def _bulk_row(before: BackupJob, after: BackupJob | None, enabled: bool) -> dict[str, Any]:
    """One job's line of a bulk change: enabled and next run before and after, and a pending retry it drops."""
    flags = f"{'true' if before.enabled else 'false'} -> {'true' if enabled else 'false'}"
    row: dict[str, Any] = {"id": before.shortId, "name": before.name, "enabled": flags}
    was = iso_from_ms(before.nextBackupAt) if before.enabled else None
    if after is not None:
        will = iso_from_ms(after.nextBackupAt) if after.enabled else None
    else:
        will = _scheduled_next(before) if enabled else None
    row["next_run"] = f"{was or 'none'} -> {will or 'none'}"
    retry = _pending_retry(before)
    if retry is not None and before.enabled != enabled:
        row["note"] = f"the pending retry at {retry} (after the last failed run) is dropped"
    return row


def _scheduled_next(job: BackupJob) -> str | None:
    if job.enabled and job.nextBackupAt is not None and _pending_retry(job) is None:
        return iso_from_ms(job.nextBackupAt)
    try:
        nxt = parse_cron(job.cronExpression or "").next_after(datetime.now(UTC))
    except CronError:
        return None
    return iso_from_ms(nxt.timestamp() * 1000) if nxt is not None else None


def _pending_retry(job: BackupJob) -> str | None:
    """The next run when it is a retry slot (earlier than the schedule's next time after a failed run)."""
    if not job.enabled or job.nextBackupAt is None or job.last_outcome not in ("error", "cancelled", "stale"):
        return None
    try:
        scheduled = parse_cron(job.cronExpression or "").next_after(datetime.now(UTC))
    except CronError:
        return None
    if scheduled is None or job.nextBackupAt >= scheduled.timestamp() * 1000 - 60_000:
        return None
    return iso_from_ms(job.nextBackupAt)
