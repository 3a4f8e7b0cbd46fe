from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.targets import SKIPS, TARGETS, Target


@pytest.fixture(params=sorted(TARGETS))
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    test = getattr(request.node, "originalname", request.node.name)
    callspec = request.node.callspec  # type: ignore[attr-defined]  # the target fixture is parametrized
    params = [str(v) for k, v in callspec.params.items() if k != "target"]
    reason = SKIPS.get((request.param, f"{test}[{'-'.join(params)}]")) or SKIPS.get((request.param, test))
    if reason:
        pytest.skip(f"{request.param}: {reason}")
    made = TARGETS[request.param](request, tmp_path)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(made.state_dir))
    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    return made
