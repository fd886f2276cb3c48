"""Serve a simulator over real HTTP on loopback, in a background thread (tests and ``--demo``).

Exists so clients are exercised over genuine sockets (timeouts, resets, chunked SSE, TLS) rather than
an in-process transport: uvicorn runs in its own thread and event loop, on a free port by default,
and shuts down promptly even with event streams open.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING

from .api import create_app
from .state import Simulator

if TYPE_CHECKING:  # uvicorn is imported on first start(): importing the package stays cheap
    import uvicorn

_RESET_MESSAGES = ("ASGI callable returned without completing response.",)


class _QuietResets(logging.Filter):
    """Drop uvicorn's complaint about the half-sent responses that the ``reset`` fault produces."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(msg in record.getMessage() for msg in _RESET_MESSAGES)


_filter = _QuietResets()


@functools.cache
def _server_class() -> type[uvicorn.Server]:
    import uvicorn

    class _PromptServer(uvicorn.Server):
        """uvicorn with a 10 ms shutdown poll instead of 100-200 ms, so per-test servers stay cheap."""

        async def main_loop(self) -> None:
            counter = 0
            should_exit = await self.on_tick(counter)
            while not should_exit:
                counter = (counter + 1) % 864000
                await asyncio.sleep(0.01)
                should_exit = await self.on_tick(counter)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            for server in self.servers:
                server.close()
            for sock in sockets or []:
                sock.close()
            for connection in list(self.server_state.connections):
                connection.shutdown()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + float(self.config.timeout_graceful_shutdown or 2)
            # uvicorn's connection/task sets offer no event to wait on, so poll them briefly
            while (self.server_state.connections or self.server_state.tasks) and loop.time() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            for task in list(self.server_state.tasks):
                task.cancel()

    return _PromptServer


class SimulatorServer:
    """Run ``create_app(sim)`` with uvicorn on ``host:port`` (port 0 = pick a free one), or on ``sock``.

    Use as a context manager or call ``start()``/``stop()``. ``url`` is the base URL without ``/api/v1``.
    """

    def __init__(
        self,
        sim: Simulator,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self.sock = sock  # a bound socket to serve on instead of host:port (closed when the server stops)
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile = ssl_keyfile
        self.app = create_app(sim)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_certfile else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> SimulatorServer:
        if self._thread is not None:
            return self
        import uvicorn

        logging.getLogger("uvicorn.error").addFilter(_filter)
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            loop="asyncio",
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=2,
            timeout_keep_alive=5,
            ssl_certfile=self.ssl_certfile,
            ssl_keyfile=self.ssl_keyfile,
        )
        server = _server_class()(config)
        self._server = server
        if self.sock is not None:
            self.host, self.port = self.sock.getsockname()[:2]
        run = functools.partial(server.run, sockets=[self.sock] if self.sock is not None else None)
        thread = threading.Thread(target=run, name="zerobyte-simulator", daemon=True)
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                self._thread = None
                raise RuntimeError("the simulator server failed to start")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("the simulator server did not start in time")
            time.sleep(0.005)
        for srv in getattr(server, "servers", []):
            for sock in srv.sockets:
                self.port = int(sock.getsockname()[1])
                break
        return self

    def stop(self, timeout: float = 10.0) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.sim.close_streams(owner=self.app.state.zb_owner)
        server.should_exit = True
        thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
