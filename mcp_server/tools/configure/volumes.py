"""Volume configuration tools: create a volume (a backup source), change it, and mount/unmount/check it.

A volume's ``source`` is one compact notation per backend (``//nas/photos``, ``host:/export``...; parsed
by :mod:`mcp_server.answers.notation`) plus ``key=value`` options; a directory source must sit under the
administrator's volume roots (:mod:`mcp_server.tools.confine`). Edits merge into the RAW stored config, so
sealed values echoed back stay as they are; a config change makes Zerobyte remount the volume.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ...answers.notation import SOURCE_FORMS, SOURCE_HELP, OptionKind, parse_options, parse_source
from ...safety.audit import note
from ...safety.redact import redact
from ...zerobyte.errors import ServerError
from ...zerobyte.ids import check_short_id
from ..base import Ctx, ToolFailure, app_of, client_of, tool
from ..confine import check_directory_source, zerobyte_folders
from ..volumes import volume_summary
from .common import SECRET, Change, Name, Options, OptName, VolumeId, change, check_name, clean, edits, given, reply

__all__ = ["create_volume", "mount_volume", "update_volume"]

VolumeSecret = Annotated[str | None, Field(description=f"Password, or sftp private key ({SECRET})")]
VolumeUser = Annotated[str | None, Field(description="smb/webdav/sftp user")]

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
    out = given(username=username)
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
        return f"Not mounted: {clean(error) or 'mount failed'}. Fix the source, then run mount_volume."
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
    clean_name = check_name(name)
    config = _volume_config(backend, source, username=username, secret=secret, options=options)
    client = client_of(ctx)
    if backend == "directory":
        config["path"] = await _confined(ctx, config["path"])
    if test != "skip":
        result = await client.test_volume_connection(config)
        reason = clean(result.message) or "no reason given"
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
    return reply("created", volume=volume_summary(current), note=_volume_next_step(current.status, current.lastError))


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
    new_name = check_name(name) if name is not None else None
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
    body, changed = edits(
        ("name", "name", current.name, new_name), ("autoRemount", "auto_remount", current.autoRemount, auto_remount)
    )
    # Merge into the RAW stored config: sealed values echoed back unchanged are accepted.
    config = dict(current.config)
    for key, value in wanted.items():
        if config.get(key) == value:
            continue
        sealed = key in ("password", "privateKey")
        changed.append(f"{key}: changed" if sealed else change(key, redact(config.get(key)), redact(value)))
        config[key] = value
    if config != current.config:
        body["config"] = config
    if not body:
        return reply("unchanged", volume=volume_summary(current), note="Nothing to change.")
    updated = await client.update_volume(vid, body)
    remark = None
    if "config" in body:
        # A config change unmounts and remounts, and the answer shows the pre-remount status: read again.
        updated = (await client.get_volume(vid)).volume
        remark = f"The source settings changed, so Zerobyte remounted the volume: it is now {updated.status}."
        step = _volume_next_step(updated.status, updated.lastError)
        remark += f" {step}" if step else ""
    return reply("updated", volume=volume_summary(updated), changes=changed, note=remark)


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
        return reply(outcome, status=result.status, error=clean(result.error), note=step)
    result = await (client.mount_volume(vid) if action == "mount" else client.unmount_volume(vid))
    if result.status == "error":
        raise ToolFailure(
            f"Could not {action} volume {vid!r}: {clean(result.error) or 'no reason given'}. Check the source "
            "(server up, share or path present, login) with create_volume(test='only'), then retry."
        )
    return reply("ok", status=result.status)
