"""Configuration tools: create and change volumes, repositories, backup jobs, mirrors and notification routing.

Zerobyte's edits are not partial: ``PATCH /backups/{id}`` needs repositoryId and cronExpression and resets
the retry settings it is not sent (samples 126/127), and the notification and mirror PUTs replace whole
lists. So every edit here reads the current object, merges one change into the RAW data Zerobyte returned
(never a redacted copy) and sends the complete result. Nothing here deletes data: these are "operate" tools.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field

from ..audit import note
from ..cron import CronError, describe_cron, parse_cron
from ..output import iso, iso_from_ms
from ..redact import redact, redact_text
from ..zerobyte.errors import BadRequest, ServerError, ZerobyteHTTPError
from ..zerobyte.ids import check_absolute_path, check_destination_id, check_job_id, check_short_id
from ..zerobyte.models import (
    BackupJob,
    DestinationAssignment,
    Mirror,
    NotificationDestination,
    ResticStats,
)
from .base import Ctx, ToolFailure, client_of, tool
from .repositories import RepositorySummary, repository_summary
from .volumes import VolumeSummary, volume_summary

__all__ = [
    "ConnectionTest",
    "DestinationResult",
    "JobChange",
    "JobToggle",
    "JobView",
    "MirrorStatusView",
    "MirrorsResult",
    "RepositoryChange",
    "RoutingResult",
    "VolumeChange",
    "VolumeState",
    "job_view",
]

T = TypeVar("T")

MISSING_LISTED = 20
SECRET_NOTE = "sealed by Zerobyte; never shown"

# --- argument types (shared by tools with the same flat arguments) -----------------------------------

VolumeId = Annotated[str, Field(description="Volume short id")]
RepositoryId = Annotated[str, Field(description="Repository short id")]
JobId = Annotated[str, Field(description="Backup job short id")]
DestinationId = Annotated[int, Field(description="Notification destination id (integer)")]
Name = Annotated[str, Field(description="Display name", min_length=1, max_length=128)]
OptName = Annotated[str | None, Field(description="New name", min_length=1, max_length=128)]

VolumeBackend = Annotated[
    Literal["directory", "nfs", "smb", "webdav", "sftp", "rclone"], Field(description="Volume backend")
]
VPath = Annotated[str | None, Field(description="Folder: local (directory) or remote path")]
VServer = Annotated[str | None, Field(description="Server host (nfs, smb, webdav)")]
VShare = Annotated[str | None, Field(description="SMB share name")]
VExport = Annotated[str | None, Field(description="NFS export path, e.g. /export/photos")]
VRemote = Annotated[str | None, Field(description="rclone remote name (see Zerobyte's rclone config)")]
VHost = Annotated[str | None, Field(description="SFTP host")]
Port = Annotated[int | None, Field(description="Port (backend default if omitted)", ge=1, le=65535)]
Username = Annotated[str | None, Field(description="User name")]
Password = Annotated[str | None, Field(description=f"Password ({SECRET_NOTE})")]
PrivateKey = Annotated[str | None, Field(description=f"SSH private key PEM ({SECRET_NOTE})")]
Domain = Annotated[str | None, Field(description="SMB domain")]
NfsVersion = Annotated[Literal["3", "4", "4.1"] | None, Field(description="NFS version (default 4)")]
Ssl = Annotated[bool | None, Field(description="WebDAV over HTTPS")]
ReadOnly = Annotated[bool | None, Field(description="Mount read-only")]
SkipHostKey = Annotated[bool | None, Field(description="SFTP: skip host key check (unsafe)")]
KnownHosts = Annotated[str | None, Field(description="SFTP known_hosts line(s) for the host")]

RepoBackend = Annotated[
    Literal["local", "s3", "r2", "gcs", "azure", "rclone", "rest", "sftp"], Field(description="Repository backend")
]
Compression = Annotated[Literal["off", "auto", "max"] | None, Field(description="Compression (default auto)")]

KeepN = Annotated[int | None, Field(description="How many to keep (0 = no such rule)", ge=0)]
KeepWithin = Annotated[str | None, Field(description="Keep all within, e.g. '30d', '1y6m' ('' removes)")]
Paths = Annotated[list[str] | None, Field(description="Paths inside the volume ([] clears)")]
Patterns = Annotated[list[str] | None, Field(description="Glob patterns ([] clears)")]
Markers = Annotated[list[str] | None, Field(description="Skip folders containing one of these files")]
MaxRetries = Annotated[int | None, Field(description="Retries after a failed run (0-32, default 2)", ge=0, le=32)]
RetryDelay = Annotated[int | None, Field(description="Minutes between retries (1-1440, default 15)", ge=1, le=1440)]


# --- result models ----------------------------------------------------------------------------------


class VolumeChange(BaseModel):
    outcome: str = Field(description="created, updated or unchanged")
    volume: VolumeSummary
    changed: list[str] = Field(default_factory=list)
    note: str | None = None


class VolumeState(BaseModel):
    volume_id: str
    status: str | None = Field(None, description="mounted, unmounted or error")
    error: str | None = None
    outcome: str
    next_step: str | None = None


class ConnectionTest(BaseModel):
    backend: str
    success: bool
    message: str | None = None
    outcome: str


class RepositoryChange(BaseModel):
    outcome: str = Field(description="created, updated or unchanged")
    repository: RepositorySummary
    changed: list[str] = Field(default_factory=list)
    note: str | None = None


class RepositoryStatsView(BaseModel):
    repository_id: str
    stored_bytes: int | None = None
    uncompressed_bytes: int | None = None
    compression_ratio: float | None = None
    snapshots_count: int | None = None


class SnapshotsRefreshed(BaseModel):
    repository_id: str
    snapshots_count: int | None = None
    message: str | None = None


class UnlockView(BaseModel):
    repository_id: str
    unlocked: bool
    message: str | None = None
    outcome: str
    next_step: str | None = None


class JobView(BaseModel):
    id: str = Field(description="Backup job short id")
    name: str
    enabled: bool
    volume: str | None = Field(None, description="Volume name (id)")
    repository: str | None = Field(None, description="Repository name (id)")
    cron: str | None = None
    schedule: str | None = Field(None, description="The cron in words")
    next_run: str | None = None
    retention: str | None = Field(None, description="e.g. 'last 5, daily 7'; none = keep all")
    include_paths: list[str] = Field(default_factory=list)
    include_patterns: list[str] = Field(default_factory=list)
    exclude_patterns: list[str] = Field(default_factory=list)
    exclude_if_present: list[str] = Field(default_factory=list)
    one_file_system: bool | None = None
    compression: str | None = None
    max_retries: int | None = None
    retry_delay_minutes: int | None = None


class JobChange(BaseModel):
    outcome: str = Field(description="created, updated or unchanged")
    job: JobView
    changes: list[str] = Field(default_factory=list, description="field: before -> after")
    note: str | None = None


class JobToggle(BaseModel):
    outcome: str = Field(description="updated or unchanged")
    id: str
    name: str
    enabled: bool
    schedule: str | None = None
    next_run: str | None = None
    note: str | None = None


class Route(BaseModel):
    destination_id: int
    name: str | None = None
    type: str | None = None
    enabled: bool | None = None
    events: list[str] = Field(default_factory=list, description="start, success, warning, failure")


class RoutingResult(BaseModel):
    job_id: str
    outcome: str = Field(description="updated or unchanged")
    routes: list[Route]
    note: str | None = None


class MirrorView(BaseModel):
    repository_id: str
    name: str | None = None
    backend: str | None = None
    enabled: bool
    last_sync: str | None = Field(None, description="Status and time of the last sync")


class MirrorsResult(BaseModel):
    job_id: str
    outcome: str = Field(description="updated or unchanged")
    mirrors: list[MirrorView]
    note: str | None = None


class MissingView(BaseModel):
    id: str
    time: str | None = None
    size: int | None = None


class MirrorStatusView(BaseModel):
    in_sync: bool
    source_snapshots: int | None = None
    mirror_snapshots: int | None = None
    missing_total: int
    missing: list[MissingView]
    next_step: str | None = None


class DestinationView(BaseModel):
    id: int
    name: str
    type: str | None = None
    enabled: bool | None = None
    status: str | None = None
    target: str | None = Field(None, description="Where it sends (secrets redacted)")
    last_error: str | None = None


class DestinationResult(BaseModel):
    outcome: str = Field(description="created, updated or unchanged")
    destination: DestinationView
    changed: list[str] = Field(default_factory=list)
    note: str | None = None


class DestinationTest(BaseModel):
    destination_id: int
    delivered: bool
    error: str | None = None
    outcome: str
    next_step: str | None = None


# --- shared helpers -----------------------------------------------------------------------------------


async def _write(call: Awaitable[T], ok_status: int) -> T:
    """Await the one mutating request of a tool, recording Zerobyte's status for the audit line."""
    try:
        result = await call
    except ZerobyteHTTPError as exc:
        note(zerobyte_status=exc.status)
        raise
    note(zerobyte_status=ok_status)
    return result


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _refuse_unused(what: str, kind: str, given: Mapping[str, Any], used: set[str]) -> None:
    extra = sorted(k for k in given if k not in used)
    if extra:
        raise ToolFailure(
            f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} not used by the {kind} {what} backend "
            f"(it takes: {', '.join(sorted(used)) or 'nothing else'}); nothing was sent."
        )


