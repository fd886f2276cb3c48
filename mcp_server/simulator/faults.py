"""Fault-injection rules: make the simulator (or a "proxy" in front of it) misbehave on purpose.

Exists so tests and demos can prove the MCP server survives what real deployments do: slow answers,
502/503/504 pages from a reverse proxy, 429s, truncated or wrongly-typed JSON, connections reset in
the middle of a body and SSE streams that die early. Rules are matched per request by method and a
path regex, optionally only ``times`` times.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultRule:
    """One fault. ``method``/``path`` select requests (None = any); ``times`` = remaining uses (None = forever).

    Effects (combine ``latency`` with any other):
      - ``latency``: seconds to sleep before answering;
      - ``status`` (+ ``body``, ``content_type``, ``headers``): answer this instead of the real response;
      - ``truncate_json``: the real JSON body cut in the middle (right content-type and length);
      - ``wrong_types``: the real JSON with numbers/booleans as strings and lists as objects;
      - ``reset``: send headers and part of the body, then drop the connection;
      - ``drop_sse_after``: end an SSE stream after this many events.
    """

    method: str | None = None
    path: str | None = None
    query: str | None = None  # a regex searched in the decoded query string (None = any)
    times: int | None = None
    latency: float | None = None
    status: int | None = None
    body: Any = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    truncate_json: bool = False
    wrong_types: bool = False
    reset: bool = False
    drop_sse_after: int | None = None
    hits: int = 0
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _query: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path) if self.path is not None else None
        self._query = re.compile(self.query) if self.query is not None else None

    def matches(self, method: str, path: str, query: str = "") -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self._query is not None and self._query.search(query) is None:
            return False
        return self._regex is None or self._regex.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.times <= 0


class Faults:
    """The ordered fault rules of one simulator. The first live matching rule applies."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        query: str | None = None,
        times: int | None = None,
        latency: float | None = None,
        status: int | None = None,
        body: Any = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        truncate_json: bool = False,
        wrong_types: bool = False,
        reset: bool = False,
        drop_sse_after: int | None = None,
    ) -> FaultRule:
        rule = FaultRule(
            method=method,
            path=path,
            query=query,
            times=times,
            latency=latency,
            status=status,
            body=body,
            content_type=content_type,
            headers=dict(headers or {}),
            truncate_json=truncate_json,
            wrong_types=wrong_types,
            reset=reset,
            drop_sse_after=drop_sse_after,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if r is not rule]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, method: str, path: str, query: str = "") -> FaultRule | None:
        """Find the rule for this request and consume one use of it."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path, query):
                    continue
                if rule.times is not None:
                    rule.times -= 1
                rule.hits += 1
                return rule
        return None


def mutate_types(value: Any) -> Any:
    """Recursively break JSON types: numbers/booleans become strings, lists become index-keyed objects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return {str(i): mutate_types(v) for i, v in enumerate(value)}
    if isinstance(value, dict):
        return {k: mutate_types(v) for k, v in value.items()}
    return value
