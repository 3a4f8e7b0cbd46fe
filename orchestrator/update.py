"""Project updates: fetch, validate and compile a new version in a scratch folder, then switch.

What the ``project_update`` DAG runs (through ``headrace airflow update-project``), and what
``headrace airflow up`` runs once before Airflow starts. An invalid version is rejected
with every validation error and leaves the running version untouched.
"""

from __future__ import annotations

import fcntl
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from headrace.errors import ConfigError, ProjectInvalid
from headrace.orchestrator import deployments, sitebuild, sources
from headrace.orchestrator.settings import MANIFEST_RELPATH, Home, Source

if TYPE_CHECKING:
    from headrace.orchestrator.pools import PoolKeeper

Log = Callable[[str], None]


@dataclass(frozen=True)
class UpdateResult:
    status: str  # "deployed" | "unchanged"
    version: str
    path: Path


@contextmanager
def _update_lock(home: Home) -> Iterator[None]:
    """One update at a time per home: a manual run and the schedule never interleave."""
    home.root.mkdir(parents=True, exist_ok=True)
    with home.lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fetch(home: Home, source: Source) -> tuple[str, Callable[[Path], None]]:
    """The version id of the source's newest version and a function that exports it."""
    if source.repo:
        commit = sources.fetch_commit(source.repo, source.branch, home.repo)
        return commit, lambda target: sources.export_commit(home.repo, commit, target)
    if source.folder:
        folder = source.folder
        return sources.folder_version(folder), lambda target: sources.copy_folder(folder, target)
    raise ConfigError(
        "no project source: set HEADRACE_PROJECT_REPO (a git URL or path) or HEADRACE_PROJECT_SOURCE (a folder)"
    )


def update_project(
    home: Home,
    source: Source,
    dags_folder: Path | None,
    log: Log = print,
    force: bool = False,
    pools: PoolKeeper | None = None,
    state_dir: Path | None = None,
) -> UpdateResult:
    """Deploy the newest version of ``source`` into ``home`` if it is new and valid.

    Raises ``ProjectInvalid`` (the version's errors), ``ConfigError`` (fetch failed) or
    ``PoolSyncError`` (Airflow's pools for it could not be made); in each case ``current``
    still points at the previous version. With ``pools``, the version's Airflow pools exist
    before it becomes current (before its DAGs can be parsed) and pools it no longer uses
    go after; an unchanged version gets its pools checked (re-created, slots reset) too.
    The version's docs site (``sitebuild``) is built before it becomes current, its live facts
    read from the warehouse in ``state_dir`` (default: ``HEADRACE_STATE_DIR`` as tasks see it).
    """
    from headrace.project.compile import compile_project

    sources.remember_url_credentials(source.repo)  # git's messages may quote the URL in other forms
    with _update_lock(home):
        home.deployments.mkdir(parents=True, exist_ok=True)
        log(f"fetching {source.describe()}")
        try:
            version, export = _fetch(home, source)
        except ConfigError as exc:
            _record_attempt(home, "error", None, [str(exc)])
            raise
        running = deployments.current_deployment(home)
        target = home.deployments / version
        commit = version if source.repo else None  # a folder snapshot has a content hash, not a commit
        record = {"version": version, "commit": commit, "source": source.describe()}
        if running == target and not force:
            if dags_folder is not None:
                deployments.link_project_dags(target, dags_folder)
            _keep_pools(home, pools, target, version)
            if not (sitebuild.site_dir(target) / "index.html").is_file():
                sitebuild.build_quietly(target, state_dir, log)
            log(f"{version} is already deployed: nothing to do")
            _record_attempt(home, "unchanged", version)
            return UpdateResult("unchanged", version, target)
        if not (target / ".headrace" / "manifest.json").is_file():
            scratch = home.deployments / f".incoming-{version}-{time.time_ns()}"
            try:
                try:
                    export(scratch)
                    log(f"validating and compiling {version} in {scratch.name}")
                    compile_project(scratch, commit=commit)
                except ProjectInvalid as exc:
                    _record_attempt(home, "invalid", version, [str(e) for e in exc.errors])
                    raise
                shutil.rmtree(target, ignore_errors=True)  # a half-made folder from a crash, never a deployed one
                scratch.rename(target)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        _keep_pools(home, pools, target, version, prune=False)
        sitebuild.build_quietly(target, state_dir, log)
        deployments.activate(home, target, record, dags_folder)
        if pools is not None:
            pools.prune(target / MANIFEST_RELPATH)
        _record_attempt(home, "deployed", version)
        for old in deployments.prune(home):
            log(f"removed old deployment {old.name}")
        log(f"deployed {version} (was {running.name if running else 'nothing'})")
        return UpdateResult("deployed", version, target)


def _keep_pools(home: Home, pools: PoolKeeper | None, target: Path, version: str, prune: bool = True) -> None:
    """Make the pools of ``target``'s DAGs; a failure is recorded and raised (nothing was switched)."""
    if pools is None:
        return
    from headrace.orchestrator.pools import PoolSyncError

    try:
        pools.ensure(target / MANIFEST_RELPATH)
    except PoolSyncError as exc:
        _record_attempt(home, "error", version, [str(exc)])
        raise
    if prune:
        pools.prune(target / MANIFEST_RELPATH)


def _record_attempt(home: Home, status: str, version: str | None, errors: list[str] | None = None) -> None:
    """``last_update.json`` (shown by ``headrace airflow status``): errors pass the redaction point on the way out."""
    from headrace.redaction import redact

    shown = [redact(sources.safe_url(e)) for e in errors or []]
    deployments.write_json(
        home.last_update_file, {"status": status, "version": version, "errors": shown, "at": time.time()}
    )
