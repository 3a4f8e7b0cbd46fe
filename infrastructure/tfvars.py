"""Merge installer options into a Terraform variables file (JSON) and print the result.

    python3 tfvars.py FILE [--dry-run] [--str K=V]... [--list K=V1,V2]... [--json K=JSON]...
                           [--require K]...

Values given on the command line replace those already in FILE, so re-running the installer
with fewer options keeps the earlier ones (an upgrade in place). --require fails with a clear
message when a variable is still unset after the merge. With --dry-run FILE is not written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _pairs(items: list[str], kind: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"tfvars.py: --{kind} expects KEY=VALUE, got {item!r}")
        out.append((key, value))
    return out


def merge(existing: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    merged = dict(existing)
    for key, value in _pairs(args.str, "str"):
        merged[key] = value
    for key, value in _pairs(args.list, "list"):
        merged[key] = [v for v in value.split(",") if v]
    for key, value in _pairs(args.json, "json"):
        try:
            merged[key] = json.loads(value)
        except json.JSONDecodeError:
            merged[key] = value
    return merged


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--str", action="append", default=[])
    parser.add_argument("--list", action="append", default=[])
    parser.add_argument("--json", action="append", default=[])
    parser.add_argument("--require", action="append", default=[])
    args = parser.parse_args(argv)

    existing = json.loads(args.file.read_text()) if args.file.exists() else {}
    merged = merge(existing, args)
    missing = [k for k in args.require if merged.get(k) in (None, "", [])]
    if missing:
        print(f"missing: {' '.join(missing)}", file=sys.stderr)
        return 3
    text = json.dumps(dict(sorted(merged.items())), indent=2) + "\n"
    if not args.dry_run:
        args.file.parent.mkdir(parents=True, exist_ok=True)
        args.file.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
