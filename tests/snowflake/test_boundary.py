"""What fakesnow does not enforce or cannot run, checked at the boundary: the statements and
logins Headrace sends to the fakesnow server (its statement log). That Snowflake then confines
a transformation to its schema, or reads a bucket through an integration, only a real account
shows (docs/snowflake.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from headrace.errors import TaskFailed
from headrace.runner import stored_table
from headrace.storage.base import StorageCapabilities
from headrace.storage.local import LocalStorage, LocalStorageConfig
from headrace.tablefiles import Column, TableWriter
from headrace.warehouses.base import LoadRequest, StatementFailed

from tests.conformance.targets import Target, snowflake_target
from tests.emulators import fakesnow

pytestmark = pytest.mark.integration


@pytest.fixture
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    made = snowflake_target(request, tmp_path)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(made.state_dir))
    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    return made


def _sent_since(server, mark: int) -> list[str]:  # type: ignore[no-untyped-def]
    return fakesnow.statements(server)[mark:]


def _store(storage: LocalStorage, tmp_path: Path, key: str) -> None:
    folder = tmp_path / "parts"
    writer = TableWriter(folder, [Column("id", "integer"), Column("name", "string")])
    writer.write_csv(b'1,""\n2,\n3,x\n', 3)
    writer.close()
    storage.upload_folder(folder, key)


def test_a_transformation_runs_as_its_own_user_holding_only_its_role(target: Target, fakesnow_server) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(LocalStorageConfig(path=str(target.state_dir / "bucket")), target.state_dir)
    _store(storage, target.state_dir, "raw/t/r1")
    with target.open() as wh:
        files, parts = stored_table(storage, "raw/t/r1")
        wh.load(LoadRequest("in_src", "people", parts, files, "full", [], "r1"), storage)
        mark = len(fakesnow.statements(fakesnow_server))
        logins = len(fakesnow.logins(fakesnow_server))
        with wh.transformation_session("tr_calc_1234", {"staff": "in_src.people"}, 60) as session:
            session.execute("CREATE TABLE result AS SELECT count(*) AS n FROM staff")
            assert session.table_exists("result")
            with pytest.raises(StatementFailed):
                session.execute("SELECT no_such_column FROM staff")
            rows = session.publish("out_calc", ["result"])
        assert rows == {"result": 1}
        assert wh.query("SELECT n FROM out_calc.result")[1] == [(3,)]
    sent = _sent_since(fakesnow_server, mark)
    # the working schema holds a zero-copy clone of the declared input, nothing else
    assert 'CREATE TABLE "TR_CALC_1234"."STAFF" CLONE "IN_SRC"."PEOPLE"' in sent
    assert not [s for s in sent if "CLONE" in s and "PEOPLE" not in s]
    role = '"HR_TR_CALC_1234"'
    grants = [s for s in sent if s.startswith("GRANT")]
    assert grants == [
        f'GRANT USAGE ON DATABASE "{target.config["database"].upper()}" TO ROLE {role}',
        f'GRANT USAGE ON WAREHOUSE "HEADRACE_WH" TO ROLE {role}',
        f'GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA "{target.config["database"].upper()}"."TR_CALC_1234" '
        f"TO ROLE {role}",
        f'GRANT SELECT ON ALL TABLES IN SCHEMA "{target.config["database"].upper()}"."TR_CALC_1234" TO ROLE {role}',
        f"GRANT ROLE {role} TO USER {role}",
    ]
    user = next(s for s in sent if s.startswith("CREATE OR REPLACE USER"))
    assert "TYPE = SERVICE" in user and "RSA_PUBLIC_KEY = '" in user and "DEFAULT_SECONDARY_ROLES = ()" in user
    assert "PASSWORD" not in user and "PRIVATE" not in user  # only the public key leaves the process
    # the SQL ran on a login of that user, with that role, that cannot switch back
    assert fakesnow.logins(fakesnow_server)[logins:] == [("HR_TR_CALC_1234", "HR_TR_CALC_1234")]
    assert "USE SECONDARY ROLES NONE" in sent
    assert not [s for s in sent if re.match(r"USE ROLE", s)]
    # the run's user is disabled before its outputs are read, and everything goes afterwards
    disable = sent.index(f"ALTER USER IF EXISTS {role} SET DISABLED = TRUE")
    first_publish = next(i for i, s in enumerate(sent) if '"OUT_CALC"."_HR_STAGE_RESULT"' in s)
    assert disable < first_publish
    dropped = sent.index('DROP SCHEMA IF EXISTS "TR_CALC_1234" CASCADE')
    assert sent[dropped + 1 : dropped + 4] == [
        f"ALTER USER IF EXISTS {role} SET DISABLED = TRUE",
        f"DROP USER IF EXISTS {role}",
        f"DROP ROLE IF EXISTS {role}",
    ]


def test_datamart_readers_get_a_login_and_role_and_former_readers_lose_it(target: Target, fakesnow_server) -> None:  # type: ignore[no-untyped-def]
    with target.open() as wh:
        wh.execute("CREATE SCHEMA out_x")
        wh.execute("CREATE TABLE out_x.t AS SELECT 1 AS a")
        mark = len(fakesnow.statements(fakesnow_server))
        wh.publish_datamart("dm_x", [("out_x.t", "t")], "view", ["analyst"])
        sent = _sent_since(fakesnow_server, mark)
        creds = wh.reader_credentials(["analyst"])["analyst"]
    password = creds["password"]
    assert password and len(password) >= 24
    assert creds["user"] == "ANALYST" and creds["role"] == "HR_READER_ANALYST"
    assert password in (target.state_dir / "credentials.yaml").read_text()  # kept in the secret store
    role = '"HR_READER_ANALYST"'
    db = f'"{target.config["database"].upper()}"'
    user = next(s for s in sent if s.startswith('CREATE USER "ANALYST"'))
    assert f"DEFAULT_ROLE = {role}" in user and "DEFAULT_SECONDARY_ROLES = ()" in user
    grants = [s for s in sent if s.startswith("GRANT")]
    assert f'GRANT ROLE {role} TO USER "ANALYST"' in grants
    assert f'GRANT SELECT ON ALL VIEWS IN SCHEMA {db}."DM_X" TO ROLE {role}' in grants
    # the reader's role reaches its datamart schema, and the database and warehouse to get there
    assert all('"DM_X"' in g or " ON DATABASE " in g or " ON WAREHOUSE " in g or " TO USER " in g for g in grants)


def test_a_killed_loads_staging_table_is_swept_and_a_live_one_is_not(target: Target, tmp_path: Path) -> None:
    with target.open() as wh:
        wh.execute("CREATE SCHEMA in_s")
        wh.execute(
            """CREATE TABLE in_s."_HR_STAGE_DEAD" (a INT) COMMENT = 'headrace load owner=gone:1:1 expires=9999999999'"""
        )
        wh.execute("""CREATE TABLE in_s."_HR_STAGE_OLD" (a INT) COMMENT = 'headrace load owner=me:1:1 expires=1'""")
        wh.execute(
            """CREATE TABLE in_s."_HR_STAGE_LIVE" (a INT) COMMENT = 'headrace load owner=me:1:1 expires=9999999999'"""
        )
        found = wh.leftovers(1_000_000.0, lambda owner: owner.startswith("gone"))
        assert ("table", "in_s._hr_stage_dead") in found and ("table", "in_s._hr_stage_old") in found
        assert ("table", "in_s._hr_stage_live") not in found
        for kind, name in found:
            wh.remove_leftover(kind, name)
        assert wh.relations("in_s") == {"_hr_stage_live": "TABLE"}


def test_native_load_sends_copy_from_the_bucket(target: Target, tmp_path: Path, fakesnow_server) -> None:  # type: ignore[no-untyped-def]
    """With a storage integration and s3 storage the parts are not streamed: COPY INTO reads the
    bucket. fakesnow cannot read s3://, so the load fails there; the statement sent is checked."""

    class S3Like(LocalStorage):
        capabilities = StorageCapabilities(scheme="s3")

        def uri(self, key: str) -> str:
            return f"s3://headrace-bucket/{key}"

    storage = S3Like(LocalStorageConfig(path=str(tmp_path / "bucket")), tmp_path)
    _store(storage, tmp_path, "raw/n/r1")
    target.config["storage_integration"] = "hr_bucket"
    with target.open() as wh:
        mark = len(fakesnow.statements(fakesnow_server))
        files, parts = stored_table(storage, "raw/n/r1")
        with pytest.raises(TaskFailed):
            wh.load(LoadRequest("in_n", "t", parts, files, "append", [], "r1"), storage)
    sent = _sent_since(fakesnow_server, mark)
    assert not [s for s in sent if s.startswith("PUT")]
    copy = next(s for s in sent if s.startswith("COPY INTO"))
    assert copy.startswith(
        'COPY INTO _HEADRACE_RAW ("ID", "NAME") FROM \'s3://headrace-bucket/raw/n/r1/part-00000.csv.gz\' '
        'STORAGE_INTEGRATION = "HR_BUCKET" FILE_FORMAT = (TYPE = CSV'
    )


