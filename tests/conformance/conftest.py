from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.targets import SKIPS, TARGETS, Target


@pytest.fixture(params=sorted(TARGETS))
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    test = request.node.originalname if hasattr(request.node, "originalname") else request.node.name
    reason = SKIPS.get((request.param, test))
    if reason:
        pytest.skip(f"{request.param}: {reason}")
    made = TARGETS[request.param](request, tmp_path)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(made.state_dir))
    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    return made
