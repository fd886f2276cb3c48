"""list_snapshot_files and read_snapshot_file: one folder of a snapshot, and the text of one file in it.

Zerobyte lists one snapshot folder per request, in pages of at most 500 entries counting the folder itself,
and dumps a file (or a folder, as a tar) in one restic run. Folder pages come from the local catalog when it
knows the folder, else from Zerobyte at 500-entry boundaries so its cache serves any page size; file reads
dump first and list only when the answer is ambiguous, refuse binary files and never show our own secrets.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, TypeVar

import anyio
from pydantic import BaseModel, Field

from ...answers.output import human_bytes, iso, iso_from_ms, iso_from_seconds, render_text
from ...safety.redact import quotes_secret
from ...zerobyte import NotFound, ZerobyteClient
from ...zerobyte.ids import check_absolute_path, check_short_id, check_snapshot_id
from ...zerobyte.models import SnapshotFilesPage, SnapshotNode, SnapshotRef
from ..base import Ctx, ToolFailure, app_of, client_of, tool
from .common import (
    PAGE_CAP,
    OptRepoArg,
    RepoArg,
    SnapArg,
    check_scope_args,
    file_mtime,
    resolve_scope,
    snapshots_in_scope,
)
from .indexing import FIND_WAIT, ask_again, wait_for

if TYPE_CHECKING:
    from ...catalog import Catalog

__all__ = ["FileEntry", "FileList", "SnapshotFileText", "list_snapshot_files", "read_snapshot_file"]

T = TypeVar("T")

MAX_FILE_BYTES = 1 << 20


class FileEntry(BaseModel, defer_build=True):
    name: str
    type: str
    size: int | None = None
    mtime: str | None = None
    path: str | None = None  # with largest: the file's full path


class FileList(BaseModel, defer_build=True):
    snapshot: str
    snapshot_time: str | None = None
    path: str
    entries: list[FileEntry]
    total: int
    next_offset: int | None = None
    complete: bool | None = None  # with largest: the whole snapshot was indexed, so these are the biggest
    note: str | None = None


class SnapshotFileText(BaseModel, defer_build=True):
    snapshot: str
    snapshot_time: str | None = None
    size: int | None = None
    mtime: str | None = None
    truncated: bool = False
    text: str
    note: str | None = None


# --- list_snapshot_files ---------------------------------------------------------------------------------


@tool(title="List snapshot files")
async def list_snapshot_files(
    ctx: Ctx,
    repository_id: RepoArg,
    snapshot_id: SnapArg,
    path: Annotated[str | None, Field(description="Folder (default: the snapshot's first path)")] = None,
    offset: Annotated[int, Field(description="next_offset from the last page", ge=0)] = 0,
    limit: Annotated[int, Field(ge=1, le=PAGE_CAP)] = 100,
    largest: Annotated[
        int | None, Field(description="Instead: the N biggest files under path, any depth", ge=1, le=100)
    ] = None,
) -> FileList:
    """One folder of a snapshot (not recursive): name, type, size, mtime of each entry; paged."""
    rid = check_short_id("repository_id", repository_id)
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    folder = check_absolute_path("path", path) if path is not None else None
    client = client_of(ctx)
    if largest is not None:
        return await _largest(ctx, rid, sid, folder or "/", largest)
    if folder is None:
        snap = await client.get_snapshot(rid, sid)
        if not snap.paths:
            raise ToolFailure(f"Snapshot {sid} reports no paths: give path (e.g. '/').")
        folder = snap.paths[0]
    page = await _folder_window(ctx, rid, sid, folder, offset, limit)
    # Zerobyte lists the folder itself before its children; offsets count it.
    own = [f for f in page.files if f.path == folder]
    children = [f for f in page.files if f.path != folder]
    if own and own[0].type != "dir" and not children:
        node = own[0]
        raise ToolFailure(
            f"{folder!r} in snapshot {sid} is a {node.type} ({_size_text(node.size)}), not a folder: read it with "
            f"read_snapshot_file or list its parent {posixpath.dirname(folder)!r}."
        )
    total = page.total if page.total is not None else offset + len(page.files)
    if not page.files and offset == 0:
        raise await _missing(client, rid, sid, folder)
    self_counted = (1 if own else 0) if offset == 0 else (1 if folder != "/" and total > 0 else 0)
    entries, consumed = _fit_page(page.files, folder, app_of(ctx).settings.max_response_chars - 2000)
    seen = offset + consumed
    next_offset = seen if (page.hasMore or seen < total) and page.files else None
    ref = page.snapshot
    return FileList(
        snapshot=(ref.short_id if ref and ref.short_id else sid),
        snapshot_time=iso(ref.time) if ref else None,
        path=folder,
        entries=entries,
        total=max(total - self_counted, 0),
        next_offset=next_offset,
    )


async def _largest(ctx: Ctx, rid: str, sid: str, folder: str, count: int) -> FileList:
    """The biggest files of one snapshot under ``folder``, from the catalog (the snapshot indexed first if need be,
    waiting as find_file does); complete says the whole snapshot was read."""
    from ...catalog import CatalogUnavailable

    client = client_of(ctx)
    snap = await client.get_snapshot(rid, sid)
    catalog = app_of(ctx).get_catalog()
    if catalog is None:
        raise ToolFailure(
            "largest answers from the local snapshot catalog, which is off on this server (catalog setting); "
            "list folders one by one with list_snapshot_files instead."
        )
    try:
        row = catalog.indexer.known(rid, [snap]).get(snap.short_id)
        if row is None or not row.complete:
            works = catalog.indexer.want(rid, [snap])
            await wait_for(ctx, works, FIND_WAIT)
            row = works[0].row
            if works[0].error:
                raise ToolFailure(f"Snapshot {snap.short_id} could not be indexed: {works[0].error}")
        if row is None or not row.complete:
            return FileList(
                snapshot=snap.short_id,
                snapshot_time=iso_from_ms(snap.time),
                path=folder,
                entries=[],
                total=0,
                complete=False,
                note=f"Snapshot {snap.short_id} is being indexed: call again in about {ask_again(catalog, [snap])} s.",
            )
        found, files = await anyio.to_thread.run_sync(catalog.store.largest, row.id, count, folder)
    except CatalogUnavailable as exc:
        raise ToolFailure(f"The local catalog is unusable ({exc}); list folders with list_snapshot_files.") from None
    if not found and files == 0:
        raise ToolFailure(
            f"No files under {folder!r} in snapshot {snap.short_id} (its paths: {', '.join(snap.paths) or 'none'})."
        )
    return FileList(
        snapshot=snap.short_id,
        snapshot_time=iso_from_ms(snap.time),
        path=folder,
        entries=[
            FileEntry(
                name=posixpath.basename(e.path), type=e.kind, size=e.size, mtime=iso_from_seconds(e.mtime), path=e.path
            )
            for e in found
        ],
        total=files,
        complete=True,
        note=f"The {len(found)} biggest of {files} file(s) under {folder}, biggest first.",
    )


async def _folder_window(ctx: Ctx, rid: str, sid: str, folder: str, offset: int, limit: int) -> SnapshotFilesPage:
    """Entries ``offset`` to ``offset + limit`` of a folder as Zerobyte counts them (the folder itself first).

    From the catalog when it knows the folder; otherwise from Zerobyte's pages of 500 at offsets that are
    multiples of 500, whatever the page size asked: Zerobyte caches each (offset, limit) it answered, so
    paging through a folder at any size costs one restic run per 500 entries.
    """
    known = await _catalog_folder(ctx, rid, sid, folder)
    if known is not None:
        nodes, ref = known
        window = nodes[offset : offset + limit]
        return SnapshotFilesPage(
            snapshot=ref,
            files=window,
            offset=offset,
            limit=limit,
            total=len(nodes),
            hasMore=offset + limit < len(nodes),
        )
    client = client_of(ctx)
    start = offset - offset % PAGE_CAP
    try:
        first = await client.list_snapshot_files(rid, sid, folder, offset=start, limit=PAGE_CAP)
        nodes = list(first.files)
        total = first.total if first.total is not None else start + len(nodes)
        if len(nodes) == PAGE_CAP and offset - start + limit > PAGE_CAP and (first.hasMore or start + PAGE_CAP < total):
            second = await client.list_snapshot_files(rid, sid, folder, offset=start + PAGE_CAP, limit=PAGE_CAP)
            nodes.extend(second.files)
    except NotFound:
        raise await _missing(client, rid, sid, folder) from None
    window = nodes[offset - start : offset - start + limit]
    return SnapshotFilesPage(
        snapshot=first.snapshot,
        files=window,
        offset=offset,
        limit=limit,
        total=total,
        hasMore=offset + len(window) < total,
    )


async def _ask_catalog(ctx: Ctx, question: Callable[[Catalog], T | None]) -> T | None:
    """``question`` answered by the local catalog off the event loop; None when it is off or unusable."""
    from ...catalog import CatalogUnavailable

    catalog = app_of(ctx).get_catalog()
    if catalog is None:
        return None
    try:
        return await anyio.to_thread.run_sync(question, catalog)
    except CatalogUnavailable:
        return None


async def _catalog_folder(ctx: Ctx, rid: str, sid: str, folder: str) -> tuple[list[SnapshotNode], SnapshotRef] | None:
    """A folder's entries (itself first, as Zerobyte lists it) from the catalog, or None when it does not
    know the whole folder."""

    def look(catalog: Catalog) -> tuple[list[SnapshotNode], SnapshotRef] | None:
        row = catalog.snapshot(rid, sid)
        if row is None:
            return None
        entries = catalog.folder(row, folder)
        if entries is None:
            return None
        nodes = [] if folder == "/" else [SnapshotNode(name=posixpath.basename(folder), type="dir", path=folder)]
        nodes += [
            SnapshotNode(
                name=posixpath.basename(e.path), type=e.kind, path=e.path, size=e.size, mtime=iso_from_seconds(e.mtime)
            )
            for e in entries
        ]
        return nodes, SnapshotRef(id=row.full_id, short_id=row.short_id, time=iso_from_ms(row.time_ms))

    return await _ask_catalog(ctx, look)


def _fit_page(files: Sequence[SnapshotNode], folder: str, budget: int) -> tuple[list[FileEntry], int]:
    """The folder's children that fit the answer size, and how many of Zerobyte's entries that consumed.

    A full 500-entry page of long names can exceed max_response_chars; cutting it here (not in the generic
    guard) keeps next_offset exact, so paging on never skips an entry.
    """
    kept: list[FileEntry] = []
    used = 0
    for index, node in enumerate(files):
        if node.path == folder:
            continue
        entry = _entry(node)
        size = len(render_text(entry.model_dump(mode="json", exclude_none=True))) + 1
        if kept and used + size > budget:
            return kept, index
        kept.append(entry)
        used += size
    return kept, len(files)


def _entry(node: SnapshotNode) -> FileEntry:
    return FileEntry(name=node.name, type=node.type, size=node.size, mtime=file_mtime(node.mtime))


async def _missing(client: ZerobyteClient, rid: str, sid: str, path: str) -> ToolFailure:
    """Say whether the snapshot or only the path is missing (a 404 from the files route means either)."""
    try:
        snap = await client.get_snapshot(rid, sid)
    except NotFound:
        return ToolFailure(
            f"Snapshot {sid!r} was not found in repository {rid!r}: list_snapshots shows the existing ones."
        )
    roots = ", ".join(repr(p) for p in snap.paths) or "'/'"
    return ToolFailure(
        f"{path!r} is not in snapshot {snap.short_id} (it holds {roots}): check the folder with "
        "list_snapshot_files, or search with find_file."
    )


def _size_text(size: int | None) -> str:
    return human_bytes(size) or "size unknown"


# --- read_snapshot_file ----------------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive (or docx/xlsx/odt)"),
    (b"\x1f\x8b", "gzip data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ", "xz data"),
    (b"(\xb5/\xfd", "zstd data"),
    (b"7z\xbc\xaf", "7-Zip archive"),
    (b"\x7fELF", "ELF executable"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"RIFF", "RIFF media (wav/avi/webp)"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
)


def _guess_type(data: bytes, path: str) -> str:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[4:8] == b"ftyp":
        return "MP4/MOV/HEIC media"
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "binary data"


def _as_text(data: bytes) -> tuple[str | None, int]:
    """Decoded text and the number of bytes replaced, or None when the data looks binary."""
    if b"\x00" in data[:8192]:
        return None, 0
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            # The byte cap cut a multi-byte character in two.
            try:
                return data[: exc.start].decode("utf-8"), 0
            except UnicodeDecodeError:
                pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad > max(8, len(text) // 50):
        return None, bad
    return text, bad


async def _listed_node(
    client: ZerobyteClient, rid: str, sid: str, path: str
) -> tuple[SnapshotNode, SnapshotRef | None]:
    """The listed entry at ``path`` if it is a regular file; otherwise the refusal that says what it is."""
    try:
        page = await client.list_snapshot_files(rid, sid, path, limit=1)
    except NotFound:
        raise await _missing(client, rid, sid, path) from None
    node = page.files[0] if page.files else None
    if node is None or (node.path != path and not node.path.startswith(path + "/")):
        raise await _missing(client, rid, sid, path)
    if node.path != path or node.type == "dir":
        raise ToolFailure(
            f"{path!r} is a folder in snapshot {sid}: list it with list_snapshot_files, or find files with find_file."
        )
    if node.type != "file":
        raise ToolFailure(f"{path!r} in snapshot {sid} is a {node.type}, not a regular file; nothing to read.")
    return node, page.snapshot


async def _catalog_node(ctx: Ctx, rid: str, sid: str, path: str) -> SnapshotNode | None:
    """The catalog's entry for a regular file (its size and mtime), when the snapshot is indexed."""

    def look(catalog: Catalog) -> SnapshotNode | None:
        row = catalog.snapshot(rid, sid)
        entry = catalog.entry(row, path) if row is not None else None
        if entry is None or entry.kind != "file":
            return None
        return SnapshotNode(
            name=posixpath.basename(path), type="file", path=path, size=entry.size, mtime=iso_from_seconds(entry.mtime)
        )

    return await _ask_catalog(ctx, look)