def _require(kind: str, given: Mapping[str, Any], needed: tuple[str, ...]) -> None:
    missing = [k for k in needed if given.get(k) in (None, "")]
    if missing:
        raise ToolFailure(f"The {kind} backend needs {', '.join(missing)}; nothing was sent.")


def _clean(text: str | None, limit: int = 400) -> str | None:
    if not text:
        return None
    out = redact_text(text.strip())
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _name(value: str) -> str:
    text = value.strip()
    if not text:
        raise ToolFailure("name must not be empty; nothing was sent.")
    return text


# --- volumes ----------------------------------------------------------------------------------------

_VOLUME_ARGS: dict[str, set[str]] = {
    "directory": {"path", "read_only"},
    "nfs": {"server", "export_path", "port", "nfs_version", "read_only"},
    "smb": {"server", "share", "username", "password", "domain", "port", "read_only"},
    "webdav": {"server", "path", "username", "password", "port", "ssl", "read_only"},
    "sftp": {"host", "port", "username", "password", "private_key", "path", "skip_host_key_check", "known_hosts"}
    | {"read_only"},
    "rclone": {"remote", "path", "read_only"},
}
_VOLUME_REQUIRED: dict[str, tuple[str, ...]] = {
    "directory": ("path",),
    "nfs": ("server", "export_path"),
    "smb": ("server", "share"),
    "webdav": ("server", "path"),
    "sftp": ("host", "username", "path"),
    "rclone": ("remote",),
}
_VOLUME_KEYS = {
    "path": "path",
    "server": "server",
    "share": "share",
    "export_path": "exportPath",
    "remote": "remote",
    "host": "host",
    "port": "port",
    "username": "username",
    "password": "password",
    "private_key": "privateKey",
    "domain": "domain",
    "nfs_version": "version",
    "ssl": "ssl",
    "read_only": "readOnly",
    "skip_host_key_check": "skipHostKeyCheck",
    "known_hosts": "knownHosts",
}
_VOLUME_SECRETS = frozenset({"password", "private_key"})


def _volume_config(backend: str, given: dict[str, Any]) -> dict[str, Any]:
    """Zerobyte's VolumeConfig (API.md appendix) from flat arguments, checked before any request."""
    _refuse_unused("volume", backend, given, _VOLUME_ARGS[backend])
    _require(backend, given, _VOLUME_REQUIRED[backend])
    if backend == "directory":
        given["path"] = check_absolute_path("path", given["path"], allow_root=False)
    if backend == "sftp" and not (given.get("password") or given.get("private_key")):
        raise ToolFailure("The sftp backend needs password or private_key; nothing was sent.")
    config: dict[str, Any] = {"backend": backend}
    config.update({_VOLUME_KEYS[k]: v for k, v in given.items()})
    if backend == "nfs":
        config.setdefault("version", "4")
    if backend == "smb" and not given.get("username"):
        config["guest"] = True
    if backend == "webdav" and given.get("ssl") and "port" not in given:
        config["port"] = 443
    if backend == "rclone":
        config.setdefault("path", "/")
    return config


def _volume_next_step(v: VolumeSummary) -> str | None:
    if v.status == "mounted":
        return None
    if v.status == "error":
        return f"Not mounted: {v.last_error or 'mount failed'}. Fix the source, then run mount_volume."
    return "Not mounted yet: run mount_volume."


# Named test_* for agents; the function is not, or pytest's lint would take it for a test.
@tool(
    toolset="volumes", title="Test a volume connection", level="operate", idempotent=True, name="test_volume_connection"
)
async def probe_volume_connection(
    ctx: Ctx,
    backend: VolumeBackend,
    path: VPath = None,
    server: VServer = None,
    share: VShare = None,
    export_path: VExport = None,
    remote: VRemote = None,
    host: VHost = None,
    port: Port = None,
    username: Username = None,
    password: Password = None,
    private_key: PrivateKey = None,
    domain: Domain = None,
    nfs_version: NfsVersion = None,
    ssl: Ssl = None,
    read_only: ReadOnly = None,
    skip_host_key_check: SkipHostKey = None,
    known_hosts: KnownHosts = None,
) -> ConnectionTest:
    """Check that Zerobyte can reach a volume source (directory, NFS, SMB, WebDAV, SFTP, rclone) without creating it."""
    given = _given(
        path=path,
        server=server,
        share=share,
        export_path=export_path,
        remote=remote,
        host=host,
        port=port,
        username=username,
        password=password,
        private_key=private_key,
        domain=domain,
        nfs_version=nfs_version,
        ssl=ssl,
        read_only=read_only,
        skip_host_key_check=skip_host_key_check,
        known_hosts=known_hosts,
    )
    config = _volume_config(backend, given)
    result = await client_of(ctx).test_volume_connection(config)
    note(zerobyte_status=200)
    return ConnectionTest(
        backend=backend,
        success=result.success,
        message=_clean(result.message),
        outcome="ok" if result.success else "failed",
    )


@tool(toolset="volumes", title="Create a volume", level="operate")
async def create_volume(
    ctx: Ctx,
    name: Name,
    backend: VolumeBackend,
    path: VPath = None,
    server: VServer = None,
    share: VShare = None,
    export_path: VExport = None,
    remote: VRemote = None,
    host: VHost = None,
    port: Port = None,
    username: Username = None,
    password: Password = None,
    private_key: PrivateKey = None,
    domain: Domain = None,
    nfs_version: NfsVersion = None,
    ssl: Ssl = None,
    read_only: ReadOnly = None,
    skip_host_key_check: SkipHostKey = None,
    known_hosts: KnownHosts = None,
    test_first: Annotated[bool, Field(description="Test the connection first; stop if it fails")] = True,
) -> VolumeChange:
    """Add a backup source (volume). Tests the connection first, creates it, and reports the real mount status."""
    given = _given(
        path=path,
        server=server,
        share=share,
        export_path=export_path,
        remote=remote,
        host=host,
        port=port,
        username=username,
        password=password,
        private_key=private_key,
        domain=domain,
        nfs_version=nfs_version,
        ssl=ssl,
        read_only=read_only,
        skip_host_key_check=skip_host_key_check,
        known_hosts=known_hosts,
    )
    clean_name = _name(name)
    config = _volume_config(backend, given)
    client = client_of(ctx)
    if test_first:
        test = await client.test_volume_connection(config)
        if not test.success:
            raise ToolFailure(
                f"Volume {clean_name!r} was not created: Zerobyte's connection test failed: "
                f"{_clean(test.message) or 'no reason given'}. Fix the settings and retry, or pass "
                "test_first=false to create it anyway (it would stay unmounted)."
            )
    try:
        created = await _write(client.create_volume(clean_name, config), 201)
    except ServerError as exc:
        # A duplicate name reaches the database's UNIQUE constraint: a raw 500 (sample 122).
        if "unique" in str(exc).lower():
            raise ToolFailure(
                f"A volume named {clean_name!r} already exists: choose another name (list_volumes shows them)."
            ) from None
        raise
    note(volume_id=created.shortId)
    # The create answer carries the status from before the mount (sample 21): read it again.
    current = (await client.get_volume(created.shortId)).volume
    summary = volume_summary(current)
    return VolumeChange(outcome="created", volume=summary, note=_volume_next_step(summary))


