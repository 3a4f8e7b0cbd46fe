"""Fetch one version of the project into a scratch folder: from a git remote or a local folder.

git: any URL git understands (https, ssh, a local path) is fetched into a cache clone
(``$HEADRACE_HOME/repo``) and the branch's commit is exported with ``git archive``: the
deployment is a plain folder of that commit's files (no submodules, no LFS objects).
folder: for ``headrace airflow up --project DIR`` without a remote, the folder's files are
copied; the version id is a hash of their content, so an unchanged folder is no update.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

from headrace.errors import ConfigError, ProjectError, ProjectInvalid

GIT_TIMEOUT_S = 300
SKIP_NAMES = {".git", ".headrace", ".secrets.yaml", "__pycache__", ".venv", ".pytest_cache"}
# scheme://userinfo@ — userinfo runs to the last "@" before the host's end (a raw "@" in a password)
_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s?#'\"]*@")


def safe_url(text: str) -> str:
    """``text`` with the userinfo of every URL in it removed: ``https://user:token@host/x`` -> ``https://host/x``.

    The one helper for showing a repository URL: applied to the URL itself wherever it is
    shown, and to git's own messages, which quote the URL they failed on.
    """
    return _USERINFO.sub(r"\1", text)


def remember_url_credentials(url: str | None) -> None:
    """Redact the user and password of ``url`` from this process's output (they are secrets)."""
    from urllib.parse import unquote, urlsplit

    from headrace.redaction import remember

    if not url or "://" not in url:
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    for value in (parts.password, parts.username if parts.password is None else None):
        if value:  # a token alone in the user part (https://TOKEN@host) is the secret
            remember(unquote(value))
            remember(value)


def _git_env() -> dict[str, str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}  # never wait for a password in a DAG task
    key = os.environ.get("HEADRACE_DEPLOY_KEY")
    if not key and os.environ.get("HEADRACE_HOME"):
        default = Path(os.environ["HEADRACE_HOME"]) / ".ssh" / "deploy_key"
        key = str(default) if default.is_file() else None
    if key and "GIT_SSH_COMMAND" not in env:
        env["GIT_SSH_COMMAND"] = f"ssh -i {key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new"
    return env


def _git(args: list[str], what: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S, env=_git_env(), check=False
        )
    except FileNotFoundError:
        raise ConfigError("git is not installed: install it (e.g. apt-get install git)") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{what}: git did not answer within {GIT_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise ConfigError(f"{what}: {safe_url(done.stderr.strip() or f'git exited with {done.returncode}')}")
    return done.stdout.strip()


def fetch_commit(url: str, branch: str, cache: Path) -> str:
    """Fetch ``branch`` of ``url`` into the cache clone; return the branch's commit."""
    if not (cache / ".git").exists():
        cache.mkdir(parents=True, exist_ok=True)
        _git(["init", "--quiet", str(cache)], f"creating {cache}")
    ref = f"refs/headrace/{branch}"
    what = f"fetching branch {branch!r} of {safe_url(url)}"
    try:
        _git(["-C", str(cache), "fetch", "--quiet", "--no-tags", "--force", url, f"refs/heads/{branch}:{ref}"], what)
    except ConfigError as exc:
        if "couldn't find remote ref" in str(exc):
            raise ConfigError(
                f"{what}: the branch does not exist; push it or set HEADRACE_PROJECT_BRANCH to an existing branch"
            ) from None
        raise
    return _git(["-C", str(cache), "rev-parse", "--verify", f"{ref}^{{commit}}"], what)


def export_commit(cache: Path, commit: str, target: Path) -> None:
    """Write the files of ``commit`` into the empty folder ``target``."""
    target.mkdir(parents=True)
    proc = subprocess.Popen(
        ["git", "-C", str(cache), "archive", "--format=tar", commit],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_git_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            archive.extractall(target, filter="data")  # no absolute paths or links out of the folder
    except tarfile.FilterError as exc:
        proc.kill()
        proc.wait()
        member = exc.tarinfo.name
        message = f"refused: {exc}"
        hint = "a project holds its files itself: replace the link by the file it points to"
        raise ProjectInvalid([ProjectError(member, None, "", message, hint)]) from None
    error = proc.stderr.read().decode(errors="replace").strip()
    if proc.wait() != 0:
        raise ConfigError(f"exporting commit {commit[:12]}: {error or 'git archive failed'}")


def _files(folder: Path) -> list[Path]:
    """Files and symlinks (also to folders: never followed) under ``folder``, in a stable order."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_NAMES)
        links = [d for d in dirs if Path(root, d).is_symlink()]
        found += [Path(root, n) for n in sorted(names + links) if n not in SKIP_NAMES and not n.endswith(".pyc")]
    return found


def folder_version(folder: Path) -> str:
    """A content hash of the project folder (paths, modes and bytes of every file)."""
    if not folder.is_dir():
        raise ConfigError(f"project folder {folder} does not exist: pass an existing folder")
    digest = hashlib.sha256()
    for path in _files(folder):
        mode = path.lstat().st_mode
        digest.update(f"{path.relative_to(folder).as_posix()}\0{mode & 0o111}\0".encode())
        if stat.S_ISLNK(mode):  # the link itself, never what it points to (it may lead out of the folder)
            digest.update(b"link\0" + os.fsencode(os.readlink(path)))
        elif stat.S_ISREG(mode):  # not a FIFO or device: reading one could block forever
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        digest.update(b"\0")
    return "folder-" + digest.hexdigest()[:16]


def _ignored(folder: str, names: list[str]) -> list[str]:
    """Skipped names, and special files (FIFOs, sockets, devices): a project holds none."""
    skipped = []
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        special = not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))
        if name in SKIP_NAMES or name.endswith(".pyc") or special:
            skipped.append(name)
    return skipped


def copy_folder(folder: Path, target: Path) -> None:
    """Copy the project; symlinks stay symlinks, so validation in ``target`` sees where they lead."""
    shutil.copytree(folder, target, symlinks=True, ignore=_ignored)
