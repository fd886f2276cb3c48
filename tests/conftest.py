"""Shared fixtures: a Zerobyte simulator on loopback, settings pointing at it, and MCP clients on both eras.

Every test that talks to "Zerobyte" talks to the simulator over real HTTP; every test of a tool goes
through the SDK's real in-memory ``Client``: on the handshake era (``legacy``), and also on the 2026 era
(``auto``) where the eras differ (tests marked ``both_eras``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
from mcp import Client

from mcp_server.config import Settings
from mcp_server.server import create_server
from mcp_server.simulator import Simulator, SimulatorServer
from tests.helpers import TEST_KEY, make_settings

ERAS = ["legacy", "auto"]
DEFAULT_ERA = "legacy"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim() -> Simulator:
    """A fresh, empty simulator with fast tasks (seed it in the test)."""
    return Simulator(api_keys=[TEST_KEY], task_seconds=0.4, progress_interval=0.05, heartbeat_interval=0.5)


@pytest.fixture
def sim_server(sim: Simulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


@pytest.fixture
def settings(sim_server: SimulatorServer) -> Settings:
    return make_settings(sim_server.url)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Both protocol eras only where they differ (tests marked ``both_eras``): handshake, elicitation,
    progress, cancellation and protocol errors. A tool's own behaviour is the same on either era."""
    if "era" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_eras"):
        metafunc.parametrize("era", ERAS, indirect=True)


@pytest.fixture
def era(request: pytest.FixtureRequest) -> str:
    """The MCP protocol era: 'legacy' (initialize handshake, what most clients speak today) unless the test
    is marked ``both_eras``, then also 'auto' (2026-07-28, discover)."""
    value: str = getattr(request, "param", DEFAULT_ERA)
    return value


@pytest.fixture
async def mcp(settings: Settings, era: str) -> AsyncIterator[Client]:
    """An MCP client connected in memory to a read-only server over the simulator, on the test's era."""
    async with Client(create_server(settings), mode=era) as client:
        await client.list_tools()  # as clients do: the first listing detects Zerobyte's capabilities (3 GETs)
        yield client


@pytest.fixture
async def operate_mcp(settings: Settings, era: str) -> AsyncIterator[Client]:
    """Like ``mcp``, on a server at access level ``operate`` (tools that only serve writes appear there)."""
    async with Client(create_server(replace(settings, access="operate")), mode=era) as client:
        await client.list_tools()
        yield client
