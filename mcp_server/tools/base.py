"""How a tool is declared, registered and shaped — the one place every tool passes through.

A tool module writes a plain ``async def`` with typed, described arguments and a pydantic return
model, and decorates it with :func:`tool` (title and hints). The catalogue places it in a toolset and an
access level; :func:`bind` makes it what a server offers, wrapped so that:

- a Zerobyte failure or a refused argument becomes an ``isError`` result whose text is the actionable
  message (never a bare "Error executing tool");
- the result is published as structured content (nulls and empties dropped) plus compact JSON text;
- tools/list carries compact schemas (no ``$ref``/``$defs``/titles) and full annotations.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, PrivateAttr

from ..answers.failure import ToolFailure
from ..answers.output import compact_schema, outline_model, render_text, shape, with_size_text
from ..context import Ctx, app_of, client_of
from ..safety.redact import redact_text, scrub_exact
from ..zerobyte import NotFound, ZerobyteError
from ..zerobyte.errors import Resource
from .catalogue import Level, entry

__all__ = [
    "Ctx",
    "Level",
    "ShownInApp",
    "ToolFailure",
    "ToolSpec",
    "app_of",
    "bind",
    "client_of",
    "declared",
    "tool",
]

log = logging.getLogger(__name__)

R = TypeVar("R", bound=BaseModel)
_MARK = "__zerobyte_tool__"  # the attribute @tool leaves on a function: its Declaration


@dataclass(frozen=True)
class Declaration:
    """What ``@tool`` says of a function; the catalogue adds its name's toolset and level."""

    title: str
    description: str
    read_only: bool | None
    destructive: bool
    idempotent: bool | None
    open_world: bool
    app: str | None = None  # the ui:// resource an MCP Apps host renders for this tool's results


@dataclass(frozen=True)
class ToolSpec:
    name: str
    toolset: str
    level: Level
    title: str
    description: str
    annotations: ToolAnnotations
    fn: Callable[..., Awaitable[BaseModel]]  # as written: its signature is the tool's arguments
    handler: Callable[..., Awaitable[CallToolResult]]  # what the SDK calls: fn wrapped (errors, audit, shaping)
    output_model: type[BaseModel]
    meta: dict[str, Any] | None = None  # the tool's _meta in tools/list (MCP Apps: {"ui": {"resourceUri": ...}})

    @functools.cached_property
    def sdk_tool(self) -> Tool:
        """The SDK's Tool for this spec: arguments read from ``fn``, results produced by ``handler``.

        Built once per spec and shared by every server of the process (a Tool holds no per-server state).

        The SDK derives the argument model from ``fn`` (``structured_output=False`` skips deriving an output
        JSON schema, the costliest part of registration, which every cold start pays). The published schemas
        are ours: the input schema flat and small (no ``$ref``/``$defs``/titles: several clients reject them),
        the output schema an outline of ``output_model``, which the SDK still validates each result against.
        """
        derived = Tool.from_function(
            self.fn, name=self.name, description=self.description, annotations=self.annotations, structured_output=False
        )
        return Tool(
            fn=self.handler,
            name=self.name,
            description=self.description,
            parameters=compact_schema(derived.parameters),
            fn_metadata=FuncMetadata(
                arg_model=_strict(derived.fn_metadata.arg_model),
                output_schema=outline_model(self.output_model),
                output_model=self.output_model,
            ),
            is_async=True,
            context_kwarg=derived.context_kwarg,
            resolved_params=derived.resolved_params,
            resolver_plans=derived.resolver_plans,
            annotations=self.annotations,
            meta=self.meta,
        )


def _strict(model: type[ArgModelBase]) -> type[ArgModelBase]:
    """The argument model in pydantic's strict mode: ``destination_id=true`` is not 1, ``"5"`` is not 5.

    A lax coercion would let a confused agent's value pick an object it did not name; a refused argument
    costs one retry with a clear message.
    """
    config = ConfigDict(**{**model.model_config, "strict": True})
    return type(model.__name__, (model,), {"model_config": config, "__module__": model.__module__})