@tool(toolset="volumes", title="Update a volume", level="operate", idempotent=True)
async def update_volume(
    ctx: Ctx,
    volume_id: VolumeId,
    name: OptName = None,
    auto_remount: Annotated[bool | None, Field(description="Remount automatically after errors")] = None,
    read_only: ReadOnly = None,
    path: VPath = None,
    server: VServer = None,
    share: VShare = None,
    export_path: VExport = None,
    remote: VRemote = None,
    host: VHost = None,
    port: Port = None,
    username: Username = None,
    password: Password = None,
) -> VolumeChange:
    """Rename a volume, toggle auto-remount, or change its source settings (a source change remounts it)."""
    vid = check_short_id("volume_id", volume_id)
    new_name = _name(name) if name is not None else None
    given = _given(
        read_only=read_only,
        path=path,
        server=server,
        share=share,
        export_path=export_path,
        remote=remote,
        host=host,
        port=port,
        username=username,
        password=password,
    )
    client = client_of(ctx)
    current = (await client.get_volume(vid)).volume
    backend = str(current.config.get("backend") or current.type or "")
    if given:
        if backend not in _VOLUME_ARGS:
            raise ToolFailure(f"Volume {vid!r} has backend {backend!r}, which this tool cannot edit.")
        _refuse_unused("volume", backend, given, _VOLUME_ARGS[backend])
        if backend == "directory" and "path" in given:
            given["path"] = check_absolute_path("path", given["path"], allow_root=False)
    body: dict[str, Any] = {}
    changed: list[str] = []
    if new_name is not None and new_name != current.name:
        body["name"] = new_name
        changed.append(f"name: {current.name!r} -> {new_name!r}")
    if auto_remount is not None and auto_remount != current.autoRemount:
        body["autoRemount"] = auto_remount
        changed.append(f"auto_remount: {current.autoRemount} -> {auto_remount}")
    # Merge into the RAW stored config: sealed values echoed back unchanged are accepted (API.md §6).
    config = dict(current.config)
    for arg, value in given.items():
        key = _VOLUME_KEYS[arg]
        if config.get(key) == value:
            continue
        if arg in _VOLUME_SECRETS:
            changed.append(f"{arg}: changed")
        else:
            changed.append(f"{arg}: {redact(config.get(key))!r} -> {redact(value)!r}")
        config[key] = value
    if config != current.config:
        body["config"] = config
    if not body:
        return VolumeChange(outcome="unchanged", volume=volume_summary(current), note="Nothing to change.")
    updated = await _write(client.update_volume(vid, body), 200)
    remark = None
    if "config" in body:
        # A config change unmounts and remounts, and the answer shows the pre-remount status: read again.
        updated = (await client.get_volume(vid)).volume
        remark = f"The source settings changed, so Zerobyte remounted the volume: it is now {updated.status}."
        if updated.status != "mounted":
            remark += f" {_volume_next_step(volume_summary(updated))}"
    return VolumeChange(outcome="updated", volume=volume_summary(updated), changed=changed, note=remark)


@tool(toolset="volumes", title="Mount a volume", level="operate", idempotent=True)
async def mount_volume(ctx: Ctx, volume_id: VolumeId) -> VolumeState:
    """(Re)mount a volume so backups can read it; reports the resulting status or the mount error."""
    vid = check_short_id("volume_id", volume_id)
    result = await client_of(ctx).mount_volume(vid)
    if result.status == "error":
        note(zerobyte_status=500)
        raise ToolFailure(
            f"Mounting volume {vid!r} failed: {_clean(result.error) or 'no reason given'}. Check the source "
            "(server up, share/path exists, credentials) with test_volume_connection, then retry."
        )
    note(zerobyte_status=200)
    return VolumeState(volume_id=vid, status=result.status, error=_clean(result.error), outcome="mounted")


@tool(toolset="volumes", title="Unmount a volume", level="operate", idempotent=True)
async def unmount_volume(ctx: Ctx, volume_id: VolumeId) -> VolumeState:
    """Unmount a volume; its backups fail until it is mounted again (auto-remount may remount it)."""
    vid = check_short_id("volume_id", volume_id)
    result = await client_of(ctx).unmount_volume(vid)
    if result.status == "error":
        note(zerobyte_status=500)
        raise ToolFailure(f"Unmounting volume {vid!r} failed: {_clean(result.error) or 'no reason given'}.")
    note(zerobyte_status=200)
    return VolumeState(volume_id=vid, status=result.status, error=_clean(result.error), outcome="unmounted")


@tool(toolset="volumes", title="Check a volume's health", level="operate", idempotent=True)
async def check_volume_health(ctx: Ctx, volume_id: VolumeId) -> VolumeState:
    """Ask Zerobyte to check a volume now (mounted and readable); an unhealthy volume is a result, with its error."""
    vid = check_short_id("volume_id", volume_id)
    result = await client_of(ctx).health_check_volume(vid)
    note(zerobyte_status=200)
    healthy = result.status == "mounted"
    step = None
    if result.status == "error":
        step = "Fix the source (see error), then run mount_volume."
    elif result.status == "unmounted":
        step = "Run mount_volume."
    return VolumeState(
        volume_id=vid,
        status=result.status,
        error=_clean(result.error),
        outcome="healthy" if healthy else "unhealthy",
        next_step=step,
    )


# --- repositories -----------------------------------------------------------------------------------

_REPO_ARGS: dict[str, set[str]] = {
    "local": {"path"},
    "s3": {"endpoint", "bucket", "access_key_id", "secret_access_key"},
    "r2": {"endpoint", "bucket", "access_key_id", "secret_access_key"},
    "gcs": {"bucket", "project_id", "credentials_json"},
    "azure": {"container", "account_name", "account_key"},
    "rclone": {"remote", "path"},
    "rest": {"url", "username", "password", "path"},
    "sftp": {"host", "port", "username", "path", "private_key", "known_hosts", "skip_host_key_check"},
}
_REPO_REQUIRED: dict[str, tuple[str, ...]] = {
    "local": ("path",),
    "s3": ("endpoint", "bucket", "access_key_id", "secret_access_key"),
    "r2": ("endpoint", "bucket", "access_key_id", "secret_access_key"),
    "gcs": ("bucket", "project_id", "credentials_json"),
    "azure": ("container", "account_name", "account_key"),
    "rclone": ("remote", "path"),
    "rest": ("url",),
    "sftp": ("host", "username", "path", "private_key"),
}
_REPO_KEYS = {
    "path": "path",
    "endpoint": "endpoint",
    "bucket": "bucket",
    "access_key_id": "accessKeyId",
    "secret_access_key": "secretAccessKey",
    "project_id": "projectId",
    "credentials_json": "credentialsJson",
    "container": "container",
    "account_name": "accountName",
    "account_key": "accountKey",
    "remote": "remote",
    "url": "url",
    "username": "username",
    "password": "password",
    "host": "host",
    "port": "port",
    "private_key": "privateKey",
    "known_hosts": "knownHosts",
    "skip_host_key_check": "skipHostKeyCheck",
}


