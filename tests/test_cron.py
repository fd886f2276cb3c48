"""Zerobyte schedules (cron-parser syntax): parsing, next/previous runs, the longest gap, and words."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_server.cron import CronError, describe_cron, parse_cron
from mcp_server.cron import schedule as cron_schedule

NOW = datetime(2026, 8, 20, 12, 0, 0, tzinfo=UTC)  # a Thursday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- next / previous ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("0 2 * * *", "2026-08-20T12:00:00", "2026-08-21T02:00:00"),
        ("0 2 * * *", "2026-08-20T01:59:59", "2026-08-20T02:00:00"),
        ("0 2 * * *", "2026-08-20T02:00:00", "2026-08-21T02:00:00"),  # strictly after
        ("*/15 * * * *", "2026-08-20T12:07:30", "2026-08-20T12:15:00"),
        ("30 3 * * MON,thu", "2026-08-20T04:00:00", "2026-08-24T03:30:00"),
        ("0 0 1 * *", "2026-12-15T00:00:00", "2027-01-01T00:00:00"),
        ("0 0 L * *", "2026-02-01T00:00:00", "2026-02-28T00:00:00"),
        ("0 0 L * *", "2028-02-01T00:00:00", "2028-02-29T00:00:00"),
        ("0 0 * * 5L", "2026-08-01T00:00:00", "2026-08-28T00:00:00"),
        ("0 9 * * 1#2", "2026-08-01T00:00:00", "2026-08-10T09:00:00"),
        ("0 0 29 2 *", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("@yearly", "2026-08-20T00:00:00", "2027-01-01T00:00:00"),
        ("@weekly", "2026-08-20T00:00:00", "2026-08-23T00:00:00"),
        ("@weekdays", "2026-08-21T12:00:00", "2026-08-24T00:00:00"),
        ("@weekends", "2026-08-20T12:00:00", "2026-08-22T00:00:00"),
        ("@minutely", "2026-08-20T12:00:30", "2026-08-20T12:01:00"),
        ("@secondly", "2026-08-20T12:00:30", "2026-08-20T12:00:31"),
        ("0 3 * * 7", "2026-08-20T00:00:00", "2026-08-23T03:00:00"),  # 7 is Sunday too
        ("0 3 * * 5-7", "2026-08-22T04:00:00", "2026-08-23T03:00:00"),
        ("15 10 * * * *", "2026-08-20T12:00:00", "2026-08-20T12:10:15"),  # 6 fields: seconds first
        ("0 0 * JAN-MAR *", "2026-08-20T00:00:00", "2027-01-01T00:00:00"),
        ("0 0 5/10 * *", "2026-08-20T00:00:00", "2026-08-25T00:00:00"),  # 5/10 = 5, 15, 25
    ],
)
def test_next_run_follows_cron_parser_semantics(expr: str, after: str, expected: str) -> None:
    assert parse_cron(expr).next_after(at(after)) == at(expected)


def test_day_of_month_and_day_of_week_both_restricted_run_on_either() -> None:
    schedule = parse_cron("0 4 1 * 1")  # the 1st of the month OR any Monday, as in cron
    runs = [NOW]
    for _ in range(4):
        runs.append(schedule.next_after(runs[-1]))
    assert runs[1:] == [
        at("2026-08-24T04:00:00"),
        at("2026-08-31T04:00:00"),
        at("2026-09-01T04:00:00"),
        at("2026-09-07T04:00:00"),
    ]


def test_a_stepped_day_of_month_counts_as_restricted() -> None:
    # cron-parser v5 treats only a bare '*' or '?' as unrestricted: '*/2' ORs with the weekday.
    schedule = parse_cron("0 0 */10 * 1")
    assert schedule.runs_on(date(2026, 8, 11))  # day 11 = 1 + 10
    assert schedule.runs_on(date(2026, 8, 17))  # a Monday
    assert not schedule.runs_on(date(2026, 8, 18))


def test_previous_run_is_strictly_before() -> None:
    schedule = parse_cron("0 2 * * *")
    assert schedule.previous_before(at("2026-08-20T02:00:00")) == at("2026-08-19T02:00:00")
    assert schedule.previous_before(at("2026-08-20T02:00:00") + timedelta(microseconds=1)) == at("2026-08-20T02:00:00")
    assert parse_cron("0 0 29 2 *").previous_before(NOW) == at("2024-02-29T00:00:00")


def test_times_in_other_zones_and_naive_times_are_read_as_utc() -> None:
    schedule = parse_cron("0 2 * * *")
    paris = timezone(timedelta(hours=2))
    assert schedule.next_after(datetime(2026, 8, 20, 3, 30, tzinfo=paris)) == at("2026-08-20T02:00:00")
    assert schedule.next_after(datetime(2026, 8, 20, 1, 0)) == at("2026-08-20T02:00:00")


def test_every_second_schedule_evaluates_without_stepping_through_seconds() -> None:
    schedule = parse_cron("* * * * * *")
    started = clock.perf_counter()
    assert schedule.next_after(NOW) == NOW + timedelta(seconds=1)
    assert schedule.max_gap(NOW) == timedelta(seconds=1)
    assert clock.perf_counter() - started < 1.0


# --- max gap ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "gap"),
    [
        ("0 2 * * *", timedelta(days=1)),
        ("15 * * * *", timedelta(hours=1)),
        ("0 */6 * * *", timedelta(hours=6)),
        ("0 0,20 * * *", timedelta(hours=20)),
        ("30 3 * * 1,4", timedelta(days=4)),  # Thursday -> Monday
        ("0 3 * * 1-5", timedelta(days=3)),  # Friday -> Monday
        ("0 */2 * * 1-5", timedelta(days=2, hours=2)),  # Friday 22:00 -> Monday 00:00
        ("@monthly", timedelta(days=31)),
        ("@yearly", timedelta(days=365)),
        ("0 0 29 2 *", timedelta(days=4 * 365 + 1)),
        ("0 2 * 1,7 *", timedelta(days=154)),  # 31 July -> 1 January
    ],
)
def test_max_gap_is_the_longest_wait_between_runs(expr: str, gap: timedelta) -> None:
    assert parse_cron(expr).max_gap(NOW) == gap


def test_max_gap_defaults_to_now() -> None:
    assert parse_cron("0 2 * * *").max_gap() == timedelta(days=1)


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 25 * * *", "cron expression '0 25 * * *': hour 25 is out of range 0-23"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("0 0 0 * *", "day of month 0 is out of range 1-31"),
        ("0 0 * 13 *", "month 13 is out of range 1-12"),
        ("0 0 * * 8", "day of week 8 is out of range 0-7"),
        ("* * *", "has 3 field(s); expected 5"),
        ("* * * * * * *", "has 7 field(s)"),
        ("", "empty"),
        ("   ", "empty"),
        ("@often", "unknown macro '@often'"),
        ("*/0 * * * *", "minute step '0' must be a positive number"),
        ("5-1 * * * *", "range '5-1' runs backwards"),
        ("0 0 * * FOO", "day of week 'FOO' is not a number 0-7 or a name like MON"),
        ("0 0 15W * *", "'W' is not supported"),
        ("0 0 * * 1#6", "occurrence 1-5"),
        ("0 0 31 2 *", "never runs: February has no day 31"),
        ("0 0 31 4,6 *", "never runs: April and June have no day 31"),
        ("1,,2 * * * *", "empty list item"),
        ("x" * 10_000, "too long"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expr: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        parse_cron(expr)
    assert message in str(caught.value)
    assert len(str(caught.value)) < 300


def test_cron_error_is_a_value_error() -> None:
    assert issubclass(CronError, ValueError)


# --- words --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("0 2 * * *", "daily at 02:00 UTC"),
        ("@daily", "daily at 00:00 UTC"),
        ("15 * * * *", "every hour at :15"),
        ("@hourly", "every hour at :00"),
        ("30 3 * * 1,4", "Mondays and Thursdays at 03:30 UTC"),
        ("0 */6 * * *", "every 6 hours"),
        ("30 */8 * * *", "every 8 hours at :30"),
        ("*/15 * * * *", "every 15 minutes"),
        ("* * * * *", "every minute"),
        ("*/10 * * * * *", "every 10 seconds"),
        ("0 0,12 * * *", "daily at 00:00 and 12:00 UTC"),
        ("0 3 * * 1-5", "weekdays at 03:00 UTC"),
        ("0 3 * * SAT,SUN", "weekends at 03:00 UTC"),
        ("0 22 * * 0-4", "Sunday to Thursday at 22:00 UTC"),
        ("@weekly", "weekly on Sunday at 00:00 UTC"),
        ("@monthly", "monthly on day 1 at 00:00 UTC"),
        ("@yearly", "yearly on 1 January at 00:00 UTC"),
        ("0 0 L * *", "monthly on the last day at 00:00 UTC"),
        ("0 0 * * 5L", "on the last Friday of the month at 00:00 UTC"),
        ("0 9 * * MON#2", "on the 2nd Monday of the month at 09:00 UTC"),
        ("0 0 1,15 * *", "on days 1 and 15 of the month at 00:00 UTC"),
        ("0 4 1 * 1", "on day 1 of the month or on Mondays at 04:00 UTC"),
        ("0 2 * 1,7 *", "every day in January and July at 02:00 UTC"),
        ("0 2 1 1,7 *", "on day 1 of January and July at 02:00 UTC"),
        ("0 */2 * * 1-5", "every 2 hours on weekdays"),
        ("5 * * * 1", "every hour at :05 on Mondays"),
        ("0 8-18 * * *", "at minute 0 past hours 8-18 UTC"),
        ("*/5 8-18 * * *", "every 5 minutes during hours 8-18 UTC"),
        ("5 1,3,5,7,9,11,13 1 * *", "at minute 5 past hours 1-13 every 2 UTC on day 1 of the month"),
        ("0 0 */2 * *", "on every 2nd day of the month from day 1 at 00:00 UTC"),
        ("30 0 0 * * *", "daily at 00:00:30 UTC"),
    ],
)
def test_schedules_read_in_plain_words(expr: str, words: str) -> None:
    assert describe_cron(expr) == words


def test_words_name_the_time_zone_given() -> None:
    assert describe_cron("0 2 * * *", tz="Europe/Paris") == "daily at 02:00 Europe/Paris"


def test_words_of_a_bad_expression_raise() -> None:
    with pytest.raises(CronError):
        describe_cron("0 25 * * *")


# --- properties ---------------------------------------------------------------------------------------


@st.composite
def _item(draw: st.DrawFn, lo: int, hi: int, top: int) -> tuple[str, set[int]]:
    """One list item of a field (a value, a range, a stepped range or a stepped '*') and the values it means.

    Values are drawn from lo-hi; '*/n' and 'a/n' run to the field's real maximum ``top``.
    """
    kind = draw(st.sampled_from(["value", "range", "stepped", "star-step", "start-step"]))
    a = draw(st.integers(lo, hi))
    b = draw(st.integers(a, hi))
    step = draw(st.integers(1, 12))
    if kind == "value":
        return str(a), {a}
    if kind == "range":
        return f"{a}-{b}", set(range(a, b + 1))
    if kind == "stepped":
        return f"{a}-{b}/{step}", set(range(a, b + 1, step))
    if kind == "star-step":
        return f"*/{step}", set(range(lo, top + 1, step))
    return f"{a}/{step}", set(range(a, top + 1, step))


@st.composite
def _field(draw: st.DrawFn, lo: int, hi: int, top: int | None = None) -> tuple[str, set[int] | None]:
    """A field's text and its values; None stands for '*' (unrestricted)."""
    if draw(st.booleans()):
        return "*", None
    items = draw(st.lists(_item(lo, hi, hi if top is None else top), min_size=1, max_size=3))
    return ",".join(text for text, _ in items), set().union(*(values for _, values in items))


