"""Restore tools: files or a folder from a snapshot, to a new folder or over existing files.

Restore is two tools on purpose: ``restore`` (operate) writes only to a NEW folder under the configured
roots and never overwrites; ``restore_in_place`` (full, destructive, confirmed) writes to the original
location or overwrites. An agent at ``operate`` then sees only the safe form, with honest annotations.
Here too: the checks of a target folder and of the paths (each in the snapshot, one kind per call), where
each path lands, and the answer told from restic's counters (what was written, what was left as it was).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Resolve
from pydantic import Field

from ..answers.output import human_bytes, iso_from_ms
from ..zerobyte import ZerobyteClient, ZerobyteError
from ..zerobyte.ids import MAX_PATH_LENGTH, check_absolute_path, check_snapshot_id
from ..zerobyte.models import Repository, Snapshot, SnapshotNode
from .acting import RepoArg, TaskActionResult, TokenArg, WaitArg, WaitSecondsArg, run_task, start, unfinished
from .base import Ctx, ToolFailure, app_of, client_of, tool
from .confirm import Gate, Preview, PreviewItem, confirmed, decide
from .follow import TaskOutcome

__all__ = ["RestoreResult", "check_restore_target", "restore", "restore_in_place"]

MAX_RESTORE_PATHS = 20
Overwrite = Literal["always", "if-changed", "if-newer", "never"]
SnapshotArg = Annotated[str, Field(description="Snapshot id (8-hex) or 'latest'")]
PathsArg = Annotated[
    list[str],
    Field(description="Absolute paths inside the snapshot", min_length=1),
]


class RestoreResult(TaskActionResult):
    landed: list[str] = Field(default_factory=list, description="What was written, and where")
    not_restored: list[str] = Field(default_factory=list, description="What was left as it was, and why")


@tool(title="Restore to a new folder", idempotent=False)
async def restore(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_id: SnapshotArg,
    paths: PathsArg,
    target_path: Annotated[str, Field(description="Absolute folder under an allowed restore root")],
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> RestoreResult:
    """Restore files or one folder from a snapshot into a folder under the allowed roots; never overwrites."""
    settings = app_of(ctx).settings
    try:
        target = check_restore_target(target_path, settings.restore_allowed_roots)
    except ToolFailure as refusal:
        raise _original_location_hint(refusal, target_path, paths, settings.access) from None
    client = client_of(ctx)
    source = await _source(client, repository_id, snapshot_id, paths, target)
    return await _do_restore(ctx, client, source, "never", wait, wait_seconds)


@confirmed("restore_in_place")
async def _restore_in_place_preview(
    ctx: Ctx,
    repository_id: str,
    snapshot_id: str,
    paths: list[str],
    overwrite: str,
    target_path: str | None,
    confirm_token: str | None,
) -> Preview:
    target = _target_if_given(ctx, target_path)
    source = await _source(client_of(ctx), repository_id, snapshot_id, paths, target)
    repo, snap, clean, kind = source.repo, source.snap, source.paths, source.kind
    where = "its original location" if target is None else target
    mode = {
        "always": "existing files there are replaced by the snapshot's version",
        "if-changed": "existing files whose content differs are replaced by the snapshot's version",
        "if-newer": "existing files older than the snapshot's version are replaced",
        "never": "existing files are kept; only missing files are written",
    }[overwrite]
    return Preview(
        action=(
            f"Restore {len(clean)} {kind}{'s' if len(clean) > 1 else ''} from snapshot {snap.short_id} "
            f"({iso_from_ms(snap.time)}) of repository {repo.name!r} ({repo.shortId}) to {where}"
        ),
        effects=[f"overwrite={overwrite}: {mode}.", "Files that are not in the snapshot are left alone."],
        items=[PreviewItem(kind=kind, id=p, note=line) for p, line in zip(clean, source.landing(), strict=True)],
    )


@tool(title="Restore in place", destructive=True, idempotent=False)
async def restore_in_place(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_id: SnapshotArg,
    paths: PathsArg,
    answer: Annotated[ElicitationResult[Any], Resolve(_restore_in_place_preview)],
    overwrite: Annotated[Overwrite, Field(description="What to do with existing files")] = "always",
    target_path: Annotated[str | None, Field(description="Allowed folder; omit = original location")] = None,
    confirm_token: TokenArg = None,
    wait: WaitArg = True,
    wait_seconds: WaitSecondsArg = None,
) -> RestoreResult:
    """Restore over existing files: to the original location, or overwriting in an allowed folder. Confirmed."""
    decision = decide(answer, "restore_in_place", RestoreResult)
    if not isinstance(decision, Gate):
        return decision
    client = client_of(ctx)
    source = await _source(client, repository_id, snapshot_id, paths, _target_if_given(ctx, target_path))
    return await _do_restore(ctx, client, source, overwrite, wait, wait_seconds)


@dataclass(frozen=True)
class _Source:
    """What one restore takes: paths of one kind found in a snapshot, and the checked target (None: in place)."""

    repo: Repository
    snap: Snapshot
    paths: list[str]
    kind: Literal["file", "dir"]
    target: str | None

    def landing(self) -> list[str]:
        return _landing(self.paths, self.kind, self.target)

    def body(self, overwrite: str) -> dict[str, Any]:
        return _restore_body(self.snap.short_id, self.paths, self.kind, self.target, overwrite)


async def _source(
    client: ZerobyteClient, repository_id: str, snapshot_id: str, paths: Sequence[str], target: str | None
) -> _Source:
    """The snapshot id and paths checked before any request, then each path looked up in the snapshot."""
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    clean = _clean_paths(paths)
    repo = await client.get_repository(repository_id)
    snap = await client.get_snapshot(repo.shortId, sid)
    kind = await _path_kind(client, repo, snap, clean, target)
    return _Source(repo, snap, clean, kind, target)


def _target_if_given(ctx: Ctx, target_path: str | None) -> str | None:
    """restore_in_place's optional target, checked like restore's; None means the original location."""
    return (
        None if target_path is None else check_restore_target(target_path, app_of(ctx).settings.restore_allowed_roots)
    )


def _original_location_hint(refusal: ToolFailure, target_path: str, paths: Sequence[str], access: str) -> ToolFailure:
    """A refused target that is where the files came from: the way forward is restore_in_place, at level full."""
    target = posixpath.normpath(target_path) if isinstance(target_path, str) and target_path.startswith("/") else ""
    given = [posixpath.normpath(p) for p in paths if isinstance(p, str) and p.startswith("/")]
    # A file lands in the target itself, a folder's contents too: its own folder (or the folder) is its origin.
    if not target or target not in {posixpath.dirname(p) for p in given} | set(given):
        return refusal
    level = (
        "it is offered at this access level"
        if access == "full"
        else f"it needs access level full (this server runs at {access}): ask the user to run zerobyte-mcp with "
        "--access full, or to restore in Zerobyte's web UI"
    )
    return ToolFailure(
        f"{refusal} {target!r} is where these files came from: putting them back there overwrites what is there now, "
        f"which is restore_in_place (confirmed; {level})."
    )


def check_restore_target(target_path: str, roots: Sequence[str]) -> str:
    """The normalised target, or a refusal: relative, '..', '//', odd characters, or outside every root."""
    if not roots:
        raise ToolFailure(
            "Restoring to a new folder is off: no restore roots are configured. Ask the administrator to set "
            'restore.allowed_roots (e.g. ["/srv/restore"]) in config.toml or ZEROBYTE_MCP_RESTORE_ROOTS. '
            "For one file, read_snapshot_file needs no restore."
        )
    allowed = ", ".join(roots)
    text = target_path.strip() if isinstance(target_path, str) else ""
    if not text:
        raise ToolFailure(f"target_path is empty: give a folder under {allowed}.")
    if len(text) > MAX_PATH_LENGTH:
        raise ToolFailure(f"target_path is too long ({len(text)} characters, at most {MAX_PATH_LENGTH}).")
    if any(ord(c) < 32 or c in "\x7f\\" for c in text):
        raise ToolFailure("target_path contains control characters or a backslash: give a plain POSIX path.")
    if not text.startswith("/"):
        raise ToolFailure(f"target_path {text!r} is relative: give an absolute folder under {allowed}.")
    if text.startswith("//"):
        raise ToolFailure(f"target_path {text!r} starts with '//' (a network path): give a folder under {allowed}.")
    if any(part in ("..", ".", "~") for part in text.split("/")):
        raise ToolFailure(f"target_path {text!r} contains '..', '.' or '~': give the folder plainly, under {allowed}.")
    normal = posixpath.normpath(text)
    for root in roots:
        base = root.rstrip("/")
        if normal in (root, base) or normal.startswith(base + "/"):
            return normal
    raise ToolFailure(f"target_path {normal!r} is outside the allowed restore folders ({allowed}).")


def _clean_paths(paths: Sequence[str]) -> list[str]:
    if len(paths) > MAX_RESTORE_PATHS:
        raise ToolFailure(f"paths: at most {MAX_RESTORE_PATHS} per restore; restore their common folder instead.")
    clean: list[str] = []
    for p in paths:
        normal = check_absolute_path("paths", p)
        if normal not in clean:
            clean.append(normal)
    return clean


async def _path_kind(
    client: ZerobyteClient, repo: Repository, snap: Snapshot, paths: list[str], target: str | None
) -> Literal["file", "dir"]:
    """Every path must exist in the snapshot and be of one kind (Zerobyte restores one kind per call)."""
    kinds: dict[str, str] = {}
    for path in paths:
        node = await _node(client, repo, snap, path)
        if node is None:
            raise await _not_in_snapshot(client, repo, snap, path)
        kinds[path] = "dir" if node.type == "dir" else "file"
    found = set(kinds.values())
    if len(found) > 1:
        raise ToolFailure("paths mixes files and folders: restore files and folders in separate calls.")
    kind: Literal["file", "dir"] = "dir" if found == {"dir"} else "file"
    if kind == "dir" and len(paths) > 1 and target is not None:
        raise ToolFailure(
            "Restore one folder per call: a folder's contents land directly in target_path, so two folders would mix."
        )
    return kind


async def _node(client: ZerobyteClient, repo: Repository, snap: Snapshot, path: str) -> SnapshotNode | None:
    """The snapshot's entry at exactly ``path``; None when it holds nothing there."""
    try:
        page = await client.list_snapshot_files(repo.shortId, snap.short_id, path, limit=1)
    except ZerobyteError:
        return None
    return next((n for n in page.files if n.path.rstrip("/") == path.rstrip("/")), None)


