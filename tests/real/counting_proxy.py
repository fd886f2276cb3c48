"""A loopback TCP proxy in front of a real Zerobyte that records every HTTP request line passing through.

Stories that promise "no request to Zerobyte" (an answer from the local catalog) count what really
reached the server here, rather than trusting our own logs.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_REQUEST = re.compile(rb"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/\S*) HTTP/1\.[01]\r\n")


@dataclass
class CountingProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``requests`` holds "METHOD /path?query" in arrival order and
    ``received`` the bytes Zerobyte sent back."""

    target: str
    requests: list[str] = field(default_factory=list)
    received: int = 0
    _server: socketserver.ThreadingTCPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> CountingProxy:
        parts = urlsplit(self.target)
        upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                client: socket.socket = self.request
                server = socket.create_connection(upstream)

                def pump_back() -> None:
                    try:
                        while data := server.recv(65536):
                            proxy.received += len(data)
                            client.sendall(data)
                    except OSError:
                        pass
                    finally:
                        client.close()

                back = threading.Thread(target=pump_back, daemon=True)
                back.start()
                pending = b""
                try:
                    while data := client.recv(65536):
                        pending = (pending + data)[-4096:]
                        for match in _REQUEST.finditer(pending):
                            proxy.requests.append(f"{match.group(1).decode()} {match.group(2).decode()}")
                        # Keep only the unfinished tail, so a request line is counted once.
                        last = max((m.end() for m in _REQUEST.finditer(pending)), default=0)
                        pending = pending[last:]
                        server.sendall(data)
                except OSError:
                    pass
                finally:
                    server.close()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def count(self, fragment: str) -> int:
        return sum(1 for r in self.requests if fragment in r)
