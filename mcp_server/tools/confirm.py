"""Confirmation of destructive actions: the human says yes, not the agent.

An API key carries its user's full rights, so a tool that deletes or overwrites must not act on an
agent's say-so alone. When the client can ask its user (elicitation), the question names the exact
objects and consequences. Otherwise the first call returns a preview plus a single-use token bound to
the tool, its exact arguments and the previewed effect; only a second call carrying that token acts.

How a destructive tool uses it: its preview function, decorated with :func:`confirmed`, is the resolver
of the tool's ``answer`` parameter; the body turns the answer into a decision with :func:`decide`::

    @confirmed("delete_volume")
    async def _volume_preview(ctx: Ctx, volume_id: str, confirm_token: str | None) -> Preview:
        ...what deleting it does...

    @tool(title="Delete a volume", destructive=True)
    async def delete_volume(ctx, volume_id, answer: Annotated[ElicitationResult[Any], Resolve(_volume_preview)],
                            confirm_token=None) -> ActionResult:
        decision = decide(answer, "delete_volume", ActionResult)
        if not isinstance(decision, Gate):
            return decision  # a preview + token, a refusal by the user, ...
        ...act...

The resolver runs before the tool body (the SDK's ``Resolve``), which is the only way to ask the user
on both protocol eras: on 2026-07-28 the question rides an ``InputRequiredResult`` and the call is
retried with the answer, so the resolver (and its preview) runs again; the SDK re-asks if the question
changed, which means the human always approved exactly what is done.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, TypeVar

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation
from mcp.server.mcpserver import Elicit
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from ..answers.output import human_bytes
from ..context import Ctx, app_of
from ..safety.audit import note
from ..safety.tokens import ConfirmationStore, TokenRejected, canonical, utc_text
from ..zerobyte import ZerobyteError

__all__ = [
    "ActionResult",
    "Approval",
    "Ask",
    "ConfirmationStore",
    "Gate",
    "Gatekeeper",
    "Preview",
    "PreviewFn",
    "PreviewItem",
    "TokenRejected",
    "build_preview",
    "confirmations",
    "confirmed",
    "decide",
    "gate",
    "harmless",
    "not_done",
    "settle",
]

log = logging.getLogger(__name__)

MAX_QUESTION_ITEMS = 15


# --- what the human is shown ---------------------------------------------------------------------


class PreviewItem(BaseModel):
    kind: str = Field(description="snapshot, backup_job, mirror, notification_link...")
    id: str
    name: str | None = None
    time: str | None = None
    size: int | None = Field(None, description="Bytes")
    note: str | None = None

    def line(self) -> str:
        label = f"{self.kind.replace('_', ' ')} {self.name!r} ({self.id})" if self.name else f"{self.kind} {self.id}"
        extras = [x for x in (self.time, human_bytes(self.size) if self.size is not None else None, self.note) if x]
        return f"- {label}" + (f", {', '.join(extras)}" if extras else "")


class Preview(BaseModel):
    """Exactly what a destructive call would do, from live data, with names and counts."""

    action: str = Field(description="What would be done, naming the object")
    effects: list[str] = Field(default_factory=list, description="Consequences, with counts")
    items: list[PreviewItem] = Field(default_factory=list, description="Objects that go or change")

    def question(self) -> str:
        """The elicitation text: the action as a question, its effects, then the affected objects."""
        lines = [f"{self.action}?", *self.effects]
        lines += [item.line() for item in self.items[:MAX_QUESTION_ITEMS]]
        if len(self.items) > MAX_QUESTION_ITEMS:
            lines.append(f"- … and {len(self.items) - MAX_QUESTION_ITEMS} more")
        return "\n".join(lines)

    def digest(self) -> str:
        return hashlib.sha256(canonical(self.model_dump(mode="json")).encode()).hexdigest()[:32]


class Approval(BaseModel):
    """The elicitation form: flat, one checkbox, so every client can render it."""

    confirm: bool = Field(description="Yes, do it (nothing happens otherwise)")


class ActionResult(BaseModel):
    """Result of a destructive tool: done, or waiting for confirmation, or declined by the user."""

    outcome: str = Field(description="done, confirmation_required, declined, or the task outcome")
    message: str
    preview: Preview | None = None
    confirm_token: str | None = Field(None, description="Pass back to act; single use")
    expires_at: str | None = None


# --- the decision a resolver hands to the tool body ----------------------------------------------


@dataclass(frozen=True)
class Gate:
    """What the confirmation step decided before the tool body runs."""

    tool: str
    status: Literal["go", "confirm", "declined", "refused"]
    preview: Preview | None = None
    via: Literal["elicitation", "token", "disabled", "not_destructive"] | None = None
    token: str | None = None
    expires_at: str | None = None
    message: str | None = None


# The gate computed by the resolver that asked the user. The SDK awaits resolvers and then the tool
# body in the same task, so the body reads back the preview the human actually saw.
_asked: contextvars.ContextVar[Gate | None] = contextvars.ContextVar("zerobyte_confirm_asked", default=None)

PreviewFn = Callable[[], Awaitable[Preview | None]]


async def gate(
    ctx: Ctx,
    *,
    tool: str,
    arguments: Mapping[str, Any],
    token: str | None,
    preview: PreviewFn,
) -> Gate | Elicit[Approval]:
    """Decide, before the body runs: go, ask the user (elicitation), or preview + token.

    The gate fails closed: a preview that fails, is missing or says nothing refuses the call with the
    reason; it never lets the call through unasked. A tool whose call is sometimes harmless decides that
    itself, before calling the gate (:func:`harmless`). Failures come back as a refused gate: the body
    reports them, so the call is audited and the agent reads the message (a resolver's exceptions would
    bypass both).
    """
    app = app_of(ctx)
    shown = await build_preview(tool, preview)
    if isinstance(shown, Gate):
        return shown
    if shown is None or not shown.action.strip():
        return Gate(
            tool=tool,
            status="refused",
            message="No preview of what this call would do could be made, so nothing was changed.",
        )
    if not app.settings.confirm_destructive:
        return Gate(tool=tool, status="go", preview=shown, via="disabled")
    if can_elicit(ctx):
        _asked.set(Gate(tool=tool, status="go", preview=shown, via="elicitation"))
        return Elicit(shown.question(), Approval)
    store = confirmations(ctx)
    if token:
        try:
            store.redeem(token, tool=tool, arguments=arguments, preview=shown)
        except TokenRejected as exc:
            return Gate(tool=tool, status="refused", preview=shown, message=str(exc))
        return Gate(tool=tool, status="go", preview=shown, via="token")
    issued, expires = store.issue(tool=tool, arguments=arguments, preview=shown)
    return Gate(tool=tool, status="confirm", preview=shown, token=issued, expires_at=utc_text(expires))


Ask = Callable[..., Awaitable[Gate | Elicit[Approval]]]


class Gatekeeper(Protocol):
    """How a resolver decides (:func:`gate`, or a variant that first decides whether the call is harmless)."""

    def __call__(
        self, ctx: Ctx, *, tool: str, arguments: Mapping[str, Any], token: str | None, preview: PreviewFn
    ) -> Awaitable[Gate | Elicit[Approval]]: ...


def confirmed(tool: str, *, keeper: Gatekeeper = gate) -> Callable[[Callable[..., Awaitable[Preview | None]]], Ask]:
    """Make a preview function the confirmation resolver of ``tool`` (for its ``Resolve``).

    The SDK binds a resolver's parameters by name, so the preview function names what it needs: ``ctx``,
    the tool arguments the confirmation binds (the preview may ignore some), and ``confirm_token`` (which the
    gate redeems; the preview ignores it). The resolver keeps that signature (``functools.wraps``) and runs
    ``keeper`` (:func:`gate`) on the preview, with exactly those arguments bound into the confirmation.
    """

    def decorate(preview: Callable[..., Awaitable[Preview | None]]) -> Ask:
        @functools.wraps(preview)
        async def ask(**given: Any) -> Gate | Elicit[Approval]:
            arguments = {k: v for k, v in given.items() if k not in ("ctx", "confirm_token")}
            return await keeper(
                given["ctx"],
                tool=tool,
                arguments=arguments,
                token=given["confirm_token"],
                preview=lambda: preview(**given),
            )

        return ask

    return decorate


async def build_preview(tool: str, preview: PreviewFn) -> Preview | Gate | None:
    """The preview, or a refused gate saying why it could not be built (a failed preview never opens the gate)."""
    try:
        return await preview()
    except (ZerobyteError, ToolError) as exc:
        return Gate(tool=tool, status="refused", message=str(exc))
    except Exception as exc:
        log.exception("preview of %s failed", tool)
        return Gate(
            tool=tool,
            status="refused",
            message=f"Could not build the preview of {tool} ({type(exc).__name__}), so nothing was changed. "
            "Retry, or do it in Zerobyte's web UI.",
        )


def harmless(tool: str) -> Gate:
    """The decision for a call its tool has shown to destroy nothing (e.g. a looser retention policy)."""
    return Gate(tool=tool, status="go", via="not_destructive")


def can_elicit(ctx: Ctx) -> bool:
    """True when the client declared form elicitation (a bare ``elicitation: {}`` counts as form)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def settle(answer: Any, tool: str) -> Gate:
    """Turn what the resolver produced (a gate, or the user's answer) into the body's decision."""
    asked = _asked.get()
    _asked.set(None)
    if isinstance(answer, AcceptedElicitation):
        data = answer.data
        if isinstance(data, Gate):
            return data
        if asked is None or asked.tool != tool:
            # Cannot happen through the SDK; refuse rather than act on an answer we cannot place.
            return Gate(tool=tool, status="refused", message="Confirmation state was lost: call the tool again.")
        if isinstance(data, Approval) and data.confirm:
            return asked
        return replace(asked, status="declined", message=_declined(asked, "the user did not tick 'confirm'"))
    if asked is None or asked.tool != tool:
        return Gate(tool=tool, status="declined", message="Not done: the user declined.")
    why = "the user dismissed the question" if isinstance(answer, CancelledElicitation) else "the user declined"
    return replace(asked, status="declined", message=_declined(asked, why))


