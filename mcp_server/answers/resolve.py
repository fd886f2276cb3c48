"""Names and ``latest`` wherever an id goes, resolved once per tool call, before the tool runs.

Agents know jobs, volumes, repositories and destinations by the names users say ("the nightly job"), and
want "the newest snapshot" more often than a hex id. The server resolves those arguments here, in one
place, before the tool and its confirmation step see them: an exact name (or the one name that matches
ignoring case and accents) becomes its id, ``latest`` becomes the newest snapshot of the job given, else
of the repository, and each resolution is named in the answer. A name that matches nothing is refused with
the nearest names and their ids. Values shaped like ids pass untouched, at no cost.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp.server.mcpserver.exceptions import ToolError

from ..zerobyte import ZerobyteClient, ZerobyteError
from ..zerobyte.models import BackupJob, Repository
from .names import fold, near_names
from .output import iso_from_ms

__all__ = ["LIST_REFERENCES", "REFERENCES", "Resolution", "is_snapshot_argument", "name_hint", "resolve_arguments"]

Kind = Literal["job", "volume", "repository", "destination"]

# Tool argument -> what it names. Only arguments the called tool declares are resolved.
REFERENCES: dict[str, Kind] = {
    "job_id": "job",
    "backup_job_id": "job",
    "volume_id": "volume",
    "repository_id": "repository",
    "mirror_repository_id": "repository",
    "destination_id": "destination",
}
LIST_REFERENCES: dict[str, Kind] = {"job_ids": "job"}  # lists of references ('*' = all stays as is)
_WORDS: dict[Kind, tuple[str, str]] = {
    "job": ("backup job", "list_backup_jobs"),
    "volume": ("volume", "list_volumes"),
    "repository": ("repository", "list_repositories"),
    "destination": ("notification destination", "list_notification_destinations"),
}
_SHORT_ID = re.compile(r"[A-Za-z0-9_-]{8}")  # Zerobyte's short ids are 8 URL-safe characters
_NUMBER = re.compile(r"\d{1,9}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def looks_like_id(kind: Kind, value: object) -> bool:
    """True for what Zerobyte issues as an id of ``kind`` (and for anything not a string: validation's job)."""
    if not isinstance(value, str):
        return True
    text = value.strip()
    if kind == "destination":
        return bool(_NUMBER.fullmatch(text))
    if kind == "job" and _NUMBER.fullmatch(text):
        return True
    return bool(_SHORT_ID.fullmatch(text) or _UUID.fullmatch(text))


def _name_like(value: object) -> bool:
    """Could be a name: no slash, percent sign or control character (those are refused by the tool, with no request)."""
    return (
        isinstance(value, str)
        and 0 < len(value.strip()) <= 200
        and not any(c in value for c in "/\\%\x00")
        and all(ord(c) >= 32 for c in value)
    )


def _paths_plausible(arguments: Mapping[str, Any]) -> bool:
    """Path arguments that are at least absolute and plain: otherwise the tool refuses them, with no lookup."""
    given = [arguments.get("path"), arguments.get("target_path"), *(arguments.get("paths") or [])]
    return all(p is None or (isinstance(p, str) and p.startswith("/") and all(ord(c) >= 32 for c in p)) for p in given)


def is_snapshot_argument(name: str) -> bool:
    return name.endswith(("snapshot_id", "snapshot_ids"))


def _has_latest(value: object) -> bool:
    return isinstance(value, list) and any(is_latest(v) for v in value)


def is_latest(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() == "latest"


@dataclass
class Resolution:
    arguments: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Lookups:
    """The lists one call needs, each fetched at most once."""

    client: ZerobyteClient
    cache: dict[str, Any] = field(default_factory=dict)

    async def _once(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self.cache:
            self.cache[key] = await fetch()
        return self.cache[key]

    async def jobs(self) -> list[BackupJob]:
        jobs: list[BackupJob] = await self._once("job", self.client.list_backup_jobs)
        return jobs

    async def named(self, kind: Kind) -> list[tuple[str | int, str]]:
        """(id, name) of every object of ``kind``."""
        if kind == "job":
            return [(j.shortId, j.name) for j in await self.jobs()]
        if kind == "volume":
            return [(v.shortId, v.name) for v in await self._once(kind, self.client.list_volumes)]
        if kind == "repository":
            return [(r.shortId, r.name) for r in await self.repositories()]
        return [(d.id, d.name) for d in await self._once(kind, self.client.list_destinations)]

    async def by_name(self, kind: Kind, argument: str, value: str) -> str | int:
        items = await self.named(kind)
        word, lister = _WORDS[kind]
        matches = [i for i in items if i[1] == value] or [i for i in items if fold(i[1]) == fold(value.strip())]
        if len(matches) == 1:
            return matches[0][0]
        if matches:
            ids = ", ".join(str(i) for i, _ in matches)
            raise ToolError(f"{len(matches)} {word}s are named {value!r} (ids {ids}): give {argument} as one id.")
        ids_of: dict[str, list[str | int]] = {}
        for item_id, name in items:
            ids_of.setdefault(name, []).append(item_id)
        near = near_names(value, ids_of)
        hint = ""
        if near:
            shown = ", ".join(f"{name!r} ({', '.join(str(i) for i in ids_of[name])})" for name in near)
            hint = f" Did you mean {shown}?"
        raise ToolError(f"No {word} has the name or id {value!r}.{hint} {lister} shows them all; nothing was sent.")

    async def job(self, ref: str) -> BackupJob:
        for job in await self.jobs():
            if ref in (job.shortId, str(job.id)):
                return job
        raise ToolError(f"Backup job {ref!r} was not found: list_backup_jobs shows the existing jobs.")

    async def repositories(self) -> list[Repository]:
        repositories: list[Repository] = await self._once("repository", self.client.list_repositories)
        return repositories

    async def latest(self, repository_id: str | None, job_ref: str | None, *, by_job: bool) -> tuple[str, str]:
        """The newest snapshot's short id of the job (if given) in its repository, and how it was chosen.

        ``by_job``: the tool takes a backup job argument, so the refusal may suggest it.
        """
        job = await self.job(job_ref) if job_ref else None
        if repository_id is None and job is not None:
            repository_id = await self.client.job_repository(job, self.repositories)
        if repository_id is None:
            needed = "repository_id or backup_job_id" if by_job else "repository_id"
            raise ToolError(f"snapshot 'latest' needs {needed} (whose newest snapshot?); nothing was sent.")
        snaps = await self.client.list_snapshots(repository_id, backup_job_id=job.shortId if job else None)
        whose = f"backup job {job.name!r} ({job.shortId})" if job else f"repository {repository_id}"
        if not snaps:
            raise ToolError(f"There is no snapshot of {whose} yet, so there is no 'latest': run_backup makes one.")
        newest = max(snaps, key=lambda s: (s.time, s.short_id))
        return (
            newest.short_id,
            f"'latest' = snapshot {newest.short_id} of {iso_from_ms(newest.time)}, newest of {whose}",
        )


async def resolve_arguments(
    client: ZerobyteClient, arguments: Mapping[str, Any], accepted: frozenset[str] | set[str]
) -> Resolution:
    """``arguments`` with names and ``latest`` replaced by ids, for the arguments in ``accepted``.

    Raises ToolError (a refusal naming near matches) when a name matches nothing; ZerobyteError when a
    list it needs cannot be read. Costs nothing when every reference is already an id.
    """
    out = dict(arguments)
    notes: list[str] = []
    if not _paths_plausible(out):
        return Resolution(out, notes)
    lookups = _Lookups(client)
    for argument, kind in REFERENCES.items():
        value = out.get(argument)
        if argument not in accepted or value is None or looks_like_id(kind, value) or not _name_like(value):
            continue
        resolved = await lookups.by_name(kind, argument, str(value))
        out[argument] = resolved
        notes.append(f"{argument} {str(value)!r} = {resolved}")
    for argument, kind in LIST_REFERENCES.items():
        values = out.get(argument)
        if argument not in accepted or not isinstance(values, list):
            continue
        resolved_list: list[Any] = []
        for value in values:
            if value == "*" or looks_like_id(kind, value) or not _name_like(value):
                resolved_list.append(value)
                continue
            resolved = await lookups.by_name(kind, argument, str(value))
            resolved_list.append(resolved)
            notes.append(f"{argument} {str(value)!r} = {resolved}")
        out[argument] = resolved_list
    # Every snapshot argument ('snapshot_id', 'snapshot_ids', 'other_snapshot_id'...) takes 'latest'.
    wanted = [a for a in accepted if is_snapshot_argument(a) and (is_latest(out.get(a)) or _has_latest(out.get(a)))]
    if wanted:
        job_ref = out.get("backup_job_id") or out.get("job_id")
        repository = out.get("repository_id")
        sid, note = await lookups.latest(
            repository if isinstance(repository, str) else None,
            job_ref if isinstance(job_ref, str) else None,
            by_job=bool({"backup_job_id", "job_id"} & set(accepted)),
        )
        for argument in sorted(wanted):
            value = out[argument]
            out[argument] = [sid if is_latest(v) else v for v in value] if isinstance(value, list) else sid
        notes.append(note)
    return Resolution(out, notes)


async def name_hint(
    client: ZerobyteClient, arguments: Mapping[str, Any], accepted: frozenset[str] | set[str], error: str
) -> str | None:
    """After "not found" for an id-shaped value: the object whose NAME it is, if one is (names may look like ids).

    Best effort: None when nothing matches or the lists cannot be read.
    """
    if "not found" not in error.lower():
        return None
    lookups = _Lookups(client)
    hints: list[str] = []
    try:
        for argument, kind in REFERENCES.items():
            value = arguments.get(argument)
            if argument not in accepted or not isinstance(value, str) or value not in error:
                continue
            items = await lookups.named(kind)
            matches = [i for i in items if i[1] == value] or [i for i in items if fold(i[1]) == fold(value)]
            if len(matches) == 1:
                word = _WORDS[kind][0]
                hints.append(
                    f"A {word} is named {value!r}: its id is {matches[0][0]}; call again with "
                    f"{argument}={matches[0][0]!r}."
                )
    except ZerobyteError:
        return None
    return " ".join(hints) or None
