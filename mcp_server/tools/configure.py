"""Configuration tools: create and change volumes, repositories, backup jobs, mirrors and notification routing.

Zerobyte's edits are not partial: ``PATCH /backups/{id}`` needs repositoryId and cronExpression and resets
the retry settings it is not sent, and the notification and mirror PUTs replace whole
lists. So every edit here reads the current object, merges one change into the RAW data Zerobyte returned
(never a redacted copy) and sends the complete result. Nothing here deletes data: these are "operate" tools.

tools/list has a token budget, so arguments use compact notations an agent already knows from the read
tools (a volume ``source`` like ``//nas/photos``, a retention like ``daily 7, weekly 4``) plus a few
``key=value`` options; every parse failure says the expected notation, before any request is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import unquote, urlsplit

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Resolve
from pydantic import BaseModel, ConfigDict, Field

from ..audit import note
from ..concurrency import gather
from ..confirm import ActionResult, Gate, Preview, decide
from ..cron import CronError, describe_cron, parse_cron
from ..notation import (
    SOURCE_FORMS,
    SOURCE_HELP,
    OptionKind,
    format_retention,
    parse_location,
    parse_options,
    parse_retention,
    parse_source,
)
from ..output import iso, iso_from_ms
from ..redact import redact, redact_text
from ..retention import Policy, newly_forgotten
from ..zerobyte import ZerobyteClient
from ..zerobyte.errors import BadRequest, NotFound, ServerError
from ..zerobyte.ids import check_destination_id, check_job_id, check_short_id
from ..zerobyte.models import BackupJob, DestinationAssignment, Mirror, NotificationDestination, ResticStats
from .base import Ctx, ToolFailure, app_of, client_of, tool
from .confine import check_directory_source, zerobyte_folders
from .forgetting import confirmed_if_forgetting, forget_effects, now_ms, policy_of, snaps, snapshot_items
from .repositories import repository_summary
from .volumes import volume_summary

__all__ = ["Change", "JobView", "job_view"]

T = TypeVar("T")

SECRET = "sealed; never shown"

# --- argument types ---------------------------------------------------------------------------------

VolumeId = Annotated[str, Field(description="Volume short id")]
RepositoryId = Annotated[str, Field(description="Repository short id")]
JobId = Annotated[str, Field(description="Backup job short id")]
DestinationId = Annotated[int, Field(description="Destination id")]
Name = Annotated[str, Field(description="Name")]
OptName = Annotated[str | None, Field(description="New name")]
Options = Annotated[list[str] | None, Field(description="More settings as key=value")]
VolumeSecret = Annotated[str | None, Field(description=f"Password, or sftp private key ({SECRET})")]
VolumeUser = Annotated[str | None, Field(description="smb/webdav/sftp user")]
Compression = Annotated[Literal["off", "auto", "max"] | None, Field(description="Compression (default auto)")]
Schedule = Annotated[str, Field(description="Cron (server time, UTC by default); '' = manual")]
Retention = Annotated[str | None, Field(description="e.g. 'last 5, daily 7, weekly 4, within 30d'")]
IncludePaths = Annotated[list[str] | None, Field(description="Only these paths ([] = all)")]
Excludes = Annotated[list[str] | None, Field(description="Exclude globs, e.g. '*.tmp'")]
JobOptions = Annotated[
    list[str] | None,
    Field(description="e.g. max_retries=3, retry_delay=30 (minutes), compression=max, pre_webhook=URL"),
]


# --- the one result model of every write tool ---------------------------------------------------------


class Change(BaseModel):
    """What a configuration tool did: ``outcome``, the object as Zerobyte now has it (secrets redacted) under
    its own key (``volume``, ``job``, ``routes``...), ``changes`` as "field: before -> after", and a ``note``.

    The output schema lists only ``outcome``: every extra key would cost tools/list tokens for each tool."""

    model_config = ConfigDict(extra="allow")

    outcome: str


def _done(outcome: str, *, changes: list[str] | None = None, note: str | None = None, **items: Any) -> Change:
    data = {k: v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v for k, v in items.items()}
    return Change(
        outcome=outcome, **{k: v for k, v in data.items() if v is not None}, changes=changes or None, note=note
    )


# --- shared helpers -----------------------------------------------------------------------------------


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _clean(text: str | None, limit: int = 400) -> str | None:
    if not text:
        return None
    out = redact_text(text.strip())
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _name(value: str) -> str:
    text = value.strip()
    if not text or len(text) > 128:
        raise ToolFailure("name must be 1-128 characters; nothing was sent.")
    return text


def _change(field: str, before: Any, after: Any) -> str:
    return f"{field}: {_show(before)} -> {_show(after)}"


def _show(value: Any) -> str:
    if value is None or value == []:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str | list) else str(value)


# --- volumes ----------------------------------------------------------------------------------------

VolumeBackend = Literal["directory", "nfs", "smb", "webdav", "sftp", "rclone"]
_VOLUME_OPTIONS: dict[str, dict[str, OptionKind]] = {
    "directory": {},
    "nfs": {"port": "int", "version": "str"},
    "smb": {"port": "int", "domain": "str", "vers": "str", "guest": "bool", "map_uid_gid": "bool"},
    "webdav": {"port": "int"},
    "sftp": {"port": "int", "known_hosts": "str", "skip_host_key_check": "bool", "allow_legacy_ssh_rsa": "bool"},
    "rclone": {},
}
_VOLUME_OPTION_KEYS = {
    "map_uid_gid": "mapToContainerUidGid",
    "read_only": "readOnly",
    "known_hosts": "knownHosts",
    "skip_host_key_check": "skipHostKeyCheck",
    "allow_legacy_ssh_rsa": "allowLegacySshRsa",
}


def _volume_login(backend: str, username: str | None, secret: str | None) -> dict[str, Any]:
    """``username``/``secret`` -> config fields; an sftp secret holding a PEM key is its privateKey."""
    if (username is not None or secret is not None) and backend not in ("smb", "webdav", "sftp"):
        raise ToolFailure(f"{backend} volumes take no username or secret; nothing was sent.")
    out = _given(username=username)
    if secret is not None:
        out["privateKey" if backend == "sftp" and "PRIVATE KEY-----" in secret else "password"] = secret
    return out


def _volume_config(
    backend: str, source: str, *, username: str | None, secret: str | None, options: list[str] | None
) -> dict[str, Any]:
    config: dict[str, Any] = {"backend": backend, **parse_source(backend, source)}
    extra = parse_options(options, {**_VOLUME_OPTIONS[backend], "read_only": "bool"}, f"{backend} volumes")
    config.update({_VOLUME_OPTION_KEYS.get(k, k): v for k, v in extra.items()})
    config.update(_volume_login(backend, username, secret))
    if backend == "sftp" and not secret:
        raise ToolFailure("An sftp volume needs secret (its password or private key); nothing was sent.")
    if backend == "nfs":
        config.setdefault("version", "4")
    if backend == "smb" and "guest" not in config and not (config.get("username") or secret):
        config["guest"] = True
    return config


def _volume_next_step(status: str | None, error: str | None) -> str | None:
    if status == "mounted":
        return None
    if status == "error":
        return f"Not mounted: {_clean(error) or 'mount failed'}. Fix the source, then run mount_volume."
    return "Not mounted yet: run mount_volume."


async def _confined(ctx: Ctx, path: str) -> str:
    """A directory source the agent may use (under the volume roots, not Zerobyte's data), or a refusal."""
    roots = app_of(ctx).settings.volume_allowed_roots
    protected = await zerobyte_folders(client_of(ctx)) if roots else []
    return check_directory_source(path, roots, protected)


@tool(title="Create volume")
async def create_volume(
    ctx: Ctx,
    name: Name,
    backend: Annotated[VolumeBackend, Field(description="Backend")],
    source: Annotated[str, Field(description=SOURCE_HELP)],
    username: VolumeUser = None,
    secret: VolumeSecret = None,
    options: Options = None,
    test: Annotated[Literal["first", "only", "skip"], Field(description="Connection test; only = no create")] = "first",
) -> Change:
    """Add a backup source (volume); tests the connection first."""
    clean_name = _name(name)
    config = _volume_config(backend, source, username=username, secret=secret, options=options)
    client = client_of(ctx)
    if backend == "directory":
        config["path"] = await _confined(ctx, config["path"])
    if test != "skip":
        result = await client.test_volume_connection(config)
        reason = _clean(result.message) or "no reason given"
        if test == "only":
            return Change(outcome="ok" if result.success else "failed", note=reason)
        if not result.success:
            raise ToolFailure(
                f"Volume {clean_name!r} was not created: Zerobyte's connection test failed: {reason}. Fix the "
                "settings and retry, or pass test='skip' to create it anyway (it would stay unmounted)."
            )
    try:
        created = await client.create_volume(clean_name, config)
    except ServerError as exc:
        # A duplicate name reaches the database's UNIQUE constraint: a raw 500.
        if "unique" in str(exc).lower():
            raise ToolFailure(f"A volume named {clean_name!r} already exists: choose another name.") from None
        raise
    note(volume_id=created.shortId)
    # The create answer carries the status from before the mount: read it again.
    current = (await client.get_volume(created.shortId)).volume
    return _done("created", volume=volume_summary(current), note=_volume_next_step(current.status, current.lastError))


@tool(title="Update volume", idempotent=True)
async def update_volume(
    ctx: Ctx,
    volume_id: VolumeId,
    name: OptName = None,
    auto_remount: Annotated[bool | None, Field(description="Remount by itself after errors")] = None,
    source: Annotated[str | None, Field(description=SOURCE_HELP)] = None,
    username: VolumeUser = None,
    secret: VolumeSecret = None,
    read_only: Annotated[bool | None, Field(description="Mount read-only")] = None,
) -> Change:
    """Rename a volume or change its source, login or auto-remount."""
    vid = check_short_id("volume_id", volume_id)
    new_name = _name(name) if name is not None else None
    client = client_of(ctx)
    current = (await client.get_volume(vid)).volume
    backend = str(current.config.get("backend") or current.type or "")
    wanted: dict[str, Any] = {}
    if source is not None:
        if backend not in SOURCE_FORMS:
            raise ToolFailure(f"Volume {vid!r} has backend {backend!r}, whose source this tool cannot edit.")
        wanted.update(parse_source(backend, source))
        if backend == "directory":
            wanted["path"] = await _confined(ctx, wanted["path"])
    wanted.update(_volume_login(backend, username, secret))
    if read_only is not None:
        wanted["readOnly"] = read_only
    body: dict[str, Any] = {}
    changed: list[str] = []
    if new_name is not None and new_name != current.name:
        body["name"] = new_name
        changed.append(_change("name", current.name, new_name))
    if auto_remount is not None and auto_remount != current.autoRemount:
        body["autoRemount"] = auto_remount
        changed.append(_change("auto_remount", current.autoRemount, auto_remount))
    # Merge into the RAW stored config: sealed values echoed back unchanged are accepted.
    config = dict(current.config)
    for key, value in wanted.items():
        if config.get(key) == value:
            continue
        sealed = key in ("password", "privateKey")
        changed.append(f"{key}: changed" if sealed else _change(key, redact(config.get(key)), redact(value)))
        config[key] = value
    if config != current.config:
        body["config"] = config
    if not body:
        return _done("unchanged", volume=volume_summary(current), note="Nothing to change.")
    updated = await client.update_volume(vid, body)
    remark = None
    if "config" in body:
        # A config change unmounts and remounts, and the answer shows the pre-remount status: read again.
        updated = (await client.get_volume(vid)).volume
        remark = f"The source settings changed, so Zerobyte remounted the volume: it is now {updated.status}."
        step = _volume_next_step(updated.status, updated.lastError)
        remark += f" {step}" if step else ""
    return _done("updated", volume=volume_summary(updated), changes=changed, note=remark)


@tool(title="Mount volume", idempotent=True)
async def mount_volume(
    ctx: Ctx,
    volume_id: VolumeId,
    action: Annotated[Literal["mount", "unmount", "check"], Field(description="check = health check")] = "mount",
) -> Change:
    """Mount, unmount or health-check a volume."""
    vid = check_short_id("volume_id", volume_id)
    client = client_of(ctx)
    if action == "check":
        result = await client.health_check_volume(vid)
        step = _volume_next_step(result.status, result.error)
        outcome = "ok" if result.status == "mounted" else "failed"
        return _done(outcome, status=result.status, error=_clean(result.error), note=step)
    result = await (client.mount_volume(vid) if action == "mount" else client.unmount_volume(vid))
    if result.status == "error":
        raise ToolFailure(
            f"Could not {action} volume {vid!r}: {_clean(result.error) or 'no reason given'}. Check the source "
            "(server up, share or path present, login) with create_volume(test='only'), then retry."
        )
    return _done("ok", status=result.status)


# --- repositories -----------------------------------------------------------------------------------

RepoBackend = Literal["local", "s3", "r2", "gcs", "azure", "rclone", "rest", "sftp"]
# What `secret` means per backend: the one credential each needs (Zerobyte's repository config).
_SECRET_FIELD = {
    "s3": "secretAccessKey",
    "r2": "secretAccessKey",
    "gcs": "credentialsJson",
    "azure": "accountKey",
    "rest": "password",
    "sftp": "privateKey",
}
_REPO_OPTIONS: dict[str, dict[str, OptionKind]] = {
    "azure": {"endpoint_suffix": "str"},
    "sftp": {"known_hosts": "str", "skip_host_key_check": "bool", "allow_legacy_ssh_rsa": "bool"},
}
_COMMON_REPO_OPTIONS: dict[str, OptionKind] = {"insecure_tls": "bool"}
_REPO_OPTION_KEYS = {
    "endpoint_suffix": "endpointSuffix",
    "known_hosts": "knownHosts",
    "skip_host_key_check": "skipHostKeyCheck",
    "allow_legacy_ssh_rsa": "allowLegacySshRsa",
    "insecure_tls": "insecureTls",
}


@tool(title="Create repository")
async def create_repository(
    ctx: Ctx,
    name: Name,
    backend: Annotated[RepoBackend, Field(description="Repository backend")],
    location: Annotated[str, Field(description="/dir, endpoint/bucket, remote:path, URL, user@host:/dir...")],
    access_key_id: Annotated[str | None, Field(description=f"s3/r2 access key id ({SECRET})")] = None,
    secret: Annotated[str | None, Field(description=f"Secret key/account key/JSON/password/SSH key ({SECRET})")] = None,
    username: Annotated[str | None, Field(description="rest user")] = None,
    compression_mode: Compression = None,
    existing: Annotated[bool, Field(description="Connect an existing restic repository")] = False,
    custom_password: Annotated[str | None, Field(description=f"Existing repo's password ({SECRET})")] = None,
    options: Options = None,
) -> Change:
    """Create an encrypted restic repository (slow: restic init) or connect one."""
    clean_name = _name(name)
    config: dict[str, Any] = {"backend": backend, **parse_location(backend, location)}
    extra = parse_options(
        options, {**_COMMON_REPO_OPTIONS, **_REPO_OPTIONS.get(backend, {})}, f"{backend} repositories"
    )
    config.update({_REPO_OPTION_KEYS.get(k, k): v for k, v in extra.items()})
    needs_key_id = backend in ("s3", "r2")
    if (access_key_id is not None) != needs_key_id:
        raise ToolFailure(
            f"{backend} repositories {'need' if needs_key_id else 'do not use'} access_key_id; nothing was sent."
        )
    if access_key_id is not None:
        config["accessKeyId"] = access_key_id
    secret_field = _SECRET_FIELD.get(backend)
    if secret is not None and secret_field is None:
        raise ToolFailure(f"{backend} repositories take no secret; nothing was sent.")
    if secret is None and secret_field is not None and backend != "rest":
        raise ToolFailure(f"{backend} repositories need secret ({secret_field}); nothing was sent.")
    if secret is not None and secret_field is not None:
        config[secret_field] = secret
    if username is not None:
        if backend != "rest":
            raise ToolFailure("username is only used by rest repositories; nothing was sent.")
        config["username"] = username
    if custom_password and not existing:
        raise ToolFailure("custom_password is for connecting an existing repository: pass existing=true too.")
    if existing:
        config["isExistingRepository"] = True
    if custom_password:
        config["customPassword"] = custom_password
    client = client_of(ctx)
    try:
        created = await client.create_repository(clean_name, config, compression_mode=compression_mode)
    except ServerError as exc:
        text = str(exc).lower()
        if not existing and "already" in text and ("exist" in text or "initialized" in text):
            raise ToolFailure(f"{exc} That location already holds a restic repository: pass existing=true.") from None
        raise
    note(repository_id=created.shortId)
    # The create answer shows the status from before restic init finished: read it again.
    current = await client.get_repository(created.shortId)
    summary = repository_summary(current)
    remarks: list[str] = []
    if backend == "local" and summary.location and summary.location != config.get("path"):
        remarks.append(f"Zerobyte stores it in {summary.location} (it appends the repository id).")
    if current.status == "error":
        remarks.append(f"Its status is error: {_clean(current.lastError) or 'see last_error'}.")
    return _done("created", repository=summary, note=" ".join(remarks) or None)


@tool(title="Update repository", idempotent=True)
async def update_repository(
    ctx: Ctx,
    repository_id: RepositoryId,
    name: OptName = None,
    compression_mode: Compression = None,
    refresh: Annotated[Literal["stats", "snapshots"] | None, Field(description="Recompute size / re-list")] = None,
) -> Change:
    """Rename a repository, set compression, or refresh its stats/snapshot list."""
    rid = check_short_id("repository_id", repository_id)
    new_name = _name(name) if name is not None else None
    client = client_of(ctx)
    current = await client.get_repository(rid)
    # Never send `config`: Zerobyte compares the decrypted stored config with the submitted one, so an
    # echoed sealed config counts as a change and resets status, stats and doctor result.
    body: dict[str, Any] = {}
    changed: list[str] = []
    if new_name is not None and new_name != current.name:
        body["name"] = new_name
        changed.append(_change("name", current.name, new_name))
    if compression_mode is not None and compression_mode != current.compressionMode:
        body["compressionMode"] = compression_mode
        changed.append(_change("compression", current.compressionMode, compression_mode))
    if body:
        current = await client.update_repository(rid, body)
    item: dict[str, Any] = repository_summary(current).model_dump(exclude_none=True)
    remark = None
    if refresh == "stats":
        item.update(_stats(await client.refresh_repository_stats(rid)))
    elif refresh == "snapshots":
        result = await client.refresh_snapshots(rid)
        count = (result.model_extra or {}).get("count")
        item["snapshots_count"] = count if isinstance(count, int) else item.get("snapshots_count")
        remark = _clean(result.message)
    if not body and refresh is None:
        remark = "Nothing to change."
    outcome = "updated" if body else ("ok" if refresh else "unchanged")
    return _done(outcome, repository=item, changes=changed, note=remark)


def _stats(stats: ResticStats) -> dict[str, Any]:
    return _given(
        stored_bytes=int(stats.total_size) if stats.total_size is not None else None,
        uncompressed_bytes=int(stats.total_uncompressed_size) if stats.total_uncompressed_size is not None else None,
        compression_ratio=round(stats.compression_ratio, 2) if stats.compression_ratio else None,
        snapshots_count=stats.snapshots_count,
    )


@tool(title="Unlock repository", idempotent=True)
async def unlock_repository(ctx: Ctx, repository_id: RepositoryId) -> Change:
    """Remove stale restic locks (waits behind a running backup)."""
    rid = check_short_id("repository_id", repository_id)
    result = await client_of(ctx).unlock_repository(rid)
    if result.success is False:
        step = "If it stays locked, use run_doctor (it unlocks, checks and repairs the repository)."
        return Change(outcome="failed", note=" ".join(filter(None, (_clean(result.message), step))))
    return Change(outcome="ok", note=_clean(result.message))


# --- backup jobs --------------------------------------------------------------------------------------

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


def _words(expr: str | None, next_ms: float | None) -> str | None:
    if not expr:
        return "manual only (no schedule)"
    try:
        schedule = parse_cron(expr)
    except CronError:
        return None
    tz = "UTC"
    if next_ms is not None:
        # Zerobyte evaluates cron in its TZ (UTC unless set); a next run that disagrees with ours means another TZ.
        try:
            ours = schedule.next_after(datetime.fromtimestamp(next_ms / 1000 - 1, tz=UTC))
            if abs(ours.timestamp() * 1000 - next_ms) > 60_000:
                tz = "server time"
        except CronError:
            pass
    try:
        return describe_cron(expr, tz)
    except CronError:
        return None


def job_view(j: BackupJob) -> JobView:
    return JobView(
        id=j.shortId,
        name=j.name,
        enabled=j.enabled,
        volume=f"{j.volume.name} ({j.volume.shortId})" if j.volume else None,
        repository=f"{j.repository.name} ({j.repository.shortId})" if j.repository else None,
        cron=j.cronExpression or None,
        schedule=_words(j.cronExpression, j.nextBackupAt),
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
    return [_change(key, old.get(key), value) for key, value in new.items() if old.get(key) != value]


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
    clean_name = _name(name)
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
    body.update(_given(includePaths=include_paths, excludePatterns=exclude_patterns))
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
        trouble = f": {_clean(job.volume.lastError)}" if job.volume.lastError else ""
        remarks.append(
            f"Warning: volume {job.volume.name!r} ({job.volume.shortId}) is {job.volume.status}{trouble}. Its backups "
            "fail until it is mounted: fix its source (update_volume) or mount it (mount_volume)."
        )
    return _done("created", job=job_view(job), note=" ".join(remarks) or None)


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
        changes["name"] = _name(name)
    if enabled is not None:
        changes["enabled"] = enabled
    if schedule is not None:
        # Whether an empty schedule is allowed depends on the merged "enabled", checked below.
        changes["cronExpression"] = _check_cron(schedule, enabled=False)
    if repository_id is not None:
        changes["repositoryId"] = check_short_id("repository_id", repository_id)
    changes.update(_given(includePaths=include_paths, excludePatterns=exclude_patterns))
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
        return _done("unchanged", job=before, note="Nothing to change.")
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
    return _done("updated", job=after, changes=_diff(before, after), note=remark)


# --- notification routing ----------------------------------------------------------------------------

Event = Literal["start", "success", "warning", "failure"]
_EVENTS: tuple[tuple[Event, str], ...] = (
    ("start", "notifyOnStart"),
    ("success", "notifyOnSuccess"),
    ("warning", "notifyOnWarning"),
    ("failure", "notifyOnFailure"),
)


def _assignment_body(a: DestinationAssignment) -> dict[str, Any]:
    return {"destinationId": a.destinationId, **{key: bool(getattr(a, key)) for _, key in _EVENTS}}


def _routes(assignments: list[DestinationAssignment]) -> list[str]:
    routes = []
    for a in assignments:
        d = a.destination
        label = f"{d.name} ({a.destinationId}, {d.type})" if d else str(a.destinationId)
        events = ", ".join(event for event, key in _EVENTS if getattr(a, key))
        routes.append(f"{label}: {events}" + (" [destination disabled]" if d and d.enabled is False else ""))
    return routes


@tool(title="Route notifications", idempotent=True)
async def route_notifications(
    ctx: Ctx,
    destination_id: DestinationId,
    events: Annotated[list[Event], Field(description="Events to send there; [] stops sending")],
    job_id: Annotated[str | None, Field(description="Backup job id")] = None,
    job_ids: Annotated[list[str] | None, Field(description="Several jobs; ['*'] = every job")] = None,
) -> Change:
    """Choose which events of a job (or several, or all) go to one destination; keeps other routes."""
    did = check_destination_id("destination_id", destination_id)
    if (job_id is None) == (job_ids is None):
        raise ToolFailure("Give job_id (one job) or job_ids (several; ['*'] = every job), not both; nothing was sent.")
    client = client_of(ctx)
    if job_id is not None:
        outcome, routes, remark = await _route(client, check_job_id("job_id", job_id), did, events)
        return _done(outcome, routes=routes, note=remark)
    refs = [check_job_id("job_ids", r) for r in job_ids or [] if r != "*"]
    if not job_ids:
        raise ToolFailure("job_ids is empty: name the jobs, or ['*'] for every job; nothing was sent.")
    jobs = await client.list_backup_jobs()
    if "*" in (job_ids or []):
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
    done = await gather((_route(client, j.shortId, did, events) for j in chosen), limit=4)
    updated = [j for j, (outcome, _, _) in zip(chosen, done, strict=True) if outcome == "updated"]
    notes = {remark for _, _, remark in done if remark and "was not routed" not in remark}
    summary = f"{len(updated)} of {len(chosen)} job(s) changed" + (
        f": {', '.join(j.name for j in updated[:20])}" if updated else ""
    )
    return _done(
        "updated" if updated else "unchanged",
        jobs={j.shortId: routes for j, (_, routes, _) in zip(chosen, done, strict=True)},
        note=" ".join([summary + ".", *sorted(notes)]),
    )


async def _route(client: ZerobyteClient, jid: str, did: int, events: list[Event]) -> tuple[str, list[str], str | None]:
    """One job's routes with ``events`` to destination ``did`` (other destinations kept): outcome, routes, note."""
    current = await client.get_job_notifications(jid)
    bodies = [_assignment_body(a) for a in current if a.destinationId != did]
    existing = next((_assignment_body(a) for a in current if a.destinationId == did), None)
    wanted = {"destinationId": did, **{key: event in events for event, key in _EVENTS}}
    remark = None
    if events:
        destination = await client.get_destination(did)
        bodies.append(wanted)
        if destination.enabled is False:
            remark = f"Destination {destination.name!r} is disabled: enable it with update_notification_destination."
    if existing is None and not events:
        return "unchanged", _routes(current), f"Destination {did} was not routed from this job."
    if existing == wanted:
        return "unchanged", _routes(current), remark
    result = await client.set_job_notifications(jid, bodies)
    return "updated", _routes(result), remark


# --- mirrors ------------------------------------------------------------------------------------------


def _mirrors(mirrors: list[Mirror]) -> list[str]:
    out = []
    for m in mirrors:
        repo = m.repository
        text = f"{repo.name if repo else '?'} ({m.repositoryId}){'' if m.enabled else ' [disabled]'}"
        sync = m.lastSyncTask or {}
        if sync:
            text += f", last sync {sync.get('status') or '?'} {iso(sync.get('finishedAt')) or ''}".rstrip()
            if sync.get("error"):
                text += f": {_clean(str(sync['error']), 160)}"
        out.append(text)
    return out


async def _mirror_preview(client: ZerobyteClient, job_id: str, repository_id: str) -> Preview | None:
    """Snapshots with the job's tag already in the would-be mirror that its retention would forget there
    (each mirror sync forgets by the job's policy on the mirror); None when there are none."""
    jid = check_job_id("job_id", job_id)
    rid = check_short_id("repository_id", repository_id)
    job = await client.get_backup_job(jid)
    policy = policy_of(job)
    if policy is None or policy.empty():
        return None
    if any(m.repositoryId == rid and m.enabled for m in await client.get_job_mirrors(jid)):
        return None  # its retention already applies there
    try:
        listed = await client.list_snapshots(rid)
    except NotFound:
        return None  # the body refuses an unknown repository before anything is sent
    there = snaps(listed)
    going = newly_forgotten(there, there, None, policy, tag=job.shortId, now_ms=now_ms())
    if not going:
        return None
    return Preview(
        action=f"Mirror backup job {job.name!r} ({job.shortId}) to repository {rid}, which already holds its snapshots",
        effects=forget_effects(going, [f"backup job {job.name!r} ({job.shortId}, keeping {policy}) on that mirror"]),
        items=snapshot_items(going, listed, note=f"in repository {rid}"),
    )


@confirmed_if_forgetting("set_mirror", "this mirror")
async def _set_mirror_preview(
    ctx: Ctx, job_id: str, repository_id: str, mode: str, confirm_token: str | None
) -> Preview | None:
    if mode != "on":
        return None
    return await _mirror_preview(client_of(ctx), job_id, repository_id)


@tool(title="Set mirror", idempotent=True)
async def set_mirror(
    ctx: Ctx,
    job_id: JobId,
    repository_id: Annotated[str, Field(description="Mirror repository short id")],
    answer: Annotated[ElicitationResult[Any], Resolve(_set_mirror_preview)],
    mode: Annotated[Literal["on", "off", "remove"], Field(description="off keeps it but pauses copies")] = "on",
    confirm_token: Annotated[str | None, Field(description="For a mirror whose retention forgets snapshots")] = None,
) -> Change:
    """Mirror a job's snapshots to another repository after each backup; or pause/remove it."""
    jid = check_job_id("job_id", job_id)
    rid = check_short_id("repository_id", repository_id)
    decision = decide(answer, "set_mirror", ActionResult)
    if not isinstance(decision, Gate):
        return Change(**decision.model_dump(exclude_none=True))
    client = client_of(ctx)
    if mode != "remove":
        compatibility = await client.get_mirror_compatibility(jid)
        entry = next((c for c in compatibility if c.repositoryId == rid), None)
        if entry is None:
            job = await client.get_backup_job(jid)
            if job.repository is not None and rid in (job.repository.shortId, job.repository.id):
                raise ToolFailure(f"Repository {rid!r} is this job's own repository; a mirror must be another one.")
            raise ToolFailure(f"Repository {rid!r} was not found: list_repositories shows the ids.")
        if not entry.compatible:
            reason = _clean(entry.reason) or "Zerobyte says it is incompatible"
            raise ToolFailure(f"Repository {rid!r} cannot mirror this job: {reason}.")
    current = await client.get_job_mirrors(jid)
    existing = next((m for m in current if m.repositoryId == rid), None)
    bodies = [{"repositoryId": m.repositoryId, "enabled": m.enabled} for m in current if m.repositoryId != rid]
    if mode != "remove":
        bodies.append({"repositoryId": rid, "enabled": mode == "on"})
    if (existing is None) if mode == "remove" else (existing is not None and existing.enabled == (mode == "on")):
        return _done("unchanged", mirrors=_mirrors(current))
    result = await client.set_job_mirrors(jid, bodies)
    remark = {
        "on": "New backups are copied there after each successful run; run sync_mirror to copy the existing ones.",
        "off": "The mirror is kept but paused: nothing is copied until mode='on'.",
        "remove": f"Snapshots already copied to {rid!r} stay there; the repository itself is untouched.",
    }[mode]
    return _done("updated", mirrors=_mirrors(result), note=remark)


# --- notification destinations ------------------------------------------------------------------------

DestinationType = Literal["generic", "slack", "discord", "telegram", "ntfy", "gotify", "pushover", "email", "custom"]
# Which flat argument carries what, per type (Zerobyte's notification config).
_DEST_ARGS: dict[str, dict[str, str]] = {
    "generic": {"url": "url"},
    "slack": {"secret": "webhookUrl"},
    "discord": {"secret": "webhookUrl"},
    "telegram": {"secret": "botToken", "target": "chatId"},
    "ntfy": {"target": "topic", "url": "serverUrl", "secret": "accessToken"},
    "gotify": {"url": "serverUrl", "secret": "token"},
    "pushover": {"target": "userKey", "secret": "apiToken"},
    "email": {"url": "smtp", "target": "to", "secret": "password"},
    "custom": {"secret": "shoutrrrUrl"},
}
_DEST_REQUIRED = {
    "generic": ("url",),
    "slack": ("secret",),
    "discord": ("secret",),
    "telegram": ("secret", "target"),
    "ntfy": ("target",),
    "gotify": ("url", "secret"),
    "pushover": ("target", "secret"),
    "email": ("url", "target"),
    "custom": ("secret",),
}
_DEST_HELP = {
    "generic": "url = the webhook URL (headers for auth)",
    "slack": "secret = the Slack webhook URL",
    "discord": "secret = the Discord webhook URL",
    "telegram": "secret = bot token, target = chat id",
    "ntfy": "target = topic, url = server (default ntfy.sh), secret = access token",
    "gotify": "url = server URL, secret = app token",
    "pushover": "target = user key, secret = API token",
    "email": "url = smtp://host:587 or smtps://host:465, target = recipients (comma-separated), secret = password, "
    "options from=..., username=...",
    "custom": "secret = the Shoutrrr URL",
}
_DEST_OPTIONS: dict[str, dict[str, OptionKind]] = {
    "generic": {"method": "str", "content_type": "str", "use_json": "bool", "title_key": "str", "message_key": "str"},
    "slack": {"username": "str", "icon_emoji": "str"},
    "discord": {"username": "str", "avatar_url": "str", "thread_id": "str"},
    "telegram": {"thread_id": "str"},
    "ntfy": {"priority": "str", "username": "str", "password": "str"},
    "gotify": {"priority": "int", "path": "str"},
    "pushover": {"priority": "int", "devices": "str"},
    "email": {"from": "str", "from_name": "str", "username": "str"},
    "custom": {},
}
_DEST_OPTION_KEYS = {
    "content_type": "contentType",
    "use_json": "useJson",
    "title_key": "titleKey",
    "message_key": "messageKey",
    "icon_emoji": "iconEmoji",
    "avatar_url": "avatarUrl",
    "thread_id": "threadId",
    "from_name": "fromName",
}


def _destination_config(
    kind: str, given: dict[str, Any], headers: list[str] | None, options: list[str] | None
) -> dict[str, Any]:
    """Zerobyte's NotificationConfig from the flat arguments, checked before any request."""
    mapping = _DEST_ARGS[kind]
    unused = [arg for arg in given if arg not in mapping]
    missing = [arg for arg in _DEST_REQUIRED[kind] if not given.get(arg)]
    if unused or missing:
        problem = f"needs {', '.join(missing)}" if missing else f"does not use {', '.join(unused)}"
        raise ToolFailure(f"A {kind} destination {problem} ({_DEST_HELP[kind]}). Nothing was sent.")
    config: dict[str, Any] = {"type": kind}
    for arg, value in given.items():
        config[mapping[arg]] = value
    extra = parse_options(options, _DEST_OPTIONS[kind], f"{kind} destinations")
    config.update({_DEST_OPTION_KEYS.get(k, k): v for k, v in extra.items()})
    if headers is not None:
        if kind != "generic":
            raise ToolFailure("headers are only used by generic webhooks; nothing was sent.")
        if any(":" not in h for h in headers):
            raise ToolFailure("headers must look like 'Name: value'; nothing was sent.")
        # A line break in a header would let one "header" smuggle more headers (or a body) into every webhook call.
        if any((ord(c) < 32 and c != "\t") or c == "\x7f" for h in headers for c in h):
            raise ToolFailure("headers must not contain line breaks or control characters; nothing was sent.")
        if len(headers) > 20 or any(len(h) > 1000 for h in headers):
            raise ToolFailure("headers: at most 20, each under 1000 characters; nothing was sent.")
        config["headers"] = headers
    if kind == "generic":
        config["method"] = str(config.get("method") or "POST").upper()
        if config["method"] not in ("GET", "POST"):
            raise ToolFailure("options: method must be GET or POST; nothing was sent.")
    elif kind == "ntfy":
        config.setdefault("priority", "default")
        if config["priority"] not in ("max", "high", "default", "low", "min"):
            raise ToolFailure("options: ntfy priority must be max, high, default, low or min; nothing was sent.")
    elif kind == "gotify":
        config.setdefault("priority", 5)
        if not 0 <= config["priority"] <= 10:
            raise ToolFailure("options: gotify priority must be 0-10; nothing was sent.")
    elif kind == "pushover":
        config.setdefault("priority", 0)
        if config["priority"] not in (-1, 0, 1):
            raise ToolFailure("options: pushover priority must be -1, 0 or 1; nothing was sent.")
    elif kind == "email":
        _email_config(config)
    return config


def _email_config(config: dict[str, Any]) -> None:
    url = urlsplit(str(config.pop("smtp")))
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ToolFailure(
            f"An email destination needs url smtp://host:587 or smtps://host:465 ({_DEST_HELP['email']})."
        )
    if "from" not in config:
        raise ToolFailure("An email destination needs options from=sender@example.com; nothing was sent.")
    config["smtpHost"] = url.hostname
    config["smtpPort"] = url.port or (465 if url.scheme == "smtps" else 587)
    config["useTLS"] = url.scheme == "smtps" or config["smtpPort"] != 25
    if url.username and "username" not in config:
        config["username"] = unquote(url.username)
    if url.password and "password" not in config:
        config["password"] = unquote(url.password)
    config["to"] = [t.strip() for t in str(config["to"]).split(",") if t.strip()]


# Failures whose cause is on the Zerobyte host, not in the destination's settings: (needles, explanation).
_HOST_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("executable not found", 'shoutrrr" not found', "no such file or directory: shoutrrr"),
        "the Zerobyte host lacks the shoutrrr program Zerobyte sends notifications with. This is the Zerobyte "
        "installation, not this destination: install shoutrrr on that host (the official Docker image has it), "
        "then test again",
    ),
    (
        ("x509", "certificate", "tls:", "handshake failure"),
        "the Zerobyte host could not verify the service's TLS certificate: fix the certificate or the host's CA "
        "store, then test again",
    ),
    (
        ("no such host", "lookup ", "name resolution", "server misbehaving"),
        "the Zerobyte host could not resolve the service's host name: check DNS on the Zerobyte host and the name "
        "in the URL",
    ),
    (
        ("connection refused", "i/o timeout", "network is unreachable", "no route to host"),
        "the Zerobyte host could not reach the service: check that it runs and that the Zerobyte host can connect "
        "to it (firewall, port)",
    ),
)


