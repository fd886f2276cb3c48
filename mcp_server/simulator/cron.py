"""A small cron-expression parser and next-run calculator (UTC), compatible with common cron syntax.

Exists because Zerobyte validates a schedule's ``cronExpression`` (400 "Invalid cron expression") and
reports ``nextBackupAt``; the simulator needs both without pulling in a cron dependency. Supports 5
fields (minute hour day-of-month month day-of-week) or 6 (with leading seconds), ``*``, lists, ranges,
steps, month/day names and the ``@daily``-style macros.
"""

from __future__ import annotations

import datetime as _dt

_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    pass


def _parse_field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> tuple[set[int], bool]:
    values: set[int] = set()
    star = False
    for part in text.split(","):
        if not part:
            raise CronError("empty list item")
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"bad step {step_text!r}")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = lo, hi
            star = star or step == 1
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, lo, hi, names), _value(b, lo, hi, names)
            if start > end:
                raise CronError("descending range")
        else:
            start = _value(part, lo, hi, names)
            end = hi if step != 1 else start
        values.update(range(start, end + 1, step))
    return values, star


def _value(text: str, lo: int, hi: int, names: dict[str, int] | None) -> int:
    t = text.strip().lower()
    if names is not None and t in names:
        return names[t]
    if not t.isdigit():
        raise CronError(f"bad value {text!r}")
    v = int(t)
    if names is _DAYS and v == 7:
        v = 0
    if not lo <= v <= hi:
        raise CronError(f"value {v} out of range {lo}-{hi}")
    return v


class Cron:
    """A parsed cron expression."""

    def __init__(self, expression: str) -> None:
        expr = _MACROS.get(expression.strip().lower(), expression.strip())
        fields = expr.split()
        if len(fields) == 6:
            self.seconds, _ = _parse_field(fields[0], 0, 59)
            fields = fields[1:]
        elif len(fields) == 5:
            self.seconds = {0}
        else:
            raise CronError("expected 5 or 6 fields")
        self.minutes, _ = _parse_field(fields[0], 0, 59)
        self.hours, _ = _parse_field(fields[1], 0, 23)
        self.dom, self.dom_star = _parse_field(fields[2], 1, 31)
        self.months, _ = _parse_field(fields[3], 1, 12, _MONTHS)
        self.dow, self.dow_star = _parse_field(fields[4], 0, 7, _DAYS)
        if 7 in self.dow:
            self.dow = (self.dow - {7}) | {0}

    def _day_matches(self, day: _dt.date) -> bool:
        if day.month not in self.months:
            return False
        dow = (day.weekday() + 1) % 7
        dom_ok = day.day in self.dom
        dow_ok = dow in self.dow
        if self.dom_star and self.dow_star:
            return True
        if self.dom_star:
            return dow_ok
        if self.dow_star:
            return dom_ok
        return dom_ok or dow_ok

    def next_after(self, ms: int) -> int | None:
        """Epoch ms of the first run strictly after ``ms`` (UTC), or None within ~5 years."""
        start = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC).replace(microsecond=0) + _dt.timedelta(seconds=1)
        day = start.date()
        for _ in range(366 * 5):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        for second in sorted(self.seconds):
                            cand = _dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=_dt.UTC)
                            if cand >= start:
                                return int(cand.timestamp() * 1000)
            day += _dt.timedelta(days=1)
        return None


def is_valid(expression: str) -> bool:
    try:
        Cron(expression)
    except CronError:
        return False
    return True


def next_run(expression: str, after_ms: int) -> int | None:
    try:
        return Cron(expression).next_after(after_ms)
    except CronError:
        return None
