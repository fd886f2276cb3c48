"""Notification configuration tools: create, change and test destinations, and route job events to them.

A destination's settings come as flat arguments (``url``, ``secret``, ``target``, ``headers``, options)
mapped per type onto Zerobyte's notification config and checked before any request. Zerobyte's routing
PUT replaces a job's whole list, so ``route_notifications`` reads each job's routes and sends them back
with one destination's events changed. A failed test says whether the Zerobyte host or the settings are
at fault (:func:`delivery_failure`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field

from ...answers.concurrency import gather
from ...answers.notation import OptionKind, parse_options
from ...safety.audit import note
from ...zerobyte import ZerobyteClient
from ...zerobyte.errors import BadRequest, ServerError
from ...zerobyte.ids import check_destination_id, check_job_id
from ...zerobyte.models import NOTIFY_EVENTS, DestinationAssignment, NotificationDestination
from ..base import Ctx, ToolFailure, client_of, tool
from ..notifications import shown_config
from .common import SECRET, Change, DestinationId, Name, Options, OptName, check_name, clean, edits, given, reply

__all__ = [
    "create_notification_destination",
    "delivery_failure",
    "route_notifications",
    "update_notification_destination",
]

DestinationType = Literal["generic", "slack", "discord", "telegram", "ntfy", "gotify", "pushover", "email", "custom"]
# Which flat argument carries what, per type (Zerobyte's notification config).
_DEST_ARGS: dict[str, dict[str, str]] = {
    "generic": {"url": "url"},
    "slack": {"secret": "webhookUrl"},
    "discord": {"secret": "webhookUrl"},
    "telegram": {"secret": "botToken", "target": "chatId"},
    "ntfy": {"target": "topic", "url": "serverUrl", "secret": "accessToken"},
    "gotify": {"url": "serverUrl", "secret": "token"},
    "pushover": {"target": "userKey", "secret": "apiToken"},
    "email": {"url": "smtp", "target": "to", "secret": "password"},
    "custom": {"secret": "shoutrrrUrl"},
}
_DEST_REQUIRED = {
    "generic": ("url",),
    "slack": ("secret",),
    "discord": ("secret",),
    "telegram": ("secret", "target"),
    "ntfy": ("target",),
    "gotify": ("url", "secret"),
    "pushover": ("target", "secret"),
    "email": ("url", "target"),
    "custom": ("secret",),
}
_DEST_HELP = {
    "generic": "url = the webhook URL (headers for auth)",
    "slack": "secret = the Slack webhook URL",
    "discord": "secret = the Discord webhook URL",
    "telegram": "secret = bot token, target = chat id",
    "ntfy": "target = topic, url = server (default ntfy.sh), secret = access token",
    "gotify": "url = server URL, secret = app token",
    "pushover": "target = user key, secret = API token",
    "email": "url = smtp://host:587 or smtps://host:465, target = recipients (comma-separated), secret = password, "
    "options from=..., username=...",
    "custom": "secret = the Shoutrrr URL",
}
_DEST_OPTIONS: dict[str, dict[str, OptionKind]] = {
    "generic": {"method": "str", "content_type": "str", "use_json": "bool", "title_key": "str", "message_key": "str"},
    "slack": {"username": "str", "icon_emoji": "str"},
    "discord": {"username": "str", "avatar_url": "str", "thread_id": "str"},
    "telegram": {"thread_id": "str"},
    "ntfy": {"priority": "str", "username": "str", "password": "str"},
    "gotify": {"priority": "int", "path": "str"},
    "pushover": {"priority": "int", "devices": "str"},
    "email": {"from": "str", "from_name": "str", "username": "str"},
    "custom": {},
}
_DEST_OPTION_KEYS = {
    "content_type": "contentType",
    "use_json": "useJson",
    "title_key": "titleKey",
    "message_key": "messageKey",
    "icon_emoji": "iconEmoji",
    "avatar_url": "avatarUrl",
    "thread_id": "threadId",
    "from_name": "fromName",
}


def _destination_config(
    kind: str, given: dict[str, Any], headers: list[str] | None, options: list[str] | None
) -> dict[str, Any]:
    """Zerobyte's NotificationConfig from the flat arguments, checked before any request."""
    mapping = _DEST_ARGS[kind]
    unused = [arg for arg in given if arg not in mapping]
    missing = [arg for arg in _DEST_REQUIRED[kind] if not given.get(arg)]
    if unused or missing:
        problem = f"needs {', '.join(missing)}" if missing else f"does not use {', '.join(unused)}"
        raise ToolFailure(f"A {kind} destination {problem} ({_DEST_HELP[kind]}). Nothing was sent.")
    config: dict[str, Any] = {"type": kind}
    for arg, value in given.items():
        config[mapping[arg]] = value
    extra = parse_options(options, _DEST_OPTIONS[kind], f"{kind} destinations")
    config.update({_DEST_OPTION_KEYS.get(k, k): v for k, v in extra.items()})
    if headers is not None:
        if kind != "generic":
            raise ToolFailure("headers are only used by generic webhooks; nothing was sent.")
        if any(":" not in h for h in headers):
            raise ToolFailure("headers must look like 'Name: value'; nothing was sent.")
        # A line break in a header would let one "header" smuggle more headers (or a body) into every webhook call.
        if any((ord(c) < 32 and c != "\t") or c == "\x7f" for h in headers for c in h):
            raise ToolFailure("headers must not contain line breaks or control characters; nothing was sent.")
        if len(headers) > 20 or any(len(h) > 1000 for h in headers):
            raise ToolFailure("headers: at most 20, each under 1000 characters; nothing was sent.")
        config["headers"] = headers
    if kind == "generic":
        config["method"] = str(config.get("method") or "POST").upper()
        if config["method"] not in ("GET", "POST"):
            raise ToolFailure("options: method must be GET or POST; nothing was sent.")
    elif kind == "ntfy":
        config.setdefault("priority", "default")
        if config["priority"] not in ("max", "high", "default", "low", "min"):
            raise ToolFailure("options: ntfy priority must be max, high, default, low or min; nothing was sent.")
    elif kind == "gotify":
        config.setdefault("priority", 5)
        if not 0 <= config["priority"] <= 10:
            raise ToolFailure("options: gotify priority must be 0-10; nothing was sent.")
    elif kind == "pushover":
        config.setdefault("priority", 0)
        if config["priority"] not in (-1, 0, 1):
            raise ToolFailure("options: pushover priority must be -1, 0 or 1; nothing was sent.")
    elif kind == "email":
        _email_config(config)
    return config


