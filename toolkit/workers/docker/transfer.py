"""Folders into and out of a container as tar streams through the Docker API (works on a remote engine).

Nothing is staged in memory or in a temporary file: a folder is packed while the engine
reads it (``put_archive`` takes the generator), and what the engine returns is unpacked
while it arrives (``tarfile`` in stream mode over ``get_archive``'s chunks).

What a container gives back is hostile input: its entries are checked one by one before
anything is written (no absolute path, no ``..``, no links, devices or FIFOs, nothing
outside the folder asked for), and the first bad entry stops the copy with an error that
names it.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

from headrace.errors import TaskFailed

CHUNK = 1024 * 1024


class _Pipe(io.RawIOBase):
    """A write end for ``tarfile`` whose bytes are handed out as chunks by a generator."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def _dir_info(name: str, mode: int = 0o755) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    return info


def pack(
    folder: Path,
    root: str,
    skip: Callable[[PurePosixPath], bool] = lambda rel: False,
    extra_dirs: Iterable[tuple[str, int]] = (),
) -> Iterator[bytes]:
    """``folder``'s files as a tar stream whose entries sit under ``root`` (e.g. ``data``).

    ``skip(relative path)`` leaves a file or folder out (with all it holds); symbolic links
    are followed only when they point inside ``folder``; other special files are left out.
    ``extra_dirs`` are (path, mode) of empty folders added (e.g. ``data/out``).
    """
    pipe = _Pipe()
    base = folder.resolve()
    with tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        parts = PurePosixPath(root).parts
        for i in range(1, len(parts) + 1):
            tar.addfile(_dir_info("/".join(parts[:i])))
        for dirpath, dirnames, filenames in os.walk(base):
            here = Path(dirpath)
            rel_dir = PurePosixPath(here.relative_to(base).as_posix())
            dirnames[:] = sorted(d for d in dirnames if not skip(rel_dir / d) and _inside(here / d, base))
            for name in dirnames:
                tar.addfile(_dir_info(str(PurePosixPath(root) / rel_dir / name)))
            for name in sorted(filenames):
                path = here / name
                if skip(rel_dir / name) or not _inside(path, base) or not path.is_file():
                    continue
                info = tarfile.TarInfo(str(PurePosixPath(root) / rel_dir / name))
                stat = path.stat()
                info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), stat.st_mode & 0o755
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
                    yield pipe.take()
            yield pipe.take()
        for name, mode in extra_dirs:
            tar.addfile(_dir_info(name, mode))
    yield pipe.take()


def pack_file(path: Path, name: str, mode: int = 0o644) -> Iterator[bytes]:
    """One file as a tar stream, its entry named ``name`` (folders above it included)."""
    pipe = _Pipe()
    with tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        parts = PurePosixPath(name).parts
        for i in range(1, len(parts)):
            tar.addfile(_dir_info("/".join(parts[:i])))
        info = tarfile.TarInfo(name)
        stat = path.stat()
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), mode
        with path.open("rb") as handle:
            tar.addfile(info, handle)
        yield pipe.take()
    yield pipe.take()


def _inside(path: Path, base: Path) -> bool:
    return path.resolve().is_relative_to(base)


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (``get_archive``'s stream)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self.rest:
            try:
                self.rest = next(self.chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self.rest))
        buffer[:size] = self.rest[:size]
        self.rest = self.rest[size:]
        return size


def _member_path(member: tarfile.TarInfo, top: str, what: str) -> PurePosixPath | None:
    """The entry's path below ``top`` (None for ``top`` itself); raises for anything unsafe."""
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        raise TaskFailed(f"{what}: refused the entry {name!r}: an absolute path")
    if ".." in path.parts:
        raise TaskFailed(f"{what}: refused the entry {name!r}: it climbs out with '..'")
    if not (member.isfile() or member.isdir()):
        kind = "a link" if member.issym() or member.islnk() else "a device, FIFO or other special file"
        raise TaskFailed(f"{what}: refused the entry {name!r}: {kind} (only files and folders are taken)")
    parts = [p for p in path.parts if p != "."]
    if not parts or parts[0] != top:
        raise TaskFailed(f"{what}: refused the entry {name!r}: outside {top}/")
    return PurePosixPath(*parts[1:]) if len(parts) > 1 else None


def unpack(chunks: Iterator[bytes], top: str, dest: Path, what: str) -> int:
    """Unpack a tar stream whose entries are ``top/...`` into ``dest`` (``top/x`` → ``dest/x``).

    Returns the number of files written. Raises ``TaskFailed`` naming the first unsafe entry
    (``what`` says where the stream came from); files already written stay for the caller
    to remove.
    """
    dest.mkdir(parents=True, exist_ok=True)
    base = dest.resolve()
    files = 0
    with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(chunks), CHUNK), mode="r|") as tar:
        for member in tar:
            rel = _member_path(member, top, what)
            if rel is None:
                continue
            target = base.joinpath(*rel.parts)
            if not target.parent.resolve().is_relative_to(base):  # a folder of ours replaced by a link: never
                raise TaskFailed(f"{what}: refused the entry {member.name!r}: outside {top}/")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            with target.open("wb") as out:
                while block := source.read(CHUNK):
                    out.write(block)
            files += 1
    return files