def _folder_tar(data: bytes, path: str) -> bool:
    """Whether a dump answer is the tar Zerobyte sends for a folder (its first member is ``<name>/...``)."""
    if len(data) < 512 or data[257:262] != b"ustar":
        return False
    stored = data[148:156].split(b"\0", 1)[0].strip(b" \0")
    try:
        checksum_ok = int(stored or b"-1", 8) == sum(data[:148]) + 256 + sum(data[156:512])
    except ValueError:
        return False
    name = data[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
    return checksum_ok and (name.startswith(posixpath.basename(path) + "/") or data[156:157] in (b"x", b"5"))


@tool(title="Read snapshot file")
async def read_snapshot_file(
    ctx: Ctx,
    snapshot_id: Annotated[str, Field(description="Snapshot id or 'latest'")],
    path: Annotated[str, Field(description="Absolute file path")],
    repository_id: OptRepoArg = None,
    backup_job_id: Annotated[str | None, Field(description="Backup job id (for 'latest')")] = None,
    max_bytes: Annotated[int, Field(description="Max bytes to read", ge=1, le=MAX_FILE_BYTES)] = 65536,
) -> SnapshotFileText:
    """Text of a small file in a snapshot ('latest' = newest); binary files are refused."""
    rid, jid = check_scope_args(repository_id, backup_job_id)
    latest = snapshot_id.strip().lower() == "latest"
    sid = None if latest else check_snapshot_id("snapshot_id", snapshot_id)
    clean = check_absolute_path("path", path, allow_root=False)
    client = client_of(ctx)
    if jid is not None or latest:
        scope = await resolve_scope(client, rid, jid, need_jobs=jid is not None)
        rid = scope.repository_id
        if latest:
            snaps = await snapshots_in_scope(client, scope)
            if not snaps:
                whose = f"backup job {scope.job.shortId!r}" if scope.job else f"repository {rid!r}"
                raise ToolFailure(f"There is no snapshot of {whose} yet, so there is no 'latest'.")
            sid = snaps[0].short_id
    assert rid is not None and sid is not None
    # Dump first: one restic run. Zerobyte answers a path the snapshot lacks with 200 and no bytes, and a
    # folder with a tar, so only an empty or tar-looking answer is checked with a listing.
    try:
        dump = await client.dump_snapshot(rid, sid, clean, kind="file", max_bytes=max_bytes)
    except NotFound:
        raise await _missing(client, rid, sid, clean) from None
    node: SnapshotNode | None = await _catalog_node(ctx, rid, sid, clean)
    ref: SnapshotRef | None = None
    if not dump.data or (node is None and _folder_tar(dump.data, clean)):
        node, ref = await _listed_node(client, rid, sid, clean)
    if quotes_secret(dump.data, app_of(ctx).secrets):
        # The key file often sits in a backed-up home (~/.config/zerobyte-mcp/key): the agent must not read it back.
        raise ToolFailure(
            f"Refused: {clean!r} in snapshot {sid} contains this server's Zerobyte API key or HTTP token, which no "
            "agent may read. Nothing is shown; the user can restore it themselves if needed."
        )
    size = node.size if node is not None else (None if dump.truncated else len(dump.data))
    truncated = dump.truncated or (size is not None and size > len(dump.data))
    text, replaced = _as_text(dump.data)
    if text is None:
        raise ToolFailure(
            f"{clean!r} in snapshot {sid} is binary ({_guess_type(dump.data, clean)}, {_size_text(size)}): it cannot "
            "be shown as text; restore it to a folder instead."
        )
    notes: list[str] = []
    if truncated:
        notes.append(
            f"Truncated: first {len(dump.data)} of {size if size is not None else 'more'} bytes; raise max_bytes "
            f"(max {MAX_FILE_BYTES}) or restore the file."
        )
    if replaced:
        notes.append(f"{replaced} byte sequence(s) were not UTF-8 and show as U+FFFD.")
    return SnapshotFileText(
        snapshot=ref.short_id if ref and ref.short_id else sid,
        snapshot_time=iso(ref.time) if ref else None,
        size=size,
        mtime=file_mtime(node.mtime) if node is not None else None,
        truncated=truncated,
        text=text,
        note=" ".join(notes) or None,
    )
