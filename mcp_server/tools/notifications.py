"""Notification destination tools: where Zerobyte reports backup results (email, Slack, ntfy, webhooks...).

Destinations hold the most secrets of any Zerobyte object (bot tokens, webhook URLs that are themselves
credentials, Authorization headers), so every config shown here passes through :func:`redact` first.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..answers.concurrency import gather
from ..answers.output import iso_from_ms
from ..safety.redact import redact, redact_text
from ..zerobyte.models import NotificationDestination
from .base import Ctx, client_of, tool

__all__ = [
    "DestinationDetail",
    "DestinationList",
    "DestinationSummary",
    "destination_summary",
    "get_notification_destination",
    "list_notification_destinations",
]

# Routing is only readable per backup job; past this many jobs the lookups cost more than they tell.
MAX_ROUTING_LOOKUPS = 25


class DestinationSummary(BaseModel, defer_build=True):
    id: int
    name: str
    type: str | None = Field(None, description="email, slack, discord, ntfy, generic...")
    enabled: bool | None = None
    status: str | None = Field(None, description="healthy, error or unknown")
    last_checked: str | None = None
    last_error: str | None = None


class DestinationList(BaseModel, defer_build=True):
    destinations: list[DestinationSummary]
    total: int


def destination_summary(d: NotificationDestination) -> DestinationSummary:
    return DestinationSummary(
        id=d.id,
        name=d.name,
        type=d.type or d.config.get("type"),
        enabled=d.enabled,
        status=d.status,
        last_checked=iso_from_ms(d.lastChecked),
        last_error=redact_text(d.lastError) if d.lastError else None,
    )


@tool(title="List notification destinations")
async def list_notification_destinations(ctx: Ctx) -> DestinationList:
    """Notification destinations (email, Slack, ntfy, webhook...): status, last error."""
    destinations = await client_of(ctx).list_destinations()
    return DestinationList(destinations=[destination_summary(d) for d in destinations], total=len(destinations))


class JobRoute(BaseModel, defer_build=True):
    id: str
    name: str
    events: list[str] = Field([], description="start, success, warning, failure")


class DestinationDetail(DestinationSummary):
    config: dict[str, Any] = Field(default_factory=dict, description="Secrets shown as <redacted>")
    backup_jobs: list[JobRoute] = []
    note: str | None = None


def shown_config(dest: NotificationDestination) -> dict[str, Any]:
    """A destination's config as agents may see it: secrets redacted (a generic webhook's URL included)."""
    config = dict(dest.config)
    # The redactor hides a generic webhook's URL only when it can see the type inside the config.
    config.setdefault("type", dest.type)
    shown: dict[str, Any] = redact(config)  # type: ignore[assignment]
    return shown


@tool(title="Get notification destination")
async def get_notification_destination(
    ctx: Ctx,
    destination_id: Annotated[int, Field(ge=1)],
) -> DestinationDetail:
    """A notification destination: settings (secrets redacted), status, jobs notifying it."""
    client = client_of(ctx)
    dest, jobs = await gather([client.get_destination(destination_id), client.list_backup_jobs()])
    shown = shown_config(dest)
    routes: list[JobRoute] = []
    note = None
    if len(jobs) > MAX_ROUTING_LOOKUPS:
        note = f"Routing not checked for {len(jobs)} backup jobs: see get_backup_job for one job's notifications."
    elif jobs:
        assignments = await gather(client.get_job_notifications(j.shortId) for j in jobs)
        for job, listed in zip(jobs, assignments, strict=True):
            for a in listed:
                if a.destinationId != dest.id:
                    continue
                routes.append(JobRoute(id=job.shortId, name=job.name, events=a.events))
    return DestinationDetail(**destination_summary(dest).model_dump(), config=shown, backup_jobs=routes, note=note)