def delivery_failure(reason: str) -> str:
    """Why a test message was not delivered and what to do: the Zerobyte host's problem, or the settings'."""
    text = reason.lower()
    for needles, cause in _HOST_CAUSES:
        if any(n in text for n in needles):
            return f"The test message was not sent ({reason}): {cause}."
    return (
        f"The test message was not delivered: {reason}. Check the address and credentials (a wrong token or chat id "
        "is the usual cause)."
    )


def _destination_view(d: NotificationDestination) -> dict[str, Any]:
    config: dict[str, Any] = redact(d.config)  # type: ignore[assignment]
    kind = d.type or str(config.get("type") or "")
    targets = {
        "generic": f"{config.get('method') or 'POST'} {config.get('url')}",
        "telegram": f"chat {config.get('chatId')}",
        "ntfy": f"{config.get('serverUrl') or 'https://ntfy.sh'}/{config.get('topic')}",
        "gotify": str(config.get("serverUrl") or ""),
        "email": ", ".join(str(t) for t in config.get("to") or []),
    }
    return _given(
        id=d.id,
        name=d.name,
        type=kind or None,
        enabled=d.enabled,
        status=d.status,
        target=targets.get(kind) or f"{kind} (address sealed)",
        last_error=_clean(d.lastError, 300),
    )


