"""Bring a configured file to local disk as a plain or gzip file (download, unzip)."""

from __future__ import annotations

import os
import shutil
import stat
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from headrace.errors import ConfigError, TaskFailed
from headrace.project.confine import OUTSIDE_HINT, OutsideProject, is_inside, resolve_inside
from headrace.urlguard import open_url

CHUNK = 1024 * 1024


def _download(url: str, headers: dict[str, str], target: Path, allow: tuple[str, ...]) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "headrace", **headers})
    try:
        with open_url(request, 60, allow) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out, CHUNK)
    except urllib.error.HTTPError as exc:
        raise TaskFailed(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TaskFailed(f"{url}: cannot download ({getattr(exc, 'reason', exc)})") from exc


def _unzip(archive: Path, member: str | None, label: str, target_dir: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            if member is None:
                if len(names) != 1:
                    raise TaskFailed(
                        f"{label}: the zip holds {len(names)} files ({', '.join(names[:10])}); set member: to pick one"
                    )
                member = names[0]
            if member not in names:
                raise TaskFailed(f"{label}: no {member!r} in the zip; it holds: {', '.join(names[:20])}")
            target = target_dir / Path(member).name
            with zf.open(member) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            return target
    except zipfile.BadZipFile as exc:
        raise TaskFailed(f"{label}: not a zip file ({exc})") from exc


def _open_inside(project_dir: Path, location: str) -> tuple[int, Path]:
    """Open ``location`` once it resolves inside the project; (descriptor, a path that reads it).

    The path handed on is ``/proc/self/fd/N``: whatever is swapped into the project after
    the check (a symlink, a renamed folder), the file read is the one checked.
    """
    try:
        real = resolve_inside(project_dir, location)
    except OutsideProject as exc:
        raise ConfigError(f"path: {exc} ({OUTSIDE_HINT})") from None
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise TaskFailed(f"{location}: no such file (looked in {real.parent})") from None
    except OSError as exc:
        raise ConfigError(f"path: {location!r} cannot be opened ({exc.strerror})") from None
    through = Path(f"/proc/self/fd/{fd}")
    opened = Path(os.readlink(through)) if through.is_symlink() else real
    if not stat.S_ISREG(os.fstat(fd).st_mode) or not is_inside(Path(os.path.realpath(project_dir)), opened):
        os.close(fd)
        raise ConfigError(f"path: {location!r} is not a file inside the project folder ({OUTSIDE_HINT})")
    os.set_blocking(fd, True)
    return fd, through if through.is_symlink() else real


@contextmanager
def local_source(
    location: str,
    is_url: bool,
    project_dir: Path,
    compression: str,
    member: str | None,
    headers: dict[str, str],
    workdir: Path,
    allow_urls_to: tuple[str, ...] = (),
) -> Iterator[tuple[Path, str]]:
    """Yield (local path, compression DuckDB should apply: 'none' or 'gzip')."""
    workdir.mkdir(parents=True, exist_ok=True)
    fd = None
    try:
        if is_url:
            path = workdir / "download"
            _download(location, headers, path, allow_urls_to)
        else:
            fd, path = _open_inside(project_dir, location)
        if compression == "zip":
            yield _unzip(path, member, location, workdir), "none"
        else:
            yield path, compression
    finally:
        if fd is not None:
            os.close(fd)
        shutil.rmtree(workdir, ignore_errors=True)
