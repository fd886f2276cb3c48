"""Helpers for tests that drive the simulator: a sample-like world, task waiting and SSE parsing.

Exists so every test-suite (the simulator's own, the client's, the tools') sets up the situation the
recorded samples were taken in the same way, and reads tasks and event streams the same way, without
copying helpers between test folders. Imported by tests only; it needs httpx, a project dependency.
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .files import Symlink, TreeSpec
from .state import Simulator

TEST_KEY = "zb_test_key_0123456789"

SAMPLE_TREE: TreeSpec = {
    "docs": {
        "data.json": '{"hello": "zerobyte"}',
        "notes.md": "# notes\nremember\n",
        "numbers.txt": 23893,
    },
    "hello.txt": b"hello zerobyte\n",
    "link-to-hello": Symlink("hello.txt"),
    "photos": {"2026": {"random.bin": 200000}},
}
"""The file tree of the recorded samples' ``/srv/data`` volume."""


@dataclass
class World:
    """Ids of the sample situation: one volume, one local repository, one retained daily schedule."""

    volume: str
    repository: str
    schedule: str
    schedule_id: int


def fast_simulator(**kwargs: Any) -> Simulator:
    """A simulator whose tasks take 0.2 s and whose streams beat every 0.2 s."""
    options: dict[str, Any] = {"task_seconds": 0.2, "progress_interval": 0.04, "heartbeat_interval": 0.2}
    options.update(kwargs)
    return Simulator(**options)


def build_sample_world(sim: Simulator) -> World:
    vol = sim.add_volume("sample-files", path="/srv/data", files=SAMPLE_TREE)
    repo = sim.add_repository("local-repo", config={"path": "/srv/repos"})
    job = sim.add_backup_job(
        "sample-daily",
        volume=vol["shortId"],
        repository=repo["shortId"],
        cron="0 3 * * *",
        retention={"keepLast": 5, "keepDaily": 7},
        exclude_patterns=["*.tmp"],
    )
    return World(vol["shortId"], repo["shortId"], job["shortId"], job["id"])


TERMINAL = ("succeeded", "failed", "cancelled", "stale")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def http_client(base_url: str, *, key: str | None = TEST_KEY, timeout: float = 5.0, **kwargs: Any) -> httpx.Client:
    """An httpx client for a simulator URL (shares one SSL context: building one costs ~0.1 s)."""
    headers = {"x-api-key": key} if key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, verify=_ssl_context(), **kwargs)


def wait_task(client: httpx.Client, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll ``GET /tasks/{id}`` (client based at ``/api/v1``) until the task is terminal."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dto: dict[str, Any] = client.get(f"/tasks/{task_id}").json()
        if dto["status"] in TERMINAL:
            return dto
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} did not finish within {timeout}s")


@dataclass
class Event:
    name: str
    data: Any


class EventStream:
    """Reads SSE frames from one streaming response, across several ``read`` calls."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.iter_lines()

    def read(self, *, until: Callable[[Event], bool], limit: int = 500) -> list[Event]:
        """Events until ``until`` matches (inclusive), ``limit`` is reached or the stream ends."""
        events: list[Event] = []
        name = ""
        data: list[str] = []
        for line in self._lines:
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and name:
                event = Event(name, json.loads("\n".join(data)) if data else None)
                events.append(event)
                name, data = "", []
                if until(event) or len(events) >= limit:
                    return events
        return events


def read_events(response: httpx.Response, *, until: Callable[[Event], bool], limit: int = 500) -> list[Event]:
    """One-shot ``EventStream(response).read(...)``."""
    return EventStream(response).read(until=until, limit=limit)