async def _not_in_snapshot(client: ZerobyteClient, repo: Repository, snap: Snapshot, path: str) -> ToolFailure:
    """The refusal for a path the snapshot lacks; it names the full path when ``path`` was one inside the volume.

    Snapshots hold the volume's full path on the Zerobyte server (/data/photos/2026/tax.pdf), while people
    think of a file's place inside the volume (/2026/tax.pdf).
    """
    roots = [p for p in snap.paths if p.rstrip("/")]
    for root in roots[:3]:
        full = f"{root.rstrip('/')}/{path.lstrip('/')}"
        if full != path and await _node(client, repo, snap, full) is not None:
            return ToolFailure(
                f"{path!r} is not in snapshot {snap.short_id}, but {full!r} is (snapshots hold the volume's full path "
                "on the server): call again with that path. Nothing was restored."
            )
    held = ", ".join(repr(p) for p in roots) or "'/'"
    return ToolFailure(
        f"{path!r} is not in snapshot {snap.short_id} (it holds {held}): list_snapshot_files or find_file shows "
        "what it holds. Nothing was restored."
    )


def _landing(paths: list[str], kind: str, target: str | None) -> list[str]:
    """Where each path lands, one line per path (see ``_destinations``)."""
    if target is None:
        return [f"{p} (original location)" for p in paths]
    return [
        f"{p} -> {dest}" if kind == "file" else f"contents of {p.rstrip('/')}/ -> {dest.rstrip('/')}/"
        for p, dest in zip(paths, _destinations(paths, kind, target), strict=True)
    ]


