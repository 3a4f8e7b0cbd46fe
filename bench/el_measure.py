"""Measuring and set-up for bench/el_postgres.py: process-tree RSS, timed runs, tools, TPC-H data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
PEER_VENV = REPO / "bench" / ".venv-dlt"  # dlt, connectorx, sling: their pins stay away from Headrace's
DATA = REPO / "bench" / ".data"
SITE = PEER_VENV / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
SLING_BIN = SITE / "sling_linux_amd64" / "bin" / "sling-linux-amd64"
# Sling loads DuckDB through the DuckDB CLI, which it would download with the json and httpfs
# extensions; PyPI ships all three (same DuckDB version), so Sling runs offline.
SLING_DUCKDB = "1.4.4"
PEER_PACKAGES = [
    "dlt[duckdb,sql_database,parquet,postgres]",
    "connectorx",
    "psycopg2-binary",
    "psycopg[binary]",
    "sling-linux-amd64",
    f"duckdb-cli=={SLING_DUCKDB}",
    f"duckdb-ext-json=={SLING_DUCKDB}.20260205",
    f"duckdb-ext-httpfs=={SLING_DUCKDB}.20260205",
]
LINEITEM_DDL = """
    l_orderkey bigint NOT NULL, l_partkey bigint NOT NULL, l_suppkey bigint NOT NULL,
    l_linenumber integer NOT NULL, l_quantity numeric(15,2) NOT NULL, l_extendedprice numeric(15,2) NOT NULL,
    l_discount numeric(15,2) NOT NULL, l_tax numeric(15,2) NOT NULL, l_returnflag char(1) NOT NULL,
    l_linestatus char(1) NOT NULL, l_shipdate date NOT NULL, l_commitdate date NOT NULL,
    l_receiptdate date NOT NULL, l_shipinstruct varchar(25) NOT NULL, l_shipmode varchar(10) NOT NULL,
    l_comment varchar(44) NOT NULL
"""
DUCKDB_DDL = LINEITEM_DDL.replace("numeric(15,2)", "DECIMAL(15,2)").replace("char(1)", "VARCHAR")


@dataclass
class Outcome:
    mode: str  # duckdb | postgres
    tool: str
    scale: float
    wall_s: float = float("nan")
    peak_rss_mb: float = float("nan")
    rows: int = -1
    types_ok: bool = False
    error: str = ""  # why the run failed (redacted), empty when it ran


class RunFailed(RuntimeError):
    pass


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (from /proc). Servers the run talks to
    (PostgreSQL) are not its descendants and are not counted."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as f:
                rss[int(entry)] = int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measure(command: list[str] | str, env: dict[str, str], secrets: list[str], timeout: float) -> tuple[float, float]:
    """Run ``command`` in its own process group; (wall seconds, peak RSS of its process tree in
    MiB). Raises RunFailed with the tail of its output, ``secrets`` masked, on failure or timeout."""
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        shell=isinstance(command, str),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
        executable="/bin/bash" if isinstance(command, str) else None,
        start_new_session=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        done.set()
        raise RunFailed(f"timed out after {timeout:.0f} s (--timeout)") from None
    finally:
        done.set()
        sampler.join()
    wall = time.monotonic() - started
    if proc.returncode != 0:
        for secret in secrets:
            output = output.replace(secret, "***")
        raise RunFailed(f"exit code {proc.returncode}: {output[-1500:].strip()}")
    return wall, peak / 2**20


def ensure_tools(peers: bool) -> None:
    uv = str(VENV / "bin" / "uv")
    if not (VENV / "bin" / "tpchgen-cli").exists():
        print("installing tpchgen-cli into .venv", flush=True)
        subprocess.run([uv, "pip", "install", "--python", sys.executable, "-q", "tpchgen-cli"], check=True)
    if peers and not SLING_BIN.exists():
        print("installing dlt, connectorx and sling into bench/.venv-dlt", flush=True)
        if not (PEER_VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        python = str(PEER_VENV / "bin" / "python")
        subprocess.run([uv, "pip", "install", "--python", python, "-q", *PEER_PACKAGES], check=True)


def sling_home(work: Path) -> Path:
    """A HOME for Sling whose DuckDB finds its json and httpfs extensions without downloading."""
    home = work / "sling-home"
    extensions = home / ".duckdb" / "extensions" / f"v{SLING_DUCKDB}" / "linux_amd64"
    if not extensions.exists():
        extensions.mkdir(parents=True)
        for ext in (SITE / "duckdb_ext" / "extensions" / f"v{SLING_DUCKDB}" / "linux_amd64").glob("*.duckdb_extension"):
            shutil.copy(ext, extensions)
    return home


def generate(scale: float) -> Path:
    folder = DATA / f"sf{scale:g}"
    path = folder / "lineitem.csv"
    if not path.exists():
        print(f"generating TPC-H lineitem at scale {scale:g}", flush=True)
        folder.mkdir(parents=True, exist_ok=True)
        tpchgen = str(VENV / "bin" / "tpchgen-cli")
        subprocess.run([tpchgen, "csv", "-s", f"{scale:g}", "--tables=lineitem", f"--output-dir={folder}"], check=True)
    return path


def load_source(server: object, database: str, csv_path: Path) -> int:
    server.create_database(database)  # type: ignore[attr-defined]
    with server.connect(database) as con, con.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute(f"CREATE TABLE public.lineitem ({LINEITEM_DDL})")
        with csv_path.open("rb") as f, cur.copy("COPY public.lineitem FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        cur.execute("VACUUM ANALYZE public.lineitem")
        cur.execute("CHECKPOINT")  # no background flush of the load may disturb the first contender
        cur.execute("SELECT count(*) FROM public.lineitem")  # warm the OS cache for every contender alike
        rows = int(cur.fetchone()[0])
    time.sleep(2)
    return rows