def _email_config(config: dict[str, Any]) -> None:
    url = urlsplit(str(config.pop("smtp")))
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ToolFailure(
            f"An email destination needs url smtp://host:587 or smtps://host:465 ({_DEST_HELP['email']})."
        )
    if "from" not in config:
        raise ToolFailure("An email destination needs options from=sender@example.com; nothing was sent.")
    config["smtpHost"] = url.hostname
    config["smtpPort"] = url.port or (465 if url.scheme == "smtps" else 587)
    config["useTLS"] = url.scheme == "smtps" or config["smtpPort"] != 25
    if url.username and "username" not in config:
        config["username"] = unquote(url.username)
    if url.password and "password" not in config:
        config["password"] = unquote(url.password)
    config["to"] = [t.strip() for t in str(config["to"]).split(",") if t.strip()]


# Failures whose cause is on the Zerobyte host, not in the destination's settings: (needles, explanation).
_HOST_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("executable not found", 'shoutrrr" not found', "no such file or directory: shoutrrr"),
        "the Zerobyte host lacks the shoutrrr program Zerobyte sends notifications with. This is the Zerobyte "
        "installation, not this destination: install shoutrrr on that host (the official Docker image has it), "
        "then test again",
    ),
    (
        ("x509", "certificate", "tls:", "handshake failure"),
        "the Zerobyte host could not verify the service's TLS certificate: fix the certificate or the host's CA "
        "store, then test again",
    ),
    (
        ("no such host", "lookup ", "name resolution", "server misbehaving"),
        "the Zerobyte host could not resolve the service's host name: check DNS on the Zerobyte host and the name "
        "in the URL",
    ),
    (
        ("connection refused", "i/o timeout", "network is unreachable", "no route to host"),
        "the Zerobyte host could not reach the service: check that it runs and that the Zerobyte host can connect "
        "to it (firewall, port)",
    ),
)


