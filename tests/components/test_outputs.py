"""What a container leaves in /data/out, checked before anything is stored: each refusal names the
component's file, the table and the fix (the container runs are in test_container_runs.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from headrace.containers.outputs import OutputRefused, checked_tables
from headrace.tablefiles import TableSchema

pytestmark = [pytest.mark.workers, pytest.mark.unit]

FILE = "extractors/api.yaml"
SCHEMA = {"columns": [{"name": "id", "type": "integer"}, {"name": "note", "type": "string"}]}


def _table(out: Path, name: str, parts: dict[str, str | bytes], schema: dict | None = None) -> Path:
    folder = out / "tables" / name
    folder.mkdir(parents=True)
    (folder / "schema.json").write_text(json.dumps(schema or SCHEMA))
    for part, text in parts.items():
        data = text.encode() if isinstance(text, str) else text
        (folder / part).write_bytes(gzip.compress(data) if part.endswith(".gz") else data)
    return folder


def _refused(out: Path, declared: list[str]) -> str:
    with pytest.raises(OutputRefused) as info:
        checked_tables(out, declared, FILE)
    message = str(info.value)
    assert message.startswith(f"{FILE}: ") and "nothing was loaded" in message
    return message


def test_good_tables_become_the_table_file_contract(tmp_path: Path) -> None:
    _table(tmp_path, "a", {"part-1.csv": 'id,note\n1,"x, ""y"""\n2,\n', "part-2.csv.gz": 'id,note\n3,""\n'})
    folders = checked_tables(tmp_path, ["a"], FILE)
    schema = TableSchema.from_json(json.loads((folders["a"] / "schema.json").read_text()))
    assert schema.parts == ["part-1.csv.gz", "part-2.csv.gz"] and schema.rows == 3  # plain parts gzipped
    assert sorted(p.name for p in folders["a"].iterdir()) == ["part-1.csv.gz", "part-2.csv.gz", "schema.json"]
    assert gzip.decompress((folders["a"] / "part-1.csv.gz").read_bytes()).startswith(b"id,note\n1,")


@pytest.mark.parametrize(
    ("parts", "schema", "expected"),
    [
        ({"p.csv": "id\n1\n"}, None, "table 'a': p.csv starts with the header (id) but schema.json declares"),
        ({"p.csv": "id,note\n1,x\n2\n"}, None, "table 'a': line 3 of p.csv has 1 field(s), schema.json declares 2"),
        ({"p.csv": b"id,note\n1,\xff\n"}, None, "table 'a': p.csv cannot be read as UTF-8 CSV"),
        ({"p.csv": "id,note\n"}, {"columns": [{"name": "id", "type": "int"}]}, "column 'id': unknown type 'int'"),
        ({"p.csv": "id,note\n"}, {"columns": []}, "schema.json has no columns list"),
        ({"p.csv": "id,note\n"}, {**SCHEMA, "parts": ["q.csv"]}, "lists 'q.csv', which is not in the folder"),
        ({"p.csv": "id,note\n", "notes.txt": "x"}, None, "'notes.txt' is not a part listed in schema.json"),
        ({"p.csv.zst": b"\x28\xb5\x2f\xfd"}, None, "table 'a': 'p.csv.zst' is a csv.zst part; a container's parts"),
        ({"p.csv": "id,note\n"}, {**SCHEMA, "parts": ["p.pgcopy"]}, "part 'p.pgcopy' is not a .csv or .csv.gz"),
        ({"p.csv": "id,note\n"}, {**SCHEMA, "parts": ["../../x.csv"]}, "part '../../x.csv' is not a .csv or .csv.gz"),
        (
            {"p.csv": "_headrace_run_id\n"},
            {"columns": [{"name": "_headrace_run_id", "type": "string"}]},
            "column '_headrace_run_id' collides with Headrace's own columns",
        ),
    ],
)
def test_a_table_that_does_not_match_its_schema_is_refused(
    tmp_path: Path, parts: dict[str, str | bytes], schema: dict | None, expected: str
) -> None:
    _table(tmp_path, "a", parts, schema)
    assert expected in _refused(tmp_path, ["a"])


def test_undeclared_and_missing_tables_are_refused(tmp_path: Path) -> None:
    _table(tmp_path, "a", {"p.csv": "id,note\n"})
    _table(tmp_path, "b", {"p.csv": "id,note\n"})
    assert "wrote /data/out/tables/b, a table it does not declare (declared: a)" in _refused(tmp_path, ["a"])
    assert "did not write table 'c'" in _refused(tmp_path, ["a", "b", "c"])


def test_a_link_in_the_output_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("id,note\n1,from outside\n")
    out = tmp_path / "out"
    folder = _table(out, "a", {})
    (folder / "p.csv").symlink_to(secret)
    assert "/data/out/tables/a/p.csv is a symbolic link" in _refused(out, ["a"])