@st.composite
def schedules(draw: st.DrawFn) -> tuple[str, dict[str, set[int] | None]]:
    parts = {
        "minute": draw(_field(0, 59)),
        "hour": draw(_field(0, 23)),
        "dom": draw(_field(1, 28, 31)),  # drawn values stay below 29 so every month can run
        "month": draw(_field(1, 12)),
        "dow": draw(_field(0, 6, 7)),  # 'a/n' runs to 7, which is Sunday again
    }
    text = " ".join(t for t, _ in parts.values())
    fields = {name: values for name, (_, values) in parts.items()}
    if fields["dow"] is not None:
        fields["dow"] = {d % 7 for d in fields["dow"]}
    return text, fields


def _oracle(fields: dict[str, set[int] | None], t: datetime) -> bool:
    """An independent matcher over the generated values (cron's OR rule for restricted day fields)."""

    def ok(name: str, value: int) -> bool:
        allowed = fields[name]
        return allowed is None or value in allowed

    weekday = (t.weekday() + 1) % 7
    dom, dow = fields["dom"], fields["dow"]
    if dom is not None and dow is not None:
        day_ok = t.day in dom or weekday in dow
    else:
        day_ok = ok("dom", t.day) and ok("dow", weekday)
    return (
        t.second == 0
        and t.microsecond == 0
        and ok("minute", t.minute)
        and ok("hour", t.hour)
        and ok("month", t.month)
        and day_ok
    )


instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(schedules(), instants)
def test_next_run_is_later_and_matches_the_expression(
    spec: tuple[str, dict[str, set[int] | None]], x: datetime
) -> None:
    text, fields = spec
    schedule = parse_cron(text)
    nxt = schedule.next_after(x)
    assert nxt > x
    assert _oracle(fields, nxt)
    assert schedule.matches(nxt)
    # Nothing runs in between: the previous run before the next one is not after x.
    assert schedule.previous_before(nxt) <= x


@settings(max_examples=300, deadline=None)
@given(schedules(), instants)
def test_previous_run_is_earlier_and_matches_the_expression(
    spec: tuple[str, dict[str, set[int] | None]], x: datetime
) -> None:
    text, fields = spec
    schedule = parse_cron(text)
    prev = schedule.previous_before(x)
    assert prev < x
    assert _oracle(fields, prev)
    assert schedule.next_after(prev) >= x


@settings(max_examples=100, deadline=None)
@given(schedules(), instants)
def test_no_run_is_skipped_minute_by_minute(spec: tuple[str, dict[str, set[int] | None]], x: datetime) -> None:
    text, fields = spec
    schedule = parse_cron(text)
    nxt = schedule.next_after(x)
    t = x.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(2000):  # brute force only over the first 2000 minutes
        if t >= nxt:
            break
        assert not _oracle(fields, t), f"{text}: {t} runs before the computed next run {nxt}"
        t += timedelta(minutes=1)


