"""Paths, tools and subprocess helpers of the infrastructure tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests import golden_files

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infrastructure"
VENVS = REPO / ".venvs"
CLOUDS = ("aws", "gcp", "azure")
SETUP_HINT = "run tests/setup.d/50-infra.sh (./install.sh test does) to install it"


def tool(name: str) -> str:
    """Absolute path of a tool the tests need; fails (never skips) when it is missing."""
    own = {
        "checkov": VENVS / "checkov" / "bin" / "checkov",
        "hcl2-python": VENVS / "hcl2" / "bin" / "python",
        "aws": VENVS / "awscli" / "bin" / "aws",
    }
    if name in own:
        path = own[name]
        if not path.exists():
            pytest.fail(f"{path} is missing: {SETUP_HINT}")
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH: {SETUP_HINT}")
    return found


def provider_mirror() -> Path:
    """The local Terraform provider mirror holding hashicorp/aws (found by the set-up script)."""
    env = os.environ.get("HEADRACE_TF_PROVIDER_MIRROR")
    cached = VENVS / "terraform-provider-mirror"
    text = env or (cached.read_text().strip() if cached.exists() else "")
    if not text or not (Path(text) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.fail(f"no Terraform provider mirror with hashicorp/aws: {SETUP_HINT}")
    return Path(text)


def terraform_env(workdir: Path) -> dict[str, str]:
    """Environment for terraform: the provider mirror, no registry, no telemetry."""
    rc = workdir / "terraformrc"
    rc.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{provider_mirror()}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
    )
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(rc),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "HEADRACE_TF_PROVIDER_MIRROR": str(provider_mirror()),
    }


def run(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input_text,
        stdin=None if input_text is not None else subprocess.DEVNULL,
    )


def run_ok(cmd: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = run(cmd, **kwargs)  # type: ignore[arg-type]
    assert result.returncode == 0, (
        f"{' '.join(cmd)} exited {result.returncode}\n--- stdout\n{result.stdout[-6000:]}\n"
        f"--- stderr\n{result.stderr[-6000:]}"
    )
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/infrastructure/golden/NAME; HEADRACE_UPDATE_GOLDEN=1 rewrites it."""
    golden_files.assert_golden(name, text, GOLDEN)


def installer(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ./install.sh (the real entry point) with the given arguments."""
    return run(["bash", str(REPO / "install.sh"), *args], env=env, cwd=REPO, timeout=timeout)


def fake_wheel(folder: Path) -> Path:
    """A small file named like the Headrace wheel, for plans that only hash and upload it."""
    path = folder / "dist" / "headrace-0.1.0-py3-none-any.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    return path
