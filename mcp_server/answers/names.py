"""Near names: what "did you mean …" suggests when a name, a file name or a pattern matched nothing.

Names are compared folded (case and accents ignored: ``resume*`` meets ``résumé 2026.txt``), by glob when
the query has wildcards and otherwise by edit distance, so a typo or a missing accent still finds its name.
"""

from __future__ import annotations

import fnmatch
import unicodedata
from collections.abc import Iterable

__all__ = ["edit_distance", "fold", "near_names"]


def fold(text: str) -> str:
    """Lower case without accents: 'Résumé' -> 'resume'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _score(query: str, name: str) -> int | None:
    """0 for a folded glob/exact/prefix match, else the edit distance when it is small enough; None if far."""
    q, n = fold(query), fold(name)
    wild = any(c in q for c in "*?[")
    if (wild and fnmatch.fnmatchcase(n, q)) or q == n:
        return 0
    stem = q.strip("*?") if wild else q
    if not stem:
        return None
    if n.startswith(stem) or stem in n:
        return 1
    # Compare with the name cut to the query's length too: 'texes' is near 'taxes 2025.pdf'.
    distance = min(edit_distance(stem, n), edit_distance(stem, n[: len(stem)]))
    return distance + 1 if distance <= max(1, len(stem) // 3) else None


def near_names(query: str, names: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` names near ``query``, nearest first (ties keep the given order), never the query itself."""
    scored: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for order, name in enumerate(names):
        if name in seen or name == query:
            continue
        seen.add(name)
        score = _score(query, name)
        if score is not None:
            scored.append((score, order, name))
    return [name for _, _, name in sorted(scored)[:limit]]
