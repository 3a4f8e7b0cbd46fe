"""EL benchmark: PostgreSQL -> DuckDB with Headrace, the native limit and dlt, side by side.

    python bench/el_postgres.py                 # TPC-H lineitem at scale factors 0.2 and 1
    python bench/el_postgres.py --scales 0.2    # one scale

For each scale factor, TPC-H ``lineitem`` (from ``tpchgen-cli``, installed on demand) is
loaded into a throwaway PostgreSQL 15 server (tests/pgserver.py) and then moved into a
fresh DuckDB file three ways:

- headrace: ``headrace run`` of a ``postgres`` extractor into a DuckDB warehouse
  (extract to gzip CSV parts in local storage, then load);
- native: ``psql \\copy (...) TO STDOUT csv | gzip -1`` to a file, then DuckDB ``COPY``
  (the same work done by the fastest standard tools: the practical limit);
- dlt: ``sql_database`` with the pyarrow backend into DuckDB (own venv: bench/.venv-dlt).

Each run's wall time and peak RSS of its whole process tree are printed, row counts are
checked against the source, and the DuckDB column types of a decimal and a date column
are checked. The last line is machine-readable:

    RESULT headrace_vs_native=<wall ratio> headrace_vs_dlt=<wall ratio> rss_growth=<RSS largest/smallest scale>

Each tool runs ``--repeat`` times (2 by default) per scale, alternating with the others;
the fastest wall time and the highest peak RSS count. Ratios are taken at the largest
scale. Targets: <= 1.3, < 1, <= 1.2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
DLT_VENV = REPO / "bench" / ".venv-dlt"
DATA = REPO / "bench" / ".data"
DUCKDB_MEMORY = "256MB"  # flat enough; 128MB is flatter but slows the DuckDB load down
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
    tool: str
    scale: float
    wall_s: float
    peak_rss_mb: float
    rows: int
    types_ok: bool


# -- measuring -----------------------------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (from /proc)."""
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