def _destinations(paths: list[str], kind: str, target: str | None) -> list[str]:
    """Where Zerobyte puts each path: below the target, relative to the paths' common folder.

    One file lands directly in the target; one folder's CONTENTS do; several paths keep their layout below
    their common folder (``/a/x.txt`` and ``/a/b/y.txt`` into ``/t`` give ``/t/x.txt`` and ``/t/b/y.txt``)."""
    if target is None:
        return list(paths)
    if len(paths) == 1:
        return [posixpath.join(target, posixpath.basename(paths[0])) if kind == "file" else target]
    ancestor = posixpath.commonpath(paths)
    return [posixpath.join(target, posixpath.relpath(p, ancestor)) for p in paths]


def _restore_body(snapshot_id: str, paths: list[str], kind: str, target: str | None, overwrite: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "snapshotId": snapshot_id,
        "include": paths,
        "selectedItemKind": kind,
        "overwrite": overwrite,
    }
    if target is not None:
        body["targetPath"] = target
    return body


async def _do_restore(
    ctx: Ctx, client: ZerobyteClient, source: _Source, overwrite: str, wait: bool, wait_seconds: float | None
) -> RestoreResult:
    repo, snap, body, landed = source.repo, source.snap, source.body(overwrite), source.landing()
    what = f"A restore of snapshot {snap.short_id}"
    started = await start(client, client.restore(repo.shortId, body), what, "restore", "repository", repo.shortId)
    where = body.get("targetPath") or "the original location"
    if not (await app_of(ctx).get_capabilities()).tasks_api:
        # v0.40 names a restore id, but there is no task behind it to follow.
        step = (
            f"This Zerobyte (v0.40) has no tasks API, so the restore cannot be followed: look for the files in "
            f"{where} in a while (see landed); upgrade Zerobyte to v0.41+ to follow restores."
        )
        view = TaskOutcome(
            id=f"{started.taskId} (restore id; no task on v0.40)",
            kind="restore",
            status="started",
            outcome="running",
            target=f"repository {repo.name!r} ({repo.shortId})",
            next_step=step,
        )
        message = f"Restore of snapshot {snap.short_id} into {where} started; Zerobyte v0.40 cannot report its end."
        return RestoreResult(outcome="running", message=message, task=view, landed=landed)
    outcome, final = await run_task(ctx, started, "restore", {repo.shortId: repo.name}, wait, wait_seconds)
    if final is not None and outcome.outcome == "success":
        return _restore_report(outcome, snap, body, landed)
    message = unfinished(f"Restore of snapshot {snap.short_id} into {where}", outcome)
    return RestoreResult(outcome=outcome.outcome, message=message, task=outcome, landed=landed)


