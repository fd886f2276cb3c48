"""The client's snapshot routes: listing, browsing, reading (dump) and restoring snapshots, and removing them.

Zerobyte URL-decodes a snapshot path in the files and dump queries a second time, so paths are encoded
once more here (:func:`_decoded_twice`). A dump is streamed, never held whole unless asked for with a
byte limit. Deleting and retagging run as tasks, except on v0.40, which finishes before it answers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from .base import Routes, on_repository, page_params
from .errors import InvalidArgument, Subject, ZerobyteUnreachable
from .http import HttpCore
from .ids import check_absolute_path, check_short_id, check_snapshot_id, check_snapshot_ids
from .models import Message, RestoreStarted, Snapshot, SnapshotFilesPage, TaskStarted

__all__ = ["SNAPSHOT_FILES_PAGE_CAP", "DumpResult", "SnapshotRoutes"]

SNAPSHOT_FILES_PAGE_CAP = 500


@dataclass(frozen=True)
class DumpResult:
    data: bytes
    truncated: bool
    content_type: str | None


class SnapshotRoutes(Routes):
    async def list_snapshots(self, repository_id: str, *, backup_job_id: str | None = None) -> list[Snapshot]:
        """All snapshots of a repository, oldest first (Zerobyte has no paging or time filter)."""
        rid, what = on_repository(repository_id)
        params = {"backupId": check_short_id("backup_job_id", backup_job_id)} if backup_job_id else None
        return await self._get_list(
            HttpCore.path("/repositories/{r}/snapshots", r=rid), Snapshot, params=params, what=what
        )

    async def refresh_snapshots(self, repository_id: str) -> Message:
        rid, what = on_repository(repository_id)
        path = HttpCore.path("/repositories/{r}/snapshots/refresh", r=rid)
        return await self._send("POST", path, Message, heavy=True, what=what)

    async def get_snapshot(self, repository_id: str, snapshot_id: str) -> Snapshot:
        rid, sid, what = _on_snapshot(repository_id, snapshot_id)
        return await self._get(HttpCore.path("/repositories/{r}/snapshots/{s}", r=rid, s=sid), Snapshot, what=what)

    async def list_snapshot_files(
        self,
        repository_id: str,
        snapshot_id: str,
        path: str | None,
        *,
        offset: int | None = None,
        limit: int | None = None,
    ) -> SnapshotFilesPage:
        """Children of ``path`` in a snapshot (no path = recursive walk of everything: avoid)."""
        rid, sid, what = _on_snapshot(repository_id, snapshot_id)
        params = page_params(offset, limit, SNAPSHOT_FILES_PAGE_CAP)
        if path is not None:
            params["path"] = _decoded_twice(check_absolute_path("path", path))
        return await self._get(
            HttpCore.path("/repositories/{r}/snapshots/{s}/files", r=rid, s=sid),
            SnapshotFilesPage,
            params=params,
            what=what,
        )

    async def dump_snapshot(
        self, repository_id: str, snapshot_id: str, path: str, *, kind: Literal["file", "dir"], max_bytes: int
    ) -> DumpResult:
        """Read a file (or a folder as tar) from a snapshot, stopping after ``max_bytes``."""
        chunks: list[bytes] = []
        size = 0
        truncated = False
        async with (
            self._dump(repository_id, snapshot_id, path, kind, None, None, ": retry.") as (ctype, stream),
            aclosing(stream),
        ):
            async for chunk in stream:
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    truncated = True
                    break
        data = b"".join(chunks)
        return DumpResult(data=data[:max_bytes], truncated=truncated, content_type=ctype)

    @asynccontextmanager
    async def stream_snapshot_dump(
        self, repository_id: str, snapshot_id: str, path: str, *, kind: Literal["file", "dir"], read_timeout: float
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """The dump of ``path`` as a stream of chunks, never held whole (a folder is a tar of everything in it)."""
        async with self._dump(repository_id, snapshot_id, path, kind, read_timeout, 65536, ".") as (_, stream):
            yield stream

    @asynccontextmanager
    async def _dump(
        self,
        repository_id: str,
        snapshot_id: str,
        path: str,
        kind: str,
        read_timeout: float | None,
        chunk_size: int | None,
        broke_advice: str,
    ) -> AsyncIterator[tuple[str | None, AsyncGenerator[bytes, None]]]:
        """Open the dump of ``path``: its content type and its chunks (a broken transfer is ZerobyteUnreachable)."""
        import httpx

        rid, sid, _ = _on_snapshot(repository_id, snapshot_id)
        clean = check_absolute_path("path", path)
        if kind not in ("file", "dir"):
            raise InvalidArgument("kind", "must be 'file' or 'dir'")
        async with self.http.stream(
            "GET",
            HttpCore.path("/repositories/{r}/snapshots/{s}/dump", r=rid, s=sid),
            params={"path": _decoded_twice(clean), "kind": kind},
            read_timeout=read_timeout,
            what=Subject("file", f"{clean!r} in snapshot {sid!r}"),
        ) as response:

            async def chunks() -> AsyncGenerator[bytes, None]:
                try:
                    async for chunk in response.aiter_bytes(chunk_size):
                        yield chunk
                except httpx.HTTPError as exc:
                    raise ZerobyteUnreachable(
                        f"The download of {clean!r} from snapshot {sid} broke mid-transfer ({type(exc).__name__})"
                        + broke_advice,
                        kind="reset",
                    ) from exc

            yield response.headers.get("content-type"), chunks()

    async def restore(self, repository_id: str, body: Mapping[str, Any]) -> TaskStarted:
        rid, what = on_repository(repository_id)
        path = HttpCore.path("/repositories/{r}/restore", r=rid)
        started = await self._send("POST", path, RestoreStarted, body=dict(body), what=what)
        return TaskStarted(taskId=started.restoreId, status=started.status)

    async def delete_snapshot(self, repository_id: str, snapshot_id: str) -> TaskStarted | None:
        """Start deleting one snapshot; ``None`` on Zerobyte v0.40, which deletes before answering {message}."""
        rid, what = on_repository(repository_id)
        sid = check_snapshot_id("snapshot_id", snapshot_id)
        path = HttpCore.path("/repositories/{r}/snapshots/{s}", r=rid, s=sid)
        return await self._start("DELETE", path, "/repositories/{id}/snapshots/{snapshotId}", what=what)

    async def delete_snapshots(self, repository_id: str, snapshot_ids: Iterable[str]) -> TaskStarted | None:
        """Start deleting snapshots; ``None`` on Zerobyte v0.40, which deletes before answering {message}."""
        rid, what = on_repository(repository_id)
        body = {"snapshotIds": check_snapshot_ids("snapshot_ids", snapshot_ids)}
        path = HttpCore.path("/repositories/{r}/snapshots", r=rid)
        return await self._start("DELETE", path, "/repositories/{id}/snapshots", what=what, body=body)

    async def tag_snapshots(
        self,
        repository_id: str,
        snapshot_ids: Iterable[str],
        *,
        add: Iterable[str] | None = None,
        remove: Iterable[str] | None = None,
        set_tags: Iterable[str] | None = None,
    ) -> TaskStarted | None:
        """Start retagging; ``None`` on Zerobyte v0.40, which retags before answering {message}."""
        rid, what = on_repository(repository_id)
        body: dict[str, Any] = {"snapshotIds": check_snapshot_ids("snapshot_ids", snapshot_ids)}
        for key, values in (("add", add), ("remove", remove), ("set", set_tags)):
            if values is not None:
                body[key] = list(values)
        path = HttpCore.path("/repositories/{r}/snapshots/tag", r=rid)
        return await self._start("POST", path, "/repositories/{id}/snapshots/tag", what=what, body=body)


def _on_snapshot(repository_id: str, snapshot_id: str) -> tuple[str, str, Subject]:
    rid = check_short_id("repository_id", repository_id)
    sid = check_snapshot_id("snapshot_id", snapshot_id)
    return rid, sid, Subject("snapshot", f"Snapshot {sid!r} in repository {rid!r}")


def _decoded_twice(path: str) -> str:
    """A snapshot path for the files/dump query, which Zerobyte URL-decodes a second time.

    Without this, a name holding '%' is a 500 "URI malformed" or another file, and '%2e%2e' becomes '..'.
    """
    return path.replace("%", "%25")
