"""ContainerRunner on a real Docker engine (dockerd started by the tests), with the Debian base image.

Each test runs real containers: copy in and out as tar streams, environment, logs, exit
status, timeout and cancel (TERM reaches the process through docker-init), removal in
every case, and a container's hostile output refused.
"""

from __future__ import annotations

import io
import tarfile
import threading
from pathlib import Path

import pytest
from headrace.errors import ConfigError, TaskFailed, TransientError
from headrace.workers.base import WorkSpec
from headrace.workers.docker import ContainerSettings
from headrace.workers.docker.worker import LABEL_OWNER, ContainerRunner

pytestmark = [pytest.mark.workers, pytest.mark.integration]


def runner(docker_engine) -> ContainerRunner:  # type: ignore[no-untyped-def]
    from headrace.workers.docker.engine import connect

    return ContainerRunner(lambda: connect(docker_engine.host), ContainerSettings(), local_engine=True)


def left_over(docker_client, marker: str) -> list:  # type: ignore[no-untyped-def]
    return docker_client.containers.list(all=True, filters={"label": f"test.marker={marker}"})


def py(code: str) -> list[str]:
    return ["python3", "-c", code]


def test_data_in_env_logs_exit_status_and_data_out(
    docker_engine, docker_client, base_image: str, tmp_path: Path
) -> None:
    data_in = tmp_path / "in"
    (data_in / "in" / "tables" / "t").mkdir(parents=True)
    (data_in / "config.json").write_text('{"greeting": "hello"}')
    (data_in / "in" / "tables" / "t" / "t.csv").write_text("a\n1\n2\n")
    code = """
import json, os, pathlib, sys
cfg = json.load(open("/data/config.json"))
rows = pathlib.Path("/data/in/tables/t/t.csv").read_text().splitlines()
out = pathlib.Path("/data/out/tables/t2"); out.mkdir(parents=True)
(out / "t2.csv").write_text("b\\n" + "\\n".join(str(int(r) * 10) for r in rows[1:]) + "\\n")
print(cfg["greeting"], os.environ["GREETING_TO"], flush=True)
print("to stderr", file=sys.stderr, flush=True)
print('HEADRACE_RESULT {"task_id": "c", "status": "success", "rows": 2}')
sys.exit(3)
"""
    spec = WorkSpec(
        py(code), env={"GREETING_TO": "world"}, image=base_image, data_in=data_in, labels={"test.marker": "io"}
    )
    spec_ok = WorkSpec(
        py(code.replace("sys.exit(3)", "")), env={"GREETING_TO": "world"}, image=base_image,
        data_in=data_in, data_out=tmp_path / "out", labels={"test.marker": "io"},
    )  # fmt: skip
    lines: list[str] = []
    failed = runner(docker_engine).run(spec, lines.append)
    assert failed.returncode == 3
    # the result line is taken out of the stream; stdout and stderr are two pipes: their order is not kept
    assert sorted(lines) == ["hello world", "to stderr"]
    assert failed.result is not None and failed.result.rows == 2
    done = runner(docker_engine).run(spec_ok, lambda line: None)
    assert done.returncode == 0
    assert (tmp_path / "out" / "tables" / "t2" / "t2.csv").read_text() == "b\n10\n20\n"
    assert left_over(docker_client, "io") == []


def test_labels_name_the_task_and_owner(docker_engine, docker_client, base_image: str) -> None:
    seen: dict[str, str] = {}

    def look(line: str) -> None:
        (container,) = left_over(docker_client, "labels")
        seen.update(container.labels)

    spec = WorkSpec(py("print('up', flush=True)"), image=base_image, timeout_s=600, labels={"test.marker": "labels"})
    assert runner(docker_engine).run(spec, look).returncode == 0
    assert seen[LABEL_OWNER].split(":")[1].isdigit()
    assert int(seen["headrace.expires"]) > 600
    assert left_over(docker_client, "labels") == []


