"""Parsed Terraform configuration of a root module (python-hcl2 run in its own venv)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tests.infrastructure.tools import INFRA, run_ok, tool


@dataclass(frozen=True)
class Block:
    kind: str  # resource type, or "variable", "output", "module", ...
    name: str
    file: str
    body: dict[str, Any]


@dataclass
class Config:
    """Every block of one directory tree of .tf files."""

    root: Path
    files: dict[str, dict[str, Any]]
    blocks: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        for rel, doc in self.files.items():
            for resource in doc.get("resource", []):
                for rtype, named in resource.items():
                    for name, body in named.items():
                        self.blocks.append(Block(rtype, name, rel, body))
            for key in ("variable", "output", "module", "ephemeral", "data"):
                for entry in doc.get(key, []):
                    for name, body in entry.items():
                        if key in ("ephemeral", "data"):  # typed like resources
                            for inner, inner_body in body.items():
                                self.blocks.append(Block(f"{key}.{name}", inner, rel, inner_body))
                        else:
                            self.blocks.append(Block(key, name, rel, body))

    def resources(self, rtype: str, *, root_only: bool = False) -> list[Block]:
        return [b for b in self.blocks if b.kind == rtype and (not root_only or "/" not in b.file)]

    def one(self, rtype: str, name: str) -> Block:
        found = [b for b in self.blocks if b.kind == rtype and b.name == name]
        assert len(found) == 1, f"expected one {rtype}.{name}, found {len(found)}"
        return found[0]

    def root_blocks(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind and "/" not in b.file]

    def text(self) -> str:
        return "\n".join((self.root / rel).read_text() for rel in self.files)


@cache
def load(cloud: str) -> Config:
    root = INFRA / cloud
    dumper = Path(__file__).with_name("hcl_dump.py")
    result = run_ok([tool("hcl2-python"), str(dumper), str(root)], timeout=120)
    return Config(root, json.loads(result.stdout))


def flat(value: Any) -> list[Any]:
    """Every scalar inside a nested value."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in flat(v)]
    if isinstance(value, list):
        return [x for v in value for x in flat(v)]
    return [value]
