"""Golden files: compare generated text with a committed copy.

Set ``HEADRACE_UPDATE_GOLDEN=1`` to rewrite the copies after an intended change, then
review the diff like any other code change.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str, folder: Path = GOLDEN) -> None:
    path = folder / name
    if os.environ.get("HEADRACE_UPDATE_GOLDEN") == "1" or (not path.exists() and os.environ.get("CI") != "true"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run the test with HEADRACE_UPDATE_GOLDEN=1 and commit it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden copy; if intended, rerun with HEADRACE_UPDATE_GOLDEN=1"
