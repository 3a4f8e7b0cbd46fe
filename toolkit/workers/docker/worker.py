"""Run one container to its end: create, copy in, start, stream logs, wait, copy out, remove.

``ContainerRunner`` is the part every container worker shares (the ``docker`` worker on
this machine's or a remote engine, the VM workers over SSH): it takes a client factory,
so where the engine runs is not its business. A task (``spec.task``) runs
``headrace run-task`` in the worker image; a component runs ``spec.image`` with its own
entrypoint (``spec.command``, when given, replaces the image's ``CMD`` as ``docker run``
does). The container is removed in every case; ``cancel()`` and the timeout stop it
(SIGTERM through ``docker-init`` to the task, which cleans up, then SIGKILL after
``KILL_GRACE_S``) before it is removed.

Each container carries labels (``headrace.task``, ``headrace.run_id``, ``headrace.owner``,
``headrace.expires``) so a sweeper can remove what a killed parent left behind. Secrets
never sit in the container's configuration: a task reads its environment from stdin
(``headrace.workers.handoff``), a component image's shell does (``shellenv``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from headrace.errors import EXIT_PROJECT_INVALID, EXIT_TRANSIENT, ConfigError, HeadraceError, TransientError
from headrace.results import TaskResult
from headrace.workers.base import DATA_DIR, EXIT_TERMINATED, KILL_GRACE_S, Worker, WorkerOutcome, WorkSpec
from headrace.workers.docker import (
    CAPABILITIES,
    LABEL_EXPIRES,
    LABEL_OWNER,
    LABEL_RUN,
    LABEL_TASK,
    WORKER_IMAGE,
    ContainerSettings,
    DockerWorkerConfig,
)
from headrace.workers.docker.image import ensure_image
from headrace.workers.docker.shellenv import SHELL, exports, wrapped
from headrace.workers.docker.taskenv import REMOTE_DEPLOYMENT, REMOTE_PROJECT, TaskPlacement, place_task, skip_in_copy
from headrace.workers.handoff import encode

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

TAIL = 20  # output lines kept for the error message of a task that printed no result
NO_TIMEOUT_EXPIRY_S = 24 * 3600  # headrace.expires of a container without a timeout


def lines_of(chunks: Iterator[bytes]) -> Iterator[str]:
    """Whole text lines from a log stream whose chunks end anywhere."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        *done, rest = rest.split(b"\n")
        for raw in done:
            yield raw.decode("utf-8", errors="replace").rstrip("\r")
    if rest:
        yield rest.decode("utf-8", errors="replace").rstrip("\r")


def send_stdin(sock: Any, data: bytes) -> None:
    """Write ``data`` to a container's attached stdin and detach (its stdin then ends: ``stdin_once``).

    The socket is a ``SocketIO`` on a unix socket, an SSL socket over TLS, a paramiko channel
    over ``ssh://`` (``docker.APIClient._get_raw_response_socket``); all have ``sendall``.
    """
    target = getattr(sock, "_sock", sock)
    try:
        target.sendall(data)
        target.shutdown(1)  # SHUT_WR (socket) / stop sending (paramiko): the container reads the end of stdin
    except OSError:  # the container ended already (a broken image): its exit status and logs say why
        pass
    finally:
        with contextlib.suppress(Exception):
            sock.close()
        with contextlib.suppress(Exception):
            target.close()


