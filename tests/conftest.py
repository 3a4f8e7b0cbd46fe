"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real moto server on 127.0.0.1 for the session (tests/emulators/moto.py)."""
    from tests.emulators import moto

    try:
        server = moto.start(tmp_path_factory.mktemp("moto"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server.endpoint
    server.stop()


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real gcp-storage-emulator on 127.0.0.1 for the session (tests/emulators/gcs.py)."""
    from tests.emulators import gcs

    try:
        server = gcs.start(tmp_path_factory.mktemp("gcs"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server.endpoint
    server.stop()


@pytest.fixture(scope="session")
def azurite_account_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Azurite blob service on 127.0.0.1 for the session: its account URL (tests/emulators/azurite.py)."""
    from tests.emulators import azurite

    try:
        server = azurite.start(tmp_path_factory.mktemp("azurite"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield azurite.account_url(server.endpoint)
    server.stop()


@pytest.fixture(scope="session")
def fakesnow_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real fakesnow server on 127.0.0.1 for the session (tests/emulators/fakesnow.py); tests use own databases."""
    from tests.emulators import fakesnow

    try:
        server = fakesnow.start(tmp_path_factory.mktemp("fakesnow"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def crucible_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real crucible-emulator (BigQuery REST on DuckDB) on 127.0.0.1 for the session (tests/emulators/crucible.py)."""
    from tests.emulators import crucible

    try:
        server = crucible.start(tmp_path_factory.mktemp("crucible"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server.endpoint
    server.stop()