def _restore_report(outcome: TaskOutcome, snap: Snapshot, body: dict[str, Any], planned: list[str]) -> RestoreResult:
    """What a finished restore really wrote, from restic's summary.

    restic leaves existing files alone (overwrite=never, or identical content) and says so only in its
    counters: a restore over an existing file ends "succeeded" with 0 files restored. Its ``files_restored``
    also counts the folders it created, so for folders the answer speaks of bytes and skipped files only."""
    target = body.get("targetPath")
    where = target or "the original location"
    kind, overwrite = body["selectedItemKind"], body.get("overwrite") or "always"
    counts = outcome.result
    head = f"from snapshot {snap.short_id} into {where}"
    if counts is None or (counts.files_restored, counts.files_skipped, counts.restored_bytes) == (None, None, None):
        return RestoreResult(outcome="success", message=f"Restored {head}.", task=outcome, landed=planned)
    # restic leaves zero counters out of its summary.
    restored, skipped = counts.files_restored or 0, counts.files_skipped or 0
    if kind == "file":
        written: int | None = 0 if restored == 0 else max(0, len(planned) - skipped)
        kept = len(planned) - (written or 0)
        nothing = written == 0
    else:
        written = None  # restic's count mixes files and folders; a folder restore reports bytes instead
        nothing = restored == 0 or (skipped > 0 and not counts.restored_bytes)
        kept = skipped
    counts.files_restored, counts.files_skipped = written, kept or None
    state, advice = {
        "never": ("already exists", "; restore into a new folder (a target_path that does not exist yet)"),
        "if-newer": ("is not older than the snapshot's version", " (overwrite=if-newer keeps it)"),
    }.get(overwrite, ("is already identical to the snapshot's version", ""))
    if nothing:
        places = ", ".join(_destinations(body["include"], kind, target))
        lines = [f"{line}: {state}" for line in planned]
        if overwrite in ("always", "if-changed"):
            # Identical content is what the restore asked for: done, with nothing to write.
            message = f"Nothing to write: {places} {state} ({head})."
            return RestoreResult(outcome="success", message=message, task=outcome, not_restored=lines)
        message = f"Not restored: {state} at {places}{advice}. Nothing was written {head}."
        return RestoreResult(outcome="skipped", message=message, task=outcome, not_restored=lines)
    size = f" ({_bytes(counts.restored_bytes)} written)"
    if kept == 0:
        amount = f"{written} file(s)" if written is not None else "the folder's contents"
        message = f"Restored {amount} {head}{'' if written is not None else size}."
        return RestoreResult(outcome="success", message=message, task=outcome, landed=planned)
    amount = f"{written} of {len(planned)} files" if written is not None else "part of the folder"
    identical = overwrite in ("always", "if-changed")  # what was left alone already matches the snapshot
    tail = (
        f"{kept} file(s) already identical to the snapshot's version, left as they were"
        if identical
        else f"{kept} file(s) not restored: {state} in {where}{advice}"
    )
    message = f"Restored {amount} {head}{'' if written is not None else size}; {tail}."
    result = "success" if identical else "partial"
    if kind == "file":
        # restic does not say which of the files it kept, so none is claimed as written.
        return RestoreResult(
            outcome=result, message=message, task=outcome, not_restored=[f"{kept} of: {', '.join(planned)}"]
        )
    return RestoreResult(
        outcome=result,
        message=message,
        task=outcome,
        landed=[f"{line} (except {kept} existing file(s))" for line in planned],
        not_restored=[f"{kept} file(s) in {where}: {state}"],
    )


def _bytes(value: int | None) -> str:
    return human_bytes(value) or "0 B"
