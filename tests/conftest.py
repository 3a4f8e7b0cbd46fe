"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private state directory (warehouse file, storage) for one test."""
    state = tmp_path / "state"
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(state))
    return state
