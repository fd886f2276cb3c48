"""restic's ``forget`` keep rules, computed by us: which snapshots a retention policy removes.

Zerobyte runs ``restic forget --group-by tags --tag <job short id> --prune`` with the job's policy after
every successful backup and on apply_retention. Its cached ``retentionCategories`` are stale after a
policy change, so a preview taken from them can miss what a tightened policy destroys; every gate on a
retention change (a tighter policy, a snapshot tagged into another job's group, apply_retention) asks
this module instead. It follows restic's ``ApplyPolicy`` (internal/data/snapshot_policy.go) and
``GroupSnapshots`` rule for rule; times are bucketed in UTC, the zone Zerobyte's container runs in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "Duration",
    "Policy",
    "Snap",
    "apply_policy",
    "forget_plan",
    "group_by_tags",
    "keep_reasons",
    "newly_forgotten",
    "retention_categories",
]

_DURATION = re.compile(r"(-?\d+)([ymdh])")


@dataclass(frozen=True)
class Duration:
    """restic's calendar duration ``1y2m3d4h`` (m = months), subtracted field by field like Go's AddDate."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        compact = text.strip()
        if not compact or "".join(m.group(0) for m in _DURATION.finditer(compact)) != compact:
            raise ValueError(f"not a restic duration: {text!r} (like 30d, 6m or 1y2m)")
        values = {unit: int(number) for number, unit in _DURATION.findall(compact)}  # a repeated unit: last wins
        return cls(values.get("y", 0), values.get("m", 0), values.get("d", 0), values.get("h", 0))

    def zero(self) -> bool:
        return not (self.years or self.months or self.days or self.hours)

    def before(self, moment: datetime) -> datetime:
        """``moment`` minus this duration: Go's ``AddDate(-y, -m, -d)`` (normalising day overflow) then hours."""
        # Clamped to year 1: a duration longer than the calendar keeps everything, as in restic.
        month_index = max(moment.year * 12 + (moment.month - 1) - self.years * 12 - self.months, 12)
        year, month = divmod(month_index, 12)
        # AddDate keeps the day number and normalises: 31 March minus one month is 3 March (31 February).
        first = moment.replace(year=year, month=month + 1, day=1)
        try:
            return first + timedelta(days=moment.day - 1 - self.days) - timedelta(hours=self.hours)
        except OverflowError:
            return datetime(1, 1, 1, tzinfo=UTC)

    def __str__(self) -> str:
        parts = [(self.years, "y"), (self.months, "m"), (self.days, "d"), (self.hours, "h")]
        return "".join(f"{n}{unit}" for n, unit in parts if n)


@dataclass(frozen=True)
class Policy:
    """A ``forget`` policy: counts (-1 = all), a ``within`` duration and keep-tag lists."""

    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0
    within: Duration = field(default_factory=Duration)
    tags: tuple[frozenset[str], ...] = ()

    @classmethod
    def from_zerobyte(cls, policy: Mapping[str, Any] | None) -> Policy | None:
        """Zerobyte's ``retentionPolicy`` (keepLast...keepWithinDuration); None when the job has none.

        Zerobyte passes only truthy values to restic, so 0 and "" mean "rule absent".
        """
        if policy is None:
            return None

        def count(key: str) -> int:
            value = policy.get(key)
            return int(value) if isinstance(value, int | float) and value else 0

        within = policy.get("keepWithinDuration")
        return cls(
            last=count("keepLast"),
            hourly=count("keepHourly"),
            daily=count("keepDaily"),
            weekly=count("keepWeekly"),
            monthly=count("keepMonthly"),
            yearly=count("keepYearly"),
            within=Duration.parse(within) if isinstance(within, str) and within.strip() else Duration(),
        )

    def empty(self) -> bool:
        """restic refuses to forget by an empty policy: nothing is removed."""
        counts = (self.last, self.hourly, self.daily, self.weekly, self.monthly, self.yearly)
        return not any(counts) and self.within.zero() and not self.tags

    def __str__(self) -> str:
        parts = [
            f"{name} {'all' if n == -1 else n}"
            for name, n in (
                ("last", self.last),
                ("hourly", self.hourly),
                ("daily", self.daily),
                ("weekly", self.weekly),
                ("monthly", self.monthly),
                ("yearly", self.yearly),
            )
            if n
        ]
        if not self.within.zero():
            parts.append(f"within {self.within}")
        parts += [f"tags {','.join(sorted(t))}" for t in self.tags]
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class Snap:
    """What the keep rules read from a snapshot."""

    id: str
    time_ms: float
    tags: tuple[str, ...] = ()

    @property
    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.time_ms / 1000, UTC)


def _hourly(d: datetime, _: int) -> int:
    return d.year * 1_000_000 + d.month * 10_000 + d.day * 100 + d.hour


def _daily(d: datetime, _: int) -> int:
    return d.year * 10_000 + d.month * 100 + d.day


def _weekly(d: datetime, _: int) -> int:
    year, week, _day = d.isocalendar()
    return year * 100 + week


def _monthly(d: datetime, _: int) -> int:
    return d.year * 100 + d.month


def _yearly(d: datetime, _: int) -> int:
    return d.year


def _always(_: datetime, nr: int) -> int:
    return nr


