"""3-2-1 coverage of a backup job: how many copies, on how many distinct backends, and whether one is off-site.

Judged from what Zerobyte tells: the repository a job writes to and its mirrors, each repository's backend type
and location (``config``). A ``local`` repository is a folder on the Zerobyte host; a REST, SFTP or S3-compatible
endpoint on a loopback address is on the host too. Cloud buckets (S3, R2, GCS, Azure) and other hosts count as
off-site; an rclone remote is assumed off-site (its kind is rclone's, not Zerobyte's), and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import BaseModel

from ..zerobyte.models import BackupJob, Mirror, Repository

__all__ = ["Coverage", "coverage", "site_of"]

_CLOUD = frozenset({"s3", "r2", "gcs", "azure"})
_LOOPBACK = ("localhost", "127.", "::1", "[::1]", "0.0.0.0")


class Coverage(BaseModel, defer_build=True):
    copies: int
    backends: int
    offsite: bool
    verdict: str  # "3-2-1 ok", "no off-site copy", "one copy only"
    reason: str


@dataclass(frozen=True)
class Site:
    place: str  # what makes two repositories the same backend: "local:/srv/repos", "s3:bucket"...
    offsite: bool
    words: str  # "a folder on the Zerobyte host", "S3 bucket 'b'"


def _host(value: object) -> str:
    text = str(value or "")
    if "://" in text:
        return (urlsplit(text).hostname or "").lower()
    return text.split("@")[-1].split(":")[0].split("/")[0].lower()


def site_of(repo: Repository) -> Site:
    """Where a repository's data lives, as far as its backend type and location tell."""
    kind = (repo.type or str(repo.config.get("backend") or "")).lower()
    config = repo.config
    if kind == "local":
        path = str(config.get("path") or "?")
        return Site(f"local:{path.rsplit('/', 1)[0]}", False, "a folder on the Zerobyte host")
    if kind in _CLOUD:
        where = str(config.get("bucket") or config.get("container") or config.get("accountName") or "?")
        endpoint = _host(config.get("endpoint"))
        if endpoint and endpoint.startswith(_LOOPBACK):
            return Site(f"{kind}:{endpoint}", False, f"{kind} endpoint on the Zerobyte host ({endpoint})")
        return Site(f"{kind}:{endpoint}:{where}", True, f"{kind} bucket {where!r}")
    if kind in ("rest", "sftp", "webdav", "smb"):
        host = _host(config.get("url") or config.get("host") or config.get("server"))
        if not host or host.startswith(_LOOPBACK):
            return Site(f"{kind}:{host or '?'}", False, f"{kind} server on the Zerobyte host ({host or '?'})")
        return Site(f"{kind}:{host}", True, f"{kind} server {host}")
    if kind == "rclone":
        remote = str(config.get("remote") or "?")
        return Site(f"rclone:{remote}", True, f"rclone remote {remote!r} (assumed off-site)")
    return Site(f"{kind}:{repo.shortId}", False, f"{kind or 'unknown'} backend (off-site unknown)")


def coverage(job: BackupJob, mirrors: list[Mirror] | None, repositories: list[Repository]) -> Coverage | None:
    """The job's copies (its repository and enabled mirrors) judged against 3-2-1; None when mirrors are unknown."""
    if mirrors is None:
        return None
    by_id = {r.shortId: r for r in repositories} | {r.id: r for r in repositories if r.id}
    targets: list[Repository] = []
    primary = job.repository or by_id.get(str(job.repositoryId or ""))
    if primary is not None:
        targets.append(by_id.get(primary.shortId, primary))
    for m in mirrors:
        if m.enabled:
            repo = by_id.get(m.repositoryId) or m.repository
            if repo is not None:
                targets.append(repo)
    sites = [site_of(r) for r in targets]
    copies = len(targets)
    backends = len({s.place for s in sites})
    offsite = any(s.offsite for s in sites)
    where = "; ".join(f"{r.name!r}: {s.words}" for r, s in zip(targets, sites, strict=True)) or "no repository"
    if copies < 2:
        verdict, why = "one copy only", f"no enabled mirror ({where})"
    elif not offsite:
        verdict, why = "no off-site copy", f"every copy is on the Zerobyte host ({where})"
    elif backends < 2:
        verdict, why = "one backend only", f"all copies on one backend ({where})"
    else:
        verdict, why = "3-2-1 ok", where
    return Coverage(copies=copies, backends=backends, offsite=offsite, verdict=verdict, reason=why)