def _repository_config(
    backend: str, given: dict[str, Any], *, existing: bool, custom_password: str | None
) -> dict[str, Any]:
    """Zerobyte's RepositoryConfig (API.md appendix) from flat arguments, checked before any request."""
    _refuse_unused("repository", backend, given, _REPO_ARGS[backend])
    _require(backend, given, _REPO_REQUIRED[backend])
    if backend == "local":
        given["path"] = check_absolute_path("path", given["path"], allow_root=False)
    config: dict[str, Any] = {"backend": backend}
    for arg, value in given.items():
        # restic's SFTP backend names the login "user"; every other backend says "username".
        key = "user" if backend == "sftp" and arg == "username" else _REPO_KEYS[arg]
        config[key] = value
    if existing:
        config["isExistingRepository"] = True
    if custom_password:
        config["customPassword"] = custom_password
    return config


@tool(toolset="repositories", title="Create a repository", level="operate")
async def create_repository(
    ctx: Ctx,
    name: Name,
    backend: RepoBackend,
    path: Annotated[str | None, Field(description="Path (local, rclone, rest, sftp)")] = None,
    bucket: Annotated[str | None, Field(description="Bucket (s3, r2, gcs)")] = None,
    endpoint: Annotated[str | None, Field(description="S3/R2 endpoint, e.g. s3.eu-west-1.amazonaws.com")] = None,
    access_key_id: Annotated[str | None, Field(description=f"S3/R2 access key id ({SECRET_NOTE})")] = None,
    secret_access_key: Annotated[str | None, Field(description=f"S3/R2 secret key ({SECRET_NOTE})")] = None,
    project_id: Annotated[str | None, Field(description="GCS project id")] = None,
    credentials_json: Annotated[str | None, Field(description=f"GCS service account JSON ({SECRET_NOTE})")] = None,
    container: Annotated[str | None, Field(description="Azure container")] = None,
    account_name: Annotated[str | None, Field(description="Azure account name")] = None,
    account_key: Annotated[str | None, Field(description=f"Azure account key ({SECRET_NOTE})")] = None,
    remote: Annotated[str | None, Field(description="rclone remote name")] = None,
    url: Annotated[str | None, Field(description="REST server URL")] = None,
    username: Annotated[str | None, Field(description="User (rest, sftp)")] = None,
    password: Password = None,
    host: Annotated[str | None, Field(description="SFTP host")] = None,
    port: Port = None,
    private_key: PrivateKey = None,
    known_hosts: KnownHosts = None,
    skip_host_key_check: SkipHostKey = None,
    compression_mode: Compression = None,
    existing: Annotated[bool, Field(description="Connect an existing restic repository")] = False,
    custom_password: Annotated[str | None, Field(description=f"Existing repo's password ({SECRET_NOTE})")] = None,
) -> RepositoryChange:
    """Create an encrypted restic repository (or connect an existing one); runs restic init, so it can take a while."""
    given = _given(
        path=path,
        bucket=bucket,
        endpoint=endpoint,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        project_id=project_id,
        credentials_json=credentials_json,
        container=container,
        account_name=account_name,
        account_key=account_key,
        remote=remote,
        url=url,
        username=username,
        password=password,
        host=host,
        port=port,
        private_key=private_key,
        known_hosts=known_hosts,
        skip_host_key_check=skip_host_key_check,
    )
    clean_name = _name(name)
    if custom_password and not existing:
        raise ToolFailure("custom_password is for connecting an existing repository: pass existing=true too.")
    config = _repository_config(backend, given, existing=existing, custom_password=custom_password)
    client = client_of(ctx)
    try:
        created = await _write(client.create_repository(clean_name, config, compression_mode=compression_mode), 201)
    except ServerError as exc:
        text = str(exc).lower()
        if not existing and "already" in text and ("exist" in text or "initialized" in text):
            raise ToolFailure(
                f"{exc} That location already holds a restic repository: pass existing=true to connect it."
            ) from None
        raise
    note(repository_id=created.shortId)
    # The create answer shows the status from before restic init finished (sample 26): read it again.
    current = await client.get_repository(created.shortId)
    summary = repository_summary(current)
    remarks: list[str] = []
    if backend == "local" and summary.location and summary.location != given.get("path"):
        remarks.append(f"Zerobyte stores it in {summary.location} (it appends the repository id to the path).")
    if current.status == "error":
        remarks.append(f"Its status is error: {_clean(current.lastError) or 'see last_error'}.")
    return RepositoryChange(outcome="created", repository=summary, note=" ".join(remarks) or None)


@tool(toolset="repositories", title="Rename a repository or set its compression", level="operate", idempotent=True)
async def update_repository(
    ctx: Ctx,
    repository_id: RepositoryId,
    name: OptName = None,
    compression_mode: Compression = None,
) -> RepositoryChange:
    """Rename a repository or change its compression mode. Connection settings cannot be changed here."""
    rid = check_short_id("repository_id", repository_id)
    new_name = _name(name) if name is not None else None
    client = client_of(ctx)
    current = await client.get_repository(rid)
    # Never send `config`: Zerobyte compares the decrypted stored config with the submitted one, so an
    # echoed sealed config counts as a change and resets status, stats and doctor result (API.md §8.21).
    body: dict[str, Any] = {}
    changed: list[str] = []
    if new_name is not None and new_name != current.name:
        body["name"] = new_name
        changed.append(f"name: {current.name!r} -> {new_name!r}")
    if compression_mode is not None and compression_mode != current.compressionMode:
        body["compressionMode"] = compression_mode
        changed.append(f"compression: {current.compressionMode} -> {compression_mode}")
    if not body:
        return RepositoryChange(outcome="unchanged", repository=repository_summary(current), note="Nothing to change.")
    updated = await _write(client.update_repository(rid, body), 200)
    return RepositoryChange(outcome="updated", repository=repository_summary(updated), changed=changed)


@tool(toolset="repositories", title="Refresh repository stats", level="operate", idempotent=True)
async def refresh_repository_stats(ctx: Ctx, repository_id: RepositoryId) -> RepositoryStatsView:
    """Recompute a repository's stored size and compression now (restic stats; slow on big repositories)."""
    rid = check_short_id("repository_id", repository_id)
    stats = await _write(client_of(ctx).refresh_repository_stats(rid), 200)
    return _stats_view(rid, stats)


def _stats_view(rid: str, stats: ResticStats) -> RepositoryStatsView:
    return RepositoryStatsView(
        repository_id=rid,
        stored_bytes=int(stats.total_size) if stats.total_size is not None else None,
        uncompressed_bytes=int(stats.total_uncompressed_size) if stats.total_uncompressed_size is not None else None,
        compression_ratio=round(stats.compression_ratio, 2) if stats.compression_ratio else None,
        snapshots_count=stats.snapshots_count,
    )


@tool(toolset="repositories", title="Refresh the snapshot list", level="operate", idempotent=True)
async def refresh_snapshots(ctx: Ctx, repository_id: RepositoryId) -> SnapshotsRefreshed:
    """Re-read a repository's snapshot list from restic (Zerobyte caches it for up to a day)."""
    rid = check_short_id("repository_id", repository_id)
    result = await _write(client_of(ctx).refresh_snapshots(rid), 200)
    count = (result.model_extra or {}).get("count")
    return SnapshotsRefreshed(
        repository_id=rid,
        snapshots_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        message=_clean(result.message),
    )


@tool(toolset="repositories", title="Unlock a repository", level="operate", idempotent=True)
async def unlock_repository(ctx: Ctx, repository_id: RepositoryId) -> UnlockView:
    """Remove stale restic locks from a repository. Waits behind any running backup (it needs exclusive access)."""
    rid = check_short_id("repository_id", repository_id)
    result = await _write(client_of(ctx).unlock_repository(rid), 200)
    ok = result.success is not False
    return UnlockView(
        repository_id=rid,
        unlocked=ok,
        message=_clean(result.message),
        outcome="ok" if ok else "failed",
        next_step=None if ok else "If it stays locked, run doctor on the repository (it unlocks, checks and repairs).",
    )


