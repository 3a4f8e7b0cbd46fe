"""Run in a fresh interpreter by test_airflow_secrets.py: resolve names through ``secrets: {type: airflow}``.

``python airflow_child.py resolve NAME...`` prints ``{"NAME": value or "error: message"}``;
``python airflow_child.py handoff NAME...`` prints what the operator hands its task process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from headrace.errors import ConfigError
from headrace.secrets import SecretResolver


def main() -> None:
    verb, names = sys.argv[1], sys.argv[2:]
    if verb == "handoff":
        from headrace.orchestrator.secretbackend.backend import handoff_env

        print(json.dumps(handoff_env(names)))
        return
    resolver = SecretResolver(Path.cwd(), {"type": "airflow"})
    out = {}
    for name in names:
        try:
            out[name] = resolver.secret(name)
        except ConfigError as exc:
            out[name] = f"error: {exc}"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
