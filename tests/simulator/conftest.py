"""Fixtures for the simulator's own tests: a fast simulator, the sample world, a live server, clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mcp_server.simulator import Simulator, SimulatorServer
from mcp_server.simulator.testing import World, build_sample_world, fast_simulator, http_client


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = fast_simulator()
    yield simulator
    simulator.close()


@pytest.fixture
def world(sim: Simulator) -> World:
    return build_sample_world(sim)


@pytest.fixture
def server(sim: Simulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as srv:
        yield srv


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[httpx.Client]:
    with http_client(f"{server.url}/api/v1") as c:
        yield c


@pytest.fixture
def anon(server: SimulatorServer) -> Iterator[httpx.Client]:
    with http_client(server.url, key=None) as c:
        yield c
