"""The docs site of a deployment: built when a version is deployed, its live facts refreshed on request.

The site (``headrace.docsite.build_site``) lives in the deployment it describes,
``deployments/<version>/.headrace/docs/``, so its nodes are those of the manifest that runs and
it is pruned with its deployment. ``project_update`` and ``headrace airflow up`` build it before
the version becomes current; the Airflow plugin (``headrace.orchestrator.plugin``) serves the
site of the current version and calls ``refresh`` when its live facts (row counts, freshness)
are older than ``refresh_s()`` (a minute by default).

A refresh builds into a scratch folder first. When the warehouse could not be read (a DuckDB file
a task is writing: the read-only open does not wait), the previous build that did read it stays
and ``.status.json`` says when it was read and why the last attempt was not used.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headrace.orchestrator import settings
from headrace.orchestrator.deployments import read_json, write_json
from headrace.orchestrator.settings import MANIFEST_RELPATH

SITE_RELPATH = Path(".headrace") / "docs"
STATUS_FILE = ".status.json"  # dot files are never served
REFRESH_S = 60.0


def refresh_s() -> float:
    """How old live facts may be before the page reads them again: ``HEADRACE_DOCS_REFRESH_S`` (seconds)."""
    try:
        return max(0.0, float(os.environ.get("HEADRACE_DOCS_REFRESH_S", REFRESH_S)))
    except ValueError:
        return REFRESH_S


@dataclass(frozen=True)
class SiteStatus:
    built_at: float | None  # when the files being served were written
    live: bool  # they hold the warehouse's row counts and freshness
    tried_at: float | None  # the last attempt to read the warehouse
    tried_note: str  # why that attempt's build was not used ("" when it was)

    @property
    def age_s(self) -> float:
        last = max(self.built_at or 0.0, self.tried_at or 0.0)
        return time.time() - last if last else float("inf")


def site_dir(deployment: Path) -> Path:
    return deployment / SITE_RELPATH


def status(deployment: Path) -> SiteStatus:
    data = read_json(site_dir(deployment) / STATUS_FILE) or {}
    return SiteStatus(data.get("built_at"), bool(data.get("live")), data.get("tried_at"), data.get("tried_note", ""))


@contextlib.contextmanager
def _state_dir(state: Path | None) -> Iterator[None]:
    """``build_site`` finds the warehouse file through ``HEADRACE_STATE_DIR``, as tasks do."""
    if state is None or os.environ.get("HEADRACE_STATE_DIR") == str(state):
        yield
        return
    before = os.environ.get("HEADRACE_STATE_DIR")
    os.environ["HEADRACE_STATE_DIR"] = str(state)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HEADRACE_STATE_DIR", None)
        else:
            os.environ["HEADRACE_STATE_DIR"] = before


@contextlib.contextmanager
def _lock(deployment: Path, wait: bool) -> Iterator[bool]:
    """One build per deployment at a time, across the API server's workers; yields False when busy."""
    path = deployment / ".headrace" / ".docs.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(deployment: Path, state: Path | None = None, with_warehouse: bool = True, wait: bool = True) -> SiteStatus:
    """Build (or refresh) the site of ``deployment``; with ``wait=False`` a build already under way wins."""
    from headrace.docsite import build_site

    if state is None and (configured := settings.state_dir()):
        state = Path(configured)
    with _lock(deployment, wait) as mine:
        if not mine:
            return status(deployment)
        target = site_dir(deployment)
        scratch = target.with_name(f".docs-{os.getpid()}-{time.time_ns()}")
        try:
            with _state_dir(state):
                build_site(deployment / MANIFEST_RELPATH, deployment, scratch, with_warehouse=with_warehouse)
            return _install(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _install(scratch: Path, target: Path) -> SiteStatus:
    """Serve the new build, unless it lacks the live facts the current one has."""
    now = time.time()
    fresh = read_json(scratch / "data.json") or {}
    live = bool((fresh.get("warehouse") or {}).get("live"))
    previous = status(target.parent.parent)
    record: dict[str, Any]
    if live or not previous.live or not (target / "index.html").is_file():
        target.mkdir(parents=True, exist_ok=True)
        for item in scratch.iterdir():
            os.replace(item, target / item.name)  # file by file: the graph is the same, only the facts change
        record = {"built_at": now, "live": live, "tried_at": now, "tried_note": ""}
    else:
        note = str((fresh.get("warehouse") or {}).get("note") or "the warehouse could not be read")
        record = {"built_at": previous.built_at, "live": True, "tried_at": now, "tried_note": note}
    write_json(target / STATUS_FILE, record)
    return status(target.parent.parent)


def build_quietly(deployment: Path, state: Path | None, log: Callable[[str], None]) -> None:
    """What a deployment runs: a site that cannot be built is reported, never a failed deploy."""
    from headrace.redaction import redact

    try:
        result = build(deployment, state)
    except Exception as exc:  # the platform keeps running without its docs page
        log(f"the docs site of {deployment.name} was not built: {redact(str(exc))}")
        return
    extra = "" if result.live else " (without live row counts: the warehouse could not be read)"
    log(f"built the docs site of {deployment.name}{extra}")