class ContainerRunner:
    """Runs a ``WorkSpec`` as one container on the engine ``client_factory`` connects to.

    ``run`` raises ``TransientError`` when the engine does not answer, ``ConfigError`` when
    the image is missing (and is not the worker image, which is built) and ``TaskFailed``
    when what the container left in ``/data/out`` is refused; otherwise it returns the
    container's outcome.
    """

    def __init__(
        self, client_factory: Callable[[], docker.DockerClient], settings: ContainerSettings, local_engine: bool
    ) -> None:
        self.client_factory = client_factory
        self.settings = settings
        self.local_engine = local_engine
        self._container: Container | None = None
        self._cancelled = threading.Event()
        self._stopping = threading.Lock()
        self._stdin_env: bytes | None = None  # a component's env, for the shell wrapper (``shellenv``)
        self._on_line: Callable[[str], None] = lambda line: None

    def image_for(self, spec: WorkSpec) -> str:
        if spec.task is not None and not spec.image:
            return self.settings.image or WORKER_IMAGE
        if not spec.image:
            raise ConfigError("a container needs an image: the work spec names neither an image nor a task")
        return spec.image

    def labels(self, spec: WorkSpec, started: float) -> dict[str, str]:
        from headrace.lifecycle import owner_token

        lasts = (spec.timeout_s if spec.timeout_s else NO_TIMEOUT_EXPIRY_S) + KILL_GRACE_S
        labels = {**spec.labels, LABEL_OWNER: owner_token(), LABEL_EXPIRES: str(int(started + lasts))}
        if spec.task is not None:
            labels |= {LABEL_TASK: spec.task.task_id, LABEL_RUN: spec.task.run_id}
        return labels

    def _create(
        self, client: docker.DockerClient, spec: WorkSpec, image: str
    ) -> tuple[Container, TaskPlacement | None]:
        host: dict[str, Any] = {"network_mode": self.settings.network, "init": True}  # docker-init passes TERM on
        if self.settings.memory:
            host["mem_limit"] = self.settings.memory
        if self.settings.cpus:
            host["nano_cpus"] = int(self.settings.cpus * 1e9)
        options: dict[str, Any] = {"labels": self.labels(spec, time.time()), "detach": True}
        placement = None
        if spec.task is not None and not spec.image:
            placement = place_task(spec.task, spec.env, self.local_engine)
            options |= {"entrypoint": ["headrace"], "command": placement.args, "environment": placement.config_env}
            # the environment comes through stdin; with detach=False the SDK sets StdinOnce: stdin ends when we detach
            options |= {"stdin_open": True, "detach": False}
            if placement.volumes:
                host["binds"] = placement.volumes
            if placement.user:
                options["user"] = placement.user
        else:
            options |= self._component_options(client, spec, image)
        created = client.api.create_container(image, host_config=client.api.create_host_config(**host), **options)
        container = client.containers.get(created["Id"])
        if spec.task is None and spec.env and not self._has_shell(container):
            # no /bin/sh to read the environment from stdin: give it at create, as the image expects it
            container.remove(force=True)
            self._stdin_env = None
            options = {**options, "environment": dict(spec.env), "stdin_open": False, "detach": True}
            options.pop("entrypoint", None)
            options["command"] = list(spec.command) if spec.command else None
            created = client.api.create_container(image, host_config=client.api.create_host_config(**host), **options)
            container = client.containers.get(created["Id"])
            self._on_line(
                f"warning: {image} has no {SHELL}: its env: was given at container create, and the Docker engine "
                "keeps a container's environment in its files (docs/workers.md)"
            )
        return container, placement

    def _component_options(self, client: docker.DockerClient, spec: WorkSpec, image: str) -> dict[str, Any]:
        """A component image: its own entrypoint; ``env`` through stdin and the image's shell (``shellenv``)."""
        command = list(spec.command) if spec.command else None
        if not spec.env:
            return {"command": command} if command else {}
        config = client.images.get(image).attrs.get("Config") or {}
        entrypoint = list(config.get("Entrypoint") or [])
        command = command or list(config.get("Cmd") or [])
        if not entrypoint and not command:
            raise ConfigError(f"the image {image} has neither an ENTRYPOINT nor a CMD: give it one in its Dockerfile")
        self._stdin_env = exports(spec.env)
        outer, args = wrapped(entrypoint, command)
        return {"entrypoint": outer, "command": args, "stdin_open": True, "detach": False}

    @staticmethod
    def _has_shell(container: Container) -> bool:
        from docker.errors import NotFound

        try:
            chunks, _ = container.get_archive(SHELL)  # a symlink or a small file: read it to free the connection
            for _ in chunks:
                pass
        except NotFound:
            return False
        return True

    def _copy_in(self, container: Container, spec: WorkSpec, placement: TaskPlacement | None) -> None:
        from headrace.paths import state_dir
        from headrace.workers.docker.transfer import pack, pack_file

        if placement is not None and placement.project_copy is not None:
            project = placement.project_copy
            skip = skip_in_copy(project, state_dir(project))
            container.put_archive("/", pack(project, REMOTE_PROJECT.lstrip("/"), skip))
        if placement is not None and placement.deployment_copy is not None:
            container.put_archive("/", pack_file(placement.deployment_copy, REMOTE_DEPLOYMENT.lstrip("/")))
        if spec.data_in is not None:
            root = DATA_DIR.lstrip("/")
            container.put_archive("/", pack(spec.data_in, root, extra_dirs=[(f"{root}/out", 0o777)]))

    def _copy_out(self, container: Container, spec: WorkSpec) -> None:
        from docker.errors import NotFound
        from headrace.workers.docker.transfer import unpack

        assert spec.data_out is not None
        try:
            chunks, _ = container.get_archive(f"{DATA_DIR}/out")
        except NotFound:  # the container made no /data/out: no output tables
            spec.data_out.mkdir(parents=True, exist_ok=True)
            return
        unpack(chunks, "out", spec.data_out, f"the output of {self.image_for(spec)} ({DATA_DIR}/out)")

    def run(self, spec: WorkSpec, on_line: Callable[[str], None]) -> WorkerOutcome:
        from docker.errors import APIError, ImageNotFound
        from requests.exceptions import RequestException

        client = self.client_factory()
        self._stdin_env, self._on_line = None, on_line
        try:
            image = self.image_for(spec)
            ensure_image(client, image, on_line)
            try:
                container, placement = self._create(client, spec, image)
            except ImageNotFound:
                raise ConfigError(f"the image {image} is not on the Docker engine") from None
            except APIError as exc:
                raise ConfigError(
                    f"the Docker engine refused to create a container of {image}: {exc.explanation}"
                ) from None
            try:
                return self._run(container, spec, placement, on_line)
            finally:
                with contextlib.suppress(Exception):
                    container.remove(force=True, v=True)
        except RequestException as exc:  # requests' errors: the engine went away mid-task
            raise TransientError(f"lost the Docker engine while the container ran: {exc}") from None
        finally:
            self._container = None
            client.close()

    def _run(
        self, container: Container, spec: WorkSpec, placement: TaskPlacement | None, on_line: Callable[[str], None]
    ) -> WorkerOutcome:
        self._copy_in(container, spec, placement)
        self._container = container
        timed_out = threading.Event()
        if self._cancelled.is_set():  # cancelled before it started: it never does
            return WorkerOutcome(EXIT_TERMINATED, False, None, [], cancelled=True)

        def on_timeout() -> None:
            timed_out.set()
            self._stop(container)

        timer = threading.Timer(spec.timeout_s, on_timeout) if spec.timeout_s else None
        result: TaskResult | None = None
        tail: list[str] = []
        try:
            payload = encode(placement.env) if placement is not None else self._stdin_env
            stdin = container.attach_socket(params={"stdin": 1, "stream": 1}) if payload is not None else None
            container.start()
            if self._cancelled.is_set():  # a cancel that came while it started found nothing running to stop
                self._stop(container)
            if payload is not None:
                send_stdin(stdin, payload)
            if timer:
                timer.daemon = True
                timer.start()
            for line in lines_of(container.logs(stream=True, follow=True, stdout=True, stderr=True)):
                parsed = TaskResult.from_line(line)
                if parsed is not None:
                    result = parsed
                    continue
                tail = [*tail[-(TAIL - 1) :], line]
                on_line(line)
            returncode = int(container.wait().get("StatusCode", -1))
        except BaseException:  # Airflow's execution timeout raised here, Ctrl-C: the task still cleans up
            self._cancelled.set()
            self._stop(container)
            raise
        finally:
            if timer:
                timer.cancel()
        stopped = timed_out.is_set() or self._cancelled.is_set()
        if spec.data_out is not None and returncode == 0 and not stopped:
            self._copy_out(container, spec)
        cancelled = self._cancelled.is_set() and not timed_out.is_set()
        return WorkerOutcome(returncode, timed_out.is_set(), result, tail, cancelled)

    def _stop(self, container: Container) -> None:
        """TERM, ``KILL_GRACE_S`` to clean up, then KILL (the engine does both: ``docker stop``)."""
        with self._stopping, contextlib.suppress(Exception):  # gone already, or the engine with it
            container.stop(timeout=int(KILL_GRACE_S))

    def cancel(self) -> None:
        """Stop the running container (from another thread); ``run`` then returns a cancelled outcome."""
        self._cancelled.set()
        container = self._container
        if container is not None:
            threading.Thread(target=self._stop, args=(container,), name="cancel", daemon=True).start()


