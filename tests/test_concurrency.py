"""The one concurrency helper: order, limit, unwrapped failures, no stray coroutines."""

from __future__ import annotations

import anyio
import pytest

from mcp_server.answers.concurrency import first_error, gather
from mcp_server.zerobyte import NotFound, ZerobyteUnreachable

pytestmark = pytest.mark.anyio


def _not_found(message: str) -> NotFound:
    return NotFound(message, status=404, method="GET", route="/api/v1/x")


async def test_gather_returns_results_in_the_order_of_the_calls() -> None:
    async def value(x: int, hops: int) -> int:
        for _ in range(hops):
            await anyio.lowlevel.checkpoint()
        return x

    assert await gather([value(1, 5), value(2, 0), value(3, 2)]) == [1, 2, 3]
    assert await gather(value(i, 3 - i) for i in range(3)) == [0, 1, 2]
    assert await gather([]) == []


async def test_gather_runs_at_most_limit_calls_at_once() -> None:
    running = 0
    peak = 0

    async def one() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        running -= 1

    await gather((one() for _ in range(10)), limit=3)
    assert peak == 3
    running = peak = 0
    await gather(one() for _ in range(10))
    assert peak == 10


async def test_a_failure_surfaces_as_itself_not_as_an_exception_group() -> None:
    async def ok() -> int:
        await anyio.Event().wait()  # never set: cancelled by the sibling's failure
        return 1

    async def down() -> int:
        raise ZerobyteUnreachable("Zerobyte is unreachable at http://127.0.0.1:9: connection refused.", kind="refused")

    with pytest.raises(ZerobyteUnreachable, match="unreachable"):
        await gather([ok(), down(), ok()])


async def test_calls_never_started_are_closed_without_a_never_awaited_warning() -> None:
    async def down() -> None:
        raise _not_found("Backup job 'x' not found.")

    async def later() -> None:
        await anyio.lowlevel.checkpoint()

    # pytest turns warnings into errors: an unclosed coroutine would fail this test.
    with pytest.raises(NotFound):
        await gather([down(), *(later() for _ in range(5))], limit=1)


def test_first_error_prefers_a_zerobyte_error_over_other_leaves() -> None:
    zb = _not_found("Repository 'r' not found.")
    group = BaseExceptionGroup("x", [KeyError("k"), ExceptionGroup("inner", [zb])])
    assert first_error(group) is zb
    plain = KeyError("k")
    assert first_error(BaseExceptionGroup("x", [plain])) is plain
