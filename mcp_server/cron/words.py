"""A parsed schedule in plain words, e.g. "daily at 02:00 UTC" or "Mondays and Thursdays at 03:30 UTC"."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from .schedule import MONTH_WORDS, CronSchedule, join_words, parse_cron

__all__ = ["describe_cron"]

_DAY_WORDS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ORDINALS = ("", "1st", "2nd", "3rd", "4th", "5th")


def describe_cron(expr: str, tz: str = "UTC") -> str:
    """A schedule in plain words, e.g. "daily at 02:00 UTC" or "Mondays and Thursdays at 03:30 UTC".

    Raises :class:`CronError` for an expression that does not parse.
    """
    s = parse_cron(expr)
    days = _day_words(s)
    months = _month_phrase(s)
    clock = _clock_times(s)
    if clock is None:
        phrase = _recurring(s, tz)
        if days is not None:
            phrase += " " + days.on
        return phrase + (f" in {months}" if months else "")
    at = f"at {join_words(clock)} {tz}"
    if days is None:
        return f"daily {at}" if months is None else f"every day in {months} {at}"
    if months is None:
        return f"{days.lead} {at}"
    if days.of_month is not None:
        if len(s.months) == 1 and len(s.days) == 1 and not s.last_day:
            return f"yearly on {min(s.days)} {months} {at}"
        return f"on {days.of_month} of {months} {at}"
    return f"{days.lead} in {months} {at}"


@dataclass(frozen=True)
class _Days:
    lead: str  # opens a sentence: "weekly on Monday", "monthly on day 1", "weekdays"
    on: str  # follows a time phrase: "on Mondays", "on day 1 of the month"
    of_month: str | None = None  # day-of-month only: "day 1", "the last day"


def _day_words(s: CronSchedule) -> _Days | None:
    dom = _dom_words(s) if s.dom_restricted else None
    dow = _dow_words(s) if s.dow_restricted else None
    if s.dom_restricted and s.dow_restricted and (dom is None or dow is None):
        return None  # one side already covers every day, and cron runs on a day matching either
    if dom is not None and dow is not None:
        # Cron runs on a day matching either field, not only on days matching both.
        both = f"{dom.on} or {dow.on}"
        return _Days(both, both)
    return dom or dow


def _dom_words(s: CronSchedule) -> _Days | None:
    if len(s.days) == 31:
        return None
    parts: list[str] = []
    ordered = sorted(s.days)
    step = _arithmetic_step(ordered)
    if step is not None and not s.last_day:
        what = f"every {_ordinal(step)} day from day {ordered[0]}"
        on = f"on every {_ordinal(step)} day of the month from day {ordered[0]}"
        return _Days(on, on, what)
    if s.days:
        parts.append(("day " if len(s.days) == 1 else "days ") + _ranges(ordered))
    if s.last_day:
        parts.append("the last day")
    what = join_words(parts)
    on = f"on {what} of the month"
    lead = f"monthly on {what}" if len(s.days) + s.last_day == 1 else on
    return _Days(lead, on, what)


def _dow_words(s: CronSchedule) -> _Days | None:
    plain = _week_order(sorted(s.weekdays))
    special = [
        f"the {_ORDINALS[n]} {_DAY_WORDS[weekday]} of the month"
        for weekday, n in sorted(s.nth_weekdays, key=lambda p: (p[1], (p[0] + 6) % 7))
    ] + [f"the last {_DAY_WORDS[weekday]} of the month" for weekday in _week_order(sorted(s.last_weekdays))]
    if len(plain) == 7:
        return None
    if len(plain) == 1 and not special:
        return _Days(f"weekly on {_DAY_WORDS[plain[0]]}", f"on {_DAY_WORDS[plain[0]]}s")
    span = _weekday_span(plain)
    if plain == [1, 2, 3, 4, 5]:
        names = "weekdays"
    elif plain == [6, 0]:
        names = "weekends"
    elif span is not None:
        names = span
    else:
        names = join_words([_DAY_WORDS[d] + "s" for d in plain])
    if not special:
        return _Days(names, f"from {names}" if span is not None and names == span else f"on {names}")
    on = "on " + join_words(([names] if plain else []) + special)
    return _Days(on, on)


def _month_phrase(s: CronSchedule) -> str | None:
    if len(s.months) == 12:
        return None
    return join_words([MONTH_WORDS[m - 1] for m in sorted(s.months)])


def _clock_times(s: CronSchedule) -> list[str] | None:
    """Up to 6 explicit times of day ("02:00", "14:30:15"); None when the schedule repeats through the day."""
    if len(s.hours) * len(s.minutes) * len(s.seconds) > 6:
        return None
    if len(s.minutes) == 1 and len(s.hours) >= 3 and _every(s.hours, 24):
        return None  # "every 8 hours" says more than "at 00:00, 08:00 and 16:00"
    with_seconds = s.seconds != (0,)
    return [
        f"{h:02d}:{m:02d}:{sec:02d}" if with_seconds else f"{h:02d}:{m:02d}"
        for h in s.hours
        for m in s.minutes
        for sec in s.seconds
    ]


def _recurring(s: CronSchedule, tz: str) -> str:
    if s.seconds == (0,):
        return _recurring_minutes(s, tz)
    every = _every(s.seconds, 60)
    if len(s.minutes) == 60 and len(s.hours) == 24:
        if every:
            return "every second" if every == 1 else f"every {every} seconds"
        return f"at second {_ranges(s.seconds)} of every minute"
    return f"at second {_ranges(s.seconds)} of {_recurring_minutes(s, tz)}"


def _recurring_minutes(s: CronSchedule, tz: str) -> str:
    full_hours = len(s.hours) == 24
    every_min = _every(s.minutes, 60)
    every_hour = _every(s.hours, 24)
    minutes = None if every_min is None else "every minute" if every_min == 1 else f"every {every_min} minutes"
    if minutes is not None and full_hours:
        return minutes
    if len(s.minutes) == 1:
        minute = s.minutes[0]
        if full_hours:
            return f"every hour at :{minute:02d}"
        if every_hour:
            return f"every {every_hour} hours" + (f" at :{minute:02d}" if minute else "")
        return f"at minute {minute} past hours {_ranges(s.hours)} {tz}"
    if minutes is not None:
        return f"{minutes} during hours {_ranges(s.hours)} {tz}"
    if full_hours:
        return f"every hour at minutes {_ranges(s.minutes)}"
    return f"at minutes {_ranges(s.minutes)} past hours {_ranges(s.hours)} {tz}"


def _week_order(days: list[int]) -> list[int]:
    return sorted(days, key=lambda d: (d + 6) % 7)  # Monday first, Sunday last


def _every(values: tuple[int, ...], size: int) -> int | None:
    """n when ``values`` is exactly 0, n, 2n... covering the whole cycle evenly; None otherwise."""
    if not values or values[0] != 0:
        return None
    step = values[1] if len(values) > 1 else size
    if size % step or step == size:
        return None
    return step if values == tuple(range(0, size, step)) else None


def _weekday_span(days: list[int]) -> str | None:
    """ "Sunday to Thursday" for 3-6 consecutive days of the week (wrapping over the weekend)."""
    if not 3 <= len(days) <= 6:
        return None
    chosen = set(days)
    for first in chosen:
        if (first - 1) % 7 not in chosen:
            run = [(first + i) % 7 for i in range(len(days))]
            if set(run) == chosen:
                return f"{_DAY_WORDS[run[0]]} to {_DAY_WORDS[run[-1]]}"
            return None
    return None


def _arithmetic_step(ordered: list[int]) -> int | None:
    """The step of 4+ values evenly spaced by 2 or more (1, 3, 5, 7...); None otherwise."""
    if len(ordered) < 4:
        return None
    step = ordered[1] - ordered[0]
    if step < 2 or any(b - a != step for a, b in pairwise(ordered)):
        return None
    return step


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ranges(values: tuple[int, ...] | list[int]) -> str:
    ordered = sorted(values)
    step = _arithmetic_step(ordered)
    if step is not None:
        return f"{ordered[0]}-{ordered[-1]} every {step}"
    runs: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            runs.append(f"{ordered[i]}-{ordered[j]}")
        else:
            runs.extend(str(v) for v in ordered[i : j + 1])
        i = j + 1
    return join_words(runs)