class DockerWorker(Worker):
    """A task in a container on ``config.docker_host`` (default ``DOCKER_HOST``, else the local socket).

    Errors before the container runs (engine unreachable, image missing) become the task's
    outcome (exit 75 / 2 with the message), so ``headrace run`` and Airflow retry or fail
    the task as they would a task that reported them itself.
    """

    capabilities = CAPABILITIES

    def __init__(self, config: DockerWorkerConfig | None = None) -> None:
        from headrace.workers.docker.engine import connect, is_local

        self.config = config or DockerWorkerConfig.model_validate({"type": "docker"})
        local = is_local(self.config.docker_host)
        self.capabilities = replace(CAPABILITIES, remote=not local)
        self.runner = ContainerRunner(lambda: connect(self.config.docker_host), self.config, local)

    def run(self, spec: WorkSpec, on_line: Callable[[str], None]) -> WorkerOutcome:
        self.check(spec)
        try:
            return self.runner.run(spec, on_line)
        except HeadraceError as exc:
            code = EXIT_PROJECT_INVALID if isinstance(exc, ConfigError) else 1
            code = EXIT_TRANSIENT if isinstance(exc, TransientError) else code
            on_line(str(exc))
            return WorkerOutcome(code, False, None, [str(exc)])

    def cancel(self) -> None:
        self.runner.cancel()
