"""A faithful, stateful fake of a Zerobyte backup server's ``/api/v1``, served over real HTTP.

Exists so the MCP server can be tested end to end (and demoed with ``zerobyte-mcp --demo``) without a
real Zerobyte: it reproduces recorded status codes, JSON shapes, quirks, task lifecycles and event
streams, and adds knobs to inject faults. Only the standard library, Starlette, uvicorn and the package's
stdlib-only cron module are used, and nothing here is imported unless a test or the demo mode asks for it.
A differential check (``tests/contract/test_simulator_vs_real.py``) holds it to a real Zerobyte; with
``Simulator(costs=CostModel())`` it also takes as long as a real one (restic runs, Zerobyte's cache, the rate
limit), for benchmarks.

    sim = Simulator()
    seed_demo(sim)
    with SimulatorServer(sim) as server:
        httpx.get(f"{server.url}/api/v1/volumes", headers={"x-api-key": "zb_test_key_0123456789"})
"""

from .api import create_app
from .costs import CostModel
from .faults import FaultRule, Faults
from .files import Node, Symlink
from .seed import seed_demo, seed_scale
from .server import SimulatorServer
from .state import RecordedRequest, Simulator, Snapshot, Task

__all__ = [
    "CostModel",
    "FaultRule",
    "Faults",
    "Node",
    "RecordedRequest",
    "Simulator",
    "SimulatorServer",
    "Snapshot",
    "Symlink",
    "Task",
    "create_app",
    "seed_demo",
    "seed_scale",
]