def test_timeout_stops_the_container_with_term_then_removes_it(docker_engine, docker_client, base_image: str) -> None:
    code = """
import signal, sys, time
def bye(*_):
    print("cleaned up after TERM", flush=True)
    sys.exit(143)
signal.signal(signal.SIGTERM, bye)
print("started", flush=True)
time.sleep(600)
"""
    spec = WorkSpec(py(code), image=base_image, timeout_s=3, labels={"test.marker": "timeout"})
    lines: list[str] = []
    outcome = runner(docker_engine).run(spec, lines.append)
    assert outcome.timed_out and not outcome.cancelled
    assert lines == ["started", "cleaned up after TERM"]  # docker-init passed TERM on to python
    assert outcome.task_result("t", 3).status == "timeout"
    assert left_over(docker_client, "timeout") == []


def test_cancel_stops_and_removes_the_container(docker_engine, docker_client, base_image: str) -> None:
    run = runner(docker_engine)
    spec = WorkSpec(py("import time; print('started', flush=True); time.sleep(600)"), image=base_image,
                    labels={"test.marker": "cancel"})  # fmt: skip

    def on_line(line: str) -> None:
        threading.Thread(target=run.cancel).start()

    outcome = run.run(spec, on_line)
    assert outcome.cancelled and not outcome.timed_out
    assert outcome.task_result("t", None).status == "cancelled"
    assert left_over(docker_client, "cancel") == []


def test_non_zero_exit_is_the_task_error_with_the_last_lines(docker_engine, base_image: str) -> None:
    code = "import sys; [print(f'line {i}') for i in range(30)]; print('boom: the source refused'); sys.exit(1)"
    outcome = runner(docker_engine).run(WorkSpec(py(code), image=base_image), lambda line: None)
    result = outcome.task_result("extractor:x", None)
    assert result.status == "failed" and result.error_class == "task"
    assert result.error is not None and result.error.endswith("line 29\nboom: the source refused")


def test_missing_image_is_a_config_error_naming_it(docker_engine) -> None:
    with pytest.raises(ConfigError, match=r"the image no-such/component:1 is not on the Docker engine.*docker build"):
        runner(docker_engine).run(WorkSpec([], image="no-such/component:1"), lambda line: None)


def test_an_engine_that_does_not_answer_is_transient(tmp_path: Path) -> None:
    from headrace.workers.docker.engine import connect

    dead = f"unix://{tmp_path}/nothing.sock"
    run = ContainerRunner(lambda: connect(dead), ContainerSettings(), local_engine=True)
    with pytest.raises(TransientError, match=f"the Docker engine at {dead} does not answer"):
        run.run(WorkSpec([], image="x"), lambda line: None)


@pytest.mark.parametrize(
    ("make", "refused"),
    [
        ("import os; os.symlink('/etc/passwd', '/data/out/tables/link')", "'out/tables/link': a link"),
        ("import os; os.mkfifo('/data/out/fifo')", "'out/fifo': a device, FIFO"),
        ("import os; os.mknod('/data/out/dev', 0o600 | 0o020000, os.makedev(1, 3))", "'out/dev': a device"),
    ],
)
def test_hostile_output_of_a_container_is_refused(
    docker_engine, base_image: str, tmp_path: Path, make: str, refused: str
) -> None:
    code = f"import os; os.makedirs('/data/out/tables'); {make}"
    spec = WorkSpec(py(code), image=base_image, data_in=tmp_path / "in", data_out=tmp_path / "out")
    spec.data_in.mkdir()  # type: ignore[union-attr]
    with pytest.raises(TaskFailed, match=f"refused the entry {refused}"):
        runner(docker_engine).run(spec, lambda line: None)
    assert not (tmp_path / "out" / "dev").exists() and not (tmp_path / "out" / "tables" / "link").exists()


def _tar(*members: tuple[str, bytes, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, target in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target.decode()
            tar.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "refused"),
    [
        ([("/etc/cron.d/x", tarfile.REGTYPE, b"")], "'/etc/cron.d/x': an absolute path"),
        ([("out/../../x", tarfile.REGTYPE, b"")], r"'out/../../x': it climbs out with '..'"),
        ([("elsewhere/x", tarfile.REGTYPE, b"")], "'elsewhere/x': outside out/"),
        ([("out/h", tarfile.LNKTYPE, b"out/a")], "'out/h': a link"),
    ],
)
def test_unpack_refuses_entries_no_engine_makes_but_a_hostile_one_could(
    tmp_path: Path, members: list, refused: str
) -> None:
    """Crafted streams (a real engine's get_archive cannot produce these; a compromised one could)."""
    from headrace.workers.docker.transfer import unpack

    with pytest.raises(TaskFailed, match=f"the output: refused the entry {refused}"):
        unpack(iter([_tar(*members)]), "out", tmp_path / "dest", "the output")
    assert list((tmp_path / "dest").iterdir()) == []


