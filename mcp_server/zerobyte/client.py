"""The Zerobyte client: typed async methods for every /api/v1 route an API key may call.

:class:`ZerobyteClient` is assembled from one route group per part of Zerobyte (:mod:`.system`,
:mod:`.volumes`, :mod:`.repositories`, :mod:`.snapshots`, :mod:`.backups`, :mod:`.tasks`) over one
:class:`~.http.HttpCore`. Each method validates its ids before building a URL, names the object in its
404 message, and parses the answer into the tolerant models of :mod:`.models`. The client knows nothing
of MCP. Org-member management and browser-only routes are deliberately absent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backups import BackupJobRoutes, NotificationRoutes
from .http import AnswerHook, HttpCore, KeySource, Timeouts
from .repositories import RepositoryRoutes
from .snapshots import DumpResult, SnapshotRoutes
from .system import Capabilities, SystemRoutes
from .tasks import TaskRoutes
from .volumes import VolumeRoutes

if TYPE_CHECKING:
    import httpx  # imported where used, as in .http (cold start)

__all__ = ["Capabilities", "DumpResult", "ZerobyteClient"]


class ZerobyteClient(
    SystemRoutes, VolumeRoutes, RepositoryRoutes, SnapshotRoutes, BackupJobRoutes, NotificationRoutes, TaskRoutes
):
    """Async client for Zerobyte's /api/v1 with an ``x-api-key``; use as an async context manager."""

    def __init__(
        self,
        base_url: str,
        api_key: str | KeySource,
        *,
        reload_key: KeySource | None = None,
        timeouts: Timeouts | None = None,
        verify: bool | str = True,
        transport: httpx.AsyncBaseTransport | None = None,
        max_attempts: int = 3,
        backoff: float = 0.25,
        on_answer: AnswerHook | None = None,
    ) -> None:
        source: KeySource = (lambda: api_key) if isinstance(api_key, str) else api_key
        self.http = HttpCore(
            base_url,
            source,
            reload_key=reload_key,
            timeouts=timeouts,
            verify=verify,
            transport=transport,
            max_attempts=max_attempts,
            backoff=backoff,
            on_answer=on_answer,
        )
        self.capabilities: Capabilities | None = None

    @property
    def base_url(self) -> str:
        return self.http.base_url

    async def __aenter__(self) -> ZerobyteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()
