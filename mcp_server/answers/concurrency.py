"""The one way to await several Zerobyte calls at once.

anyio's task groups wrap a child's failure in an ExceptionGroup, which the tool wrapper would report as
"internal error" (that is what tools answered when Zerobyte was down). :func:`gather` runs awaitables
concurrently, at most ``limit`` at a time, returns their results in order and raises the first failure
as itself, so a 404 or an unreachable Zerobyte stays an actionable message.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Iterable
from typing import Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from ..zerobyte import ZerobyteError

__all__ = ["first_error", "gather"]


async def gather(calls: Iterable[Awaitable[Any]], *, limit: int | None = None) -> list[Any]:
    """Await ``calls`` concurrently (at most ``limit`` at once); results in order.

    The first failure cancels the rest and is raised unwrapped (a Zerobyte error preferred over others).
    Coroutines that never started (cancelled before their turn) are closed quietly.
    """
    pending = list(calls)
    results: list[Any] = [None] * len(pending)
    limiter = anyio.Semaphore(limit) if limit else None

    async def run(index: int, call: Awaitable[Any]) -> None:
        if limiter is None:
            results[index] = await call
            return
        async with limiter:
            results[index] = await call

    try:
        async with anyio.create_task_group() as group:
            for index, call in enumerate(pending):
                group.start_soon(run, index, call)
    except BaseExceptionGroup as failure:
        raise first_error(failure) from None
    finally:
        for call in pending:
            if inspect.iscoroutine(call) and inspect.getcoroutinestate(call) == inspect.CORO_CREATED:
                call.close()
    return results


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The failure to report from an exception group: the first Zerobyte or tool error, else the first leaf."""
    leaves: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(exc.exceptions)
        else:
            leaves.append(exc)
    for exc in leaves:
        if isinstance(exc, ZerobyteError | ToolError):
            return exc
    return leaves[0] if leaves else group
