"""Dump every .tf file under a directory as JSON (run with the python-hcl2 virtualenv).

python-hcl2 keeps the quotes of labels and string literals and marks blocks with
``__is_block__``; both are removed here so the tests see plain values. Expressions stay as
``${...}`` strings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import hcl2  # type: ignore[import-not-found]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def main(root: str) -> None:
    base = Path(root)
    out = {}
    for path in sorted(base.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        with path.open() as handle:
            out[str(path.relative_to(base))] = _plain(hcl2.load(handle))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
