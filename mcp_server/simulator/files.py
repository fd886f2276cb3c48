"""Immutable in-memory file trees for volumes and snapshots, plus restic-style listings and tar dumps.

Exists because volumes, snapshots, ``ls``, restore and ``dump`` all need the same tree model, and the
scale seed needs trees with 100k+ files that cost nothing until someone lists them. Trees are never
mutated in place: a snapshot simply keeps a reference to the volume tree it captured.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Literal, Union

from ._util import Json, iso_from_ms, stable_hash

NodeKind = Literal["dir", "file", "symlink"]

DIR_MODE = 2147484141  # restic's os.ModeDir | 0o755
FILE_MODE = 420  # 0o644
SYMLINK_MODE = 134218239  # os.ModeSymlink | 0o777


class Symlink:
    """A symbolic link in a file-tree spec."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __repr__(self) -> str:
        return f"Symlink({self.target!r})"


TreeSpec = Mapping[str, Union["TreeSpec", bytes, str, int, Symlink]]
"""Nested mapping: a dict is a folder, bytes/str are file contents, an int is a file size, Symlink a link."""


class Node:
    """One immutable file-tree entry. Folders may be lazy (children built on first use)."""

    __slots__ = (
        "_children",
        "_content",
        "_count",
        "_factory",
        "_files",
        "_index",
        "_size_total",
        "kind",
        "mtime_ms",
        "name",
        "size",
        "target",
    )

    def __init__(
        self,
        name: str,
        kind: NodeKind,
        *,
        mtime_ms: int,
        size: int = 0,
        content: bytes | None = None,
        target: str | None = None,
        children: Iterable[Node] | None = None,
        factory: Callable[[], list[Node]] | None = None,
        count: int | None = None,
        files: int | None = None,
        size_total: int | None = None,
    ) -> None:
        self.name = name
        self.kind: NodeKind = kind
        self.mtime_ms = mtime_ms
        self.size = size
        self._content = content
        self.target = target
        self._children: list[Node] | None = sorted(children, key=lambda n: n.name) if children is not None else None
        self._index: dict[str, Node] | None = None
        self._factory = factory
        self._count = count
        self._files = files
        self._size_total = size_total

    # -- structure -------------------------------------------------------------------------------
    def children(self) -> list[Node]:
        if self.kind != "dir":
            return []
        if self._children is None:
            built = self._factory() if self._factory is not None else []
            self._children = sorted(built, key=lambda n: n.name)
        return self._children

    def child(self, name: str) -> Node | None:
        if self._index is None:
            self._index = {c.name: c for c in self.children()}
        return self._index.get(name)

    def count(self) -> int:
        """Number of entries below this node (not counting itself)."""
        if self._count is None:
            self._count = sum(1 + c.count() for c in self.children())
        return self._count

    def file_count(self) -> int:
        if self.kind != "dir":
            return 1 if self.kind == "file" else 0
        if self._files is None:
            self._files = sum(c.file_count() for c in self.children())
        return self._files

    def total_bytes(self) -> int:
        if self.kind != "dir":
            return self.size if self.kind == "file" else 0
        if self._size_total is None:
            self._size_total = sum(c.total_bytes() for c in self.children())
        return self._size_total

    def resolve(self, rel_path: str) -> Node | None:
        node: Node | None = self
        for part in [p for p in rel_path.split("/") if p]:
            if node is None or node.kind != "dir":
                return None
            node = node.child(part)
        return node

    def renamed(self, name: str) -> Node:
        """The same folder under another name (children shared, nothing copied)."""
        if self.kind != "dir":
            return Node(
                name, self.kind, mtime_ms=self.mtime_ms, size=self.size, content=self._content, target=self.target
            )
        return Node(
            name,
            "dir",
            mtime_ms=self.mtime_ms,
            factory=self.children,
            count=self._count,
            files=self._files,
            size_total=self._size_total,
        )

    def iter_files(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """Every non-folder below this node as (relative path, node), depth first, sorted."""
        for c in self.children():
            path = f"{prefix}/{c.name}"
            if c.kind == "dir":
                yield from c.iter_files(path)
            else:
                yield path, c

    # -- content ---------------------------------------------------------------------------------
    def content_chunks(self, chunk_size: int = 65536) -> Iterator[bytes]:
        if self.kind != "file":
            return
        if self._content is not None:
            for i in range(0, len(self._content), chunk_size):
                yield self._content[i : i + chunk_size]
            return
        block = _pattern_block(self.name, min(chunk_size, max(self.size, 1)))
        remaining = self.size
        while remaining > 0:
            piece = block[: min(remaining, len(block))]
            remaining -= len(piece)
            yield piece

    def read(self, limit: int = 1 << 20) -> bytes:
        out = bytearray()
        for piece in self.content_chunks():
            out += piece
            if len(out) >= limit:
                break
        return bytes(out[:limit])


def _pattern_block(seed: str, size: int) -> bytes:
    base = f"zerobyte-simulated-content:{seed}\n".encode()
    return (base * (size // len(base) + 1))[:size]


def _entry_mtime(base_ms: int, path: str) -> int:
    return base_ms - (stable_hash("mtime", path) % (86_400_000 * 30))


def build_tree(spec: TreeSpec | None, *, mtime_ms: int, name: str = "", _path: str = "") -> Node:
    """Build an immutable tree from a nested spec (see ``TreeSpec``)."""
    children: list[Node] = []
    for key, value in (spec or {}).items():
        path = f"{_path}/{key}"
        mt = _entry_mtime(mtime_ms, path)
        if isinstance(value, Mapping):
            children.append(build_tree(value, mtime_ms=mtime_ms, name=key, _path=path))
        elif isinstance(value, Symlink):
            children.append(Node(key, "symlink", mtime_ms=mt, target=value.target))
        elif isinstance(value, bytes):
            children.append(Node(key, "file", mtime_ms=mt, size=len(value), content=value))
        elif isinstance(value, str):
            data = value.encode()
            children.append(Node(key, "file", mtime_ms=mt, size=len(data), content=data))
        elif isinstance(value, int) and not isinstance(value, bool):
            children.append(Node(key, "file", mtime_ms=mt, size=value))
        else:
            raise TypeError(f"unsupported file-tree value at {path}: {type(value).__name__}")
    dir_mtime = max((c.mtime_ms for c in children), default=_entry_mtime(mtime_ms, _path or "/"))
    return Node(name, "dir", mtime_ms=dir_mtime, children=children)


def generated_tree(
    total_files: int,
    *,
    mtime_ms: int,
    per_dir: int = 1000,
    top: str = "data",
    file_pattern: str = "file_{:06d}.bin",
) -> Node:
    """A lazy tree with ``total_files`` files spread over folders of ``per_dir`` files each.

    Nothing below the top folder exists until listed, so 100k files cost microseconds to create.
    """
    n_dirs = max(1, -(-total_files // per_dir))

    def dir_factory(index: int, n_files: int) -> Callable[[], list[Node]]:
        def build() -> list[Node]:
            start = index * per_dir
            out: list[Node] = []
            for j in range(start, start + n_files):
                fname = file_pattern.format(j)
                size = 1024 + stable_hash("size", j) % (4 << 20)
                out.append(Node(fname, "file", mtime_ms=_entry_mtime(mtime_ms, fname), size=size))
            return out

        return build

    dirs: list[Node] = []
    remaining = total_files
    for i in range(n_dirs):
        n = min(per_dir, remaining)
        remaining -= n
        dirs.append(
            Node(
                f"dir_{i:04d}",
                "dir",
                mtime_ms=_entry_mtime(mtime_ms, f"dir{i}"),
                factory=dir_factory(i, n),
                count=n,
                files=n,
            )
        )
    top_node = Node(top, "dir", mtime_ms=mtime_ms, children=dirs)
    return Node("", "dir", mtime_ms=mtime_ms, children=[top_node])


# -- volume listing (GET /volumes/{id}/files) ---------------------------------------------------------


def volume_entry(node: Node, rel_path: str) -> Json:
    entry: Json = {"name": node.name, "path": rel_path, "type": "directory" if node.kind == "dir" else "file"}
    if node.kind == "file":
        entry["size"] = node.size
    entry["modifiedAt"] = node.mtime_ms + (stable_hash("frac", rel_path) % 10000) / 10000
    return entry


def volume_listing(node: Node, rel_dir: str) -> list[Json]:
    """One folder, not recursive, folders first then by name (like the Zerobyte agent)."""
    kids = node.children()
    ordered = [c for c in kids if c.kind == "dir"] + [c for c in kids if c.kind != "dir"]
    base = rel_dir.rstrip("/")
    return [volume_entry(c, f"{base}/{c.name}") for c in ordered]


# -- snapshot listing (restic ls --long) --------------------------------------------------------------


class SnapshotTree:
    """A snapshot's namespace: the captured volume tree mounted at its absolute source path."""

    def __init__(self, root: Node, base_path: str) -> None:
        parts = [p for p in base_path.split("/") if p]
        node = root.renamed(parts[-1]) if parts else root
        for part in reversed(parts[:-1]):
            node = Node(part, "dir", mtime_ms=root.mtime_ms, children=[node])
        self.top = Node("", "dir", mtime_ms=root.mtime_ms, children=[node] if parts else root.children())
        self.base_path = "/" + "/".join(parts)
        self.source = root

    def resolve(self, abs_path: str) -> Node | None:
        return self.top.resolve(abs_path)

    def total_entries(self) -> int:
        return self.top.count()


def ls_node(node: Node, abs_path: str) -> Json:
    mt = iso_from_ms(node.mtime_ms)
    entry: Json = {"name": node.name, "type": node.kind, "path": abs_path, "uid": 0, "gid": 0}
    if node.kind == "file":
        entry["size"] = node.size
    entry["mode"] = DIR_MODE if node.kind == "dir" else FILE_MODE if node.kind == "file" else SYMLINK_MODE
    entry["mtime"] = mt
    entry["atime"] = mt
    entry["ctime"] = mt
    entry["struct_type"] = "node"
    return entry


def ls_walk(tree: SnapshotTree, offset: int, limit: int) -> tuple[list[Json], int]:
    """Recursive pre-order walk of the whole snapshot (restic ``ls`` without a path), paged.

    Whole subtrees before ``offset`` are skipped by their cached sizes, so deep pages stay cheap.
    """
    total = tree.total_entries()
    out: list[Json] = []
    skip = offset

    def visit(node: Node, prefix: str) -> bool:
        nonlocal skip
        for c in node.children():
            if len(out) >= limit:
                return True
            path = f"{prefix}/{c.name}"
            size = 1 + c.count()
            if skip >= size:
                skip -= size
                continue
            if skip > 0:
                skip -= 1
            else:
                out.append(ls_node(c, path))
            if c.kind == "dir" and visit(c, path):
                return True
        return len(out) >= limit

    visit(tree.top, "")
    return out, total


def ls_path(tree: SnapshotTree, abs_path: str) -> list[Json]:
    """restic ``ls <snap> <path>``: the entry itself plus, for a folder, its direct children."""
    norm = "/" + "/".join(p for p in abs_path.split("/") if p)
    node = tree.resolve(norm)
    if node is None:
        return []
    if norm == "/":
        return [ls_node(c, f"/{c.name}") for c in node.children()]
    out = [ls_node(node, norm)]
    if node.kind == "dir":
        out.extend(ls_node(c, f"{norm}/{c.name}") for c in node.children())
    return out


# -- tar dump -----------------------------------------------------------------------------------------


def tar_stream(entries: Iterable[tuple[str, Node]]) -> Iterator[bytes]:
    """Stream a POSIX tar of (archive name, node) pairs without holding file contents in memory."""
    for arcname, node in entries:
        info = tarfile.TarInfo(arcname)
        info.mtime = node.mtime_ms // 1000
        info.uid = info.gid = 0
        if node.kind == "symlink":
            info.type = tarfile.SYMTYPE
            info.linkname = node.target or ""
            info.mode = 0o777
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            continue
        if node.kind == "dir":
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            continue
        info.size = node.size
        info.mode = 0o644
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        written = 0
        for piece in node.content_chunks():
            written += len(piece)
            yield piece
        pad = (-written) % tarfile.BLOCKSIZE
        if pad:
            yield b"\0" * pad
    yield b"\0" * (tarfile.BLOCKSIZE * 2)


def dump_entries(node: Node, arc_prefix: str) -> Iterator[tuple[str, Node]]:
    """Everything below ``node`` as archive members named ``<arc_prefix>/<relative path>``, as restic dump
    writes them: each folder before its contents (the dumped folder itself has no member)."""

    def walk(folder: Node, prefix: str) -> Iterator[tuple[str, Node]]:
        for child in folder.children():
            rel = f"{prefix}/{child.name}"
            yield (f"{arc_prefix}{rel}" if arc_prefix else rel.lstrip("/")), child
            if child.kind == "dir":
                yield from walk(child, rel)

    yield from walk(node, "")
