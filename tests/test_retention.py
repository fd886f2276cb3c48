"""restic's keep rules as our retention module computes them (the real server checks them too, in tests/real)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_server.safety.retention import (
    Duration,
    Policy,
    Snap,
    apply_policy,
    forget_plan,
    group_by_tags,
    newly_forgotten,
    retention_categories,
)

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC).timestamp() * 1000
HOUR = 3_600_000.0
DAY = 24 * HOUR


def at(text: str, tags: tuple[str, ...] = ("job",)) -> Snap:
    when = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return Snap(id=text, time_ms=when.timestamp() * 1000, tags=tags)


def removed(snaps: list[Snap], policy: Policy) -> list[str]:
    return sorted(s.id for s in apply_policy(snaps, policy, now_ms=NOW)[1])


def test_keep_last_keeps_the_newest_n() -> None:
    snaps = [at(f"2026-06-0{d}T10:00") for d in range(1, 6)]
    assert removed(snaps, Policy(last=2)) == [s.id for s in snaps[:3]]


def test_a_daily_bucket_keeps_the_newest_of_each_day_and_stops_when_its_count_is_spent() -> None:
    snaps = [at("2026-06-01T10:00"), at("2026-06-01T12:00"), at("2026-06-02T09:00"), at("2026-06-03T08:00")]
    assert removed(snaps, Policy(daily=2)) == ["2026-06-01T10:00", "2026-06-01T12:00"]


def test_the_oldest_snapshot_is_kept_while_a_bucket_has_counts_left() -> None:
    snaps = [at("2026-06-02T08:00"), at("2026-06-02T10:00")]  # one day, daily 3: the oldest stays too
    assert removed(snaps, Policy(daily=3)) == []
    assert removed(snaps, Policy(daily=1)) == ["2026-06-02T08:00"]


def test_weekly_buckets_follow_iso_weeks_and_monthly_calendar_months() -> None:
    # 2026-06-28 is a Sunday (ISO week 26), 2026-06-29 a Monday (week 27).
    snaps = [at("2026-06-27T10:00"), at("2026-06-28T10:00"), at("2026-06-29T10:00")]
    assert removed(snaps, Policy(weekly=2)) == ["2026-06-27T10:00"]
    monthly = [at("2026-05-31T10:00"), at("2026-06-01T10:00"), at("2026-06-15T10:00")]
    assert removed(monthly, Policy(monthly=2)) == ["2026-06-01T10:00"]


def test_within_counts_back_from_the_newest_snapshot_strictly() -> None:
    snaps = [at("2026-06-10T12:00"), at("2026-06-08T12:00"), at("2026-06-08T12:01"), at("2026-06-01T00:00")]
    assert removed(snaps, Policy(within=Duration.parse("2d"))) == ["2026-06-01T00:00", "2026-06-08T12:00"]


def test_within_ignores_snapshots_from_the_future_when_finding_the_newest() -> None:
    future = Snap("future", NOW + 10 * DAY, ("job",))
    old = Snap("old", NOW - 3 * DAY, ("job",))
    assert removed([future, old], Policy(within=Duration.parse("1d"))) == []  # measured from "old"


def test_durations_subtract_months_like_go_adddate() -> None:
    assert Duration.parse("1m").before(datetime(2026, 3, 31, tzinfo=UTC)) == datetime(2026, 3, 3, tzinfo=UTC)
    assert Duration.parse("1y2m3d4h").before(datetime(2026, 6, 30, 12, tzinfo=UTC)) == datetime(
        2025, 4, 27, 8, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="not a restic duration"):
        Duration.parse("30 days")


def test_keep_tags_keep_every_snapshot_carrying_a_whole_tag_list() -> None:
    snaps = [at("2026-06-01T10:00", ("job", "keep")), at("2026-06-02T10:00"), at("2026-06-03T10:00")]
    assert removed(snaps, Policy(last=1, tags=(frozenset({"keep"}),))) == ["2026-06-02T10:00"]


def test_an_empty_policy_removes_nothing() -> None:
    snaps = [at("2026-06-01T10:00"), at("2026-06-02T10:00")]
    assert removed(snaps, Policy()) == []
    assert forget_plan(snaps, None, tag="job", now_ms=NOW) == []


def test_zerobyte_policies_read_as_restic_flags() -> None:
    policy = Policy.from_zerobyte({"keepLast": 3, "keepDaily": 0, "keepWithinDuration": "30d"})
    assert policy == Policy(last=3, within=Duration(days=30))
    assert str(policy) == "last 3, within 30d"
    assert Policy.from_zerobyte(None) is None


def test_forget_groups_by_exact_tag_list_and_only_sees_the_jobs_tag() -> None:
    own = [at("2026-06-01T10:00"), at("2026-06-02T10:00")]
    shared = [at("2026-06-01T11:00", ("job", "other")), at("2026-06-02T11:00", ("other", "job"))]
    foreign = [at("2026-06-01T12:00", ("other",))]
    assert set(group_by_tags(shared)) == {("job", "other")}
    gone = forget_plan([*own, *shared, *foreign], Policy(last=1), tag="job", now_ms=NOW)
    assert [s.id for s in gone] == ["2026-06-01T10:00", "2026-06-01T11:00"]


def test_tightening_names_what_goes_now_and_at_the_next_backup_and_loosening_names_nothing() -> None:
    snaps = [at(f"2026-06-0{d}T10:00") for d in range(1, 5)]
    tight = newly_forgotten(snaps, snaps, Policy(last=5), Policy(last=1), tag="job", now_ms=NOW)
    assert [s.id for s in tight] == [s.id for s in snaps]  # the next backup displaces the 4th too
    assert newly_forgotten(snaps, snaps, Policy(last=1), Policy(last=5), tag="job", now_ms=NOW) == []
    assert newly_forgotten(snaps, snaps, Policy(last=2), Policy(last=2), tag="job", now_ms=NOW) == []


def test_tagging_a_newer_snapshot_into_a_jobs_group_displaces_that_jobs_snapshots() -> None:
    mine = at("2026-06-01T10:00", ("b",))
    theirs = at("2026-06-05T10:00", ("a",))
    moved = Snap(theirs.id, theirs.time_ms, ("b",))
    going = newly_forgotten([mine, theirs], [mine, moved], Policy(last=1), Policy(last=1), tag="b", now_ms=NOW)
    assert {s.id for s in going} == {mine.id, theirs.id}  # now mine goes; after the next backup, the moved one
    joined = Snap(theirs.id, theirs.time_ms, ("a", "b"))  # add_tags: a group of its own, nothing displaced
    assert newly_forgotten([mine, theirs], [mine, joined], Policy(last=1), Policy(last=1), tag="b", now_ms=NOW) == []


times = st.lists(st.integers(min_value=0, max_value=3 * 365 * 24), min_size=1, max_size=40, unique=True)
counts = st.integers(min_value=0, max_value=6)


@given(times, counts, counts, counts, counts)
def test_keep_and_remove_partition_the_group_and_the_newest_always_stays(
    hours: list[int], last: int, daily: int, weekly: int, monthly: int
) -> None:
    snaps = [Snap(str(h), NOW - h * HOUR, ("job",)) for h in hours]
    policy = Policy(last=last, daily=daily, weekly=weekly, monthly=monthly)
    keep, remove = apply_policy(snaps, policy, now_ms=NOW)
    assert sorted(s.id for s in keep + remove) == sorted(s.id for s in snaps)
    assert not {s.id for s in keep} & {s.id for s in remove}
    if not policy.empty():
        assert str(min(hours)) in {s.id for s in keep}


@given(times, st.integers(min_value=1, max_value=10), st.integers(min_value=1, max_value=10))
def test_a_smaller_keep_last_removes_a_superset(hours: list[int], a: int, b: int) -> None:
    snaps = [Snap(str(h), NOW - h * HOUR, ("job",)) for h in hours]
    small, large = sorted((a, b))
    assert set(removed(snaps, Policy(last=large))) <= set(removed(snaps, Policy(last=small)))
    assert len(apply_policy(snaps, Policy(last=small), now_ms=NOW)[0]) == min(small, len(snaps))


def test_categories_name_every_rule_that_keeps_a_snapshot_and_none_for_the_ones_that_go() -> None:
    snaps = [at("2026-06-01T10:00"), at("2026-06-02T09:00"), at("2026-06-02T10:00", ("job", "keep"))]
    policy = Policy(last=1, daily=2, tags=(frozenset({"keep"}),))
    got = retention_categories([*snaps, at("2026-06-03T10:00", ("other",))], policy, tag="job", now_ms=NOW)
    # Two groups ({job} and {job, keep}); the other job's snapshot is not ours to judge.
    assert got == {
        "2026-06-02T09:00": ["last", "daily"],
        "2026-06-01T10:00": ["daily"],
        "2026-06-02T10:00": ["tags", "last", "daily"],
    }
    assert retention_categories(snaps, Policy(), tag="job", now_ms=NOW) == {}