def test_tables_are_stored_upper_case_and_read_by_unquoted_lowercase_sql(target: Target) -> None:
    storage = LocalStorage(LocalStorageConfig(path=str(target.state_dir / "bucket")), target.state_dir)
    _store(storage, target.state_dir, "raw/c/r1")
    with target.open() as wh:
        files, parts = stored_table(storage, "raw/c/r1")
        wh.load(LoadRequest("in_sales", "orders", parts, files, "full", [], "r1"), storage)
        catalog = wh.query(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name = 'ORDERS'"
        )[1]
        assert catalog == [("IN_SALES", "ORDERS")]
        columns, rows = wh.query("select id, name from in_sales.orders order by id")
        assert columns == ["id", "name"]  # shown in Headrace's form
        assert rows == [(1, ""), (2, None), (3, "x")]
        assert wh.column_types("in_sales", "orders")[:2] == [("id", "NUMBER(38,0)"), ("name", "TEXT")]


def test_a_dead_runs_working_schema_user_and_role_are_swept(target: Target, fakesnow_server) -> None:  # type: ignore[no-untyped-def]
    with target.open() as wh:
        wh.register_working_schema("tr_calc_dead", "r1", "transformation:calc", "gone:1:1", 1.0)  # expired
        wh.execute("CREATE SCHEMA tr_calc_dead")
        wh.register_working_schema("tr_calc_live", "r2", "transformation:calc", "me:1:1", 9_999_999_999.0)
        wh.execute("CREATE SCHEMA tr_calc_live")
        found = wh.leftovers(1_000.0, lambda owner: owner.startswith("gone"))
        assert found == [("schema", "tr_calc_dead")]
        mark = len(fakesnow.statements(fakesnow_server))
        wh.remove_leftover(*found[0])
        sent = _sent_since(fakesnow_server, mark)
        schemas = {r[0] for r in wh.query("SELECT schema_name FROM information_schema.schemata")[1]}
        registered = wh.query("SELECT schema_name FROM headrace_meta.working_schemas")[1]
    assert "TR_CALC_DEAD" not in schemas and "TR_CALC_LIVE" in schemas
    assert registered == [("tr_calc_live",)]
    assert sent[:4] == [
        'DROP SCHEMA IF EXISTS "TR_CALC_DEAD" CASCADE',
        'ALTER USER IF EXISTS "HR_TR_CALC_DEAD" SET DISABLED = TRUE',
        'DROP USER IF EXISTS "HR_TR_CALC_DEAD"',
        'DROP ROLE IF EXISTS "HR_TR_CALC_DEAD"',
    ]


