"""Which file of the site a URL path names: only regular files inside the site folder.

Refused (``None``): empty or absolute paths, ``..``, backslashes, NUL and other control
characters, any dot-file or dot-folder segment (the build status, locks, scratch builds), and
anything whose real path (symlinks resolved) is not inside the site folder.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_PATH = 256


def site_file(site: Path, url_path: str) -> Path | None:
    if not url_path or len(url_path) > MAX_PATH or url_path.startswith("/"):
        return None
    if "\\" in url_path or any(ord(ch) < 32 or ord(ch) == 127 for ch in url_path):
        return None
    parts = url_path.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    root = Path(os.path.realpath(site))
    candidate = Path(os.path.realpath(root.joinpath(*parts)))
    if not candidate.is_relative_to(root) or candidate == root or not candidate.is_file():
        return None
    return candidate
