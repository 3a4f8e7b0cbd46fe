"""The contenders of bench/el_postgres.py: one function per tool and target, each running the
tool as a separate process tree (timed by el_measure.measure) and checking what it loaded."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from el_measure import DUCKDB_DDL, LINEITEM_DDL, PEER_VENV, SLING_BIN, VENV, Outcome, measure, sling_home


@dataclass
class Run:
    """What every contender gets: the source server and database, a scratch folder, settings."""

    server: object
    database: str  # the source database (public.lineitem)
    work: Path
    scale: float
    duckdb_memory: str
    timeout: float

    @property
    def password(self) -> str:
        return self.server.password  # type: ignore[attr-defined]

    @property
    def port(self) -> int:
        return self.server.port  # type: ignore[attr-defined]

    def url(self, database: str) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def folder(self, name: str) -> Path:
        out = self.work / name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        return out

    def target_database(self, name: str) -> str:
        """A fresh database on the same server for a PostgreSQL -> PostgreSQL run (not timed)."""
        database = f"{self.database}_{name.replace('-', '_')}"
        self.server.drop_database(database)  # type: ignore[attr-defined]
        self.server.create_database(database)  # type: ignore[attr-defined]
        return database

    def timed(self, command: list[str] | str, env: dict[str, str]) -> tuple[float, float]:
        return measure(command, env, [self.password], self.timeout)


# -- checks ---------------------------------------------------------------------------------


def check_duckdb(path: Path, table: str) -> tuple[int, bool, str]:
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
    price, ship = types.get("l_extendedprice", "?"), types.get("l_shipdate", "?")
    ok = price.startswith("DECIMAL(15,2)") and ship == "DATE"
    return int(rows), ok, f"l_extendedprice {price}, l_shipdate {ship}"


def check_postgres(run: Run, database: str, table: str) -> tuple[int, bool, str]:
    schema, name = table.split(".")
    with run.server.connect(database) as con:  # type: ignore[attr-defined]
        rows = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]
        found = con.execute(
            "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND column_name IN ('l_extendedprice', 'l_shipdate')",
            (schema, name),
        ).fetchall()
    types = {c: (t, p, s) for c, t, p, s in found}
    ok = types.get("l_extendedprice") == ("numeric", 15, 2) and types.get("l_shipdate", ("?",))[0] == "date"
    price, ship = types.get("l_extendedprice", ("?", None, None)), types.get("l_shipdate", ("?",))
    return int(rows), ok, f"l_extendedprice {price[0]}({price[1]},{price[2]}), l_shipdate {ship[0]}"


def _outcome(run: Run, mode: str, tool: str, timing: tuple[float, float], check: tuple[int, bool, str]) -> Outcome:
    rows, ok, types = check
    return Outcome(mode, tool, run.scale, timing[0], timing[1], rows, ok, "" if ok else f"wrong types: {types}")


# -- headrace -------------------------------------------------------------------------------


def _headrace(run: Run, warehouse: str, env: dict[str, str]) -> tuple[float, float]:
    project = run.folder("headrace_project")
    (project / "extractors").mkdir()
    (project / "project.yaml").write_text(f"name: bench\nwarehouse: {warehouse}\n")
    (project / "extractors" / "tpch.yaml").write_text(
        "type: postgres\n"
        f"connection: {{host: 127.0.0.1, port: {run.port}, database: {run.database}, user: postgres, "
        'password: "${secret:bench_pg}"}\n'
        "tables:\n  - {name: lineitem, source: public.lineitem, load: full}\n"
    )
    env = {**env, "HEADRACE_SECRET_BENCH_PG": run.password, "HEADRACE_STATE_DIR": str(project / ".headrace")}
    return run.timed([str(VENV / "bin" / "headrace"), "run", "--project", str(project), "extractor:tpch"], env)


def headrace_duckdb(run: Run) -> Outcome:
    timing = _headrace(run, f"{{type: duckdb, path: warehouse.duckdb, memory_limit: {run.duckdb_memory}}}", {})
    db = run.work / "headrace_project" / ".headrace" / "warehouse.duckdb"
    return _outcome(run, "duckdb", "headrace", timing, check_duckdb(db, "in_tpch.lineitem"))


def headrace_postgres(run: Run) -> Outcome:
    sys.path.insert(0, str(VENV.parent))
    from tests import pgserver

    target = run.target_database("headrace")
    user = pgserver.warehouse_user(run.server, target)  # type: ignore[arg-type]  # the documented grants
    warehouse = (
        f"{{type: postgres, host: 127.0.0.1, port: {run.port}, database: {target}, user: {user}, "
        'password: "${secret:bench_wh}"}'
    )
    timing = _headrace(run, warehouse, {"HEADRACE_SECRET_BENCH_WH": run.password})
    outcome = _outcome(run, "postgres", "headrace", timing, check_postgres(run, target, "in_tpch.lineitem"))
    run.server.drop_database(target)  # type: ignore[attr-defined]
    return outcome


# -- native ---------------------------------------------------------------------------------


def _psql(database: str, port: int, sql: str) -> str:
    """A psql command line (the password comes from PGPASSWORD, never the command line)."""
    return f"psql -X -q -v ON_ERROR_STOP=1 'host=127.0.0.1 port={port} dbname={database} user=postgres' -c '{sql}'"


def _native_duckdb(run: Run, tool: str, memory: str | None) -> Outcome:
    out = run.folder(tool)
    gz, db, loader = out / "lineitem.csv.gz", out / "native.duckdb", out / "load.py"
    limit = f"con.execute(\"SET memory_limit = '{memory}'\")\n" if memory else ""
    loader.write_text(
        "import sys, duckdb\n"
        "con = duckdb.connect(sys.argv[1])\n"
        f"{limit}"
        f"con.execute('''CREATE TABLE lineitem ({DUCKDB_DDL})''')\n"
        "con.execute(f\"COPY lineitem FROM '{sys.argv[2]}' (FORMAT csv, HEADER true)\")\n"
    )
    copy = "\\copy (SELECT * FROM public.lineitem) TO STDOUT WITH (FORMAT csv, HEADER)"
    extract = f"{_psql(run.database, run.port, copy)} | gzip -1 > {gz}"
    command = f"set -o pipefail; {extract} && {sys.executable} {loader} {db} {gz}"
    timing = run.timed(command, {"PGPASSWORD": run.password})
    return _outcome(run, "duckdb", tool, timing, check_duckdb(db, "main.lineitem"))


def native_duckdb(run: Run) -> Outcome:
    return _native_duckdb(run, "native", None)


def native_duckdb_limited(run: Run) -> Outcome:
    return _native_duckdb(run, f"native-{run.duckdb_memory}", run.duckdb_memory)


def native_postgres(run: Run) -> Outcome:
    target = run.target_database("native")
    with run.server.connect(target) as con:  # type: ignore[attr-defined]
        con.execute(f"CREATE TABLE public.lineitem ({LINEITEM_DDL})")
    read = _psql(run.database, run.port, "\\copy (SELECT * FROM public.lineitem) TO STDOUT WITH (FORMAT csv)")
    write = _psql(target, run.port, "\\copy public.lineitem FROM STDIN WITH (FORMAT csv)")
    timing = run.timed(f"set -o pipefail; {read} | {write}", {"PGPASSWORD": run.password})
    outcome = _outcome(run, "postgres", "native", timing, check_postgres(run, target, "public.lineitem"))
    run.server.drop_database(target)  # type: ignore[attr-defined]
    return outcome


# -- dlt ------------------------------------------------------------------------------------


def _dlt(run: Run, backend: str, destination: str, target: str, env: dict[str, str]) -> tuple[float, float]:
    out = run.folder(f"dlt-{backend}")
    script = Path(__file__).with_name("el_postgres_dlt.py")
    env = {
        **env,
        "BENCH_SOURCE_URL": run.url(run.database),
        "RUNTIME__LOG_LEVEL": "WARNING",
        "DLT_DATA_DIR": str(out / "data"),
    }
    python = str(PEER_VENV / "bin" / "python")
    command = [python, str(script), backend, "env:BENCH_SOURCE_URL", destination, target, str(out / "pipelines")]
    return run.timed(command, env)


def dlt_duckdb(backend: str) -> Callable[[Run], Outcome]:
    def contender(run: Run) -> Outcome:
        db = run.work / f"dlt-{backend}.duckdb"
        db.unlink(missing_ok=True)
        timing = _dlt(run, backend, "duckdb", str(db), {})
        return _outcome(run, "duckdb", f"dlt-{backend}", timing, check_duckdb(db, "tpch.lineitem"))

    return contender


def dlt_postgres(backend: str) -> Callable[[Run], Outcome]:
    def contender(run: Run) -> Outcome:
        target = run.target_database(f"dlt_{backend}")
        timing = _dlt(run, backend, "postgres", "env:BENCH_TARGET_URL", {"BENCH_TARGET_URL": run.url(target)})
        outcome = _outcome(run, "postgres", f"dlt-{backend}", timing, check_postgres(run, target, "tpch.lineitem"))
        run.server.drop_database(target)  # type: ignore[attr-defined]
        return outcome

    return contender


# -- sling ----------------------------------------------------------------------------------

# Sling would create unconstrained numerics; dlt reads them with their precision (reflection_level
# full_with_precision), so Sling is told too: column types for DuckDB (``--columns``), and on
# PostgreSQL, where it ignores those for numerics, the table's DDL (the native contender's table).
SLING_COLUMNS = json.dumps({c: "decimal(15,2)" for c in ("l_quantity", "l_extendedprice", "l_discount", "l_tax")})
SLING_PG_DDL = json.dumps({"table_ddl": "CREATE TABLE {table} (" + " ".join(LINEITEM_DDL.split()) + ")"})


def _sling(run: Run, target_url: str, target_object: str, options: list[str]) -> tuple[float, float]:
    out = run.folder("sling")
    env = {
        "SLING_SOURCE": run.url(run.database) + "?sslmode=disable",
        "SLING_TARGET": target_url,
        "SLING_HOME_DIR": str(out / "home"),
        "SLING_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "HOME": str(sling_home(run.work)),
        "DUCKDB_PATH": str(PEER_VENV / "bin" / "duckdb"),
    }
    command = [
        *(str(SLING_BIN), "run", "--src-conn", "SLING_SOURCE", "--src-stream", "public.lineitem"),
        *("--tgt-conn", "SLING_TARGET", "--tgt-object", target_object, "--mode", "full-refresh", *options),
    ]
    return run.timed(command, env)


def sling_duckdb(run: Run) -> Outcome:
    db = run.work / "sling.duckdb"
    db.unlink(missing_ok=True)
    timing = _sling(run, f"duckdb://{db}", "main.lineitem", ["--columns", SLING_COLUMNS])
    return _outcome(run, "duckdb", "sling", timing, check_duckdb(db, "main.lineitem"))


def sling_postgres(run: Run) -> Outcome:
    target = run.target_database("sling")
    timing = _sling(run, run.url(target) + "?sslmode=disable", "public.lineitem", ["--tgt-options", SLING_PG_DDL])
    outcome = _outcome(run, "postgres", "sling", timing, check_postgres(run, target, "public.lineitem"))
    run.server.drop_database(target)  # type: ignore[attr-defined]
    return outcome


def contenders(mode: str, duckdb_memory: str) -> dict[str, tuple[str, Callable[[Run], Outcome]]]:
    """name -> (group for --tools, function), in the order they run."""
    if mode == "duckdb":
        return {
            "native": ("native", native_duckdb),
            f"native-{duckdb_memory}": ("native", native_duckdb_limited),
            "headrace": ("headrace", headrace_duckdb),
            "dlt-pyarrow": ("dlt", dlt_duckdb("pyarrow")),
            "dlt-connectorx": ("dlt", dlt_duckdb("connectorx")),
            "sling": ("sling", sling_duckdb),
        }
    return {
        "native": ("native", native_postgres),
        "headrace": ("headrace", headrace_postgres),
        "dlt-pyarrow": ("dlt", dlt_postgres("pyarrow")),
        "dlt-connectorx": ("dlt", dlt_postgres("connectorx")),
        "sling": ("sling", sling_postgres),
    }


PEERS = ("dlt-pyarrow", "dlt-connectorx", "sling")