def test_zstd_parts_are_put_and_copied_as_zstd(target: Target, tmp_path: Path, fakesnow_server) -> None:  # type: ignore[no-untyped-def]
    """A csv.zst run (written for another warehouse, e.g. before the project changed warehouse)
    is sent as it is stored: PUT with SOURCE_COMPRESSION = ZSTD, COPY with COMPRESSION = ZSTD,
    which Snowflake reads. fakesnow loads gzip or nothing (it raises on COMPRESSION = ZSTD), so the
    load fails there and the statements sent are checked; compile does not pick csv.zst for
    Snowflake (its capabilities list csv.gz and csv, which the emulator verifies)."""
    storage = LocalStorage(LocalStorageConfig(path=str(tmp_path / "bucket")), tmp_path)
    folder = tmp_path / "zparts"
    writer = TableWriter(folder, [Column("id", "integer"), Column("name", "string")], part_format="csv.zst")
    writer.write_csv(b'1,""\n2,\n3,x\n', 3)
    writer.close()
    storage.upload_folder(folder, "raw/z/r1")
    with target.open() as wh:
        mark = len(fakesnow.statements(fakesnow_server))
        files, parts = stored_table(storage, "raw/z/r1")
        with pytest.raises(TaskFailed, match=r"in_z.t: part-00000.csv.zst: "):
            wh.load(LoadRequest("in_z", "t", parts, files, "append", [], "r1"), storage)
    sent = _sent_since(fakesnow_server, mark)
    put = next(s for s in sent if s.startswith("PUT"))
    assert re.fullmatch(
        r"PUT file:///part-00000\.csv\.zst @_HEADRACE_LOADS/\S+/00000/ AUTO_COMPRESS = FALSE "
        r"SOURCE_COMPRESSION = ZSTD OVERWRITE = TRUE",
        put,
    )
    copy = next(s for s in sent if s.startswith("COPY INTO"))
    assert copy.startswith('COPY INTO _HEADRACE_RAW ("ID", "NAME") FROM @_HEADRACE_LOADS/')
    assert "COMPRESSION = ZSTD)" in copy
