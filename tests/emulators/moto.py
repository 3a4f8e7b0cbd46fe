"""moto server: S3, EC2, IAM, STS, KMS, Secrets Manager, SSM (installed by tests/setup.d/50-infra.sh)."""

from __future__ import annotations

from pathlib import Path

from tests.emulators import server

MOTO_SERVER = server.VENV_BIN / "moto_server"
# what boto3 needs to talk to moto and to nothing else
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def start(log_dir: Path) -> server.Server:
    if not MOTO_SERVER.exists():
        raise RuntimeError(f"{MOTO_SERVER} is missing: run tests/setup.d/50-infra.sh (./install.sh test does)")
    return server.start(
        "moto",
        lambda port: [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        lambda port: server.http_ready(f"http://127.0.0.1:{port}/moto-api/"),
        log_dir,
        env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
    )
