"""find_file's patterns: an absolute path, a glob with ``*`` / ``**``, or a name matched anywhere.

:func:`parse_pattern` validates the argument into a :class:`Pattern` of segments (literal, glob, or ``**``);
absolute patterns match case-sensitively from the root, relative ones as a path tail ignoring case (and, on
request, accents). The pattern also says whether a search must walk folder trees or can look up one folder.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Literal

from ...answers.names import fold
from ..base import ToolFailure

__all__ = ["Pattern", "Seg", "SegKind", "parse_pattern"]

SegKind = Literal["lit", "glob", "any"]


@dataclass(frozen=True)
class Seg:
    text: str
    kind: SegKind


@dataclass(frozen=True)
class Pattern:
    """A parsed find_file pattern: absolute (case-sensitive) or a name/relative glob matched anywhere."""

    raw: str
    absolute: bool
    segments: tuple[Seg, ...]  # for a relative pattern: the segments after the implicit '**'
    fold_accents: bool = False

    @property
    def walks(self) -> bool:
        """True unless the pattern names one folder (a path, or a glob in its last part only): then every
        snapshot costs a request or two; otherwise folder trees must be walked (the expensive case)."""
        return not self.absolute or any(s.kind != "lit" for s in self.segments[:-1])

    def for_root(self, root: str) -> tuple[Seg, ...]:
        if self.absolute:
            return self.segments
        return (*(Seg(p, "lit") for p in root.split("/") if p), Seg("**", "any"), *self.segments)

    def matches(self, seg: Seg, name: str) -> bool:
        if seg.kind == "lit":
            return name == seg.text
        if self.absolute:
            return fnmatch.fnmatchcase(name, seg.text)
        return fnmatch.fnmatchcase(self.fold(name), self.fold(seg.text))

    def fold(self, text: str) -> str:
        """Relative patterns ignore case (and, on request, accents: 'resume' matches 'Résumé')."""
        return fold(text) if self.fold_accents else text.casefold()

    def name_matches(self, name: str) -> bool:
        """Whether a name can end a match (the catalog's first filter)."""
        return self.matches(self.segments[-1], name)

    def path_matches(self, path: str) -> bool:
        """Whether a full path matches: from the root for absolute patterns, as a tail for relative ones."""
        parts = [p for p in path.split("/") if p]
        segs = self.segments if self.absolute else (Seg("**", "any"), *self.segments)
        return _match_parts(self, segs, tuple(parts))


def _match_parts(pat: Pattern, segs: tuple[Seg, ...], parts: tuple[str, ...]) -> bool:
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key not in memo:
            if i == len(segs):
                memo[key] = j == len(parts)
            elif segs[i].kind == "any":
                memo[key] = go(i + 1, j) or (j < len(parts) and go(i, j + 1))
            else:
                memo[key] = j < len(parts) and pat.matches(segs[i], parts[j]) and go(i + 1, j + 1)
        return memo[key]

    return go(0, 0)


_WILD = re.compile(r"[*?\[]")


def parse_pattern(pattern: str, *, fold_accents: bool = False) -> Pattern:
    text = pattern.strip()
    if not text:
        raise ToolFailure("Invalid pattern: give a path ('/srv/data/tax.pdf'), a glob ('*.pdf') or a name.")
    if len(text) > 1024 or any(ord(c) < 32 for c in text):
        raise ToolFailure("Invalid pattern: too long or contains control characters.")
    parts = [p for p in text.split("/") if p]
    if ".." in parts:
        raise ToolFailure("Invalid pattern: '..' is not allowed.")
    absolute = text.startswith("/")
    if not parts:
        raise ToolFailure("Invalid pattern: '/' alone matches every file; give a name or a glob.")
    segs: list[Seg] = []
    for p in parts:
        # Relative patterns match names case-insensitively, so even their plain names are matched by listing.
        kind: SegKind = "any" if p == "**" else "glob" if _WILD.search(p) or not absolute else "lit"
        if kind == "any" and segs and segs[-1].kind == "any":
            continue
        segs.append(Seg(p, kind))
    if not absolute and segs[0].kind == "any":
        segs = segs[1:]
    if not segs or segs[-1].kind == "any":
        raise ToolFailure("Invalid pattern: it must end with a name or a glob, not '**'.")
    return Pattern(raw=text, absolute=absolute, segments=tuple(segs), fold_accents=fold_accents)
