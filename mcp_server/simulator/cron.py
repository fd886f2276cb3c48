"""The simulator's schedule arithmetic: Zerobyte's ``Invalid cron expression`` check and ``nextBackupAt``.

Exists as a thin adapter over ``mcp_server.cron`` (stdlib only), so the simulator accepts exactly the
schedules our tools validate (``L``, ``5L``, ``1#2``, ``@weekdays``...) and computes the same next runs:
one cron implementation, compared with croniter in ``tests/test_cron_vs_croniter.py``.
"""

from __future__ import annotations

import datetime as _dt

from ..cron import CronError, parse_cron

__all__ = ["CronError", "is_valid", "next_run"]


def is_valid(expression: str) -> bool:
    try:
        parse_cron(expression)
    except CronError:
        return False
    return True


def next_run(expression: str, after_ms: int) -> int | None:
    """Epoch ms of the first run strictly after ``after_ms`` (UTC); None for an expression that never runs."""
    try:
        after = _dt.datetime.fromtimestamp(after_ms / 1000, tz=_dt.UTC)
        return int(parse_cron(expression).next_after(after).timestamp() * 1000)
    except CronError:
        return None