# --- backup jobs --------------------------------------------------------------------------------------

_KEEP_KEYS = {
    "keep_last": "keepLast",
    "keep_hourly": "keepHourly",
    "keep_daily": "keepDaily",
    "keep_weekly": "keepWeekly",
    "keep_monthly": "keepMonthly",
    "keep_yearly": "keepYearly",
    "keep_within": "keepWithinDuration",
}
_WITHIN_UNITS = "ymdh"


def _check_cron(schedule: str, *, enabled: bool) -> str:
    """Validate a schedule locally, before any request: Zerobyte's own 400 says only "Invalid cron"."""
    expr = schedule.strip()
    if expr in ("", "manual"):
        if enabled:
            raise ToolFailure(
                "schedule is empty: a job without a schedule (manual only) must be disabled (enabled=false); "
                "nothing was sent."
            )
        return ""
    try:
        parse_cron(expr)
    except CronError as exc:
        raise ToolFailure(f"Invalid schedule: {exc}. Nothing was sent.") from None
    return expr


def _check_within(value: str) -> str:
    text = value.strip()
    if text == "":
        return text
    rest = text
    while rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        if digits == 0 or len(rest) == digits or rest[digits] not in _WITHIN_UNITS:
            raise ToolFailure(
                f"keep_within {value!r} is not a restic duration like '30d', '6m' or '1y2m' "
                "(units y, m, d, h); nothing was sent."
            )
        rest = rest[digits + 1 :]
    return text