@settings(max_examples=150, deadline=None)
@given(schedules(), instants)
def test_max_gap_bounds_every_consecutive_pair(spec: tuple[str, dict[str, set[int] | None]], x: datetime) -> None:
    text, _ = spec
    schedule = parse_cron(text)
    gap = schedule.max_gap(x)
    assert gap > timedelta(0)
    run = schedule.previous_before(x)
    for _ in range(50):  # consecutive runs across the year after x
        following = schedule.next_after(run)
        assert following - run <= gap
        if following > x + timedelta(days=366):
            break
        run = following


@settings(max_examples=300, deadline=None)
@given(schedules())
def test_every_generated_schedule_has_words(spec: tuple[str, dict[str, set[int] | None]]) -> None:
    words = describe_cron(spec[0])
    assert words
    assert "None" not in words


def test_a_schedule_that_almost_never_runs_is_found_decades_ahead_and_the_search_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schedule = parse_cron("0 0 * 2 1#5")  # a 5th Monday in February: only when 29 February is a Monday
    assert schedule.next_after(at("2026-01-01T00:00:00")) == at("2044-02-29T00:00:00")  # as cron-parser finds it
    assert schedule.next_after(at("2072-03-01T00:00:00")) == at("2112-02-29T00:00:00")  # 2100 is no leap year
    assert schedule.previous_before(at("2044-01-01T00:00:00")) == at("2016-02-29T00:00:00")
    monkeypatch.setattr(cron_schedule, "_SEARCH_DAYS", 366 * 8)
    with pytest.raises(CronError, match="does not run within"):
        schedule.next_after(at("2026-01-01T00:00:00"))


def test_max_gap_counts_the_gap_leading_into_its_window() -> None:
    # Day 1 of February-December or any Sunday: no run in January, so 26 Dec 1999 -> 1 Feb 2000 is the gap
    # a job checked on 1 February must be allowed (once found by hypothesis).
    schedule = parse_cron("* * 1 2/1 0")
    x = at("2000-02-01T00:00:00")
    assert schedule.next_after(schedule.previous_before(x)) - schedule.previous_before(x) <= schedule.max_gap(x)
    assert schedule.max_gap(x) >= at("2000-02-01T00:00:00") - at("1999-12-26T23:59:00")
