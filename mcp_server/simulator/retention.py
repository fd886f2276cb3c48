"""restic ``forget`` retention policy evaluation (keep-last/hourly/daily/weekly/monthly/yearly/within).

Exists because Zerobyte derives ``retentionCategories`` from ``restic forget --dry-run`` and applies
the same policy in forget and mirror tasks. This mirrors restic's ``ApplyPolicy``: snapshots are
walked newest first per group; each bucket rule keeps the first snapshot of every new bucket while it
has count left, and also keeps the oldest snapshot when count remains ("oldest daily snapshot").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from ._util import Json, utc_parts

CATEGORY_BY_REASON = {
    "last snapshot": "last",
    "hourly snapshot": "hourly",
    "daily snapshot": "daily",
    "weekly snapshot": "weekly",
    "monthly snapshot": "monthly",
    "yearly snapshot": "yearly",
}


@dataclass(frozen=True)
class PolicyItem:
    """The fields retention needs from a snapshot."""

    key: str
    time_ms: int
    group: Hashable


def _hourly(ms: int) -> int:
    d = utc_parts(ms)
    return d.year * 1_000_000 + d.month * 10_000 + d.day * 100 + d.hour


def _daily(ms: int) -> int:
    d = utc_parts(ms)
    return d.year * 10_000 + d.month * 100 + d.day


def _weekly(ms: int) -> int:
    iso = utc_parts(ms).isocalendar()
    return iso[0] * 100 + iso[1]


def _monthly(ms: int) -> int:
    d = utc_parts(ms)
    return d.year * 100 + d.month


def _yearly(ms: int) -> int:
    return utc_parts(ms).year


_BUCKETS: list[tuple[str, str, Callable[[int], int]]] = [
    ("keepHourly", "hourly snapshot", _hourly),
    ("keepDaily", "daily snapshot", _daily),
    ("keepWeekly", "weekly snapshot", _weekly),
    ("keepMonthly", "monthly snapshot", _monthly),
    ("keepYearly", "yearly snapshot", _yearly),
]

_DURATION_RE = re.compile(r"(\d+)([yhmd])")


def parse_duration_ms(text: str) -> int | None:
    """restic's ``--keep-within`` duration: ``1y2m3d4h`` (m = months). Approximated in ms."""
    compact = text.replace(" ", "")
    if not compact or not re.fullmatch(r"(\d+[yhmd])+", compact):
        return None
    units = {"y": 365 * 86_400_000, "m": 30 * 86_400_000, "d": 86_400_000, "h": 3_600_000}
    return sum(int(n) * units[u] for n, u in _DURATION_RE.findall(compact))


def policy_is_empty(policy: Json | None) -> bool:
    if not policy:
        return True
    return not any(
        isinstance(policy.get(k), int | float) and policy.get(k) for k in ("keepLast", *(b[0] for b in _BUCKETS))
    ) and not policy.get("keepWithinDuration")


def apply_policy(items: Sequence[PolicyItem], policy: Json | None) -> dict[str, list[str]]:
    """Return {snapshot key: [categories]} for every snapshot restic would keep.

    Snapshots absent from the result would be removed. An empty policy keeps everything (with no
    categories), because restic refuses to forget without a policy.
    """
    if policy_is_empty(policy):
        return {it.key: [] for it in items}
    assert policy is not None
    groups: dict[Hashable, list[PolicyItem]] = {}
    for it in items:
        groups.setdefault(it.group, []).append(it)
    kept: dict[str, list[str]] = {}
    within_ms = parse_duration_ms(str(policy.get("keepWithinDuration") or ""))
    for members in groups.values():
        ordered = sorted(members, key=lambda it: it.time_ms, reverse=True)
        latest = ordered[0].time_ms if ordered else 0
        keep_last = int(policy.get("keepLast") or 0)
        counts = [int(policy.get(name) or 0) for name, _, _ in _BUCKETS]
        lasts: list[int | None] = [None] * len(_BUCKETS)
        for nr, cur in enumerate(ordered):
            keep = False
            reasons: list[str] = []
            if keep_last < 0 or nr < keep_last:
                keep = True
                reasons.append("last snapshot")
            if within_ms is not None and latest - cur.time_ms <= within_ms:
                keep = True
                reasons.append("within")
            for i, (_, reason, bucker) in enumerate(_BUCKETS):
                if counts[i] > 0 or counts[i] < 0:
                    val = bucker(cur.time_ms)
                    is_oldest = nr == len(ordered) - 1
                    if val != lasts[i] or is_oldest:
                        keep = True
                        same = val == lasts[i]
                        lasts[i] = val
                        if counts[i] > 0:
                            counts[i] -= 1
                        reasons.append(f"oldest {reason}" if same and is_oldest else reason)
            if keep:
                cats: list[str] = []
                for r in reasons:
                    cat = CATEGORY_BY_REASON.get(r.removeprefix("oldest "))
                    if cat and cat not in cats:
                        cats.append(cat)
                kept[cur.key] = cats
    return kept