def measure(command: list[str] | str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``command``; (wall seconds, peak RSS of its process tree in MiB). Raises on failure."""
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        shell=isinstance(command, str),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        executable="/bin/bash" if isinstance(command, str) else None,
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
    output, _ = proc.communicate()
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{command!r} failed with exit code {proc.returncode}:\n{output[-4000:]}")
    return wall, peak / 2**20


# -- data ----------------------------------------------------------------------------------


def ensure_tools(with_dlt: bool) -> None:
    if not (VENV / "bin" / "tpchgen-cli").exists():
        print("installing tpchgen-cli into .venv", flush=True)
        subprocess.run(
            [str(VENV / "bin" / "uv"), "pip", "install", "--python", sys.executable, "-q", "tpchgen-cli"], check=True
        )
    if with_dlt and not (DLT_VENV / "bin" / "python").exists():
        print("installing dlt into bench/.venv-dlt (its own venv: dlt's pins stay away from Headrace's)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run(
            [
                str(VENV / "bin" / "uv"),
                "pip",
                "install",
                "--python",
                str(DLT_VENV / "bin" / "python"),
                "-q",
                "dlt[duckdb,sql_database,parquet]",
                "psycopg2-binary",
            ],
            check=True,
        )


def generate(scale: float) -> Path:
    folder = DATA / f"sf{scale:g}"
    path = folder / "lineitem.csv"
    if not path.exists():
        print(f"generating TPC-H lineitem at scale {scale:g}", flush=True)
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                str(VENV / "bin" / "tpchgen-cli"),
                "csv",
                "-s",
                f"{scale:g}",
                "--tables=lineitem",
                f"--output-dir={folder}",
            ],
            check=True,
        )
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


# -- contenders ----------------------------------------------------------------------------


def check_duckdb(path: Path, table: str) -> tuple[int, bool]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        schema, name = table.split(".")
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, name],
            ).fetchall()
        )
    finally:
        con.close()
    ok = types.get("l_extendedprice", "").startswith("DECIMAL(15,2)") and types.get("l_shipdate") == "DATE"
    if not ok:
        print(
            f"  ! {table}: l_extendedprice is {types.get('l_extendedprice')}, l_shipdate is {types.get('l_shipdate')}",
            flush=True,
        )
    return int(rows), ok


def run_headrace(server: object, database: str, work: Path, scale: float) -> Outcome:
    project = work / "headrace_project"
    shutil.rmtree(project, ignore_errors=True)
    (project / "extractors").mkdir(parents=True)
    (project / "project.yaml").write_text(
        f"name: bench\nwarehouse: {{type: duckdb, path: warehouse.duckdb, memory_limit: {DUCKDB_MEMORY}}}\n"
    )
    port = server.port  # type: ignore[attr-defined]
    (project / "extractors" / "tpch.yaml").write_text(
        "type: postgres\n"
        f"connection: {{host: 127.0.0.1, port: {port}, database: {database}, user: postgres, "
        'password: "${secret:bench_pg}"}\n'
        "tables:\n  - {name: lineitem, source: public.lineitem, load: full}\n"
    )
    env = {"HEADRACE_SECRET_BENCH_PG": server.password, "HEADRACE_STATE_DIR": str(project / ".headrace")}  # type: ignore[attr-defined]
    wall, rss = measure([str(VENV / "bin" / "headrace"), "run", "--project", str(project), "extractor:tpch"], env)
    rows, ok = check_duckdb(project / ".headrace" / "warehouse.duckdb", "in_tpch.lineitem")
    return Outcome("headrace", scale, wall, rss, rows, ok)


def run_native(server: object, database: str, work: Path, scale: float) -> Outcome:
    out = work / "native"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    gz, db = out / "lineitem.csv.gz", out / "native.duckdb"
    conn = server.conninfo(database)  # type: ignore[attr-defined]
    loader = out / "load.py"
    loader.write_text(
        "import sys, duckdb\n"
        "con = duckdb.connect(sys.argv[1])\n"
        f"con.execute(\"SET memory_limit = '{DUCKDB_MEMORY}'\")\n"
        f"con.execute('''CREATE TABLE lineitem ({DUCKDB_DDL})''')\n"
        "con.execute(f\"COPY lineitem FROM '{sys.argv[2]}' (FORMAT csv, HEADER true)\")\n"
    )
    command = (
        f"set -o pipefail; psql -X -q '{conn}' -c '\\copy (SELECT * FROM public.lineitem) TO STDOUT WITH "
        f"(FORMAT csv, HEADER)' | gzip -1 > {gz} && {sys.executable} {loader} {db} {gz}"
    )
    wall, rss = measure(command)
    rows, ok = check_duckdb(db, "main.lineitem")
    return Outcome("native", scale, wall, rss, rows, ok)


def run_dlt(server: object, database: str, work: Path, scale: float) -> Outcome:
    out = work / "dlt"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    url = f"postgresql+psycopg2://postgres:{server.password}@127.0.0.1:{server.port}/{database}"  # type: ignore[attr-defined]
    db = out / "dlt.duckdb"
    script = REPO / "bench" / "el_postgres_dlt.py"
    env = {"RUNTIME__LOG_LEVEL": "WARNING", "DLT_DATA_DIR": str(out / "data")}
    wall, rss = measure([str(DLT_VENV / "bin" / "python"), str(script), url, str(db), str(out / "pipelines")], env)
    rows, ok = check_duckdb(db, "tpch.lineitem")
    return Outcome("dlt", scale, wall, rss, rows, ok)


# -- report ---------------------------------------------------------------------------------


def report(outcomes: list[Outcome], source_rows: dict[float, int]) -> list[str]:
    problems = []
    print(f"\n{'scale':>6} {'tool':<9} {'wall s':>8} {'peak RSS MiB':>13} {'rows':>10} {'types':>6} {'vs native':>10}")
    for o in outcomes:
        native = next((n for n in outcomes if n.tool == "native" and n.scale == o.scale), None)
        ratio = f"{o.wall_s / native.wall_s:.2f}" if native else "-"
        print(
            f"{o.scale:>6g} {o.tool:<9} {o.wall_s:>8.2f} {o.peak_rss_mb:>13.0f} {o.rows:>10,} "
            f"{'ok' if o.types_ok else 'WRONG':>6} {ratio:>10}"
        )
        if o.rows != source_rows[o.scale]:
            expected = source_rows[o.scale]
            problems.append(f"{o.tool} at scale {o.scale:g} loaded {o.rows} rows, the source has {expected}")
        if not o.types_ok:
            problems.append(f"{o.tool} at scale {o.scale:g} lost the decimal or date type")
    return problems


def main() -> int:
    global DUCKDB_MEMORY
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", type=float, default=[0.2, 1.0])
    parser.add_argument("--no-dlt", action="store_true", help="skip dlt (headrace_vs_dlt is then 'nan')")
    parser.add_argument("--repeat", type=int, default=2, help="runs per tool and scale; the fastest counts")
    parser.add_argument("--tools", nargs="+", default=["native", "headrace", "dlt"], help="contenders to run")
    parser.add_argument("--duckdb-memory", default=DUCKDB_MEMORY, help="DuckDB memory_limit for headrace and native")
    args = parser.parse_args()
    scales = sorted(args.scales)
    DUCKDB_MEMORY = args.duckdb_memory
    use_dlt = "dlt" in args.tools and not args.no_dlt
    ensure_tools(use_dlt)
    sys.path.insert(0, str(REPO))
    from tests import pgserver

    outcomes: list[Outcome] = []
    source_rows: dict[float, int] = {}
    work = Path(tempfile.mkdtemp(prefix="headrace-bench-"))
    server = pgserver.start(
        {"shared_buffers": "256MB", "max_wal_size": "4GB", "wal_level": "minimal", "max_wal_senders": "0"}
    )
    try:
        for scale in scales:
            csv_path = generate(scale)
            database = f"tpch_sf{str(scale).replace('.', '_')}"
            t0 = time.monotonic()
            source_rows[scale] = load_source(server, database, csv_path)
            print(
                f"scale {scale:g}: {source_rows[scale]:,} rows in the source ({time.monotonic() - t0:.1f} s)",
                flush=True,
            )
            chosen = {"native": run_native, "headrace": run_headrace, "dlt": run_dlt}
            runners = [chosen[t] for t in ("native", "headrace", "dlt") if t in args.tools and (t != "dlt" or use_dlt)]
            tries: dict[str, list[Outcome]] = {}
            for _ in range(max(args.repeat, 1)):
                for runner in runners:
                    one = runner(server, database, work, scale)
                    print(f"  {one.tool:<9} {one.wall_s:7.2f} s  {one.peak_rss_mb:7.0f} MiB", flush=True)
                    tries.setdefault(one.tool, []).append(one)
            for runs in tries.values():
                best = min(runs, key=lambda o: o.wall_s)
                best.peak_rss_mb = max(o.peak_rss_mb for o in runs)
                outcomes.append(best)
            server.drop_database(database)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    problems = report(outcomes, source_rows)
    for problem in problems:
        print(f"PROBLEM: {problem}")

    def pick(tool: str, scale: float) -> Outcome | None:
        return next((o for o in outcomes if o.tool == tool and o.scale == scale), None)

    top, low = scales[-1], scales[0]
    head, native, dlt = pick("headrace", top), pick("native", top), pick("dlt", top)
    vs_native = head.wall_s / native.wall_s if head and native else float("nan")
    vs_dlt = head.wall_s / dlt.wall_s if head and dlt else float("nan")
    growth = head.peak_rss_mb / pick("headrace", low).peak_rss_mb if head else float("nan")  # type: ignore[union-attr]
    print(f"RESULT headrace_vs_native={vs_native:.2f} headrace_vs_dlt={vs_dlt:.2f} rss_growth={growth:.2f}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
