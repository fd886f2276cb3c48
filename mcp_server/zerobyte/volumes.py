"""The client's volume routes: the sources Zerobyte backs up (a local directory or a mounted share).

Creating, changing, mounting and health-checking a volume makes Zerobyte mount it before it answers, so
those calls use the long timeout; a failed mount is a result (``MountResult`` with ``status="error"``),
not an exception. Also here: the files of a volume and the server's own filesystem, for picking a path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Routes, on_volume, page_params
from .errors import Subject, ZerobyteError
from .http import HttpCore
from .ids import check_absolute_path
from .models import FilesystemBrowse, Message, MountResult, TestConnectionResult, Volume, VolumeDetail, VolumeFilesPage

__all__ = ["VolumeRoutes"]


class VolumeRoutes(Routes):
    async def list_volumes(self) -> list[Volume]:
        return await self._get_list("/volumes", Volume)

    async def get_volume(self, volume_id: str) -> VolumeDetail:
        vid, what = on_volume(volume_id)
        return await self._get(HttpCore.path("/volumes/{v}", v=vid), VolumeDetail, what=what)

    async def create_volume(self, name: str, config: Mapping[str, Any]) -> Volume:
        # Zerobyte mounts synchronously before answering: a slow NFS/SMB mount needs the long timeout.
        return await self._send("POST", "/volumes", Volume, body={"name": name, "config": dict(config)}, heavy=True)

    async def update_volume(self, volume_id: str, changes: Mapping[str, Any]) -> Volume:
        vid, what = on_volume(volume_id)
        return await self._send(
            "PUT", HttpCore.path("/volumes/{v}", v=vid), Volume, body=dict(changes), what=what, heavy=True
        )

    async def delete_volume(self, volume_id: str) -> Message:
        vid, what = on_volume(volume_id)
        return await self._send("DELETE", HttpCore.path("/volumes/{v}", v=vid), Message, what=what)

    async def test_volume_connection(self, config: Mapping[str, Any]) -> TestConnectionResult:
        return await self._send(
            "POST", "/volumes/test-connection", TestConnectionResult, body={"config": dict(config)}, heavy=True
        )

    async def mount_volume(self, volume_id: str) -> MountResult:
        return await self._volume_action(volume_id, "mount")

    async def unmount_volume(self, volume_id: str) -> MountResult:
        return await self._volume_action(volume_id, "unmount")

    async def health_check_volume(self, volume_id: str) -> MountResult:
        return await self._volume_action(volume_id, "health-check")

    async def _volume_action(self, volume_id: str, action: str) -> MountResult:
        vid, what = on_volume(volume_id)
        path = HttpCore.path("/volumes/{v}/" + action, v=vid)
        try:
            return await self._send("POST", path, MountResult, what=what, heavy=True)
        except ZerobyteError as exc:
            # Mount/unmount failures answer 500 {status:"error", error}: a result, not a crash.
            upstream = getattr(exc, "upstream_message", None)
            if getattr(exc, "status", None) == 500 and upstream:
                return MountResult(status="error", error=upstream)
            raise

    async def list_volume_files(
        self, volume_id: str, path: str | None = None, *, offset: int | None = None, limit: int | None = None
    ) -> VolumeFilesPage:
        """One directory of a volume (path relative to the volume root), paged (Zerobyte caps at 500)."""
        vid, what = on_volume(volume_id)
        params = page_params(offset, limit, 500)
        if path is not None and path not in ("", "/"):
            params["path"] = check_absolute_path("path", path if path.startswith("/") else "/" + path)
        return await self._get(HttpCore.path("/volumes/{v}/files", v=vid), VolumeFilesPage, params=params, what=what)

    async def browse_filesystem(self, path: str = "/") -> FilesystemBrowse:
        return await self._get(
            "/volumes/filesystem/browse",
            FilesystemBrowse,
            params={"path": check_absolute_path("path", path)},
            what=Subject("directory", f"Directory {path!r}"),
        )
