"""Where the Airflow side finds things: one place that reads the environment.

Two layouts are supported:

* a deployment home (``HEADRACE_HOME``, what ``project_update`` maintains and the cloud
  VMs use): ``deployments/<commit>/`` snapshots and a ``current`` symlink to one of them;
* a plain project folder: ``HEADRACE_MANIFEST=<project>/.headrace/manifest.json``.

Everything here is pure path arithmetic on the environment: the DAG file calls it at
parse time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BRANCH = "main"
DEFAULT_UPDATE_SCHEDULE = "*/5 * * * *"
DEFAULT_SWEEP_SCHEDULE = "*/5 * * * *"
MANIFEST_RELPATH = Path(".headrace") / "manifest.json"
PROJECT_DAGS_LINK = "project_dags"  # the project's own dags/ appear under this name in the dags folder


@dataclass(frozen=True)
class Home:
    """The deployment home: everything ``project_update`` writes lives under ``root``."""

    root: Path

    @property
    def deployments(self) -> Path:
        return self.root / "deployments"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def repo(self) -> Path:
        """The git clone that updates fetch into (the cloud bootstrap clones it first)."""
        return self.root / "repo"

    @property
    def deployed_file(self) -> Path:
        return self.root / "deployed.json"

    @property
    def last_update_file(self) -> Path:
        return self.root / "last_update.json"

    @property
    def pins(self) -> Path:
        return self.root / "pins"

    @property
    def lock_file(self) -> Path:
        return self.root / "update.lock"


def home(environ: Mapping[str, str] = os.environ) -> Home | None:
    value = environ.get("HEADRACE_HOME")
    return Home(Path(value).expanduser().resolve()) if value else None


@dataclass(frozen=True)
class ManifestLocation:
    """The manifest the DAGs are built from and the project folder tasks run in."""

    manifest: Path
    project_dir: Path
    home: Home | None


def locate_manifest(environ: Mapping[str, str] = os.environ) -> ManifestLocation:
    """``HEADRACE_MANIFEST``, else ``$HEADRACE_HOME/current/.headrace/manifest.json``.

    ``current`` is resolved to the deployment it points at, so every task built from this
    parse names one immutable project version, even if an update swaps ``current`` later.
    """
    explicit = environ.get("HEADRACE_MANIFEST")
    where = home(environ)
    if explicit:
        manifest = Path(explicit).expanduser().absolute()
        project = Path(os.path.realpath(manifest)).parent.parent
        return ManifestLocation(manifest, project, where)
    if where is None:
        raise LookupError(
            "set HEADRACE_HOME (a deployment home made by `headrace airflow up` or `update-project`) "
            "or HEADRACE_MANIFEST (a project's .headrace/manifest.json)"
        )
    project = Path(os.path.realpath(where.current))
    return ManifestLocation(project / MANIFEST_RELPATH, project, where)


def dags_folder(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Airflow's dags folder, where the project's custom ``dags/`` are linked in."""
    value = environ.get("AIRFLOW__CORE__DAGS_FOLDER")
    if value:
        return Path(value).expanduser().absolute()
    where = home(environ)
    return where.root / "dags" if where else None


def state_dir(environ: Mapping[str, str] = os.environ) -> str | None:
    """``HEADRACE_STATE_DIR`` for tasks: data must outlive the deployment folder they run in."""
    value = environ.get("HEADRACE_STATE_DIR")
    if value:
        return value
    where = home(environ)
    return str(where.root / "state") if where else None


def _schedule(value: str) -> str | None:
    value = value.strip()
    return None if value.lower() in ("", "none", "manual", "off") else value


def update_schedule(environ: Mapping[str, str] = os.environ) -> str | None:
    """Cron of ``project_update``: ``HEADRACE_UPDATE_SCHEDULE`` (``none`` = by hand only)."""
    return _schedule(environ.get("HEADRACE_UPDATE_SCHEDULE", DEFAULT_UPDATE_SCHEDULE))


def sweep_schedule(environ: Mapping[str, str] = os.environ) -> str | None:
    """Cron of ``headrace_worker_sweeper``: ``HEADRACE_SWEEP_SCHEDULE`` (``none`` = by hand only)."""
    return _schedule(environ.get("HEADRACE_SWEEP_SCHEDULE", DEFAULT_SWEEP_SCHEDULE))


@dataclass(frozen=True)
class Source:
    """Where project updates come from: a git remote, or else a local folder."""

    repo: str | None
    branch: str
    folder: Path | None

    def describe(self) -> str:
        """Where updates come from, for people: a repository URL without its credentials."""
        if self.repo:
            from headrace.orchestrator.sources import safe_url

            return f"{safe_url(self.repo)} (branch {self.branch})"
        return str(self.folder) if self.folder else "nowhere"


def source(environ: Mapping[str, str] = os.environ) -> Source:
    """``HEADRACE_PROJECT_REPO`` + ``HEADRACE_PROJECT_BRANCH``, else ``HEADRACE_PROJECT_SOURCE`` (a folder)."""
    folder = environ.get("HEADRACE_PROJECT_SOURCE")
    return Source(
        environ.get("HEADRACE_PROJECT_REPO") or None,
        environ.get("HEADRACE_PROJECT_BRANCH") or DEFAULT_BRANCH,
        Path(folder).expanduser().absolute() if folder else None,
    )
