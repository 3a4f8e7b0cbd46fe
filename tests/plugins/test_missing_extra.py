"""A backend whose SDK is not installed says which extra to install, for every cloud backend."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

# Runs in a fresh interpreter where the cloud SDKs cannot be imported (as without the extra).
CHILD = """
import importlib.abc, json, sys

class NoCloudSdks(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("google", "boto3", "botocore", "azure", "snowflake"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoCloudSdks())
from headrace import plugins
from headrace.errors import ConfigError

out = {}
for kind, name in json.loads(sys.argv[1]):
    plugin = plugins.get(kind, name)
    try:
        plugin.load()
        error = None
    except ConfigError as exc:
        error = str(exc)
    out[f"{kind}:{name}"] = {"missing": plugin.missing(), "error": error}
print(json.dumps(out))
"""

BACKENDS = {
    ("warehouse", "bigquery"): "bigquery",
    ("warehouse", "snowflake"): "snowflake",
    ("storage", "s3"): "s3",
    ("storage", "gcs"): "gcs",
    ("storage", "azure"): "azure",
    ("secrets", "aws"): "aws",
    ("secrets", "gcp"): "gcp",
    ("secrets", "azure"): "azure",
}


def test_each_cloud_backend_names_its_extra_when_its_sdk_is_missing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(list(BACKENDS))], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    for (kind, name), extra in BACKENDS.items():
        entry = found[f"{kind}:{name}"]
        assert entry["missing"], f"{kind} {name} lists what it needs"
        assert entry["error"] is not None and entry["error"].startswith(f"{kind} type {name!r} needs a package"), entry
        assert entry["error"].endswith(f'run pip install "headrace[{extra}]"'), entry["error"]
