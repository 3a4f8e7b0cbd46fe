"""gcp-storage-emulator: the GCS JSON API in memory (installed by tests/setup.d/30-storage-emulators.sh).

Clients need anonymous credentials and the emulator's endpoint (storage config ``anonymous: true``,
``endpoint: <server.endpoint>``)."""

from __future__ import annotations

from pathlib import Path

from tests.emulators import server

GCS_EMULATOR = server.VENVS / "gcs-emulator" / "bin" / "gcp-storage-emulator"


def start(log_dir: Path) -> server.Server:
    if not GCS_EMULATOR.exists():
        raise RuntimeError(f"{GCS_EMULATOR} is missing: run tests/setup.d/30-storage-emulators.sh (./install.sh test)")
    return server.start(
        "gcs-emulator",
        lambda port: [str(GCS_EMULATOR), "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"],
        lambda port: server.http_ready(f"http://127.0.0.1:{port}/storage/v1/b"),
        log_dir,
    )