def delivery_failure(reason: str) -> str:
    """Why a test message was not delivered and what to do: the Zerobyte host's problem, or the settings'."""
    text = reason.lower()
    for needles, cause in _HOST_CAUSES:
        if any(n in text for n in needles):
            return f"The test message was not sent ({reason}): {cause}."
    return (
        f"The test message was not delivered: {reason}. Check the address and credentials (a wrong token or chat id "
        "is the usual cause)."
    )


def _destination_view(d: NotificationDestination) -> dict[str, Any]:
    config = shown_config(d)
    kind = d.type or str(config.get("type") or "")
    targets = {
        "generic": f"{config.get('method') or 'POST'} {config.get('url')}",
        "telegram": f"chat {config.get('chatId')}",
        "ntfy": f"{config.get('serverUrl') or 'https://ntfy.sh'}/{config.get('topic')}",
        "gotify": str(config.get("serverUrl") or ""),
        "email": ", ".join(str(t) for t in config.get("to") or []),
    }
    return given(
        id=d.id,
        name=d.name,
        type=kind or None,
        enabled=d.enabled,
        status=d.status,
        target=targets.get(kind) or f"{kind} (address sealed)",
        last_error=clean(d.lastError, 300),
    )


def _allowed_origins_failure(exc: BadRequest) -> ToolFailure | None:
    if "WEBHOOK_ALLOWED_ORIGINS" not in f"{exc} {exc.upstream_message or ''}":
        return None
    return ToolFailure(
        f"{exc} WEBHOOK_ALLOWED_ORIGINS is an environment setting of the Zerobyte server, not something the API "
        "can change: whoever runs Zerobyte must add the URL's origin (scheme://host[:port]) to it and restart "
        "Zerobyte, then retry."
    )


@tool(title="Create destination")
async def create_notification_destination(
    ctx: Ctx,
    name: Name,
    type: Annotated[DestinationType, Field(description="Destination type")],
    url: Annotated[str | None, Field(description="Webhook or server URL, smtp://host:587")] = None,
    secret: Annotated[str | None, Field(description=f"Token, webhook URL or password ({SECRET})")] = None,
    target: Annotated[str | None, Field(description="Chat id, topic, user key or emails")] = None,
    headers: Annotated[list[str] | None, Field(description="generic: 'Name: value' headers")] = None,
    options: Options = None,
) -> Change:
    """Add a notification destination (webhook, chat app, ntfy, email...)."""
    clean_name = check_name(name)
    config = _destination_config(type, given(url=url, secret=secret, target=target), headers, options)
    try:
        created = await client_of(ctx).create_destination(clean_name, config)
    except BadRequest as exc:
        raise _allowed_origins_failure(exc) or exc from None
    note(destination_id=created.id)
    return reply(
        "created",
        destination=_destination_view(created),
        note=f"Check it with update_notification_destination(destination_id={created.id}, test=true), then "
        "route jobs to it with route_notifications.",
    )


@tool(title="Update destination", idempotent=True)
async def update_notification_destination(
    ctx: Ctx,
    destination_id: DestinationId,
    name: OptName = None,
    enabled: Annotated[bool | None, Field(description="false = stop sending to it")] = None,
    test: Annotated[bool, Field(description="Send a test message")] = False,
) -> Change:
    """Rename, enable/disable or test a notification destination."""
    did = check_destination_id("destination_id", destination_id)
    new_name = check_name(name) if name is not None else None
    client = client_of(ctx)
    current = await client.get_destination(did)
    body, changed = edits(("name", "name", current.name, new_name), ("enabled", "enabled", current.enabled, enabled))
    if body:
        current = await client.update_destination(did, body)
    outcome = "updated" if body else "unchanged"
    if not test:
        return reply(outcome, destination=_destination_view(current), changes=changed)
    remark = None
    try:
        await client.test_destination(did)
        outcome, remark = "ok", "Test message sent."
    except BadRequest as exc:
        failure = _allowed_origins_failure(exc)
        if failure is None:
            raise
        outcome, remark = "failed", str(failure)
    except ServerError as exc:
        outcome, remark = "failed", delivery_failure(clean(exc.upstream_message or str(exc)) or "no reason given")
    before = current.status
    current = await client.get_destination(did)  # the test updated its status and last error
    if current.status != before:
        # Zerobyte records a test as the destination's state: say so, since it shows on its dashboard.
        remark = f"{remark} The test changed its status on Zerobyte from {before or 'unknown'} to {current.status}" + (
            "; the next successful send sets it back." if current.status == "error" else "."
        )
    return reply(outcome, destination=_destination_view(current), changes=changed, note=remark)


