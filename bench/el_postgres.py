"""EL benchmark: PostgreSQL -> DuckDB and PostgreSQL -> PostgreSQL, Headrace against the native
pipelines, dlt and Sling, side by side in one run.

    python bench/el_postgres.py                          # TPC-H lineitem at scale factors 0.2 and 1
    python bench/el_postgres.py --scales 0.2 --repeat 1  # quick
    python bench/el_postgres.py --modes postgres --tools native headrace
    python bench/el_postgres.py --tools native headrace duckdb:dlt-pyarrow postgres:sling

For each scale factor, TPC-H ``lineitem`` (from ``tpchgen-cli``, installed on demand) is loaded
into a throwaway PostgreSQL 15 server (tests/pgserver.py); then each contender moves it.

PostgreSQL -> DuckDB (``--modes duckdb``), into a fresh DuckDB file:
- headrace: ``headrace run`` of a ``postgres`` extractor into a DuckDB warehouse with
  ``memory_limit`` = ``--duckdb-memory`` (256MB: the memory Headrace uses), local storage;
  Headrace picks its own part format and number of streams;
- native: ``psql \\copy (...) TO STDOUT csv | gzip -1`` to a file, then DuckDB ``COPY``, with
  DuckDB at its default memory (``native``: the ratios use this one) and at Headrace's
  (``native-256MB``);
- dlt-pyarrow, dlt-connectorx: dlt's ``sql_database`` with either backend (parquet files);
- sling: ``sling run`` (PyPI ``sling-linux-amd64``; its DuckDB CLI and extensions from PyPI).

PostgreSQL -> PostgreSQL (``--modes postgres``), into another database on the same server (as a
separate warehouse database on RDS or Flexible Server would be):
- headrace: a project with a ``postgres`` warehouse (the login docs/postgres.md describes),
  the same extractor, local storage;
- native: ``psql \\copy (...) TO STDOUT csv | psql \\copy lineitem FROM STDIN csv`` into a
  table created beforehand (not timed) with the source's types;
- dlt-pyarrow, dlt-connectorx: dlt's postgres destination (CSV files loaded with COPY);
- sling.

dlt, connectorx and Sling live in their own venv, bench/.venv-dlt, made on first use. Sling runs
with ``SLING_DISABLE_TELEMETRY`` and works offline (its DuckDB CLI and extensions come from
PyPI too). Sling would create unconstrained numerics; as dlt reads them with their precision, it
is told the decimal(15,2) columns (DuckDB: ``--columns``; PostgreSQL: the table's DDL,
``table_ddl``, the one the native contender uses).

Every run: wall time; peak RSS of its whole process tree (PostgreSQL server processes are not
in it); the row count against the source; the types of a decimal(15,2) and a date column
(DuckDB's information_schema, or PostgreSQL's: numeric(15,2) and date). A contender that fails,
times out (``--timeout``) or loads wrong rows or types is printed as PROBLEM and left out of
the ratios. Contenders alternate ``--repeat`` times (2 by default; the machine is shared and
timings are noisy): the fastest wall time and the highest peak RSS count. The last line:

    RESULT pg_duckdb_vs_native=<x> pg_pg_vs_native=<y> vs_best_peer=<z> rss_growth=<g>

x, y: headrace / native wall time at the largest scale (native at DuckDB's default memory);
z: the larger over both modes of headrace / the fastest peer (dlt or sling) at the largest
scale (< 1: ahead of every peer); g: the larger over both modes of headrace's peak RSS at the
largest scale / at the smallest. Targets (issue 13): x, y <= 1.0 (stretch 0.8), z < 1, g <= 1.2.
A value that cannot be computed (mode not run, contender failed) is ``nan``.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from el_contenders import PEERS, Run, contenders
from el_measure import REPO, Outcome, ensure_tools, generate, load_source

MODES = ("duckdb", "postgres")
TITLES = {"duckdb": "PostgreSQL -> DuckDB", "postgres": "PostgreSQL -> PostgreSQL"}


def run_one(mode: str, tool: str, contender, run: Run) -> Outcome:  # type: ignore[no-untyped-def]
    try:
        one = contender(run)
    except Exception as exc:  # any failure is reported, never hidden
        one = Outcome(mode, tool, run.scale, error=str(exc).replace(run.password, "***"))
    shown = f"{one.wall_s:7.2f} s  {one.peak_rss_mb:7.0f} MiB  {one.rows:>10,} rows" if not one.error else ""
    print(f"  {mode:<8} {tool:<16} {shown}{'  PROBLEM: ' + one.error if one.error else ''}", flush=True)
    return one


def best(tries: list[Outcome], source_rows: int) -> Outcome:
    """Fastest wall, highest RSS; a failed try or a wrong row count makes the whole contender a problem."""
    failed = [o for o in tries if o.error]
    if failed:
        return failed[0]
    top = min(tries, key=lambda o: o.wall_s)
    top.peak_rss_mb = max(o.peak_rss_mb for o in tries)
    if top.rows != source_rows:
        top.error = f"loaded {top.rows:,} rows, the source has {source_rows:,}"
    return top


def report(outcomes: list[Outcome]) -> list[str]:
    problems = []
    for mode in MODES:
        for scale in sorted({o.scale for o in outcomes if o.mode == mode}):
            rows = [o for o in outcomes if o.mode == mode and o.scale == scale]
            native = next((o for o in rows if o.tool == "native" and not o.error), None)
            print(f"\n{TITLES[mode]}, TPC-H lineitem scale {scale:g}")
            print(f"{'tool':<16} {'wall s':>8} {'peak RSS MiB':>13} {'rows':>11} {'types':>6} {'vs native':>10}")
            for o in rows:
                ratio = f"{o.wall_s / native.wall_s:.2f}" if native and not o.error else "-"
                types = "ok" if o.types_ok else ("WRONG" if o.rows >= 0 else "-")
                print(f"{o.tool:<16} {o.wall_s:>8.2f} {o.peak_rss_mb:>13.0f} {o.rows:>11,} {types:>6} {ratio:>10}")
                if o.error:
                    problems.append(f"{TITLES[mode]} {o.tool} at scale {o.scale:g}: {o.error}")
    return problems


def summary(outcomes: list[Outcome], scales: list[float]) -> str:
    def wall(mode: str, tool: str, scale: float) -> float:
        o = next((o for o in outcomes if (o.mode, o.tool, o.scale) == (mode, tool, scale) and not o.error), None)
        return o.wall_s if o else math.nan

    def rss(mode: str, tool: str, scale: float) -> float:
        o = next((o for o in outcomes if (o.mode, o.tool, o.scale) == (mode, tool, scale) and not o.error), None)
        return o.peak_rss_mb if o else math.nan

    def worst(values: list[float]) -> float:
        return max(values) if values and not any(math.isnan(v) for v in values) else math.nan

    top, low = scales[-1], scales[0]
    modes = sorted({o.mode for o in outcomes}, key=MODES.index)
    vs_native = {m: wall(m, "headrace", top) / wall(m, "native", top) for m in MODES}
    vs_peer = [wall(m, "headrace", top) / min((wall(m, p, top) for p in PEERS), key=_nan_last) for m in modes]
    growth = [rss(m, "headrace", top) / rss(m, "headrace", low) for m in modes]
    for m in modes:
        ratio = rss(m, "headrace", top) / rss(m, "native", top)
        print(f"info: {TITLES[m]} at scale {top:g}: headrace peak RSS / native peak RSS = {ratio:.2f}")
    return (
        f"RESULT pg_duckdb_vs_native={vs_native['duckdb']:.2f} pg_pg_vs_native={vs_native['postgres']:.2f} "
        f"vs_best_peer={worst(vs_peer):.2f} rss_growth={worst(growth):.2f}"
    )


def _nan_last(value: float) -> float:
    return math.inf if math.isnan(value) else value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", type=float, default=[0.2, 1.0])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--tools",
        nargs="+",
        default=["native", "headrace", "dlt", "sling"],
        help="contenders: groups (native, headrace, dlt, sling), names (dlt-pyarrow, native-256MB, ...) "
        "or one mode's (postgres:sling)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per contender and scale; the fastest counts")
    parser.add_argument("--duckdb-memory", default="256MB", help="DuckDB memory_limit of headrace and native-<it>")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one run may take before it is a PROBLEM")
    args = parser.parse_args()
    scales = sorted(args.scales)
    chosen = {
        mode: {
            name: fn
            for name, (group, fn) in contenders(mode, args.duckdb_memory).items()
            if group in args.tools or name in args.tools or f"{mode}:{name}" in args.tools
        }
        for mode in args.modes
    }
    ensure_tools(peers=any(n in PEERS for c in chosen.values() for n in c))
    sys.path.insert(0, str(REPO))
    from tests import pgserver

    outcomes: list[Outcome] = []
    work = Path(tempfile.mkdtemp(prefix="headrace-bench-"))
    server = pgserver.start(
        {"shared_buffers": "256MB", "max_wal_size": "4GB", "wal_level": "minimal", "max_wal_senders": "0"}
    )
    try:
        for scale in scales:
            csv_path = generate(scale)
            database = f"tpch_sf{str(scale).replace('.', '_')}"
            t0 = time.monotonic()
            source_rows = load_source(server, database, csv_path)
            print(f"scale {scale:g}: {source_rows:,} rows in the source ({time.monotonic() - t0:.1f} s)", flush=True)
            run = Run(server, database, work, scale, args.duckdb_memory, args.timeout)
            tries: dict[tuple[str, str], list[Outcome]] = {}
            for _ in range(max(args.repeat, 1)):
                for mode, named in chosen.items():
                    for name, fn in named.items():
                        tries.setdefault((mode, name), []).append(run_one(mode, name, fn, run))
            outcomes.extend(best(runs, source_rows) for runs in tries.values())
            server.drop_database(database)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    problems = report(outcomes)
    print()
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(summary(outcomes, scales))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