_Bucker = Callable[[datetime, int], int]


def apply_policy(snaps: Sequence[Snap], policy: Policy, *, now_ms: float) -> tuple[list[Snap], list[Snap]]:
    """(keep, remove) for ONE group, newest first, as restic's ApplyPolicy decides them.

    ``now_ms`` matters only for ``within``: restic measures from the newest snapshot that is not in the future.
    """
    if policy.empty():
        return sorted(snaps, key=lambda s: -s.time_ms), []
    judged = keep_reasons(snaps, policy, now_ms=now_ms)
    return [s for s, why in judged if why], [s for s, why in judged if not why]


_BUCKET_NAMES = ("last", "hourly", "daily", "weekly", "monthly", "yearly")


def keep_reasons(snaps: Sequence[Snap], policy: Policy, *, now_ms: float) -> list[tuple[Snap, list[str]]]:
    """ONE group newest first, each with the rules that keep it (last, daily..., within, tags); [] = removed."""
    # Snapshots sort newest first, stably (restic's sort.Stable on Time.After).
    ordered = sorted(snaps, key=lambda s: -s.time_ms)
    past = [s.time_ms for s in ordered if s.time_ms < now_ms]
    latest = datetime.fromtimestamp(max(past) / 1000, UTC) if past else datetime(1, 1, 1, tzinfo=UTC)
    buckets: list[tuple[int, _Bucker]] = [
        (policy.last, _always),
        (policy.hourly, _hourly),
        (policy.daily, _daily),
        (policy.weekly, _weekly),
        (policy.monthly, _monthly),
        (policy.yearly, _yearly),
    ]
    counts = [count for count, _ in buckets]
    lasts: list[int | None] = [None] * len(buckets)
    within_from = policy.within.before(latest) if not policy.within.zero() else None
    judged: list[tuple[Snap, list[str]]] = []
    for nr, cur in enumerate(ordered):
        moment = cur.moment
        why = ["tags"] if any(wanted <= set(cur.tags) for wanted in policy.tags) else []
        if within_from is not None and moment > within_from:
            why.append("within")
        for i, (_, bucker) in enumerate(buckets):
            if counts[i] > 0 or counts[i] == -1:
                value = bucker(moment, nr)
                # restic also keeps the oldest snapshot while a bucket still has counts left.
                if value != lasts[i] or nr == len(ordered) - 1:
                    why.append(_BUCKET_NAMES[i])
                    lasts[i] = value
                    if counts[i] > 0:
                        counts[i] -= 1
        judged.append((cur, why))
    return judged


def retention_categories(snaps: Iterable[Snap], policy: Policy, *, tag: str, now_ms: float) -> dict[str, list[str]]:
    """For every snapshot with ``tag``: the rules of ``policy`` that keep it ([] = the next forget removes it),
    grouped as Zerobyte's forget groups them. Computed fresh, unlike Zerobyte's cached ``retentionCategories``."""
    out: dict[str, list[str]] = {}
    if policy.empty():
        return out  # restic forgets nothing by an empty policy: there is nothing to say
    for members in group_by_tags(s for s in snaps if tag in s.tags).values():
        out.update((s.id, why) for s, why in keep_reasons(members, policy, now_ms=now_ms))
    return out


def group_by_tags(snaps: Iterable[Snap]) -> dict[tuple[str, ...], list[Snap]]:
    """restic's ``--group-by tags``: one group per exact (sorted) tag list."""
    groups: dict[tuple[str, ...], list[Snap]] = {}
    for s in snaps:
        groups.setdefault(tuple(sorted(s.tags)), []).append(s)
    return groups


def forget_plan(snaps: Iterable[Snap], policy: Policy | None, *, tag: str, now_ms: float) -> list[Snap]:
    """What ``forget --group-by tags --tag <tag>`` with ``policy`` removes, oldest first.

    No policy (None) means Zerobyte runs no forget at all.
    """
    if policy is None or policy.empty():
        return []
    removed: list[Snap] = []
    for members in group_by_tags(s for s in snaps if tag in s.tags).values():
        removed += apply_policy(members, policy, now_ms=now_ms)[1]
    return sorted(removed, key=lambda s: s.time_ms)


def newly_forgotten(
    before: Iterable[Snap],
    after: Iterable[Snap],
    old: Policy | None,
    new: Policy | None,
    *,
    tag: str,
    now_ms: float,
) -> list[Snap]:
    """Snapshots a change makes Zerobyte forget that it would have kept: now, and at the next backup.

    ``before``/``after`` are the repository's snapshots before and after the change (they differ when
    tags change), ``old``/``new`` the job's policy before and after. The next backup adds a snapshot
    tagged with the job, which shifts every count and ``within`` window, so both moments are checked.
    """
    before, after = list(before), list(after)
    future = Snap(id="(next backup)", time_ms=now_ms, tags=(tag,))
    going: dict[str, Snap] = {}
    for extra in ([], [future]):
        was = {s.id for s in forget_plan([*before, *extra], old, tag=tag, now_ms=now_ms + 1)}
        for s in forget_plan([*after, *extra], new, tag=tag, now_ms=now_ms + 1):
            if s.id not in was and s is not future:
                going.setdefault(s.id, s)
    return sorted(going.values(), key=lambda s: s.time_ms)
