"""Azurite's blob service (installed by tests/setup.d/30-storage-emulators.sh), with its well-known
development account ``devstoreaccount1`` (account URL ``<endpoint>/devstoreaccount1``)."""

from __future__ import annotations

from pathlib import Path

from tests.emulators import server

AZURITE_BLOB = server.VENVS / "azurite" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
# Azurite's published development key (not a secret: every Azurite accepts it)
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def start(log_dir: Path) -> server.Server:
    if not AZURITE_BLOB.exists():
        raise RuntimeError(f"{AZURITE_BLOB} is missing: run tests/setup.d/30-storage-emulators.sh (./install.sh test)")
    data = log_dir / "azurite-data"
    data.mkdir(exist_ok=True)
    return server.start(
        "azurite",
        lambda port: [
            str(AZURITE_BLOB),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(data),
            "--silent",
            "--skipApiVersionCheck",
            "--disableTelemetry",
        ],
        lambda port: server.http_ready(f"http://127.0.0.1:{port}/{ACCOUNT}?comp=list"),
        log_dir,
    )


def account_url(endpoint: str) -> str:
    return f"{endpoint}/{ACCOUNT}"
