"""Repository configuration tools: create (restic init) or connect a repository, change it, unlock it.

A repository's ``location`` is one compact notation per backend (``/dir``, ``endpoint/bucket``,
``remote:path``...; parsed by :mod:`mcp_server.answers.notation`) and ``secret`` is the one credential its backend
needs. Updates never send ``config``: Zerobyte would count an echoed sealed config as a change.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ...answers.notation import OptionKind, parse_location, parse_options
from ...safety.audit import note
from ...zerobyte.errors import ServerError
from ...zerobyte.ids import check_short_id
from ..base import Ctx, ToolFailure, client_of, tool
from ..repositories import repository_summary, stats_view
from .common import SECRET, Change, Name, Options, OptName, RepositoryId, check_name, clean, edits, reply

__all__ = ["create_repository", "unlock_repository", "update_repository"]

Compression = Annotated[Literal["off", "auto", "max"] | None, Field(description="Compression (default auto)")]

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
    clean_name = check_name(name)
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
        remarks.append(f"Its status is error: {clean(current.lastError) or 'see last_error'}.")
    return reply("created", repository=summary, note=" ".join(remarks) or None)


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
    new_name = check_name(name) if name is not None else None
    client = client_of(ctx)
    current = await client.get_repository(rid)
    # Never send `config`: Zerobyte compares the decrypted stored config with the submitted one, so an
    # echoed sealed config counts as a change and resets status, stats and doctor result.
    body, changed = edits(
        ("name", "name", current.name, new_name),
        ("compressionMode", "compression", current.compressionMode, compression_mode),
    )
    if body:
        current = await client.update_repository(rid, body)
    item: dict[str, Any] = repository_summary(current).model_dump(exclude_none=True)
    remark = None
    if refresh == "stats":
        item.update(stats_view(await client.refresh_repository_stats(rid)).model_dump(exclude_none=True))
    elif refresh == "snapshots":
        result = await client.refresh_snapshots(rid)
        count = (result.model_extra or {}).get("count")
        item["snapshots_count"] = count if isinstance(count, int) else item.get("snapshots_count")
        remark = clean(result.message)
    if not body and refresh is None:
        remark = "Nothing to change."
    outcome = "updated" if body else ("ok" if refresh else "unchanged")
    return reply(outcome, repository=item, changes=changed, note=remark)


@tool(title="Unlock repository", idempotent=True)
async def unlock_repository(ctx: Ctx, repository_id: RepositoryId) -> Change:
    """Remove stale restic locks (waits behind a running backup)."""
    rid = check_short_id("repository_id", repository_id)
    result = await client_of(ctx).unlock_repository(rid)
    if result.success is False:
        step = "If it stays locked, use run_doctor (it unlocks, checks and repairs the repository)."
        return Change(outcome="failed", note=" ".join(filter(None, (clean(result.message), step))))
    return Change(outcome="ok", note=clean(result.message))
