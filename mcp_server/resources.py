"""Read-only ``zerobyte://`` resources: the health report and the inventory as attachable JSON context.

Some clients attach resources to a conversation instead of calling tools. Each resource renders
exactly the compact JSON its read tool returns, by calling the tool's own function from the registry (a
tool function is a plain coroutine taking the request Context), so an agent sees one vocabulary either
way. The SDK passes that Context only to template resources; the server's ``read_resource`` renders the
static URIs here (:func:`read_static`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mcp.server import MCPServer
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.server.mcpserver.resources import Resource
from pydantic import BaseModel

from .answers.output import drop_empty, iso_from_ms, render_text
from .context import Ctx, app_of, client_of
from .safety.redact import redact_text, scrub_exact
from .tools.catalogue import entry
from .tools.registry import spec
from .zerobyte import InvalidArgument, NotFound, ZerobyteError

__all__ = ["JSON_MIME", "SNAPSHOTS_CAP", "STATIC", "read_static", "register_resources"]

JSON_MIME = "application/json"
SNAPSHOTS_CAP = 50
Produce = Callable[[Ctx], Awaitable[BaseModel]]
# The read tools whose answers the resources are; looked up in the catalogue (resources sit beside the tools,
# not on top of their modules), so each resource is its tool's answer by construction.
TOOLS = ("backup_health", "list_backup_jobs", "list_volumes", "list_repositories", "get_backup_job", "list_snapshots")


def _tool(name: str, **arguments: Any) -> Produce:
    async def produce(ctx: Ctx) -> BaseModel:
        return await spec(name).fn(ctx, **arguments)

    return produce


async def _active_tasks(ctx: Ctx) -> BaseModel:
    # Not list_active_tasks: on a Zerobyte without a tasks API that tool explains itself; here the
    # route's own "not found" becomes a resource error.
    from .answers.task_views import gather_active_tasks  # on first read: tools/list needs no task views

    return await gather_active_tasks(client_of(ctx))


class KeptDrill(BaseModel, defer_build=True):
    at: str | None
    repository: str
    snapshot: str | None = None
    job: str | None = None
    verdict: str
    files: int
    bytes: int
    seconds: float
    reason: str | None = None
    next_step: str | None = None


class DrillHistory(BaseModel, defer_build=True):
    drills: list[KeptDrill]
    note: str | None = None


async def _drills(ctx: Ctx) -> BaseModel:
    """The newest restore drills kept here (drill_backup writes them), from the catalog file: no Zerobyte request."""
    import anyio

    records = await anyio.to_thread.run_sync(app_of(ctx).kept_drills, SNAPSHOTS_CAP)
    if records is None:
        return DrillHistory(drills=[], note="no catalog file here (catalog_path is off or unusable): no drill is kept")
    drills = [
        KeptDrill(
            at=iso_from_ms(r.at_ms),
            repository=r.repository,
            snapshot=r.snapshot or None,
            job=r.job,
            verdict=r.verdict,
            files=r.files,
            bytes=r.bytes,
            seconds=r.seconds,
            reason=str(r.detail.get("reason") or "") or None,
            next_step=str(r.detail.get("next_step") or "") or None,
        )
        for r in records
    ]
    return DrillHistory(drills=drills, note=None if drills else "no drill yet: drill_backup runs one")


async def _render(ctx: Ctx, produce: Produce) -> str:
    """The tool-shaped compact JSON, with Zerobyte failures as resource errors agents can read (the API key
    and HTTP token scrubbed from both, as from every tool answer)."""
    secrets = app_of(ctx).secrets
    try:
        model = await produce(ctx)
    except InvalidArgument as exc:
        raise ResourceNotFoundError(redact_text(str(exc), secrets)) from None
    except NotFound as exc:
        if exc.route_missing:
            raise ResourceError(redact_text(str(exc), secrets)) from None
        raise ResourceNotFoundError(redact_text(str(exc), secrets)) from None
    except (ZerobyteError, ToolError) as exc:
        raise ResourceError(redact_text(str(exc), secrets)) from None
    text = render_text(drop_empty(model.model_dump(mode="json", by_alias=True, exclude_none=True)))
    return str(scrub_exact(text, secrets))


@dataclass(frozen=True)
class _Static:
    uri: str
    name: str
    title: str
    description: str
    produce: Produce


STATIC: tuple[_Static, ...] = (
    _Static(
        "zerobyte://health",
        "health",
        "Backup health",
        "One verdict (ok/warning/critical) for all backups, with problems and next steps (= backup_health).",
        _tool("backup_health"),
    ),
    _Static(
        "zerobyte://backup-jobs",
        "backup-jobs",
        "Backup jobs",
        "Every backup job: volume, repository, schedule, last run and status, next run.",
        _tool("list_backup_jobs"),
    ),
    _Static(
        "zerobyte://volumes",
        "volumes",
        "Volumes",
        "Every volume (backup source): backend, source, mount status, last error.",
        _tool("list_volumes"),
    ),
    _Static(
        "zerobyte://repositories",
        "repositories",
        "Repositories",
        "Every repository (restic destination): backend, location, status, stored size.",
        _tool("list_repositories"),
    ),
    _Static(
        "zerobyte://drills",
        "drills",
        "Restore drills",
        "The newest restore drills kept here (drill_backup): when, snapshot, verdict, files and bytes read back.",
        _drills,
    ),
    _Static(
        "zerobyte://tasks/active",
        "active-tasks",
        "Active tasks",
        "Queued, running and cancelling tasks with progress.",
        _active_tasks,
    ),
)


class _ContextResource(Resource):
    """A listed static resource whose content needs the request context (see :func:`read_static`)."""

    async def read(self) -> str:
        raise ResourceError(f"{self.uri} can only be read through an MCP request")


_BY_URI = {s.uri: s for s in STATIC}


async def read_static(uri: str, ctx: Ctx) -> ReadResourceContents | None:
    """The content of one of our static URIs, rendered with the request Context; None for other URIs.

    MCPServer passes Context only to template resources and refuses it on static ones, so the server's
    ``read_resource`` asks here first.
    """
    entry = _BY_URI.get(uri)
    if entry is None:
        return None
    return ReadResourceContents(content=await _render(ctx, entry.produce), mime_type=JSON_MIME)


def register_resources(server: MCPServer[Any]) -> None:
    """Register the zerobyte:// resources on ``server``."""
    missing = [name for name in TOOLS if (found := entry(name)) is None or found.level != "read"]
    if missing:
        raise RuntimeError(f"resources need the read tools {missing}")
    for s in STATIC:
        server.add_resource(
            _ContextResource(uri=s.uri, name=s.name, title=s.title, description=s.description, mime_type=JSON_MIME)
        )

    @server.resource(
        "zerobyte://backup-jobs/{job_id}",
        name="backup-job",
        title="Backup job",
        description="One backup job in full (= get_backup_job): schedule, runs, retention, rules, mirrors.",
        mime_type=JSON_MIME,
    )
    async def backup_job(job_id: str, ctx: Ctx) -> str:
        return await _render(ctx, _tool("get_backup_job", job_id=job_id))

    @server.resource(
        "zerobyte://repositories/{repository_id}/snapshots",
        name="repository-snapshots",
        title="Repository snapshots",
        description=f"Snapshots of a repository, newest first (at most {SNAPSHOTS_CAP}).",
        mime_type=JSON_MIME,
    )
    async def repository_snapshots(repository_id: str, ctx: Ctx) -> str:
        # The tool's first page: newest first, capped, with next_cursor for list_snapshots to go on.
        return await _render(ctx, _tool("list_snapshots", repository_id=repository_id, limit=SNAPSHOTS_CAP))
