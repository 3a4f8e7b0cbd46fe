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
def crucible_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real crucible-emulator (BigQuery REST on DuckDB) on 127.0.0.1 for the session (tests/emulators/crucible.py)."""
    from tests.emulators import crucible

    try:
        server = crucible.start(tmp_path_factory.mktemp("crucible"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server.endpoint
    server.stop()
