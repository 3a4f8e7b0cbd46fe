"""Tasks in containers on the host network share the host's name but not its pids.

Owner tokens (working schemas, temporary extract folders) carry the name of the owner's pid
namespace; a sweep judges only tokens of its own. Without that, a task in one container
removed the running extract folder of a task in another (seen with the example project on
the docker worker: "No such file or directory" in a neighbour's folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from headrace.lifecycle import host_id, owner_dead
from headrace.sweep import _folder_owner_dead, temp_folder
from headrace.workers.base import HOST_ID_ENV, TaskCall
from headrace.workers.docker.taskenv import place_task

pytestmark = [pytest.mark.workers, pytest.mark.unit]


def test_each_task_container_gets_its_own_namespace_name(tmp_path: Path) -> None:
    call = TaskCall("extractor:shop", tmp_path, "r1")
    first = place_task(call, {HOST_ID_ENV: "from-the-parent"}, local_engine=True)
    second = place_task(call, {}, local_engine=False)
    names = {first.config_env[HOST_ID_ENV], second.config_env[HOST_ID_ENV]}
    assert len(names) == 2 and all(name.startswith("container-") for name in names)
    assert HOST_ID_ENV not in first.env  # the parent's own name never reaches the container


def test_a_pid_is_judged_only_in_its_own_namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert owner_dead(f"{host_id()}:999999999:1")  # no such process here: gone
    assert not owner_dead("container-0123456789abcdef:999999999:1")  # another namespace: unknown, kept
    monkeypatch.setenv(HOST_ID_ENV, "container-0123456789abcdef")
    folder = temp_folder(tmp_path, "shop", "r1")
    assert folder.name.endswith("-container-0123456789abcdef")
    monkeypatch.delenv(HOST_ID_ENV)
    assert not _folder_owner_dead(folder.name)  # a running container's folder is not this host's to judge
    assert _folder_owner_dead("shop-r1@999999999-1")  # an old-style name of a dead local process
