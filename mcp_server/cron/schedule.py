"""Cron expressions parsed and evaluated: next and previous runs, the longest gap between runs.

Pure stdlib and UTC (Zerobyte's default server time zone); times of day are computed per day, never by
stepping through seconds, so even ``* * * * * *`` evaluates instantly. Semantics are cron-parser's as
Zerobyte v0.42 ships it (held to it by tests/contract/test_cron_vs_zerobyte.py).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

__all__ = ["MONTH_WORDS", "CronError", "CronSchedule", "join_words", "parse_cron", "version_difference"]

# cron-parser's macros, spelled as it spells them (lowercase; it has no @midnight).
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
    "@minutely": "* * * * *",
    "@secondly": "* * * * * *",
    "@weekdays": "0 0 * * 1-5",
    "@weekends": "0 0 * * 0,6",
}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MONTH_WORDS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MAX_EXPRESSION = 256
# How far to look for a run: a 5th Monday in February comes once in 28 years, and 2100 is no leap year.
_SEARCH_YEARS = 50
_SEARCH_DAYS = 366 * _SEARCH_YEARS
_YEAR = timedelta(days=366)


class CronError(ValueError):
    """A cron expression Zerobyte would refuse (or that never runs); the message says what is wrong."""


@dataclass(frozen=True)
class _Field:
    name: str
    lo: int
    hi: int
    names: tuple[str, ...] | None = None
    name_base: int = 0


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DOM = _Field("day of month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTH_NAMES, 1)
_DOW = _Field("day of week", 0, 7, _DAY_NAMES, 0)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule; every time it takes or returns is an aware datetime (naive ones are read as UTC)."""

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]  # days of the month, 1-31
    last_day: bool  # "L" in day of month
    months: frozenset[int]  # 1-12
    weekdays: frozenset[int]  # 0 = Sunday ... 6 = Saturday
    last_weekdays: frozenset[int]  # "5L": the last Friday of the month
    nth_weekdays: frozenset[tuple[int, int]]  # "1#2": (Monday, 2nd)
    dom_restricted: bool
    dow_restricted: bool
    raw: tuple[str, str, str, str, str, str]  # second, minute, hour, day of month, month, day of week

    # --- evaluation --------------------------------------------------------------------------------

    def matches(self, dt: datetime) -> bool:
        """Whether the schedule fires at this exact second."""
        t = _utc(dt)
        return (
            t.microsecond == 0
            and t.second in self.seconds
            and t.minute in self.minutes
            and t.hour in self.hours
            and self.runs_on(t.date())
        )

    def runs_on(self, day: date) -> bool:
        """Whether the schedule fires at some time on this (UTC) day.

        As in cron, when both day of month and day of week are restricted a day matching either runs.
        """
        if day.month not in self.months:
            return False
        dom = day.day in self.days or (self.last_day and _is_last_day(day))
        weekday = (day.weekday() + 1) % 7
        dow = (
            weekday in self.weekdays
            or (weekday in self.last_weekdays and (day + timedelta(days=7)).month != day.month)
            or (weekday, (day.day - 1) // 7 + 1) in self.nth_weekdays
        )
        if self.dom_restricted and self.dow_restricted:
            return dom or dow
        if self.dom_restricted:
            return dom
        if self.dow_restricted:
            return dow
        return True

    def next_after(self, dt: datetime) -> datetime:
        """The first run strictly after ``dt``; CronError if none comes within 50 years."""
        start = _utc(dt).replace(microsecond=0) + timedelta(seconds=1)
        day = start.date()
        floor: time | None = start.time()
        for _ in range(_SEARCH_DAYS):
            if self.runs_on(day):
                found = self._first_time(floor or time(0))
                if found is not None:
                    return datetime.combine(day, found, UTC)
            day += timedelta(days=1)
            floor = None
        raise CronError(f"cron expression {self.expression!r} does not run within {_SEARCH_YEARS} years")

    def previous_before(self, dt: datetime) -> datetime:
        """The last run strictly before ``dt``; CronError if none came within 50 years."""
        t = _utc(dt)
        end = t.replace(microsecond=0) if t.microsecond else t - timedelta(seconds=1)
        day = end.date()
        ceiling: time | None = end.time()
        for _ in range(_SEARCH_DAYS):
            if self.runs_on(day):
                found = self._last_time(ceiling or time(23, 59, 59))
                if found is not None:
                    return datetime.combine(day, found, UTC)
            day -= timedelta(days=1)
            ceiling = None
        raise CronError(f"cron expression {self.expression!r} did not run in the {_SEARCH_YEARS} years before")

    def max_gap(self, now: datetime | None = None) -> timedelta:
        """The longest interval between two consecutive runs around the year after ``now``.

        A job whose last run is older than this has missed at least one run. Raises CronError like next_after.
        """
        start = _utc(now or datetime.now(UTC)).date()
        # From the last run before that day: the gap leading into the window counts too.
        first = self.previous_before(datetime.combine(start, time(0), UTC)).date()
        last = self.next_after(datetime.combine(start + _YEAR, time(0), UTC)).date()
        gap = self._intraday_gap()
        first_tod = _seconds_of_day(self.hours[0], self.minutes[0], self.seconds[0])
        last_tod = _seconds_of_day(self.hours[-1], self.minutes[-1], self.seconds[-1])
        overnight = 86400 - last_tod + first_tod
        previous = first
        day = first + timedelta(days=1)
        while day <= last:
            if self.runs_on(day):
                gap = max(gap, (day - previous).days * 86400 - 86400 + overnight)
                previous = day
            day += timedelta(days=1)
        return timedelta(seconds=gap)

    def _intraday_gap(self) -> int:
        gap = 0
        if len(self.seconds) > 1:
            gap = max(gap, _max_step(self.seconds))
        if len(self.minutes) > 1:
            gap = max(gap, _max_step(self.minutes) * 60 - self.seconds[-1] + self.seconds[0])
        if len(self.hours) > 1:
            within_hour_last = self.minutes[-1] * 60 + self.seconds[-1]
            within_hour_first = self.minutes[0] * 60 + self.seconds[0]
            gap = max(gap, _max_step(self.hours) * 3600 - within_hour_last + within_hour_first)
        return gap

    def _first_time(self, floor: time) -> time | None:
        for hour in self.hours[bisect.bisect_left(self.hours, floor.hour) :]:
            m0 = floor.minute if hour == floor.hour else 0
            for minute in self.minutes[bisect.bisect_left(self.minutes, m0) :]:
                s0 = floor.second if (hour, minute) == (floor.hour, floor.minute) else 0
                i = bisect.bisect_left(self.seconds, s0)
                if i < len(self.seconds):
                    return time(hour, minute, self.seconds[i])
        return None

    def _last_time(self, ceiling: time) -> time | None:
        for hour in reversed(self.hours[: bisect.bisect_right(self.hours, ceiling.hour)]):
            m1 = ceiling.minute if hour == ceiling.hour else 59
            for minute in reversed(self.minutes[: bisect.bisect_right(self.minutes, m1)]):
                s1 = ceiling.second if (hour, minute) == (ceiling.hour, ceiling.minute) else 59
                i = bisect.bisect_right(self.seconds, s1)
                if i > 0:
                    return time(hour, minute, self.seconds[i - 1])
        return None


# --- parsing ---------------------------------------------------------------------------------------


def parse_cron(expr: str) -> CronSchedule:
    """Parse a Zerobyte cron expression: 5 fields (minute hour day-of-month month day-of-week), 6 with
    leading seconds, or a macro such as ``@daily``. Raises :class:`CronError` naming the problem."""
    if not isinstance(expr, str):
        raise CronError(f"cron expression must be a string, got {type(expr).__name__}")
    shown = _show(expr)
    text = expr.strip()
    if not text:
        raise CronError("cron expression is empty (a disabled job may have no schedule)")
    if len(text) > _MAX_EXPRESSION:
        raise CronError(f"cron expression {shown} is too long ({len(text)} characters)")
    text = _MACROS.get(text, text)
    if text.startswith("@"):
        raise CronError(
            f"cron expression {shown}: unknown macro {text.split()[0]!r} "
            "(Zerobyte knows @yearly, @monthly, @weekly, @weekdays, @weekends, @daily and @hourly, in lowercase)"
        )
    parts = text.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    elif len(parts) != 6:
        raise CronError(
            f"cron expression {shown} has {len(parts)} field(s); expected 5 "
            "(minute hour day-of-month month day-of-week) or 6 (with leading seconds)"
        )
    sec_t, min_t, hour_t, dom_t, month_t, dow_t = parts

    def plain(field: _Field, raw: str) -> tuple[int, ...]:
        return tuple(sorted(_parse_list(shown, field, raw)))

    seconds = plain(_SECOND, sec_t)
    minutes = plain(_MINUTE, min_t)
    hours = plain(_HOUR, hour_t)
    months = frozenset(plain(_MONTH, month_t))

    days: set[int] = set()
    last_day = False
    for item in _items(shown, _DOM, dom_t):
        if item.upper() == "L":
            last_day = True
        else:
            days |= _parse_item(shown, _DOM, item)

    weekdays: set[int] = set()
    last_weekdays: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for item in _items(shown, _DOW, dow_t):
        upper = item.upper()
        if upper.endswith("L") and len(upper) > 1:
            last_weekdays.add(_single(shown, _DOW, item[:-1]) % 7)
        elif "#" in item:
            day_text, _, n_text = item.partition("#")
            if not n_text.isdigit() or not 1 <= int(n_text) <= 5:
                raise CronError(f"cron expression {shown}: {item!r} needs an occurrence 1-5 after '#' (e.g. MON#2)")
            nth.add((_single(shown, _DOW, day_text) % 7, int(n_text)))
        else:
            weekdays |= {d % 7 for d in _parse_item(shown, _DOW, item)}

    schedule = CronSchedule(
        expression=expr.strip(),
        seconds=seconds,
        minutes=minutes,
        hours=hours,
        days=frozenset(days),
        last_day=last_day,
        months=months,
        weekdays=frozenset(weekdays),
        last_weekdays=frozenset(last_weekdays),
        nth_weekdays=frozenset(nth),
        dom_restricted=dom_t not in ("*", "?"),
        dow_restricted=dow_t not in ("*", "?"),
        raw=(sec_t, min_t, hour_t, dom_t, month_t, dow_t),
    )
    _check_possible(shown, schedule)
    return schedule


def version_difference(expr: str) -> str | None:
    """Why Zerobyte v0.41 runs this (valid) schedule on other days than v0.42 does; None when both agree.

    The two releases ship different cron-parser versions, and we evaluate schedules as v0.42 does. v0.41
    requires the week of a ``d#n`` day-of-week of every day it runs, even one picked by the day of month;
    and a stepped day-of-week range ending at 7 (``4/2``, ``3-7/3``) also runs on Sundays there.
    """
    schedule = parse_cron(expr)
    dom_t, dow_t = schedule.raw[3], schedule.raw[5]
    if schedule.nth_weekdays and schedule.dom_restricted:
        return (
            f"day of week {dow_t!r} beside day of month {dom_t!r}: Zerobyte v0.41 runs it only in that week of the "
            "month, v0.42 on every day either field names; use one of the two fields (or two jobs)"
        )
    for item in dow_t.split(","):
        base, slash, step = item.partition("/")
        if not slash or base in ("*", "?") or not step.isdigit():
            continue
        start_text, dash, end_text = base.partition("-")
        start = _single("", _DOW, start_text)
        end = _single("", _DOW, end_text) if dash else 7
        series = range(start, end + 1, int(step))
        if end == 7 and 7 not in series and 0 not in series:
            days = ",".join(str(d) for d in series)
            return (
                f"day of week {item!r}: Zerobyte v0.41 also runs it on Sundays, v0.42 does not; "
                f"write the days as a list ({days})"
            )
    return None


def _items(shown: str, field: _Field, raw: str) -> list[str]:
    items = raw.split(",")
    if any(not item for item in items):
        raise CronError(f"cron expression {shown}: {field.name} {raw!r} has an empty list item")
    return items


def _parse_list(shown: str, field: _Field, raw: str) -> set[int]:
    values: set[int] = set()
    for item in _items(shown, field, raw):
        values |= _parse_item(shown, field, item)
    return values


def _parse_item(shown: str, field: _Field, item: str) -> set[int]:
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"cron expression {shown}: {field.name} step {step_text!r} must be a positive number")
        step = int(step_text)
    if base in ("*", "?"):
        start, end = field.lo, field.hi
    elif "-" in base:
        a, _, b = base.partition("-")
        start, end = _single(shown, field, a), _single(shown, field, b)
        if start > end:
            raise CronError(f"cron expression {shown}: {field.name} range {base!r} runs backwards")
    else:
        start = _single(shown, field, base)
        end = field.hi if slash else start
    if field is _DOW and slash and base in ("*", "?"):
        end = 6  # "*/2" in day of week is Sun, Tue, Thu, Sat: 7 would repeat Sunday
    return set(range(start, end + 1, step))


