"""What every configuration tool shares: the argument types, the one result model and the small helpers.

:class:`Change` is the answer of every configure tool (built with :func:`reply`); :func:`edits` turns the
plain fields an update may change (name, enabled, auto-remount, compression...) into the request body and
the "field: before -> after" lines the answer shows; :func:`check_name` and :func:`clean` check a name and
shorten (and redact) Zerobyte's messages the same way for every tool.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ...answers.notation import given
from ...safety.redact import redact_text
from ..base import ToolFailure

__all__ = [
    "SECRET",
    "Change",
    "DestinationId",
    "JobId",
    "Name",
    "OptName",
    "Options",
    "RepositoryId",
    "VolumeId",
    "change",
    "check_name",
    "clean",
    "edits",
    "given",
    "reply",
]

SECRET = "sealed; never shown"

# --- argument types ---------------------------------------------------------------------------------

VolumeId = str
RepositoryId = str
JobId = str
DestinationId = Annotated[int, Field(description="Destination id")]
Name = Annotated[str, Field(description="Name")]
OptName = Annotated[str | None, Field(description="New name")]
Options = Annotated[list[str] | None, Field(description="More settings as key=value")]


# --- the one result model of every write tool ---------------------------------------------------------


class Change(BaseModel):
    """What a configuration tool did: ``outcome``, the object as Zerobyte now has it (secrets redacted) under
    its own key (``volume``, ``job``, ``routes``...), ``changes`` as "field: before -> after", and a ``note``.

    The output schema lists only ``outcome``: every extra key would cost tools/list tokens for each tool."""

    model_config = ConfigDict(extra="allow")

    outcome: str


def reply(outcome: str, *, changes: list[str] | None = None, note: str | None = None, **items: Any) -> Change:
    data = {k: v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v for k, v in items.items()}
    return Change(
        outcome=outcome, **{k: v for k, v in data.items() if v is not None}, changes=changes or None, note=note
    )


# --- shared helpers -----------------------------------------------------------------------------------


def clean(text: str | None, limit: int = 400) -> str | None:
    if not text:
        return None
    out = redact_text(text.strip())
    return out if len(out) <= limit else out[: limit - 1] + "…"


def check_name(value: str) -> str:
    text = value.strip()
    if not text or len(text) > 128:
        raise ToolFailure("name must be 1-128 characters; nothing was sent.")
    return text


def edits(*fields: tuple[str, str, Any, Any]) -> tuple[dict[str, Any], list[str]]:
    """The request body and "field: before -> after" lines of ``(body key, field shown, current, wanted)``
    edits; a wanted value that is None (not given) or equal to the current one is no edit."""
    body: dict[str, Any] = {}
    changed: list[str] = []
    for key, shown, before, after in fields:
        if after is not None and after != before:
            body[key] = after
            changed.append(change(shown, before, after))
    return body, changed


def change(field: str, before: Any, after: Any) -> str:
    return f"{field}: {_show(before)} -> {_show(after)}"


def _show(value: Any) -> str:
    if value is None or value == []:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str | list) else str(value)
