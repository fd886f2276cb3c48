"""The streaming tar reader against archives written by Python's tarfile in each format restic's may use."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator, Sequence

import pytest

from mcp_server.catalog.tar import TarError, TarMember, tar_members

pytestmark = pytest.mark.anyio


def archive(fmt: int, members: Sequence[tuple[str, bytes | None, float]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, data, mtime in members:
            info = tarfile.TarInfo(name)
            info.mtime = mtime
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read(data: bytes, size: int = 7) -> list[TarMember]:
    return [m async for m in tar_members(chunks(data, size))]


LONG = "deep/" + "x" * 150 + "/Résumé 2026 " + "y" * 120 + ".txt"


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
async def test_every_header_is_read_whatever_the_chunking_and_contents_are_skipped(fmt: int) -> None:
    members = [("docs", None, 1_700_000_000), ("docs/a.txt", b"hello" * 300, 1_700_000_001), ("docs/empty", b"", 5)]
    if fmt != tarfile.USTAR_FORMAT:
        members.append((LONG, b"cv", 1_700_000_002))
    data = archive(fmt, members)

    for size in (1, 7, 512, 65536):
        got = await read(data, size)
        assert [(m.name, m.kind, m.size) for m in got] == [
            (n, "dir" if d is None else "file", 0 if d is None else len(d)) for n, d, _ in members
        ]
        assert [m.mtime for m in got] == [int(t) for _, _, t in members]


async def test_a_pax_mtime_is_rounded_to_the_nearest_second_like_go_rounds_ustar_mtimes() -> None:
    data = archive(tarfile.PAX_FORMAT, [("a", b"1", 1_700_000_000.7), ("b", b"2", 1_700_000_000.2)])
    assert [m.mtime for m in await read(data)] == [1_700_000_001, 1_700_000_000]


async def test_a_truncated_or_damaged_tar_is_an_error_not_a_shorter_list() -> None:
    data = archive(tarfile.PAX_FORMAT, [("a.txt", b"x" * 2000, 1), ("b.txt", b"y", 2)])
    with pytest.raises(TarError):
        await read(data[:1200])
    damaged = bytearray(data)
    damaged[512 + 2048 + 1] ^= 0xFF  # the second header (after 2000 bytes padded to 2048): a name byte
    with pytest.raises(TarError):
        await read(bytes(damaged))
