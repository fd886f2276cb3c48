"""Our one cron implementation (``mcp_server.cron``, also behind the simulator's ``nextBackupAt``) agrees with
croniter, a maintained library, on the next runs of generated schedules.

The generator covers what both understand the same way: lists, ranges, steps, month and day names, ``L``
(last day of the month), ``d#n`` (n-th weekday) and ``dL`` (last weekday ``d`` of the month, which croniter
spells ``Ld``), with day-of-month and day-of-week both restricted (either may match, as in Vixie cron and
cron-parser). Left out where croniter is the one that is wrong or gives up: one-value ranges (``0-0``, which
it reads as ``*``), and ``d#n`` or ``dL`` beside a day of month (it gives up on the first and drops the
day of month from the second, where cron-parser lets either match); and a day field written ``*/n`` or
covering every day beside a restricted other day field (see ``_star_like``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from croniter import croniter  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_server.cron import parse_cron
from mcp_server.simulator import cron as simulator_cron

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _numeric(lo: int, hi: int) -> st.SearchStrategy[str]:
    value = st.integers(lo, hi)
    # croniter reads a one-value range such as 0-0 as "*": ranges here span at least two values
    ranges = st.tuples(value, value).filter(lambda ab: ab[0] != ab[1]).map(lambda ab: f"{min(ab)}-{max(ab)}")
    steps = st.integers(1, max(1, (hi - lo) // 2))
    return st.one_of(
        st.just("*"),
        value.map(str),
        ranges,
        st.tuples(ranges, steps).map(lambda rs: f"{rs[0]}/{rs[1]}"),
        steps.map(lambda s: f"*/{s}"),
        st.lists(value, min_size=2, max_size=4, unique=True).map(lambda vs: ",".join(map(str, vs))),
    )


def _months() -> st.SearchStrategy[str]:
    return st.one_of(_numeric(1, 12), st.sampled_from(MONTHS), st.sampled_from(MONTHS[:6]).map(lambda m: f"{m}-dec"))


def _days_of_month() -> st.SearchStrategy[tuple[str, str]]:
    return st.one_of(_numeric(1, 31), st.just("L")).map(lambda dom: (dom, dom))


def _days_of_week() -> st.SearchStrategy[tuple[str, str]]:
    """(ours, croniter's spelling) of a day-of-week field."""
    plain = st.one_of(_numeric(0, 6), st.sampled_from(DAYS), st.just("mon-fri")).map(lambda d: (d, d))
    nth = st.tuples(st.integers(0, 6), st.integers(1, 4)).map(lambda dn: (f"{dn[0]}#{dn[1]}", f"{dn[0]}#{dn[1]}"))
    last = st.integers(0, 6).map(lambda d: (f"{d}L", f"L{d}"))
    return st.one_of(plain, nth, last)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[str, str]:
    minute, hour = draw(_numeric(0, 59)), draw(_numeric(0, 23))
    dom_ours, dom_theirs = draw(_days_of_month())
    month = draw(_months())
    dow_ours, dow_theirs = draw(_days_of_week())
    if "#" in dow_ours or dow_ours.endswith("L"):
        # croniter gives up on d#n beside a day of month, and ignores the day of month beside dL
        dom_ours = dom_theirs = "*"
    if dom_ours != "*" and dow_ours != "*" and (_star_like(dom_ours, 1, 31) or _star_like(dow_ours, 0, 6)):
        # Implementations disagree whether "*/2" or a range covering every day still "restricts" the field
        # (Vixie cron and croniter: no, so both fields must match; cron-parser, which Zerobyte runs, and ours: yes,
        # so either may, as tests/contract/test_cron_vs_zerobyte.py checks against Zerobyte's own build): left out.
        dom_ours = dom_theirs = "*"
    return f"{minute} {hour} {dom_ours} {month} {dow_ours}", f"{minute} {hour} {dom_theirs} {month} {dow_theirs}"


def _star_like(field: str, lo: int, hi: int) -> bool:
    """A field written with a leading ``*`` or whose values cover its whole range."""
    if field.startswith("*"):
        return True
    if field in ("L",) or not field[0].isdigit():
        return False
    schedule = parse_cron(f"0 0 {field} * *" if hi == 31 else f"0 0 * * {field}")
    values = schedule.days if hi == 31 else schedule.weekdays
    return set(values) >= set(range(lo, hi + 1))


def _theirs(expression: str, start: datetime, count: int) -> list[datetime]:
    it = croniter(expression, start)
    return [it.get_next(datetime) for _ in range(count)]


def _ours(expression: str, start: datetime, count: int) -> list[datetime]:
    schedule = parse_cron(expression)
    runs, at = [], start
    for _ in range(count):
        at = schedule.next_after(at)
        runs.append(at)
    return runs


@settings(max_examples=200, deadline=None)
@given(
    schedules(),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31)).map(
        lambda d: d.replace(microsecond=0, tzinfo=UTC)
    ),
)
def test_next_runs_agree_with_croniter(pair: tuple[str, str], start: datetime) -> None:
    ours, theirs = pair
    assert _ours(ours, start, 4) == _theirs(theirs, start, 4), ours


def test_the_simulator_uses_the_same_schedules_as_the_tools() -> None:
    start = datetime(2026, 8, 1, tzinfo=UTC)
    after_ms = int(start.timestamp() * 1000)
    # once refused by the simulator's own parser while the tools accepted them (1 August 2026 is a Saturday)
    expected = {
        "0 0 L * *": datetime(2026, 8, 31, tzinfo=UTC),
        "0 0 * * 5L": datetime(2026, 8, 28, tzinfo=UTC),
        "0 9 * * 1#2": datetime(2026, 8, 10, 9, tzinfo=UTC),
        "@weekdays": datetime(2026, 8, 3, tzinfo=UTC),
        "@minutely": datetime(2026, 8, 1, 0, 1, tzinfo=UTC),
    }
    for expression, first in expected.items():
        assert simulator_cron.is_valid(expression), expression
        assert parse_cron(expression).next_after(start) == first, expression
        assert simulator_cron.next_run(expression, after_ms) == int(first.timestamp() * 1000), expression
    assert not simulator_cron.is_valid("61 * * * *")
    assert simulator_cron.next_run("0 0 30 2 *", after_ms) is None  # never runs
    assert simulator_cron.next_run("0 0 * * *", after_ms) == after_ms + int(timedelta(days=1).total_seconds() * 1000)