def tool(
    *,
    title: str,
    read_only: bool | None = None,
    destructive: bool = False,
    idempotent: bool | None = None,
    open_world: bool = False,
    app: str | None = None,
) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Declare a tool: its docstring (first paragraph) is the description agents read.

    The function's name is the tool's name; its toolset and access level are the catalogue's
    (``tools/catalogue.py``). ``read_only`` defaults to "its level is read": a tool offered at a higher
    level may still only read (it serves the tools beside it), and its hints stay honest. ``app``: the
    ``ui://`` resource an MCP Apps host renders with this tool's results (``_meta.ui.resourceUri``).
    """
    if app is not None and not app.startswith("ui://"):
        raise ValueError(f"an MCP App resource is a ui:// URI, not {app!r}")

    def decorate(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        description = inspect.cleandoc(fn.__doc__ or "").split("\n\n")[0].replace("\n", " ").strip()
        if not description:
            raise TypeError(f"tool {fn.__name__} needs a docstring")
        declaration = Declaration(title, description, read_only, destructive, idempotent, open_world, app)
        setattr(fn, _MARK, declaration)
        return fn

    return decorate


def declared(fn: object) -> Declaration | None:
    """What ``@tool`` declared on ``fn``; None for a function that is not a tool."""
    found = getattr(fn, _MARK, None)
    return found if isinstance(found, Declaration) else None


def bind(name: str, toolset: str, level: Level, fn: Callable[..., Awaitable[BaseModel]]) -> ToolSpec:
    """The tool ``name`` as a server offers it: ``fn``'s declaration placed in ``toolset`` at ``level``."""
    declaration = declared(fn)
    if declaration is None or fn.__name__ != name:
        raise TypeError(f"{name} is not declared with @tool under that name")
    # Read here, not in @tool: a module's annotations may name what it defines below the tool (its resolvers).
    output_model = typing.get_type_hints(fn).get("return")
    if not (isinstance(output_model, type) and issubclass(output_model, BaseModel)):
        raise TypeError(f"tool {name} must return a pydantic model")
    only_reads = level == "read" if declaration.read_only is None else declaration.read_only
    # destructiveHint and idempotentHint mean something only when readOnlyHint is false (MCP spec): a read-only
    # tool leaves them out, which saves tools/list characters every conversation pays.
    annotations = ToolAnnotations(
        title=declaration.title,
        read_only_hint=only_reads,
        destructive_hint=None if only_reads else declaration.destructive,
        idempotent_hint=None if only_reads else bool(declaration.idempotent),
        open_world_hint=declaration.open_world,
    )

    @functools.wraps(fn)
    async def handler(**kwargs: Any) -> CallToolResult:
        ctx = kwargs.get("ctx")
        audit = app_of(ctx).audit if not only_reads and isinstance(ctx, Context) else None
        if audit is None:
            return await _run(fn, name, kwargs)
        current, token = audit.begin()
        try:
            result = await _run(fn, name, kwargs)
        except BaseException:  # cancelled mid-call: the action may have started; say so
            audit.write(tool=name, arguments=_arguments(kwargs), outcome="cancelled", current=current)
            raise
        finally:
            audit.end(token)
        message = _text(result)
        outcome = "error" if result.is_error else str((result.structured_content or {}).get("outcome", "ok"))
        audit.write(
            tool=name,
            arguments=_arguments(kwargs),
            outcome=outcome,
            message=message if result.is_error else None,
            current=current,
        )
        return result

    return ToolSpec(
        name=name,
        toolset=toolset,
        level=level,
        title=declaration.title,
        description=declaration.description,
        annotations=annotations,
        fn=fn,
        handler=handler,
        output_model=output_model,
        meta={"ui": {"resourceUri": declaration.app}} if declaration.app else None,
    )


async def _run(fn: Callable[..., Awaitable[BaseModel]], tool_name: str, kwargs: dict[str, Any]) -> CallToolResult:
    answer = await _answer(fn, tool_name, kwargs)
    ctx = kwargs.get("ctx")
    # The last pass over every answer: the API key and the HTTP token never reach the agent, even when a
    # file or an error happens to quote them; errors (free text from Zerobyte) get the full text redaction.
    secrets = app_of(ctx).secrets if isinstance(ctx, Context) else ()
    if answer.is_error:
        return error_result(redact_text(_text(answer), secrets))
    if not secrets:
        return answer
    content = [
        TextContent(type="text", text=str(scrub_exact(c.text, secrets))) if isinstance(c, TextContent) else c
        for c in answer.content
    ]
    structured = scrub_exact(answer.structured_content, secrets) if answer.structured_content is not None else None
    return CallToolResult(content=content, structured_content=structured)


