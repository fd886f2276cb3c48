"""Stories of browsing a real Zerobyte at the least cost: a big folder paged at any size costs one Zerobyte page
of 500 per 500 entries (offsets that are multiples of 500, so Zerobyte's cache answers the repeats); once the
snapshot is in the catalog the folder needs no request; a file is read with one dump and no listing.

Request counts are what reached the real server, through a counting proxy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest

from tests.real.conftest import McpConfig, call, make_files, mcp_stdio, refused, unique
from tests.real.counting_proxy import CountingProxy
from tests.real.story_world import SCHEDULE, wait_for_snapshots
from tests.real.zbserver import RealZerobyte

pytestmark = pytest.mark.anyio

BIG = 1_200


@dataclass
class Browse:
    root: Path
    source: Path
    repository: str
    snapshot: str


@pytest.fixture(scope="module")
def browse(zb: RealZerobyte, tmp_path_factory: pytest.TempPathFactory) -> Browse:
    root = tmp_path_factory.mktemp("catalog-browse")
    files = {f"big/file-{i:04d}.txt": f"{i}\n" for i in range(BIG)}
    files |= {"notes/today.md": "# today\nwrite the catalog\n", "notes/empty.txt": ""}
    source = make_files(root / "source", files)

    async def arrange() -> str:
        async with mcp_stdio(zb, root / "mcp-arrange", McpConfig(access="operate")) as client:
            volume = await call(client, "create_volume", name=unique("vol"), backend="directory", source=str(source))
            repo = await call(
                client, "create_repository", name=unique("repo"), backend="local", location=str(root / "r")
            )
            job = await call(
                client,
                "create_backup_job",
                name=unique("job"),
                volume_id=volume["volume"]["id"],
                repository_id=repo["repository"]["id"],
                schedule=SCHEDULE,
            )
            await call(client, "run_backup", job_id=job["job"]["id"])
        return str(repo["repository"]["id"])

    repository = anyio.run(arrange)
    return Browse(root, source, repository, wait_for_snapshots(zb, repository, 1)[-1]["short_id"])


def files_pages(proxy: CountingProxy) -> list[tuple[str, str]]:
    """(offset, limit) of every /files request that reached Zerobyte."""
    out = []
    for line in proxy.requests:
        url = urlsplit(line.split(" ", 1)[1])
        if url.path.endswith("/files"):
            query = parse_qs(url.query)
            out.append((query.get("offset", ["0"])[0], query.get("limit", ["?"])[0]))
    return out


def snapshot_routes(proxy: CountingProxy) -> list[str]:
    """The last path segment of each request about one snapshot (capability probes and lists left out)."""
    return [r.split("?")[0].rsplit("/", 1)[-1] for r in proxy.requests if "/snapshots/" in r]


async def page_all(client: object, browse: Browse, folder: str, limit: int) -> list[str]:
    names: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = await call(
            client,  # type: ignore[arg-type]
            "list_snapshot_files",
            repository_id=browse.repository,
            snapshot_id=browse.snapshot,
            path=folder,
            offset=offset,
            limit=limit,
        )
        names += [e["name"] for e in page["entries"]]
        assert page["total"] == BIG
        offset = page.get("next_offset")
    return names


async def test_a_big_folder_paged_at_any_size_asks_zerobyte_only_for_pages_of_500(
    zb: RealZerobyte, browse: Browse
) -> None:
    folder = f"{browse.source}/big"
    proxy = CountingProxy(zb.url).start()
    try:
        async with mcp_stdio(replace(zb, url=proxy.url), browse.root / unique("mcp"), McpConfig()) as client:
            by_70 = await page_all(client, browse, folder, 70)
            by_500 = await page_all(client, browse, folder, 500)
    finally:
        proxy.stop()

    on_disk = sorted(p.name for p in (browse.source / "big").iterdir())
    assert by_70 == on_disk and by_500 == on_disk
    pages = files_pages(proxy)
    # 1,201 entries (the folder itself first): Zerobyte pages at 0, 500, 1000, each of 500 entries.
    assert set(pages) == {("0", "500"), ("500", "500"), ("1000", "500")}


async def test_an_indexed_snapshot_serves_its_folders_and_file_sizes_without_asking_zerobyte(
    zb: RealZerobyte, browse: Browse
) -> None:
    folder = f"{browse.source}/notes"
    mcp_folder = browse.root / unique("mcp")
    proxy = CountingProxy(zb.url).start()  # the catalog belongs to one Zerobyte URL: both servers use the proxy's
    try:
        through_proxy = replace(zb, url=proxy.url)
        async with mcp_stdio(through_proxy, mcp_folder, McpConfig()) as client:
            live = await call(
                client, "list_snapshot_files", repository_id=browse.repository, snapshot_id=browse.snapshot, path=folder
            )
            await call(client, "find_file", pattern="today.md", repository_id=browse.repository)  # indexes it
        proxy.requests.clear()
        async with mcp_stdio(through_proxy, mcp_folder, McpConfig()) as client:
            served = await call(
                client, "list_snapshot_files", repository_id=browse.repository, snapshot_id=browse.snapshot, path=folder
            )
            read = await call(
                client,
                "read_snapshot_file",
                repository_id=browse.repository,
                snapshot_id=browse.snapshot,
                path=f"{folder}/today.md",
            )
    finally:
        proxy.stop()

    assert served["entries"] == live["entries"] and served["total"] == live["total"] == 2
    assert read["text"] == "# today\nwrite the catalog\n" and read["size"] == 26 and read["mtime"].endswith("Z")
    assert snapshot_routes(proxy) == ["dump"]


async def test_a_file_is_read_with_one_dump_and_folders_or_missing_paths_are_still_named(
    zb: RealZerobyte, browse: Browse
) -> None:
    notes = f"{browse.source}/notes"
    proxy = CountingProxy(zb.url).start()
    try:
        async with mcp_stdio(replace(zb, url=proxy.url), browse.root / unique("mcp"), McpConfig()) as client:
            args = {"repository_id": browse.repository, "snapshot_id": browse.snapshot}
            read = await call(client, "read_snapshot_file", path=f"{notes}/today.md", **args)
            reads = snapshot_routes(proxy)
            empty = await call(client, "read_snapshot_file", path=f"{notes}/empty.txt", **args)
            folder = await refused(client, "read_snapshot_file", path=notes, **args)
            missing = await refused(client, "read_snapshot_file", path=f"{notes}/gone.md", **args)
    finally:
        proxy.stop()

    assert read["text"] == (browse.source / "notes/today.md").read_text()
    assert reads == ["dump"]
    assert empty["text"] == "" and empty["size"] == 0
    assert "is a folder" in folder and "list_snapshot_files" in folder
    assert "is not in snapshot" in missing
