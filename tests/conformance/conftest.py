from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.targets import TARGETS, Target


@pytest.fixture(params=sorted(TARGETS))
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    made = TARGETS[request.param](request, tmp_path)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(made.state_dir))
    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    return made
