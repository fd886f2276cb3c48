"""What every request reaches through ``ctx``: the process's settings, Zerobyte client, audit log and
confirmation tokens.

A leaf module (it imports config, audit, tokens and the Zerobyte client, never tools or the server), so
the tool machinery, confirmation and following can all type ``ctx`` precisely without import cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context

from .config import Settings
from .safety.audit import AuditLog
from .safety.tokens import ConfirmationStore
from .zerobyte import Capabilities, ZerobyteClient

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from .catalog import Catalog, DrillRecord

__all__ = ["AppContext", "Ctx", "app_of", "client_of"]


@dataclass
class AppContext:
    """Built once per process by the server's lifespan; every session shares it."""

    settings: Settings
    client: ZerobyteClient
    audit: AuditLog | None = None
    capabilities: Capabilities | None = None
    exposed: frozenset[str] = frozenset()  # the tools this server registered (access level, allow/deny)
    # The registered tools tools/list leaves out (this Zerobyte cannot serve them): decided on the first listing.
    unlisted: frozenset[str] | None = None
    confirmations: ConfirmationStore = field(init=False)
    background: TaskGroup | None = None  # lives as long as the server: catalog indexing runs here
    catalog: Catalog | None = None

    def __post_init__(self) -> None:
        # Its key is random per process and never leaves memory: a restart voids every token.
        self.confirmations = ConfirmationStore(self.settings.confirm_ttl_seconds)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The exact strings no answer may carry: the API key and the HTTP bearer token."""
        return tuple(s.reveal() for s in (self.settings.api_key, self.settings.http_token) if s is not None)

    async def get_capabilities(self) -> Capabilities:
        if self.capabilities is None:
            self.capabilities = await self.client.detect_capabilities()
        return self.capabilities

    def get_catalog(self) -> Catalog | None:
        """The snapshot catalog (opened on first use), or None when it is off or its file is unusable."""
        if self.settings.catalog_path is None:
            return None
        if self.catalog is None:
            from .catalog import Catalog

            self.catalog = Catalog(self.settings.catalog_path, self.client)
            if self.background is not None:
                from .catalog.watch import watch_backups

                self.background.start_soon(self.catalog.indexer.run)
                self.background.start_soon(watch_backups, self.catalog.indexer)
        return self.catalog if self.catalog.usable else None

    def kept_drills(self, limit: int = 500) -> list[DrillRecord] | None:
        """The restore drills kept for this Zerobyte in the catalog file, newest first (read without starting the
        catalog's indexer: no Zerobyte request); None when there is no usable catalog file."""
        from .catalog import CatalogStore, CatalogUnavailable

        path = self.settings.catalog_path
        if path is None:
            return None
        try:
            if self.catalog is not None:
                return self.catalog.store.drills(self.catalog.indexer.instance, limit)
            if not path.exists():
                return []
            store = CatalogStore(path)
            try:
                return store.drills(self.client.base_url, limit)
            finally:
                store.close()
        except CatalogUnavailable:
            return None


Ctx = Context[AppContext, Any]


def app_of(ctx: Ctx) -> AppContext:
    """The process's AppContext, from a request's Context."""
    app: AppContext = ctx.request_context.lifespan_context
    return app


def client_of(ctx: Ctx) -> ZerobyteClient:
    return app_of(ctx).client