def _declined(asked: Gate, why: str) -> str:
    action = asked.preview.action if asked.preview is not None else asked.tool
    return f"Not done: {why}. Nothing was changed ({action})."


R = TypeVar("R", bound=ActionResult)


def not_done(decision: Gate, result_type: type[R]) -> R | None:
    """The result to return instead of acting, or None when the body should act."""
    if decision.status == "go":
        # The audit line says how the action was approved: elicitation, token, disabled or not_destructive.
        note(approved_by=decision.via)
        return None
    if decision.status == "refused":
        raise ToolError(decision.message or "Refused.")
    if decision.status == "declined":
        return result_type(outcome="declined", message=decision.message or "Not done.", preview=decision.preview)
    return result_type(
        outcome="confirmation_required",
        message=(
            f"Nothing done yet. Show the user this preview. Only if they agree, call {decision.tool} again with "
            f"the same arguments plus confirm_token (single use, valid until {decision.expires_at})."
        ),
        preview=decision.preview,
        confirm_token=decision.token,
        expires_at=decision.expires_at,
    )


def decide(answer: Any, tool: str, result_type: type[R]) -> Gate | R:
    """The body's first step: the approved gate to act on, or the result to return instead of acting."""
    decision = settle(answer, tool)
    stop = not_done(decision, result_type)
    return decision if stop is None else stop


def confirmations(ctx: Ctx) -> ConfirmationStore:
    """The process's token store (its key never leaves memory)."""
    return app_of(ctx).confirmations