def _single(shown: str, field: _Field, text: str) -> int:
    t = text.strip().lower()
    if field.names is not None and t in field.names:
        return field.names.index(t) + field.name_base
    if not t.isdigit():
        if field.names is not None:
            hint = f"a number {field.lo}-{field.hi} or a name like {field.names[1].upper()}"
        else:
            hint = f"a number {field.lo}-{field.hi}"
        if t in ("w", "h") or (t[-1:] in ("w", "h") and t[:-1].isdigit()):
            hint += f" ({t[-1].upper()!r} is not supported)"
        raise CronError(f"cron expression {shown}: {field.name} {text!r} is not {hint}")
    value = int(t)
    if not field.lo <= value <= field.hi:
        raise CronError(f"cron expression {shown}: {field.name} {value} is out of range {field.lo}-{field.hi}")
    return value


def _check_possible(shown: str, s: CronSchedule) -> None:
    if s.dow_restricted or s.last_day:
        return
    longest = max(29 if m == 2 else 30 if m in (4, 6, 9, 11) else 31 for m in s.months)
    if min(s.days) > longest:
        months = join_words([MONTH_WORDS[m - 1] for m in sorted(s.months)])
        verb = "has" if len(s.months) == 1 else "have"
        raise CronError(f"cron expression {shown} never runs: {months} {verb} no day {min(s.days)}")


# --- small helpers ------------------------------------------------------------------------------------


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _is_last_day(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


def _max_step(values: tuple[int, ...]) -> int:
    return max(b - a for a, b in pairwise(values))


def _seconds_of_day(hour: int, minute: int, second: int) -> int:
    return hour * 3600 + minute * 60 + second


def _show(expr: str) -> str:
    text = expr.strip()
    return repr(text if len(text) <= 60 else text[:57] + "...")


def join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