async def _answer(fn: Callable[..., Awaitable[BaseModel]], tool_name: str, kwargs: dict[str, Any]) -> CallToolResult:
    ctx = kwargs.get("ctx")
    try:
        result = await fn(**kwargs)
    except ZerobyteError as exc:
        caps = app_of(ctx).capabilities if isinstance(ctx, Context) else None
        return error_result(with_next_step(exc, task_history=caps is None or caps.task_history))
    except ToolError as exc:
        return error_result(str(exc))
    except Exception:
        log.exception("tool %s crashed", tool_name)
        return error_result(
            f"zerobyte-mcp hit an internal error in {tool_name}; the details are in its log (stderr). "
            "Retry, or report it with the log lines."
        )
    if not isinstance(ctx, Context):
        return success_result(result)
    app = app_of(ctx)
    answer = success_result(result, limit=app.settings.max_response_chars)
    missing = _unavailable_tools(_text(answer), app.exposed)
    if missing and isinstance(answer.structured_content, dict):
        # A next step may name a tool this access level does not offer (health says "unlock_repository"
        # to a read-only server): say so, rather than let the agent meet "Unknown tool".
        data = dict(answer.structured_content)
        data["unavailable_tools"] = (
            f"{', '.join(missing)}: not offered at access level {app.settings.access}; ask the user to do it in "
            "Zerobyte's web UI, or to run zerobyte-mcp with a higher --access."
        )
        answer = CallToolResult(content=[TextContent(type="text", text=render_text(data))], structured_content=data)
    return answer


_TOOLISH = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def _unavailable_tools(text: str, exposed: frozenset[str]) -> list[str]:
    """Tool names mentioned in ``text`` that this server does not offer (empty when it offers them all)."""
    if not exposed:
        return []
    return sorted(name for name in set(_TOOLISH.findall(text)) - exposed if entry(name) is not None)


# The client says which kind of object was not found; the tool that lists such objects is an MCP matter,
# so the hint is added here.
_LISTED_BY: dict[Resource, str] = {
    "backup_job": "list_backup_jobs",
    "repository": "list_repositories",
    "volume": "list_volumes",
    "snapshot": "list_snapshots",
    "task": "list_active_tasks or task_history",
    "notification_destination": "list_notification_destinations",
    "mirror": "get_backup_job",
}


def with_next_step(exc: ZerobyteError, *, task_history: bool = True) -> str:
    """The client's message, plus which tool shows valid ids when an object was not found.

    ``task_history``: whether this Zerobyte has it (not before v0.42), so a missing task does not send the
    agent to a tool the server does not list.
    """
    message = str(exc)
    if isinstance(exc, NotFound) and not exc.route_missing and exc.resource in _LISTED_BY:
        lister = "list_active_tasks" if exc.resource == "task" and not task_history else _LISTED_BY[exc.resource]
        return f"{message} {lister} shows the existing ones."
    return message


def _arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
    # Resolver-injected values (a user's confirmation answer) are not arguments the agent sent.
    injected = (Context, AcceptedElicitation, DeclinedElicitation, CancelledElicitation)
    return {k: v for k, v in kwargs.items() if k != "ctx" and not isinstance(v, injected)}


def _text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


class ShownInApp(BaseModel):
    """An answer an MCP Apps host renders in its app: the app reads the data (sizes with their text beside),
    the agent reads :meth:`said` (a few lines) instead of the whole JSON. Unset, the answer is as any other."""

    _said: str | None = PrivateAttr(default=None)

    def say(self, text: str) -> None:
        self._said = text

    def said(self) -> str | None:
        return self._said


def success_result(result: BaseModel, *, limit: int | None = None) -> CallToolResult:
    data = shape(result)
    said = result.said() if isinstance(result, ShownInApp) else None
    if said is not None:
        return CallToolResult(content=[TextContent(type="text", text=said)], structured_content=with_size_text(data))
    text = render_text(data)
    if limit is not None and len(text) > limit:
        data, text = _shrink(data, limit)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _shrink(data: dict[str, Any], limit: int) -> tuple[dict[str, Any], str]:
    """Last line of defence for max_response_chars: halve the longest top-level list until the answer fits.

    Tools page and cap their own answers; this only catches what slipped through, and says so.
    """
    data = dict(data)
    shown: dict[str, tuple[int, int]] = {}
    text = render_text(data)
    while len(text) > limit:
        lists = [(len(render_text(v)), k) for k, v in data.items() if isinstance(v, list) and v]
        if not lists:
            break
        _, key = max(lists)
        items = data[key]
        total = shown.get(key, (0, len(items)))[1]
        data[key] = items[: len(items) // 2]
        shown[key] = (len(data[key]), total)
        notes = [f"{n} of {t} {k} shown" for k, (n, t) in shown.items()]
        # A cursor or offset computed for the whole page would skip what was cut here: drop it.
        for key in [k for k in data if k.startswith("next_")]:
            del data[key]
        data["truncated"] = "; ".join(notes) + ": call again with a smaller limit or narrower filters."
        text = render_text(data)
    return data, text


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
