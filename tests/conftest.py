"""Fixtures shared by every test package."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private state directory (warehouse file, storage) for one test."""
    state = tmp_path / "state"
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(state))
    return state


@pytest.fixture(scope="session")
def pg_server():  # type: ignore[no-untyped-def]
    """One real PostgreSQL 15 server for the whole session (tests/pgserver.py); tests use own databases."""
    from tests import pgserver

    server = pgserver.start()
    yield server
    server.stop()


@pytest.fixture
def pg_database(pg_server, request: pytest.FixtureRequest) -> str:  # type: ignore[no-untyped-def]
    """A fresh database on the session's PostgreSQL server, dropped after the test."""
    from tests import pgserver

    return pgserver.fresh_database(pg_server, request)


@contextmanager
def _emulator(name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Start ``tests/emulators/<name>.py``'s server for the session; fail the test with its log if it cannot."""
    module = importlib.import_module(f"tests.emulators.{name}")
    try:
        server = module.start(tmp_path_factory.mktemp(name))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real moto server on 127.0.0.1 for the session (tests/emulators/moto.py)."""
    with _emulator("moto", tmp_path_factory) as server:
        yield server.endpoint


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real gcp-storage-emulator on 127.0.0.1 for the session (tests/emulators/gcs.py)."""
    with _emulator("gcs", tmp_path_factory) as server:
        yield server.endpoint


@pytest.fixture(scope="session")
def azurite_account_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Azurite blob service on 127.0.0.1 for the session: its account URL (tests/emulators/azurite.py)."""
    from tests.emulators import azurite

    with _emulator("azurite", tmp_path_factory) as server:
        yield azurite.account_url(server.endpoint)


@pytest.fixture(scope="session")
def fakesnow_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real fakesnow server on 127.0.0.1 for the session (tests/emulators/fakesnow.py); tests use own databases."""
    with _emulator("fakesnow", tmp_path_factory) as server:
        yield server


@pytest.fixture(scope="session")
def crucible_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real crucible-emulator (BigQuery REST on DuckDB) on 127.0.0.1 for the session (tests/emulators/crucible.py)."""
    with _emulator("crucible", tmp_path_factory) as server:
        yield server.endpoint


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real Docker engine (Debian's dockerd, started here) for the session: ``.host`` is its unix:// URL."""
    with _emulator("dockerd", tmp_path_factory) as engine:
        yield engine


@pytest.fixture(scope="session")
def sshd_server(docker_engine, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """An OpenSSH server on 127.0.0.1 whose logins reach ``docker_engine`` (tests/emulators/sshd.py): a VM's
    "Docker over SSH"."""
    from tests.emulators import sshd

    try:
        server = sshd.start(tmp_path_factory.mktemp("sshd"), docker_engine.host)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()