def _allowed_origins_failure(exc: BadRequest) -> ToolFailure | None:
    if "WEBHOOK_ALLOWED_ORIGINS" not in f"{exc} {exc.upstream_message or ''}":
        return None
    return ToolFailure(
        f"{exc} WEBHOOK_ALLOWED_ORIGINS is an environment setting of the Zerobyte server, not something the API "
        "can change: whoever runs Zerobyte must add the URL's origin (scheme://host[:port]) to it and restart "
        "Zerobyte, then retry."
    )


@tool(title="Create destination")
async def create_notification_destination(
    ctx: Ctx,
    name: Name,
    type: Annotated[DestinationType, Field(description="Destination type")],
    url: Annotated[str | None, Field(description="Webhook or server URL, smtp://host:587")] = None,
    secret: Annotated[str | None, Field(description=f"Token, webhook URL or password ({SECRET})")] = None,
    target: Annotated[str | None, Field(description="Chat id, topic, user key or emails")] = None,
    headers: Annotated[list[str] | None, Field(description="generic: 'Name: value' headers")] = None,
    options: Options = None,
) -> Change:
    """Add a notification destination (webhook, chat app, ntfy, email...)."""
    clean_name = _name(name)
    config = _destination_config(type, _given(url=url, secret=secret, target=target), headers, options)
    try:
        created = await client_of(ctx).create_destination(clean_name, config)
    except BadRequest as exc:
        raise _allowed_origins_failure(exc) or exc from None
    note(destination_id=created.id)
    return _done(
        "created",
        destination=_destination_view(created),
        note=f"Check it with update_notification_destination(destination_id={created.id}, test=true), then "
        "route jobs to it with route_notifications.",
    )