def test_a_component_env_reaches_it_through_its_shell_and_no_file_of_the_engine(
    docker_engine, docker_client, base_image: str, tmp_path: Path
) -> None:
    """dockerd writes a container's configured ``Env`` to ``containers/<id>/config.v2.json`` and
    containerd keeps it in its metadata database even after removal (measured): so a component's
    env goes through stdin to the image's own ``/bin/sh``, which exports it and execs the image's
    command. Neither while it runs nor after is the value in any file under the data root. An
    image without ``/bin/sh`` still gets its env (at create), with a warning in the task log."""
    import hashlib
    import subprocess
    import uuid

    from headrace.workers.docker.image import build_image

    from tests.emulators.dockerd import DATA_ROOT

    secret = f"env-s3cr3t-{uuid.uuid4().hex}"  # new per run: the engine's files keep freed bytes of earlier runs
    tricky = "it's $(not run) \\ `x`\nsecond line"

    def holding() -> list[str]:
        found = subprocess.run(["grep", "-rlF", secret, str(DATA_ROOT)], capture_output=True, text=True)
        return found.stdout.split()

    during: list[str] = []
    # the command compares digests: the values themselves must not be in the container's command line
    code = (
        "import hashlib, os; d = lambda n: hashlib.sha256(os.environ[n].encode()).hexdigest(); "
        "print(d('SOURCE_TOKEN') == %r, d('TRICKY') == %r, flush=True)"
    )
    digests = tuple(hashlib.sha256(v.encode()).hexdigest() for v in (secret, tricky))
    spec = WorkSpec(py(code % digests), env={"SOURCE_TOKEN": secret, "TRICKY": tricky}, image=base_image)
    lines: list[str] = []

    def seen(line: str) -> None:
        lines.append(line)
        during.extend(holding())

    assert runner(docker_engine).run(spec, seen).returncode == 0
    assert lines == ["True True"]
    assert during == [] and holding() == []

    folder = tmp_path / "no-shell"
    folder.mkdir()
    (folder / "Dockerfile").write_text(f"FROM {base_image}\nRUN rm /bin/sh /usr/bin/sh 2>/dev/null; true\n")
    build_image(docker_client, folder, "test-no-shell:1", lambda line: None)
    lines.clear()
    spec = WorkSpec(py("import os; print(os.environ['SOURCE_TOKEN'][:3], flush=True)"), env={"SOURCE_TOKEN": "abc"})
    spec = WorkSpec(spec.command, env=spec.env, image="test-no-shell:1")
    assert runner(docker_engine).run(spec, lines.append).returncode == 0
    assert lines[-1] == "abc"
    assert any("has no /bin/sh: its env: was given at container create" in line for line in lines)


def test_build_image_builds_a_component_folder_and_names_a_failing_step(
    docker_engine, docker_client, base_image: str, tmp_path: Path
) -> None:
    """``build_image`` (components with a ``build:`` folder use it): progress lines, then the image runs."""
    from headrace.workers.docker.image import build_image

    folder = tmp_path / "component"
    folder.mkdir()
    (folder / "Dockerfile").write_text(f'FROM {base_image}\nRUN echo built > /built\nCMD ["cat", "/built"]\n')
    progress: list[str] = []
    assert build_image(docker_client, folder, "test-component:1", progress.append).startswith("sha256:")
    assert any(line.startswith("Step 2/3 : RUN echo built") for line in progress)
    lines: list[str] = []
    assert runner(docker_engine).run(WorkSpec([], image="test-component:1"), lines.append).returncode == 0
    assert lines == ["built"]
    (folder / "Dockerfile").write_text(f"FROM {base_image}\nRUN exit 7\n")
    with pytest.raises(
        TaskFailed, match=r"building the image test-component:2 from .* failed: .*returned a non-zero code: 7"
    ):
        build_image(docker_client, folder, "test-component:2", lambda line: None)
    docker_client.images.remove("test-component:1")