def _retention_changes(**keeps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for arg, value in keeps.items():
        if value is None:
            continue
        out[_KEEP_KEYS[arg]] = _check_within(value) if arg == "keep_within" else value
    return out


def _apply_retention(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    policy = {k: v for k, v in base.items() if v is not None}
    for key, value in changes.items():
        if value in (0, ""):
            policy.pop(key, None)
        else:
            policy[key] = value
    return policy


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
    """The full configuration of a job as agents see it (webhook URLs and headers are never included)."""
    return JobView(
        id=j.shortId,
        name=j.name,
        enabled=j.enabled,
        volume=f"{j.volume.name} ({j.volume.shortId})" if j.volume else None,
        repository=f"{j.repository.name} ({j.repository.shortId})" if j.repository else None,
        cron=j.cronExpression or None,
        schedule=_words(j.cronExpression, j.nextBackupAt),
        next_run=iso_from_ms(j.nextBackupAt) if j.enabled else None,
        retention=_retention_words(j.retentionPolicy.model_dump(exclude_none=True) if j.retentionPolicy else {}),
        include_paths=list(j.includePaths or []),
        include_patterns=list(j.includePatterns or []),
        exclude_patterns=list(j.excludePatterns or []),
        exclude_if_present=list(j.excludeIfPresent or []),
        one_file_system=j.oneFileSystem,
        compression=j.compressionMode,
        max_retries=j.maxRetries,
        retry_delay_minutes=round(j.retryDelay) if j.retryDelay is not None else None,
    )


def _current_body(job: BackupJob) -> dict[str, Any]:
    """The complete PATCH body that leaves ``job`` as it is (API.md §8.7), from the RAW job Zerobyte sent."""
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
    # Omitted, these two are reset to 2 and 15 minutes (samples 126/127).
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
    out: list[str] = []
    for key, value in new.items():
        if old.get(key) != value:
            out.append(f"{key}: {_show(old.get(key))} -> {_show(value)}")
    return out


def _retention_words(policy: Mapping[str, Any]) -> str | None:
    parts = [
        f"{arg.removeprefix('keep_')} {policy[key]}"
        for arg, key in _KEEP_KEYS.items()
        if policy.get(key) not in (None, "", 0)
    ]
    return ", ".join(parts) or None


def _show(value: Any) -> str:
    if value is None or value == []:
        return "none"
    return repr(value) if isinstance(value, str | list) else str(value)


async def _update_job(
    ctx: Ctx,
    job_id: str,
    changes: dict[str, Any],
    retention: dict[str, Any] | None = None,
    *,
    clear_retention: bool = False,
) -> JobChange:
    """Read the job, merge ``changes`` into the complete body, PATCH, read again and report what changed.

    ``retention`` holds the retention rules to change (0 or '' removes one); ``clear_retention`` drops the
    current rules first."""
    jid = check_job_id("job_id", job_id)
    client = client_of(ctx)
    job = await client.get_backup_job(jid)
    before = job_view(job)
    current = _current_body(job)
    body = {**current, **changes}
    if retention or clear_retention:
        policy = _apply_retention({} if clear_retention else current.get("retentionPolicy", {}), retention or {})
        if policy or job.retentionPolicy is not None:
            body["retentionPolicy"] = policy  # {} clears it (API.md §8.7)
    if body["enabled"] and not body["cronExpression"]:
        raise ToolFailure(
            f"Backup job {job.shortId!r} has no schedule, so it cannot be enabled: pass schedule "
            "(a cron expression) as well. Nothing was sent."
        )
    if body == current:
        return JobChange(outcome="unchanged", job=before, note="Nothing to change.")
    await _write(client.update_backup_job(jid, body), 200)
    after_job = await client.get_backup_job(jid)
    after = job_view(after_job)
    changes_seen = _diff(before, after)
    remark = None
    if body.get("retentionPolicy") == {} and job.retentionPolicy is not None:
        remark = "Retention cleared: snapshots of this job are now kept forever."
    return JobChange(outcome="updated", job=after, changes=changes_seen, note=remark)


@tool(toolset="backups", title="Create a backup job", level="operate")
async def create_backup_job(
    ctx: Ctx,
    name: Name,
    volume_id: VolumeId,
    repository_id: RepositoryId,
    schedule: Annotated[str, Field(description="Cron (server time, UTC default); '' = manual only")],
    enabled: Annotated[bool, Field(description="Run on schedule")] = True,
    keep_last: KeepN = None,
    keep_hourly: KeepN = None,
    keep_daily: KeepN = None,
    keep_weekly: KeepN = None,
    keep_monthly: KeepN = None,
    keep_yearly: KeepN = None,
    keep_within: KeepWithin = None,
    include_paths: Paths = None,
    include_patterns: Patterns = None,
    exclude_patterns: Patterns = None,
    exclude_if_present: Markers = None,
    one_file_system: Annotated[bool | None, Field(description="Stay on one filesystem")] = None,
    compression_mode: Compression = None,
    max_retries: MaxRetries = None,
    retry_delay_minutes: RetryDelay = None,
) -> JobChange:
    """Create a backup job: volume -> repository on a cron schedule with retention. Returns the schedule in words."""
    clean_name = _name(name)
    expr = _check_cron(schedule, enabled=enabled)
    vid = check_short_id("volume_id", volume_id)
    rid = check_short_id("repository_id", repository_id)
    policy = _apply_retention(
        {},
        _retention_changes(
            keep_last=keep_last,
            keep_hourly=keep_hourly,
            keep_daily=keep_daily,
            keep_weekly=keep_weekly,
            keep_monthly=keep_monthly,
            keep_yearly=keep_yearly,
            keep_within=keep_within,
        ),
    )
    body: dict[str, Any] = {
        "name": clean_name,
        "volumeId": vid,
        "repositoryId": rid,
        "enabled": enabled,
        "cronExpression": expr,
    }
    if policy:
        body["retentionPolicy"] = policy
    body.update(
        _given(
            includePaths=include_paths,
            includePatterns=include_patterns,
            excludePatterns=exclude_patterns,
            excludeIfPresent=exclude_if_present,
            oneFileSystem=one_file_system,
            compressionMode=compression_mode,
            maxRetries=max_retries,
            retryDelay=retry_delay_minutes,
        )
    )
    client = client_of(ctx)
    created = await _write(client.create_backup_job(body), 201)
    note(job_id=created.shortId)
    job = await client.get_backup_job(created.shortId)
    remark = None if policy else "No retention policy: every snapshot is kept until you add one."
    return JobChange(outcome="created", job=job_view(job), note=remark)


@tool(toolset="backups", title="Update a backup job", level="operate", idempotent=True)
async def update_backup_job(
    ctx: Ctx,
    job_id: JobId,
    name: OptName = None,
    schedule: Annotated[str | None, Field(description="New cron; '' = manual only (needs enabled=false)")] = None,
    enabled: Annotated[bool | None, Field(description="Run on schedule")] = None,
    repository_id: Annotated[str | None, Field(description="Move to this repository (short id)")] = None,
    keep_last: KeepN = None,
    keep_hourly: KeepN = None,
    keep_daily: KeepN = None,
    keep_weekly: KeepN = None,
    keep_monthly: KeepN = None,
    keep_yearly: KeepN = None,
    keep_within: KeepWithin = None,
    clear_retention: Annotated[bool, Field(description="Drop current rules first (alone: keep forever)")] = False,
    include_paths: Paths = None,
    include_patterns: Patterns = None,
    exclude_patterns: Patterns = None,
    exclude_if_present: Markers = None,
    one_file_system: Annotated[bool | None, Field(description="Stay on one filesystem")] = None,
    compression_mode: Annotated[
        Literal["off", "auto", "max", "repository"] | None, Field(description="'repository' = use its setting")
    ] = None,
    max_retries: MaxRetries = None,
    retry_delay_minutes: RetryDelay = None,
) -> JobChange:
    """Change only the given settings of a backup job; everything else is kept. Returns each change, before -> after."""
    check_job_id("job_id", job_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _name(name)
    if schedule is not None:
        # Enabled-ness is checked after the merge, against the job's resulting state.
        changes["cronExpression"] = _check_cron(schedule, enabled=False)
    if repository_id is not None:
        changes["repositoryId"] = check_short_id("repository_id", repository_id)
    changes.update(
        _given(
            enabled=enabled,
            includePaths=include_paths,
            includePatterns=include_patterns,
            excludePatterns=exclude_patterns,
            excludeIfPresent=exclude_if_present,
            oneFileSystem=one_file_system,
            maxRetries=max_retries,
            retryDelay=retry_delay_minutes,
        )
    )
    if compression_mode is not None:
        changes["compressionMode"] = None if compression_mode == "repository" else compression_mode
    retention = _retention_changes(
        keep_last=keep_last,
        keep_hourly=keep_hourly,
        keep_daily=keep_daily,
        keep_weekly=keep_weekly,
        keep_monthly=keep_monthly,
        keep_yearly=keep_yearly,
        keep_within=keep_within,
    )
    return await _update_job(ctx, job_id, changes, retention, clear_retention=clear_retention)


@tool(toolset="backups", title="Enable a backup job", level="operate", idempotent=True)
async def enable_backup_job(ctx: Ctx, job_id: JobId) -> JobToggle:
    """Resume a backup job's schedule (every other setting is kept). Returns its next run."""
    return _toggle(await _update_job(ctx, job_id, {"enabled": True}))


@tool(toolset="backups", title="Disable a backup job", level="operate", idempotent=True)
async def disable_backup_job(ctx: Ctx, job_id: JobId) -> JobToggle:
    """Pause a backup job's schedule (every other setting is kept; it can still be run by hand)."""
    return _toggle(await _update_job(ctx, job_id, {"enabled": False}))


def _toggle(change: JobChange) -> JobToggle:
    job = change.job
    return JobToggle(
        outcome=change.outcome,
        id=job.id,
        name=job.name,
        enabled=job.enabled,
        schedule=job.schedule,
        next_run=job.next_run,
        note=change.note,
    )


# --- notification routing ----------------------------------------------------------------------------

_EVENTS = (
    ("start", "notifyOnStart"),
    ("success", "notifyOnSuccess"),
    ("warning", "notifyOnWarning"),
    ("failure", "notifyOnFailure"),
)


def _assignment_body(a: DestinationAssignment) -> dict[str, Any]:
    return {
        "destinationId": a.destinationId,
        "notifyOnStart": a.notifyOnStart,
        "notifyOnSuccess": a.notifyOnSuccess,
        "notifyOnWarning": a.notifyOnWarning,
        "notifyOnFailure": a.notifyOnFailure,
    }


def _route(a: DestinationAssignment) -> Route:
    d = a.destination
    return Route(
        destination_id=a.destinationId,
        name=d.name if d else None,
        type=d.type if d else None,
        enabled=d.enabled if d else None,
        events=[event for event, key in _EVENTS if getattr(a, key)],
    )


@tool(toolset="notifications", title="Route a job's notifications", level="operate", idempotent=True)
async def route_notifications(
    ctx: Ctx,
    job_id: JobId,
    destination_id: DestinationId,
    on_start: Annotated[bool | None, Field(description="Notify when a backup starts")] = None,
    on_success: Annotated[bool | None, Field(description="Notify on success")] = None,
    on_warning: Annotated[bool | None, Field(description="Notify on warning (default on)")] = None,
    on_failure: Annotated[bool | None, Field(description="Notify on failure (default on)")] = None,
) -> RoutingResult:
    """Send a job's backup events to a destination, or change which events it gets; other routes are kept."""
    jid = check_job_id("job_id", job_id)
    did = check_destination_id("destination_id", destination_id)
    client = client_of(ctx)
    destination = await client.get_destination(did)
    current = await client.get_job_notifications(jid)
    bodies = [_assignment_body(a) for a in current]
    entry = next((b for b in bodies if b["destinationId"] == did), None)
    if entry is None:
        entry = {
            "destinationId": did,
            "notifyOnStart": False,
            "notifyOnSuccess": False,
            "notifyOnWarning": True,
            "notifyOnFailure": True,
        }
        bodies.append(entry)
    before = dict(entry)
    flags = (on_start, on_success, on_warning, on_failure)
    for flag, (_, key) in zip(flags, _EVENTS, strict=True):
        if flag is not None:
            entry[key] = flag
    if not any(entry[key] for _, key in _EVENTS):
        raise ToolFailure(
            "That would route no events at all: to stop notifications from this job to the destination, "
            "use unroute_notifications. Nothing was sent."
        )
    remark = None
    if destination.enabled is False:
        remark = f"Destination {destination.name!r} is disabled: enable it with update_notification_destination."
    if entry == before and any(a.destinationId == did for a in current):
        return RoutingResult(job_id=jid, outcome="unchanged", routes=[_route(a) for a in current], note=remark)
    result = await _write(client.set_job_notifications(jid, bodies), 200)
    return RoutingResult(job_id=jid, outcome="updated", routes=[_route(a) for a in result], note=remark)


@tool(toolset="notifications", title="Stop a job's notifications to a destination", level="operate", idempotent=True)
async def unroute_notifications(ctx: Ctx, job_id: JobId, destination_id: DestinationId) -> RoutingResult:
    """Stop sending a job's backup events to one destination; its other routes are kept."""
    jid = check_job_id("job_id", job_id)
    did = check_destination_id("destination_id", destination_id)
    client = client_of(ctx)
    current = await client.get_job_notifications(jid)
    if not any(a.destinationId == did for a in current):
        return RoutingResult(
            job_id=jid,
            outcome="unchanged",
            routes=[_route(a) for a in current],
            note=f"Destination {did} was not routed from this job.",
        )
    bodies = [_assignment_body(a) for a in current if a.destinationId != did]
    result = await _write(client.set_job_notifications(jid, bodies), 200)
    return RoutingResult(job_id=jid, outcome="updated", routes=[_route(a) for a in result])


# --- mirrors ------------------------------------------------------------------------------------------


def _mirror_view(m: Mirror) -> MirrorView:
    sync = m.lastSyncTask or {}
    last = None
    if sync:
        finished = iso(sync.get("finishedAt"))
        last = " ".join(p for p in (str(sync.get("status") or "?"), finished) if p)
        if sync.get("error"):
            last += f": {_clean(str(sync['error']), 200)}"
    repo = m.repository
    return MirrorView(
        repository_id=m.repositoryId,
        name=repo.name if repo else None,
        backend=(repo.type or str(repo.config.get("backend") or "")) or None if repo else None,
        enabled=m.enabled,
        last_sync=last,
    )


def _mirror_body(m: Mirror) -> dict[str, Any]:
    return {"repositoryId": m.repositoryId, "enabled": m.enabled}


@tool(toolset="backups", title="Add a mirror to a backup job", level="operate", idempotent=True)
async def add_mirror(
    ctx: Ctx,
    job_id: JobId,
    repository_id: Annotated[str, Field(description="Repository to copy snapshots to (short id)")],
    enabled: Annotated[bool, Field(description="Copy after each successful backup")] = True,
) -> MirrorsResult:
    """Copy a job's snapshots to another repository after each backup (offsite copy); refuses incompatible ones."""
    jid = check_job_id("job_id", job_id)
    rid = check_short_id("repository_id", repository_id)
    client = client_of(ctx)
    compatibility = await client.get_mirror_compatibility(jid)
    entry = next((c for c in compatibility if c.repositoryId == rid), None)
    if entry is None:
        job = await client.get_backup_job(jid)
        if job.repository is not None and rid in (job.repository.shortId, job.repository.id):
            raise ToolFailure(f"Repository {rid!r} is this job's own repository; a mirror must be another one.")
        raise ToolFailure(f"Repository {rid!r} was not found: list_repositories shows the ids.")
    if not entry.compatible:
        raise ToolFailure(
            f"Repository {rid!r} cannot mirror this job: {_clean(entry.reason) or 'Zerobyte says it is incompatible'}."
        )
    current = await client.get_job_mirrors(jid)
    existing = next((m for m in current if m.repositoryId == rid), None)
    if existing is not None and existing.enabled == enabled:
        return MirrorsResult(
            job_id=jid, outcome="unchanged", mirrors=[_mirror_view(m) for m in current], note="Already a mirror."
        )
    bodies = [_mirror_body(m) for m in current if m.repositoryId != rid]
    bodies.append({"repositoryId": rid, "enabled": enabled})
    result = await _write(client.set_job_mirrors(jid, bodies), 200)
    remark = (
        "New backups are copied there after each successful run; existing snapshots are copied only by a mirror sync."
        if enabled
        else "The mirror is kept but disabled: nothing is copied until it is enabled."
    )
    return MirrorsResult(job_id=jid, outcome="updated", mirrors=[_mirror_view(m) for m in result], note=remark)


@tool(toolset="backups", title="Remove a mirror from a backup job", level="operate", idempotent=True)
async def remove_mirror(
    ctx: Ctx,
    job_id: JobId,
    repository_id: Annotated[str, Field(description="Mirror repository short id")],
) -> MirrorsResult:
    """Stop copying a job's snapshots to a mirror repository. Snapshots already copied stay there."""
    jid = check_job_id("job_id", job_id)
    rid = check_short_id("repository_id", repository_id)
    client = client_of(ctx)
    current = await client.get_job_mirrors(jid)
    if not any(m.repositoryId == rid for m in current):
        return MirrorsResult(
            job_id=jid,
            outcome="unchanged",
            mirrors=[_mirror_view(m) for m in current],
            note=f"Repository {rid!r} is not a mirror of this job.",
        )
    bodies = [_mirror_body(m) for m in current if m.repositoryId != rid]
    result = await _write(client.set_job_mirrors(jid, bodies), 200)
    return MirrorsResult(
        job_id=jid,
        outcome="updated",
        mirrors=[_mirror_view(m) for m in result],
        note=f"Snapshots already copied to {rid!r} stay there; the repository itself is untouched.",
    )


@tool(toolset="backups", title="Mirror status")
async def get_mirror_status(
    ctx: Ctx,
    job_id: JobId,
    repository_id: Annotated[str, Field(description="Mirror repository short id")],
) -> MirrorStatusView:
    """Compare a job's snapshots with one mirror: counts and the first snapshots not yet copied there."""
    jid = check_job_id("job_id", job_id)
    rid = check_short_id("repository_id", repository_id)
    status = await client_of(ctx).get_mirror_status(jid, rid)
    missing = status.missingSnapshots
    return MirrorStatusView(
        in_sync=not missing,
        source_snapshots=status.sourceCount,
        mirror_snapshots=status.mirrorCount,
        missing_total=len(missing),
        missing=[
            MissingView(id=s.short_id, time=iso(s.time), size=int(s.size) if s.size is not None else None)
            for s in missing[:MISSING_LISTED]
        ],
        next_step="Run a mirror sync to copy the missing snapshots." if missing else None,
    )


# --- notification destinations ------------------------------------------------------------------------

DestinationType = Literal["generic", "slack", "discord", "telegram", "ntfy", "gotify", "pushover", "email", "custom"]
_DEST_ARGS: dict[str, set[str]] = {
    "generic": {"url", "method", "headers"},
    "slack": {"webhook_url", "username"},
    "discord": {"webhook_url", "username", "thread_id"},
    "telegram": {"bot_token", "chat_id", "thread_id"},
    "ntfy": {"server_url", "topic", "priority", "username", "password", "access_token"},
    "gotify": {"server_url", "token", "priority"},
    "pushover": {"user_key", "api_token", "priority"},
    "email": {"smtp_host", "smtp_port", "username", "password", "from_address", "to", "use_tls"},
    "custom": {"shoutrrr_url"},
}
_DEST_REQUIRED: dict[str, tuple[str, ...]] = {
    "generic": ("url",),
    "slack": ("webhook_url",),
    "discord": ("webhook_url",),
    "telegram": ("bot_token", "chat_id"),
    "ntfy": ("topic",),
    "gotify": ("server_url", "token"),
    "pushover": ("user_key", "api_token"),
    "email": ("smtp_host", "smtp_port", "from_address", "to"),
    "custom": ("shoutrrr_url",),
}
_DEST_KEYS = {
    "url": "url",
    "method": "method",
    "headers": "headers",
    "webhook_url": "webhookUrl",
    "username": "username",
    "thread_id": "threadId",
    "bot_token": "botToken",
    "chat_id": "chatId",
    "server_url": "serverUrl",
    "topic": "topic",
    "priority": "priority",
    "password": "password",
    "access_token": "accessToken",
    "token": "token",
    "user_key": "userKey",
    "api_token": "apiToken",
    "smtp_host": "smtpHost",
    "smtp_port": "smtpPort",
    "from_address": "from",
    "to": "to",
    "use_tls": "useTLS",
    "shoutrrr_url": "shoutrrrUrl",
}
_NTFY_PRIORITIES = ("max", "high", "default", "low", "min")


def _destination_config(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """Zerobyte's NotificationConfig (API.md appendix) from flat arguments, checked before any request."""
    _refuse_unused("notification", kind, given, _DEST_ARGS[kind])
    _require(kind, given, _DEST_REQUIRED[kind])
    config: dict[str, Any] = {"type": kind}
    config.update({_DEST_KEYS[k]: v for k, v in given.items()})
    priority = given.get("priority")
    if kind == "generic":
        config.setdefault("method", "POST")
        for header in given.get("headers") or []:
            if ":" not in header:
                raise ToolFailure("headers must look like 'Name: value'; nothing was sent.")
    elif kind == "ntfy":
        config["priority"] = priority or "default"
        if config["priority"] not in _NTFY_PRIORITIES:
            raise ToolFailure(f"ntfy priority must be one of {', '.join(_NTFY_PRIORITIES)}; nothing was sent.")
    elif kind == "gotify":
        config["priority"] = _int_priority(priority, 5, range(0, 11), "0-10")
    elif kind == "pushover":
        config["priority"] = _int_priority(priority, 0, range(-1, 2), "-1, 0 or 1")
    elif kind == "email":
        config.setdefault("useTLS", True)
    return config


def _int_priority(value: str | None, default: int, allowed: range, shown: str) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = allowed.start - 1
    if number not in allowed:
        raise ToolFailure(f"priority must be {shown} for this type; nothing was sent.")
    return number


def _destination_view(d: NotificationDestination) -> DestinationView:
    config: dict[str, Any] = redact(d.config)  # type: ignore[assignment]
    kind = d.type or str(config.get("type") or "")
    target: str | None
    if kind == "generic":
        target = f"{config.get('method') or 'POST'} {config.get('url')}"
    elif kind in ("telegram",):
        target = f"chat {config.get('chatId')}"
    elif kind == "ntfy":
        target = f"{config.get('serverUrl') or 'https://ntfy.sh'}/{config.get('topic')}"
    elif kind == "gotify":
        target = str(config.get("serverUrl") or "") or None
    elif kind == "email":
        to = config.get("to")
        target = ", ".join(str(t) for t in to) if isinstance(to, list) else None
    elif kind in ("slack", "discord", "custom", "pushover"):
        target = f"{kind} (address sealed)"
    else:
        target = None
    return DestinationView(
        id=d.id,
        name=d.name,
        type=kind or None,
        enabled=d.enabled,
        status=d.status,
        target=target,
        last_error=_clean(d.lastError, 300),
    )


def _allowed_origins_failure(exc: BadRequest) -> ToolFailure | None:
    text = f"{exc} {exc.upstream_message or ''}"
    if "WEBHOOK_ALLOWED_ORIGINS" not in text:
        return None
    return ToolFailure(
        f"{exc} WEBHOOK_ALLOWED_ORIGINS is an environment setting of the Zerobyte server, not something the API "
        "can change: whoever runs Zerobyte must add the URL's origin (scheme://host[:port]) to it and restart "
        "Zerobyte, then retry."
    )


@tool(toolset="notifications", title="Create a notification destination", level="operate")
async def create_notification_destination(
    ctx: Ctx,
    name: Name,
    type: Annotated[DestinationType, Field(description="Destination type")],
    url: Annotated[str | None, Field(description="generic: webhook URL")] = None,
    method: Annotated[Literal["GET", "POST"] | None, Field(description="generic: HTTP method (POST)")] = None,
    headers: Annotated[list[str] | None, Field(description="generic: headers, 'Name: value'")] = None,
    webhook_url: Annotated[str | None, Field(description=f"slack/discord webhook URL ({SECRET_NOTE})")] = None,
    bot_token: Annotated[str | None, Field(description=f"telegram bot token ({SECRET_NOTE})")] = None,
    chat_id: Annotated[str | None, Field(description="telegram chat id")] = None,
    thread_id: Annotated[str | None, Field(description="telegram/discord thread id")] = None,
    server_url: Annotated[str | None, Field(description="ntfy/gotify server URL")] = None,
    topic: Annotated[str | None, Field(description="ntfy topic")] = None,
    priority: Annotated[str | None, Field(description="ntfy: max..min; gotify 0-10; pushover -1..1")] = None,
    token: Annotated[str | None, Field(description=f"gotify app token ({SECRET_NOTE})")] = None,
    access_token: Annotated[str | None, Field(description=f"ntfy access token ({SECRET_NOTE})")] = None,
    username: Annotated[str | None, Field(description="ntfy/email/slack/discord user name")] = None,
    password: Password = None,
    user_key: Annotated[str | None, Field(description="pushover user key")] = None,
    api_token: Annotated[str | None, Field(description=f"pushover API token ({SECRET_NOTE})")] = None,
    smtp_host: Annotated[str | None, Field(description="email: SMTP host")] = None,
    smtp_port: Annotated[int | None, Field(description="email: SMTP port", ge=1, le=65535)] = None,
    from_address: Annotated[str | None, Field(description="email: sender address")] = None,
    to: Annotated[list[str] | None, Field(description="email: recipients")] = None,
    use_tls: Annotated[bool | None, Field(description="email: use TLS (default true)")] = None,
    shoutrrr_url: Annotated[str | None, Field(description=f"custom: Shoutrrr URL ({SECRET_NOTE})")] = None,
) -> DestinationResult:
    """Add a place to send backup notifications (webhook, Slack, Discord, Telegram, ntfy, Gotify, Pushover, email)."""
    clean_name = _name(name)
    given = _given(
        url=url,
        method=method,
        headers=headers,
        webhook_url=webhook_url,
        bot_token=bot_token,
        chat_id=chat_id,
        thread_id=thread_id,
        server_url=server_url,
        topic=topic,
        priority=priority,
        token=token,
        access_token=access_token,
        username=username,
        password=password,
        user_key=user_key,
        api_token=api_token,
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        from_address=from_address,
        to=to,
        use_tls=use_tls,
        shoutrrr_url=shoutrrr_url,
    )
    config = _destination_config(type, given)
    try:
        created = await _write(client_of(ctx).create_destination(clean_name, config), 201)
    except BadRequest as exc:
        raise _allowed_origins_failure(exc) or exc from None
    note(destination_id=created.id)
    return DestinationResult(
        outcome="created",
        destination=_destination_view(created),
        note=f"Check it with test_notification_destination({created.id}), then route jobs to it with "
        "route_notifications.",
    )


@tool(toolset="notifications", title="Rename, enable or disable a destination", level="operate", idempotent=True)
async def update_notification_destination(
    ctx: Ctx,
    destination_id: DestinationId,
    name: OptName = None,
    enabled: Annotated[bool | None, Field(description="false = stop sending to it")] = None,
) -> DestinationResult:
    """Rename a notification destination or enable/disable it (its address and secrets are kept)."""
    did = check_destination_id("destination_id", destination_id)
    new_name = _name(name) if name is not None else None
    client = client_of(ctx)
    current = await client.get_destination(did)
    body: dict[str, Any] = {}
    changed: list[str] = []
    if new_name is not None and new_name != current.name:
        body["name"] = new_name
        changed.append(f"name: {current.name!r} -> {new_name!r}")
    if enabled is not None and enabled != current.enabled:
        body["enabled"] = enabled
        changed.append(f"enabled: {current.enabled} -> {enabled}")
    if not body:
        return DestinationResult(outcome="unchanged", destination=_destination_view(current), note="Nothing to change.")
    updated = await _write(client.update_destination(did, body), 200)
    return DestinationResult(outcome="updated", destination=_destination_view(updated), changed=changed)


@tool(toolset="notifications", title="Send a test notification", level="operate")
async def test_notification_destination(ctx: Ctx, destination_id: DestinationId) -> DestinationTest:
    """Send a test message through a notification destination; a failed delivery is reported with Zerobyte's reason."""
    did = check_destination_id("destination_id", destination_id)
    try:
        delivered = await _write(client_of(ctx).test_destination(did), 200)
    except BadRequest as exc:
        failure = _allowed_origins_failure(exc)
        if failure is None:
            raise
        return DestinationTest(destination_id=did, delivered=False, error=str(failure), outcome="failed")
    except ServerError as exc:
        reason = exc.upstream_message or str(exc)
        return DestinationTest(
            destination_id=did,
            delivered=False,
            error=_clean(reason),
            outcome="failed",
            next_step="Check the destination's address and credentials (a wrong token or chat id is the usual cause); "
            "recreate it with the right values if needed.",
        )
    return DestinationTest(destination_id=did, delivered=delivered, outcome="ok" if delivered else "failed")
