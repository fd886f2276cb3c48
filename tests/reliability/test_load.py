"""Concurrency without errors: many HTTP sessions at once, and many calls in flight on one stdio session.

The timings and memory figures come from ``bench/load.py`` (50 clients x 40 calls); this test runs the same
driver with small numbers and asserts only what must always hold: every call answered, every answer right.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from bench.load import discover, http_round, stdio_burst
from mcp_server.cli.http import build_http_app
from mcp_server.config import Secret, Settings
from mcp_server.server import create_server
from mcp_server.simulator import Simulator, SimulatorServer, seed_demo
from tests.helpers import TOKEN, make_settings, mcp_client, serving, stdio_params

pytestmark = pytest.mark.anyio


async def test_ten_http_sessions_of_both_eras_making_mixed_calls_at_once_all_get_correct_answers(
    sim: Simulator, settings: Settings
) -> None:
    seed_demo(sim)
    settings = make_settings(settings.url, http_token=Secret(TOKEN))
    async with serving(build_http_app(create_server(settings), settings)) as url:
        async with mcp_client(url, "auto") as first:
            expected = await discover(first)
        result = await http_round(url, TOKEN, expected, clients=10, calls=10)
    assert result.errors == []
    assert len(result.latencies) == 100
    assert len(expected.volumes) == 3 and len(expected.jobs) == 4  # the demo world really was read


@pytest.mark.slow
async def test_two_hundred_concurrent_calls_on_one_stdio_session_are_all_answered_correctly(
    sim: Simulator, sim_server: SimulatorServer, tmp_path: Path
) -> None:
    seed_demo(sim)
    async with Client(stdio_params(sim_server.url, tmp_path), mode="auto") as client:
        expected = await discover(client)
        result = await stdio_burst(client, expected, 200)
    assert result.errors == []
    assert len(result.latencies) == 200
