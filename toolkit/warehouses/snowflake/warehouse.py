"""The Snowflake warehouse: the hooks of ``SqlWarehouse`` over one autocommit connection.

What differs from the transactional-DDL warehouses: DDL commits at once (loads order their
steps for it, ``loads``), names are stored in upper case (``names``), there is no ``ON
CONFLICT`` (state and registrations are replaced with DELETE + INSERT in a transaction), and
transformations run as a throwaway user (``session``, ``roles``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from headrace.secretstore import SecretStore, open_secret_store
from headrace.storage.base import Storage
from headrace.warehouses.base import META, LoadRequest, StoredPart, TaskRecord, TransformationSession
from headrace.warehouses.common import leftovers as common_leftovers
from headrace.warehouses.common import loads as common_loads
from headrace.warehouses.common import meta
from headrace.warehouses.common.sqlwarehouse import Cursor, SqlWarehouse
from headrace.warehouses.snowflake import CAPABILITIES, SnowflakeConfig, connect, loads, roles, session
from headrace.warehouses.snowflake.names import qualified, quote, shown, stored


def open(config: SnowflakeConfig, state_dir: Path) -> SnowflakeWarehouse:
    return SnowflakeWarehouse(config.model_dump(), open_secret_store(state_dir))


def _base_type(kind: str) -> str:
    """A column type as compared between a table and new data: NUMBER(p,s) exact, others by name."""
    kind = kind.upper().strip()
    if kind.startswith(("NUMBER", "DECIMAL", "NUMERIC")):
        return re.sub(r"\s", "", re.sub(r"^(DECIMAL|NUMERIC)", "NUMBER", kind))
    name = kind.split("(")[0]
    aliases = {
        "TEXT": "VARCHAR",
        "STRING": "VARCHAR",
        "DOUBLE": "FLOAT",
        "REAL": "FLOAT",
        "TIMESTAMPTZ": "TIMESTAMP_TZ",
    }
    return aliases.get(name, name)


class SnowflakeWarehouse(SqlWarehouse):
    capabilities = CAPABILITIES
    param = "%s"
    temp_schema = ""  # temporary tables are named without a schema
    seq_column = None
    seq = loads.SEQ

    def __init__(self, config: dict[str, Any], store: SecretStore):
        self.config = config
        self.store = store
        self.args = connect.settings(config)
        self.database = str(config["database"])
        self.warehouse_name = str(config["warehouse"])
        self.storage_integration: str | None = config.get("storage_integration")
        if not self.storage_integration:  # without an integration every part is PUT to a stage
            self.capabilities = dataclasses.replace(CAPABILITIES, native_load_schemes=())
        self.con = connect.connect(self.args)
        self._stage_ready = False
        self.ensure_meta()

    def __repr__(self) -> str:
        return f"SnowflakeWarehouse({connect.describe(self.config)})"

    def close(self) -> None:
        self.con.close()

    def token(self, run_id: str) -> str:
        return hashlib.sha1(run_id.encode()).hexdigest()[:10]

    def ensure_stage(self) -> None:
        if not self._stage_ready:
            self.run(f"CREATE TEMPORARY STAGE IF NOT EXISTS {loads.STAGE}")
            self._stage_ready = True

    # -- names ------------------------------------------------------------------------------

    def quote(self, name: str) -> str:
        return quote(name)

    def qualified(self, schema: str, table: str) -> str:
        return qualified(schema, table)

    # -- hooks of SqlWarehouse -----------------------------------------------------------------

    def run(self, sql: str, params: Sequence[Any] | None = None, **kwargs: Any) -> Cursor:
        return self.con.cursor().execute(sql, params, **kwargs)

    def changed(self, sql: str, params: Sequence[Any] | None = None) -> int:
        return max(self.con.cursor().execute(sql, params).rowcount or 0, 0)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT of DML only: a DDL statement inside would commit it early."""
        self.run("BEGIN")
        try:
            yield
            self.run("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):  # the connection is gone: Snowflake rolls it back
                self.run("ROLLBACK")
            raise

    def lock(self, key: str) -> None:
        """Nothing to take: Snowflake locks a table for the DML of a transaction itself, and a
        full load's staging table is named per run."""

    def insert_part(self, table: str, request: LoadRequest, part: StoredPart, storage: Storage) -> int:
        raise NotImplementedError("Snowflake loads through loads.load (COPY INTO a text table, then one statement)")

    def swap(self, schema: str, stage: str, table: str) -> None:
        """``SWAP WITH`` (one atomic DDL) when the table exists, else a rename; the stage then goes."""
        target, staged = qualified(schema, table), qualified(schema, stage)
        if self.table_exists(schema, table):
            self.run(f"ALTER TABLE {staged} SWAP WITH {target}")
            self.run(f"ALTER TABLE {target} SET COMMENT = {self.lit('loaded by headrace')}")
            self.run(f"DROP TABLE IF EXISTS {staged}")
        else:
            self.run(f"ALTER TABLE {staged} RENAME TO {target}")
            self.run(f"ALTER TABLE {target} SET COMMENT = {self.lit('loaded by headrace')}")

    def load(self, request: LoadRequest, storage: Storage) -> int:
        return loads.load(self, request, storage)

    def check_columns(self, request: LoadRequest) -> None:
        common_loads.check_columns(self, request, _base_type)

    # -- catalog (names stored in upper case, shown in Headrace's lowercase) ---------------------

    def query(self, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        columns, rows = super().query(sql, limit)
        return [shown(c) for c in columns], rows

    def table_exists(self, schema: str, table: str) -> bool:
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s"
        return self.count(sql, (stored(schema), stored(table))) > 0

    def relations(self, schema: str) -> dict[str, str]:
        rows = self.run(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %s", (stored(schema),)
        ).fetchall()
        return {shown(name): ("VIEW" if kind == "VIEW" else "TABLE") for name, kind in rows}

    def column_types(self, schema: str, table: str) -> list[tuple[str, str]]:
        sql = (
            "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position"
        )
        out = []
        for name, kind, precision, scale in self.run(sql, (stored(schema), stored(table))).fetchall():
            if kind.upper() in ("NUMBER", "DECIMAL", "NUMERIC") and precision is not None:
                kind = f"NUMBER({precision},{scale or 0})"
            out.append((shown(name), kind))
        return out

    # -- headrace_meta ---------------------------------------------------------------------------

    def ensure_meta(self) -> None:
        """Create what is missing of ``headrace_meta``; IF NOT EXISTS makes parallel tasks safe."""
        found = self.count("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (stored(META),))
        if found >= len(meta.TABLES):
            return
        self.run(f"CREATE SCHEMA IF NOT EXISTS {META}")
        for table, columns in meta.TABLES.items():
            cols = ", ".join(f"{quote(name)} {self.sql_type(kind)}" for name, kind, _ in columns)
            self.run(f"CREATE TABLE IF NOT EXISTS {META}.{table} ({cols})")

    def get_state(self, key: str) -> Any:
        row = self.run(
            f'SELECT TO_JSON("VALUE") FROM {META}.state WHERE "KEY" = %s ORDER BY updated_at DESC LIMIT 1', (key,)
        ).fetchone()
        return json.loads(row[0]) if row and row[0] is not None else None

    def set_state(self, key: str, value: Any) -> None:
        """Inside the caller's transaction (a load's). Only INSERTs: a DELETE or MERGE would lock the
        whole state table, and a killed load's open transaction would then hold every other table's
        cursor until Snowflake aborts it. The newest row of a key is its cursor."""
        self.run(
            f"INSERT INTO {META}.state SELECT %s, PARSE_JSON(%s), CURRENT_TIMESTAMP()",
            (key, json.dumps(value, default=str)),
        )

    def reset_state(self, key: str) -> None:
        self.run(f'DELETE FROM {META}.state WHERE "KEY" = %s', (key,))

    def record_task(self, record: TaskRecord) -> None:
        self.run(
            f"INSERT INTO {META}.task_runs SELECT %s, %s, %s, TO_TIMESTAMP(%s), TO_TIMESTAMP(%s), %s, %s, %s, %s",
            record.row(),
        )

    def loads_of_run(self, run_id: str) -> dict[str, int]:
        rows = self.run(f'SELECT table_name, "ROWS" FROM {META}.table_loads WHERE run_id = %s', (run_id,))
        return {name: int(count or 0) for name, count in rows.fetchall()}

    def task_recorded(self, run_id: str, task_id: str, since: float) -> bool:
        sql = f"SELECT count(*) FROM {META}.task_runs WHERE run_id = %s AND task_id = %s "
        return self.count(sql + "AND started_at >= TO_TIMESTAMP(%s)", (run_id, task_id, since)) > 0

    # -- what killed tasks leave behind ----------------------------------------------------------

    def register_working_schema(self, schema: str, run_id: str, task_id: str, owner: str, expires_at: float) -> None:
        with self.transaction():
            self.run(f"DELETE FROM {META}.working_schemas WHERE schema_name = %s", (schema,))
            self.run(
                f"INSERT INTO {META}.working_schemas SELECT %s, %s, %s, %s, CURRENT_TIMESTAMP(), TO_TIMESTAMP(%s)",
                (schema, run_id, task_id, owner, expires_at),
            )

    def leftovers(self, now: float, owner_dead: Callable[[str], bool]) -> list[tuple[str, str]]:
        """Working schemas and registrations as everywhere (``common.leftovers``), plus staging
        tables whose load or publish is over: their comment names owner and expiry (Snowflake
        shows a live load's committed staging table to every session)."""
        schemas = {
            shown(name)
            for (name,) in self.run(
                "SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, %s) = %s",
                (len(common_leftovers.WORK_PREFIX), stored(common_leftovers.WORK_PREFIX)),
            ).fetchall()
        }
        rows = self.run(
            f"SELECT schema_name, expires_at < TO_TIMESTAMP(%s), owner FROM {META}.working_schemas", (now,)
        ).fetchall()
        registered = {name: bool(expired) or owner_dead(owner or "") for name, expired, owner in rows}
        found = [("schema", s) for s in sorted(schemas) if registered.get(s, True)]
        found += [("registration", s) for s, dead in sorted(registered.items()) if dead and s not in schemas]
        tables = self.run(
            "SELECT table_schema, table_name, comment FROM information_schema.tables "
            "WHERE LEFT(table_name, %s) = %s AND table_type = 'BASE TABLE'",
            (len(common_leftovers.STAGE_PREFIX), stored(common_leftovers.STAGE_PREFIX)),
        ).fetchall()
        for schema, table, comment in sorted(tables):
            owned = loads.OWNER_COMMENT.match(comment or "")
            alive = owned and int(owned["expires"]) > now and not owner_dead(owned["owner"])
            if not alive and shown(schema) != META:
                found.append(("table", f"{shown(schema)}.{shown(table)}"))
        return found

    def remove_leftover(self, kind: str, name: str) -> None:
        common_leftovers.remove(self, kind, name)

    # -- transformations and datamarts -----------------------------------------------------------

    def drop_schema(self, schema: str) -> None:
        self.run(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")
        self.drop_working_role(schema)

    def drop_working_role(self, schema: str) -> None:
        for statement in roles.drop_working_role(schema):
            self.run(statement)

    def transformation_session(
        self, work_schema: str, inputs: dict[str, str], timeout_s: float | None = None
    ) -> AbstractContextManager[TransformationSession]:
        return session.transformation_session(self, work_schema, inputs, timeout_s)

    def publish_relations(self, target_schema: str, sources: dict[str, str]) -> dict[str, int]:
        """Every table built in a staging table first, then each swapped in (one atomic DDL each)."""
        self.run(f"CREATE SCHEMA IF NOT EXISTS {quote(target_schema)}")
        stages: dict[str, str] = {}
        rows: dict[str, int] = {}
        comment = self.lit(loads.stage_comment())
        for table, relation in sources.items():
            stage = self.short_name("_hr_stage_", table)
            self.run(
                f"CREATE OR REPLACE TRANSIENT TABLE {qualified(target_schema, stage)} COMMENT = {comment} "
                f"AS SELECT * FROM {relation}"
            )
            rows[table] = self.count(f"SELECT count(*) FROM {qualified(target_schema, stage)}")
            stages[table] = stage
        for table, stage in stages.items():
            self.swap(target_schema, stage, table)
        return rows

    def publish_datamart(
        self, schema: str, entries: Sequence[tuple[str, str]], materialization: str, readers: Sequence[str] = ()
    ) -> None:
        """Views are replaced in place (CREATE OR REPLACE); tables are built and swapped in."""
        self.run(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        wanted = {name for _, name in entries}
        kind_wanted = "VIEW" if materialization == "view" else "TABLE"
        for name, kind in self.relations(schema).items():  # the datamart holds exactly its entries
            if name not in wanted or kind != kind_wanted:
                self.run(f"DROP {kind} IF EXISTS {qualified(schema, name)}")
        if materialization == "view":
            for source, name in entries:
                self.run(f"CREATE OR REPLACE VIEW {qualified(schema, name)} AS SELECT * FROM {self._source(source)}")
        else:
            self.publish_relations(schema, {name: self._source(source) for source, name in entries})
        self.grant_readers(schema, readers)

    def _reader_key(self, reader: str) -> str:
        return f"snowflake-reader/{self.config.get('account')}/{reader}"

    def _user_comment(self, user: str) -> str | None:
        try:
            rows = self.run("SHOW USERS LIKE %s", (stored(user),)).fetchall()
        except Exception:
            return None
        for row in rows:
            if len(row) > 1 and str(row[0]).upper() == stored(user).upper():
                return next((v for v in row if isinstance(v, str) and v.startswith(roles.MANAGED)), "")
        return None

    def grant_readers(self, schema: str, readers: Sequence[str]) -> None:
        roles.ensure_readers(
            self.run,
            self.database,
            self.warehouse_name,
            schema,
            readers,
            self.store,
            self._reader_key,
            self._user_comment,
        )
        try:
            grants = self.run(f"SHOW GRANTS ON SCHEMA {quote(self.database)}.{quote(schema)}").fetchall()
        except Exception:
            grants = []
        grantees = [str(row[5]) for row in grants if len(row) > 5 and str(row[1]).upper() == "USAGE"]
        roles.revoke_former(self.run, self.database, schema, grantees, readers)

    def reader_credentials(self, readers: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for reader in readers:
            out[reader] = {
                "account": self.config.get("account"),
                "user": stored(reader),
                "password": self.store.read(self._reader_key(reader)),
                "role": stored(roles.reader_role(reader)),
                "warehouse": self.warehouse_name,
                "database": self.database,
                "exists": self._user_comment(reader) is not None,
            }
        return out