# --- notification routing ----------------------------------------------------------------------------

Event = Literal["start", "success", "warning", "failure"]


def _assignment_body(a: DestinationAssignment) -> dict[str, Any]:
    return {"destinationId": a.destinationId, **{flag: bool(getattr(a, flag)) for _, flag in NOTIFY_EVENTS}}


def _routes(assignments: list[DestinationAssignment]) -> list[str]:
    routes = []
    for a in assignments:
        d = a.destination
        label = f"{d.name} ({a.destinationId}, {d.type})" if d else str(a.destinationId)
        events = ", ".join(a.events)
        routes.append(f"{label}: {events}" + (" [destination disabled]" if d and d.enabled is False else ""))
    return routes


@tool(title="Route notifications", idempotent=True)
async def route_notifications(
    ctx: Ctx,
    destination_id: DestinationId,
    events: Annotated[list[Event], Field(description="Events to send there; [] stops sending")],
    job_id: str | None = None,
    job_ids: Annotated[list[str] | None, Field(description="Several jobs; ['*'] = every job")] = None,
) -> Change:
    """Choose which events of a job (or several, or all) go to one destination; keeps other routes."""
    did = check_destination_id("destination_id", destination_id)
    if (job_id is None) == (job_ids is None):
        raise ToolFailure(
            "Give exactly one of job_id (one job) or job_ids (several; ['*'] = every job); nothing was sent."
        )
    client = client_of(ctx)
    # Read once, not per job: it must exist, and a disabled one is worth a remark.
    destination = await client.get_destination(did) if events else None
    if job_id is not None:
        outcome, routes, remark = await _route(client, check_job_id("job_id", job_id), did, events, destination)
        return reply(outcome, routes=routes, note=remark)
    refs = [check_job_id("job_ids", r) for r in job_ids or [] if r != "*"]
    if not job_ids:
        raise ToolFailure("job_ids is empty: name the jobs, or ['*'] for every job; nothing was sent.")
    jobs = await client.list_backup_jobs()
    if "*" in (job_ids or []):
        chosen = jobs
    else:
        by_ref = {j.shortId: j for j in jobs} | {str(j.id): j for j in jobs}
        missing = [r for r in refs if r not in by_ref]
        if missing:
            raise ToolFailure(
                f"Backup job(s) {', '.join(repr(m) for m in missing)} not found (list_backup_jobs shows them); "
                "nothing was changed."
            )
        chosen = list({by_ref[r].shortId: by_ref[r] for r in refs}.values())
    done = await gather((_route(client, j.shortId, did, events, destination) for j in chosen), limit=4)
    updated = [j for j, (outcome, _, _) in zip(chosen, done, strict=True) if outcome == "updated"]
    notes = {remark for _, _, remark in done if remark and "was not routed" not in remark}
    summary = f"{len(updated)} of {len(chosen)} job(s) changed" + (
        f": {', '.join(j.name for j in updated[:20])}" if updated else ""
    )
    return reply(
        "updated" if updated else "unchanged",
        jobs={j.shortId: routes for j, (_, routes, _) in zip(chosen, done, strict=True)},
        note=" ".join([summary + ".", *sorted(notes)]),
    )


async def _route(
    client: ZerobyteClient, jid: str, did: int, events: list[Event], destination: NotificationDestination | None
) -> tuple[str, list[str], str | None]:
    """One job's routes with ``events`` to destination ``did`` (other destinations kept): outcome, routes, note."""
    current = await client.get_job_notifications(jid)
    bodies = [_assignment_body(a) for a in current if a.destinationId != did]
    existing = next((_assignment_body(a) for a in current if a.destinationId == did), None)
    wanted = {"destinationId": did, **{flag: event in events for event, flag in NOTIFY_EVENTS}}
    remark = None
    if events:
        bodies.append(wanted)
        if destination is not None and destination.enabled is False:
            remark = f"Destination {destination.name!r} is disabled: enable it with update_notification_destination."
    if existing is None and not events:
        return "unchanged", _routes(current), f"Destination {did} was not routed from this job."
    if existing == wanted:
        return "unchanged", _routes(current), remark
    result = await client.set_job_notifications(jid, bodies)
    return "updated", _routes(result), remark
