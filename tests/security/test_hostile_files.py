"""Hostile project files: refused with exit code 2, the file, the line where known and a hint.

Never a traceback, a hang or unbounded memory; a path never reads a file outside the
project folder, at validation nor when the task runs. Path checks do not depend on the
warehouse: these run on DuckDB.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import headrace, run_ok
from tests.security.hostile import alias_bomb, errors_of, example, validate

pytestmark = pytest.mark.unit

PASSWD = Path("/etc/passwd")
WEB = "extractors/web.yaml"  # one table, path: data/sessions.csv.gz
SQL = "transformations/sales/10_orders_enriched.sql"


def web_path(path: str) -> str:
    original = (Path(__file__).parents[2] / "project_template" / WEB).read_text()
    return original.replace("path: data/sessions.csv.gz", f"path: {path}\n    format: csv\n    compression: none")


def assert_nothing_read_from(state: Path, marker: bytes = b"root:x:0:0") -> None:
    for path in state.rglob("*") if state.exists() else []:
        if path.is_file():
            assert marker not in path.read_bytes(), f"{path} holds the outside file's content"


# --- paths that lead out of the project -------------------------------------------------------


def test_files_extractor_path_with_dotdot_to_etc_passwd_is_refused(tmp_path: Path, state_env: Path) -> None:
    root = example(tmp_path, {WEB: web_path("../../../../../../../../etc/passwd")})
    result = headrace("run", "--project", str(root))
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "extractors/web.yaml:7: tables[0].path: '../../../../../../../../etc/passwd' is outside the project folder"
        in result.stderr
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert_nothing_read_from(state_env)


def test_files_extractor_absolute_path_outside_the_project_is_refused(tmp_path: Path) -> None:
    root = example(tmp_path, {WEB: web_path(str(PASSWD))})
    [error] = errors_of(root)
    assert (error.file, error.line, error.path) == (WEB, 7, "tables[0].path")
    assert error.message == "'/etc/passwd' is outside the project folder"


def test_files_extractor_absolute_path_inside_the_project_is_allowed(tmp_path: Path) -> None:
    root = tmp_path / "project"
    example(tmp_path, {WEB: web_path(str(root.resolve() / "data" / "customers.csv"))})
    run_ok("validate", str(root))


def test_symlink_inside_the_project_to_etc_passwd_is_refused(tmp_path: Path) -> None:
    root = example(tmp_path, {WEB: web_path("data/users.csv")})
    (root / "data" / "users.csv").symlink_to(PASSWD)
    link, error = errors_of(root)  # the link itself, and the key that names it
    assert (link.file, error.file, error.path) == ("data/users.csv", WEB, "tables[0].path")
    assert error.message == "'data/users.csv' leads out of the project folder through a symlink (to /etc/passwd)"
    assert link.message == error.message
    assert "copy the file into the project" in error.hint


def test_symlinked_data_folder_leading_out_of_the_project_is_refused(tmp_path: Path) -> None:
    root = example(tmp_path, {WEB: web_path("etc/passwd")})
    (root / "etc").symlink_to("/etc")
    link, error = errors_of(root)
    assert link.file == "etc" and link.message == "'etc' leads out of the project folder through a symlink (to /etc)"
    assert error.message == "'etc/passwd' leads out of the project folder through a symlink (to /etc/passwd)"


def test_symlink_out_of_the_project_is_refused_even_if_no_file_names_it(tmp_path: Path) -> None:
    root = example(tmp_path)
    (root / "dags").symlink_to("/usr/lib/python3")
    (root / ".secrets.yaml").symlink_to(tmp_path / "kept-elsewhere.yaml")  # not project content: allowed
    [error] = errors_of(root)
    assert error.file == "dags"
    assert error.message.startswith("'dags' leads out of the project folder through a symlink (to /usr/lib/python3")


def test_symlink_within_the_project_is_allowed(tmp_path: Path) -> None:
    root = example(tmp_path, {WEB: web_path("data/latest.csv")})
    (root / "data" / "latest.csv").symlink_to("customers.csv")
    run_ok("validate", str(root))


def test_a_declared_data_file_that_does_not_exist_fails_validation_not_the_run(tmp_path: Path) -> None:
    root = example(tmp_path, {WEB: web_path("data/missing.csv")})
    result = validate(root)
    assert result.returncode == 2
    assert "extractors/web.yaml:7: tables[0].path: 'data/missing.csv' does not exist in the project folder" in (
        result.stderr
    )


def test_a_folder_given_as_data_file_fails_validation(tmp_path: Path) -> None:
    root = example(tmp_path, {WEB: web_path("data")})
    [error] = errors_of(root)
    assert error.message == "'data' is a folder, not a file"


def test_symlink_swapped_in_after_validation_is_refused_when_the_task_runs(tmp_path: Path, state_env: Path) -> None:
    """The folder a task sees can differ from the validated one: the run checks the path again."""
    root = example(tmp_path)
    run_ok("compile", str(root))
    data = root / "data" / "sessions.csv.gz"
    data.unlink()
    data.symlink_to(PASSWD)
    result = headrace("run-task", "extractor:web", "--project", str(root), "--run-id", "swap")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'data/sessions.csv.gz' leads out of the project folder through a symlink (to /etc/passwd)" in (
        result.stderr
    )
    assert '"error_class":"config"' in result.stdout
    assert_nothing_read_from(state_env)


def test_fifo_swapped_in_after_validation_neither_hangs_nor_loads(tmp_path: Path, state_env: Path) -> None:
    root = example(tmp_path)
    run_ok("compile", str(root))
    data = root / "data" / "sessions.csv.gz"
    data.unlink()
    os.mkfifo(data)
    result = headrace("run-task", "extractor:web", "--project", str(root), "--run-id", "fifo", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "path: 'data/sessions.csv.gz' is not a file inside the project folder" in result.stderr


def test_project_yaml_symlinked_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("name: elsewhere\n")
    root = example(tmp_path)
    (root / "project.yaml").unlink()
    (root / "project.yaml").symlink_to(outside)
    result = validate(root)
    assert result.returncode == 2
    assert "project.yaml: 'project.yaml' leads out of the project folder through a symlink" in result.stderr


def test_extractors_folder_symlinked_out_of_the_project_is_refused(tmp_path: Path) -> None:
    root = example(tmp_path)
    shutil.move(root / "extractors", tmp_path / "elsewhere")
    (root / "extractors").symlink_to(tmp_path / "elsewhere")
    messages = {(e.file, e.message.split(" leads")[0]) for e in errors_of(root)}
    assert ("extractors/web.yaml", "'extractors/web.yaml'") in messages


def test_sql_file_symlinked_to_etc_passwd_is_refused(tmp_path: Path) -> None:
    root = example(tmp_path)
    (root / "transformations/sales/30_passwd.sql").symlink_to(PASSWD)
    [error] = errors_of(root)
    assert error.file == "transformations/sales/30_passwd.sql"
    assert "leads out of the project folder through a symlink (to /etc/passwd)" in error.message


# --- files the parser must not choke on -----------------------------------------------------


def test_yaml_alias_bomb_is_refused_without_expanding(tmp_path: Path) -> None:
    root = example(tmp_path, {"datamarts.yaml": alias_bomb()})
    result = validate(root)  # with 2 GiB of address space: 9**12 strings would need terabytes
    assert result.returncode == 2, result.stderr
    assert "datamarts.yaml:1: aliases expand to more than 10,000 values" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_few_aliases_still_work(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "project_template" / WEB).read_text()
    text = text.replace("description:", "x_columns: &c\n  a: 1\ndescription:")
    root = example(tmp_path, {WEB: text})
    [error] = errors_of(root)  # the aliases parse; the unknown key is the only error
    assert error.path == "x_columns" and error.message.startswith("unknown key")


def test_nul_byte_in_yaml_names_the_line(tmp_path: Path) -> None:
    root = example(tmp_path, {"project.yaml": b"name: coffee_shop\ndescription: a\x00b\n"})
    result = validate(root)
    assert result.returncode == 2
    assert "project.yaml:2: contains a NUL byte at line 2" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "text", ["a: " + "[" * 5000 + "]" * 5000, "a: " + "{b: " * 5000 + "}" * 5000, "a: " + "[" * 5000]
)
def test_5000_deep_nesting_is_refused(tmp_path: Path, text: str) -> None:
    root = example(tmp_path, {"orchestrations.yaml": text})
    result = validate(root)
    assert result.returncode == 2
    assert "orchestrations.yaml:1: nested more than 50 levels deep (flatten the structure)" in result.stderr
    assert "Traceback" not in result.stderr


def test_5000_deep_block_nesting_is_refused(tmp_path: Path) -> None:
    text = "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 300))
    [error] = errors_of(example(tmp_path, {"orchestrations.yaml": text}))
    assert error.message == "nested more than 50 levels deep"
    assert error.line == 51  # the mapping that opens the 51st level


def test_latin1_sql_file_names_line_and_byte(tmp_path: Path) -> None:
    root = example(
        tmp_path, {"transformations/sales/30_cafe.sql": "select 1 as a;\nselect 'caf\xe9' as b;\n".encode("latin-1")}
    )
    result = validate(root)
    assert result.returncode == 2
    assert (
        "transformations/sales/30_cafe.sql:2: not UTF-8 at line 2 (byte 0xe9) (save the file as UTF-8)" in result.stderr
    )


def test_latin1_yaml_file_names_line_and_byte(tmp_path: Path) -> None:
    root = example(tmp_path, {"project.yaml": "name: coffee_shop\ndescription: Caf\xe9\n".encode("latin-1")})
    [error] = errors_of(root)
    assert (error.file, error.line, error.message) == ("project.yaml", 2, "not UTF-8 at line 2 (byte 0xe9)")


def test_utf16_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    root = example(tmp_path, {"project.yaml": "name: coffee_shop\n".encode("utf-16")})
    [error] = errors_of(root)
    assert (error.message, error.hint) == ("saved as UTF-16", "save the file as UTF-8")


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    root = example(tmp_path)
    text = (root / "project.yaml").read_bytes()
    (root / "project.yaml").write_bytes(b"\xef\xbb\xbf" + text)
    (root / SQL).write_bytes(b"\xef\xbb\xbf" + (root / SQL).read_bytes())
    run_ok("validate", str(root))


def test_oversized_yaml_file_is_refused_before_parsing(tmp_path: Path) -> None:
    root = example(tmp_path, {"datamarts.yaml": "# padding\n" * 120_000})
    [error] = errors_of(root)
    assert error.file == "datamarts.yaml"
    assert error.message == "is 1,200,000 bytes; a project file of this kind may have at most 1,048,576"


def test_control_character_in_yaml_names_the_line(tmp_path: Path) -> None:
    root = example(tmp_path, {"project.yaml": "name: coffee_shop\ndescription: bell \x07\n"})
    [error] = errors_of(root)
    assert (error.line, error.message) == (2, "invalid YAML: control character U+0007 at line 2")


def test_number_of_5000_digits_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    root = example(tmp_path, {"project.yaml": "name: coffee_shop\ndescription: " + "9" * 5000 + "\n"})
    [error] = errors_of(root)
    assert error.line == 2 and error.message.startswith("invalid value (Exceeds the limit")
    assert error.hint == "quote it to keep it as text"


def test_mapping_used_as_a_key_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    root = example(tmp_path, {"project.yaml": "name: coffee_shop\n? [a, b]\n: c\n"})
    [error] = errors_of(root)
    assert error.message == "a key must be a plain value, not a list or mapping"


def test_fifo_named_like_a_sql_file_does_not_hang_validation(tmp_path: Path) -> None:
    root = example(tmp_path)
    os.mkfifo(root / "transformations/sales/30_pipe.sql")
    [error] = errors_of(root)
    assert (error.file, error.message) == ("transformations/sales/30_pipe.sql", "is not a regular file")


def test_folder_named_like_a_sql_file_is_an_error(tmp_path: Path) -> None:
    root = example(tmp_path)
    (root / "transformations/sales/30_dir.sql").mkdir()
    [error] = errors_of(root)
    assert (error.file, error.message) == ("transformations/sales/30_dir.sql", "is a folder")


# --- JSON project files are strict JSON -----------------------------------------------------


def test_json_with_a_trailing_comma_is_refused_with_line_and_column(tmp_path: Path) -> None:
    root = example(tmp_path)
    (root / "datamarts.yaml").unlink()
    (root / "datamarts.json").write_text('{"datamarts": [\n  {"id": "sales", "tables": ["out_sales.orders"]},\n]}\n')
    result = validate(root)
    assert result.returncode == 2
    assert "datamarts.json:3: invalid JSON at line 3 column 1: Expecting value" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "coffee_shop", "name": "x"}', "duplicate key"),
        ('{"name": "coffee_shop", "defaults": {"retries": NaN}}', "NaN is not JSON"),
        ('{"name": "coffee_shop" // comment\n}', "invalid JSON at line 1 column 24: Expecting ',' delimiter"),
        ('{"name": "coffee_shop", "x": ' + "[" * 3000 + "]" * 3000 + "}", "nested more than 50 levels deep"),
    ],
)
def test_json_project_file_is_strict(tmp_path: Path, text: str, message: str) -> None:
    root = example(tmp_path)
    (root / "project.yaml").unlink()
    (root / "project.json").write_text(text)
    [error] = errors_of(root)
    assert error.file == "project.json" and error.message == message


def test_valid_json_project_file_keeps_key_lines(tmp_path: Path) -> None:
    root = example(tmp_path)
    (root / "project.yaml").unlink()
    (root / "project.json").write_text('{\n  "name": "coffee_shop",\n  "defaults": {"retries": "x"}\n}\n')
    [error] = errors_of(root)
    assert (error.file, error.line, error.path) == ("project.json", 3, "defaults.retries")
