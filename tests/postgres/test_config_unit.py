"""Validation of the postgres extractor config and small helpers (no server)."""

from __future__ import annotations

import pytest
from headrace.extractors.postgres.catalog import _map, _numeric
from headrace.extractors.postgres.config import PostgresExtractorConfig
from headrace.sqltext import ident, literal, qualified, short_name
from pydantic import ValidationError

pytestmark = pytest.mark.unit

CONNECTION = {"host": "db", "database": "crm", "user": "reader", "password": "${secret:crm_password}"}


def _config(**table: object) -> PostgresExtractorConfig:
    return PostgresExtractorConfig.model_validate(
        {"type": "postgres", "connection": CONNECTION, "tables": [{"name": "t", **table}]}
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "give exactly one of source (schema.table) or query"),
        ({"source": "a.b", "query": "SELECT 1"}, "give exactly one of source"),
        ({"source": "orders"}, "must be schema.table"),
        ({"source": "a.b", "load": "incremental"}, "cursor: required when load is incremental"),
        ({"source": "a.b", "load": "upsert"}, "primary_key: required when load is upsert"),
        ({"source": "a.b", "lookback": "1h"}, "lookback: only applies to load: incremental"),
        ({"source": "a.b", "load": "incremental", "cursor": "u", "lookback": "1h"}, "lookback: needs primary_key"),
        (
            {"source": "a.b", "load": "incremental", "cursor": "u", "primary_key": ["id"], "lookback": "soon"},
            "is not a duration",
        ),
        (
            {"source": "a.b", "load": "incremental", "cursor": "u", "columns": {"exclude": ["u"]}},
            "cannot exclude the cursor column",
        ),
        ({"source": "a.b", "colums": {}}, "unknown key"),
    ],
)
def test_invalid_tables_say_what_to_fix(table: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        _config(**table)
    assert message in str(info.value)


def test_valid_table_and_lookback_units() -> None:
    config = _config(
        source="public.orders",
        load="incremental",
        cursor="updated_at",
        primary_key=["id"],
        lookback="2h",
        columns={"exclude": ["card"]},
        filter="NOT is_test",
    )
    table = config.tables[0]
    assert table.lookback_seconds() == 7200
    assert (
        _config(query="SELECT 1 AS id", load="incremental", cursor="id", primary_key=["id"], lookback=100)
        .tables[0]
        .lookback_seconds()
        == 100
    )
    assert config.max_concurrency == 4


def test_catalog_types_map_to_portable_types() -> None:
    assert _numeric(-1) == (None, 0)
    assert _numeric(((12 << 16) | 3) + 4) == (12, 3)
    assert _map('"c"', "numeric", "b", "N", ((12 << 16) | 3) + 4)[0] == "decimal(12,3)"
    assert _map('"c"', "numeric", "b", "N", ((50 << 16) | 2) + 4) == ("string", '"c"::text AS "c"')
    assert _map('"c"', "_int4", "b", "A", -1)[0] == "json"
    assert _map('"c"', "mood", "e", "E", -1) == ("string", '"c"')
    assert _map('"c"', "bool", "b", "B", -1)[1].startswith("CASE WHEN")


def test_quoting_keeps_names_and_values_exact() -> None:
    assert ident('order "items"', "postgres") == '"order ""items"""'
    assert qualified("in_crm", "Orders", "duckdb") == '"in_crm"."Orders"'
    assert literal("it's \\n", "postgres") == "'it''s \\n'"  # standard_conforming_strings: no escapes
    with pytest.raises(ValueError, match="NUL"):
        literal("a\x00b", "postgres")


def test_long_names_are_cut_to_63_bytes_uniquely() -> None:
    a, b = short_name("_hr_stage_", "x" * 70, 63), short_name("_hr_stage_", "x" * 71, 63)
    assert len(a.encode()) <= 63 and len(b.encode()) <= 63 and a != b
    assert short_name("_hr_stage_", "orders", 63) == "_hr_stage_orders"


def test_postgres_modules_import_no_driver() -> None:
    import subprocess
    import sys

    code = (
        "import sys, headrace.extractors.postgres.extractor, headrace.warehouses.postgres.warehouse, "
        "headrace.cli.datamart_cmds; print('psycopg' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