@tool(title="Update destination", idempotent=True)
async def update_notification_destination(
    ctx: Ctx,
    destination_id: DestinationId,
    name: OptName = None,
    enabled: Annotated[bool | None, Field(description="false = stop sending to it")] = None,
    test: Annotated[bool, Field(description="Send a test message")] = False,
) -> Change:
    """Rename, enable/disable or test a notification destination."""
    did = check_destination_id("destination_id", destination_id)
    new_name = _name(name) if name is not None else None
    client = client_of(ctx)
    current = await client.get_destination(did)
    body: dict[str, Any] = {}
    changed: list[str] = []
    if new_name is not None and new_name != current.name:
        body["name"] = new_name
        changed.append(_change("name", current.name, new_name))
    if enabled is not None and enabled != current.enabled:
        body["enabled"] = enabled
        changed.append(_change("enabled", current.enabled, enabled))
    if body:
        current = await client.update_destination(did, body)
    outcome = "updated" if body else "unchanged"
    if not test:
        return _done(outcome, destination=_destination_view(current), changes=changed)
    remark = None
    try:
        await client.test_destination(did)
        outcome, remark = "ok", "Test message sent."
    except BadRequest as exc:
        failure = _allowed_origins_failure(exc)
        if failure is None:
            raise
        outcome, remark = "failed", str(failure)
    except ServerError as exc:
        outcome, remark = "failed", delivery_failure(_clean(exc.upstream_message or str(exc)) or "no reason given")
    current = await client.get_destination(did)  # the test updated its status and last error
    return _done(outcome, destination=_destination_view(current), changes=changed, note=remark)
