"""What ``headrace run-task`` needs in a container: its project folder, state, files and environment.

On a local engine the project folder is bind-mounted read-only and the state folder
(DuckDB file, local storage: ``headrace.paths.state_dir``) read-write, both at the same
paths as on this machine, so the task sees what a subprocess would. On a remote engine
the project folder is copied into the container before it starts (without its state and
``.git``), and the state stays in the container (such a worker reaches network storage
and warehouses only).

The environment is never this process's whole environment (its ``PATH``, ``HOME`` and
virtualenv mean nothing in the image): only Headrace's own variables, cloud credentials
and what the project references with ``${env:NAME}``, then ``spec.env``. It reaches the
task through the container's stdin (``headrace.workers.handoff``), never the container's
configuration, which the engine writes to disk (docs/workers.md).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from headrace.paths import state_dir
from headrace.workers.base import HOST_ID_ENV, PARENT_PID_ENV, TaskCall
from headrace.workers.handoff import HANDOFF_ENV

REMOTE_PROJECT = "/headrace/project"  # where the project folder is copied on a remote engine
REMOTE_DEPLOYMENT = "/headrace/deployment.yaml"  # and the deployment file (HEADRACE_DEPLOYMENT), if any
FORWARDED_PREFIXES = ("HEADRACE_", "AWS_", "GOOGLE_", "AZURE_", "ARM_", "SNOWFLAKE_", "CLOUDSDK_")
FORWARDED = ("STORAGE_EMULATOR_HOST", "TZ", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "PGSSLMODE")
# meaningless or harmful in a container: the parent's pid (the runner stops the container
# instead), this machine's Airflow home, the key that fetches the project repository
NOT_FORWARDED = (PARENT_PID_ENV, "HEADRACE_HOME", "HEADRACE_DEPLOY_KEY", "HEADRACE_MANIFEST")
# files named by variables: mounted read-only at the same path on a local engine
FILE_VARIABLES = (
    "HEADRACE_DEPLOYMENT",
    "HEADRACE_SECRETS_FILE",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AWS_CONFIG_FILE",
    "AWS_CA_BUNDLE",
    "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE",
)
FILE_VARIABLES_RW = ("AWS_SHARED_CREDENTIALS_FILE",)


@dataclass
class TaskPlacement:
    """The container side of one task: its argv after ``headrace``, environment and mounts.

    ``env`` goes to the task through its stdin (``headrace.workers.handoff``); ``config_env``
    is the container's configured environment and holds no value of this machine's.
    """

    args: list[str]
    env: dict[str, str]
    config_env: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)  # Docker SDK ``volumes=``
    project_copy: Path | None = None  # copied to REMOTE_PROJECT (remote engine)
    deployment_copy: Path | None = None  # the deployment file, copied to REMOTE_DEPLOYMENT (remote engine)
    user: str | None = None


def referenced_env(project_dir: Path) -> set[str]:
    """Names the compiled project references as ``${env:NAME}`` (its manifest)."""
    from headrace.paths import manifest_path
    from headrace.secrets import SECRET_REF

    try:
        text = manifest_path(project_dir).read_text()
    except OSError:
        return set()
    return {name for kind, name in SECRET_REF.findall(text) if kind == "env"}


def forwarded_env(environ: dict[str, str], project_dir: Path) -> dict[str, str]:
    """The part of this process's environment a task in a container needs."""
    wanted = referenced_env(project_dir)
    env: dict[str, str] = {}
    for name, value in environ.items():
        if name in NOT_FORWARDED:
            continue
        if name.startswith(FORWARDED_PREFIXES) or name in FORWARDED or name in wanted:
            env[name] = value
    return env


def place_task(call: TaskCall, spec_env: dict[str, str], local_engine: bool) -> TaskPlacement:
    """How ``call`` runs in a container on a local (bind mounts) or remote (a copy) engine."""
    environ = {**os.environ, **spec_env}
    project = call.project_dir.resolve()
    env = {**forwarded_env(environ, project), **spec_env}
    env.pop(PARENT_PID_ENV, None)
    env.pop(HOST_ID_ENV, None)
    # its own pid namespace under the host's name (network host): owner tokens must tell containers apart
    config_env = {HANDOFF_ENV: "1", "PYTHONUNBUFFERED": "1", HOST_ID_ENV: f"container-{uuid.uuid4().hex[:16]}"}
    if not local_engine:
        deployment = Path(env.get("HEADRACE_DEPLOYMENT") or "/nonexistent")
        for name in ("HEADRACE_STATE_DIR", *FILE_VARIABLES, *FILE_VARIABLES_RW):
            env.pop(name, None)  # this machine's paths: the engine's machine has its own settings
        copied = deployment if deployment.is_file() else None
        if copied is not None:  # the deployment's blocks (no secret values: references) go with the project
            env["HEADRACE_DEPLOYMENT"] = REMOTE_DEPLOYMENT
        return TaskPlacement(call.args(REMOTE_PROJECT), env, config_env, project_copy=project, deployment_copy=copied)
    state = state_dir(project)
    state.mkdir(parents=True, exist_ok=True)
    volumes = {str(project): {"bind": str(project), "mode": "ro"}, str(state): {"bind": str(state), "mode": "rw"}}
    if "HEADRACE_STATE_DIR" in env:
        env["HEADRACE_STATE_DIR"] = str(state)
    for name in (*FILE_VARIABLES, *FILE_VARIABLES_RW):
        value = env.get(name)
        if value and Path(value).is_file():
            path = str(Path(value).resolve())
            env[name] = path
            volumes[path] = {"bind": path, "mode": "rw" if name in FILE_VARIABLES_RW else "ro"}
    config_env["HOME"] = "/tmp"  # the task runs as this machine's user, who has no home in the image
    user = f"{os.getuid()}:{os.getgid()}"
    return TaskPlacement(call.args(str(project)), env, config_env, volumes, user=user)


def skip_in_copy(project: Path, state: Path):  # type: ignore[no-untyped-def]
    """What the copy of a project folder leaves out: ``.git``, the secrets file, the state
    (everything under ``.headrace`` but the compiled manifest)."""
    relative_state = state.relative_to(project).as_posix() if state.is_relative_to(project) else None

    def skip(rel: PurePosixPath) -> bool:
        top = rel.parts[0] if rel.parts else ""
        if top in (".git", ".venv", ".secrets.yaml"):
            return True
        if top == ".headrace" and len(rel.parts) == 2 and rel.parts[1] != "manifest.json":
            return True
        return relative_state is not None and rel.as_posix() == relative_state and top != ".headrace"

    return skip
