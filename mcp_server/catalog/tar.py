"""Read a tar stream header by header, skipping the file contents as they pass.

Zerobyte's ``dump?kind=dir`` streams a snapshot as a tar (restic writes it with Go's archive/tar: ustar
headers, PAX records for long or non-ASCII names, mtimes rounded to the second). Only the headers are
kept, so indexing a snapshot never holds its contents in memory, whatever its size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

__all__ = ["TarError", "TarMember", "tar_members"]

_BLOCK = 512
_TYPES = {b"0": "file", b"\0": "file", b"7": "file", b"5": "dir", b"2": "symlink", b"1": "other"}


class TarError(Exception):
    """The stream is not a well-formed tar (or it ended early)."""


@dataclass(frozen=True)
class TarMember:
    name: str  # relative to the dumped folder, without a leading "./" or "/"
    kind: str  # file, dir, symlink, other
    size: int
    mtime: int | None  # whole seconds


class _Reader:
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = bytearray()
        self.consumed = 0

    async def _fill(self, n: int) -> bool:
        while len(self.buffer) < n:
            try:
                chunk = await anext(self.chunks)
            except StopAsyncIteration:
                return False
            self.buffer += chunk
        return True

    async def read(self, n: int) -> bytes:
        if not await self._fill(n):
            raise TarError(f"the tar ended early ({self.consumed + len(self.buffer)} bytes)")
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        self.consumed += n
        return out

    async def skip(self, n: int) -> None:
        while n > 0:
            if not self.buffer and not await self._fill(1):
                raise TarError(f"the tar ended early ({self.consumed} bytes)")
            take = min(n, len(self.buffer))
            del self.buffer[:take]
            self.consumed += take
            n -= take


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256 for values too large for octal
        value = field[0] & 0x7F
        for b in field[1:]:
            value = (value << 8) | b
        return value
    text = field.split(b"\0", 1)[0].strip(b" \0")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarError(f"bad number field {field!r}") from None


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarError("bad PAX record") from None
        if length <= 0:
            break
        record = data[space + 1 : pos + length - 1]  # without the trailing newline
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _round_seconds(text: str) -> int | None:
    """A PAX mtime ("1796167465.789069162") rounded to the nearest second, as Go rounds ustar mtimes."""
    try:
        whole, _, frac = text.partition(".")
        seconds = int(whole)
    except ValueError:
        return None
    if frac[:1].isdigit() and int(frac[0]) >= 5:
        seconds += -1 if text.startswith("-") else 1
    return seconds


async def tar_members(chunks: AsyncIterator[bytes]) -> AsyncIterator[TarMember]:
    """Yield each member's header; raises :class:`TarError` on a malformed or truncated stream."""
    reader = _Reader(chunks)
    pax: dict[str, str] = {}
    long_name: str | None = None
    while True:
        if not await reader._fill(_BLOCK):
            if reader.buffer:
                raise TarError("the tar ended inside a header")
            return  # no end-of-archive blocks: restic always writes them, but a clean end is still an end
        header = await reader.read(_BLOCK)
        if header == b"\0" * _BLOCK:
            return
        stored = _number(header[148:156])
        computed = sum(header[:148]) + 8 * 32 + sum(header[156:])
        if stored != computed:
            raise TarError(f"bad header checksum at byte {reader.consumed - _BLOCK}")
        typeflag = header[156:157]
        size = _number(header[124:136])
        padded = (size + _BLOCK - 1) // _BLOCK * _BLOCK
        if typeflag in (b"x", b"g", b"L", b"K"):
            data = await reader.read(padded)
            body = data[:size]
            if typeflag == b"x":
                pax.update(_pax(body))
            elif typeflag == b"L":
                long_name = body.rstrip(b"\0").decode("utf-8", "surrogateescape")
            continue
        name = _text(header[0:100])
        if header[257:262] == b"ustar":
            prefix = _text(header[345:500])
            if prefix:
                name = f"{prefix}/{name}"
        if long_name is not None:
            name = long_name
        if "path" in pax:
            name = pax["path"]
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise TarError("bad PAX size") from None
            padded = (size + _BLOCK - 1) // _BLOCK * _BLOCK
        mtime: int | None = _number(header[136:148])
        if "mtime" in pax:
            mtime = _round_seconds(pax["mtime"])
        kind = _TYPES.get(typeflag, "other")
        if kind != "file":
            # Only regular files carry data; links, folders and devices have none whatever their size says.
            padded = padded if typeflag in (b"0", b"\0", b"7") else 0
        pax, long_name = {}, None
        clean = name.strip("/")
        while clean.startswith("./"):
            clean = clean[2:]
        if clean and clean != ".":
            yield TarMember(clean, kind, size if kind == "file" else 0, mtime)
        await reader.skip(padded)
