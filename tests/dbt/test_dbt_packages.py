"""`dbt deps` runs when the project is validated, once per content of packages.yml, into the state folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dbt.project import demo_project
from tests.helpers import headrace, open_test_warehouse

pytestmark = pytest.mark.integration


def test_packages_are_installed_at_validation_into_the_state_folder_once(tmp_path: Path, dbt_python: dict) -> None:
    project = demo_project(
        tmp_path / "demo",
        {
            "transformations/bi/packages.yml": "packages:\n  - local: vendor/helpers\n",
            "transformations/bi/vendor/helpers/dbt_project.yml": "name: helpers\nmacro-paths: [macros]\n",
            "transformations/bi/vendor/helpers/macros/shout.sql": "{% macro shout(c) %}upper({{ c }}){% endmacro %}\n",
            "transformations/bi/models/people.sql": "select id, {{ helpers.shout('name') }} as name "
            "from {{ source('inputs', 'customers') }}\n",
        },
    )
    env = {"HEADRACE_STATE_DIR": str(tmp_path / "state")}
    result = headrace("validate", str(project), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    installed = list((tmp_path / "state" / "dbt" / "packages").iterdir())
    assert len(installed) == 1 and (installed[0] / "helpers" / "macros" / "shout.sql").is_file()
    assert not (installed[0] / "helpers").is_symlink()  # not a link into a folder that is gone
    assert not (project / "transformations" / "bi" / "dbt_packages").exists()  # the project folder stays as pushed

    assert headrace("run", "--project", str(project), env=env).returncode == 0
    assert list((tmp_path / "state" / "dbt" / "packages").iterdir()) == installed  # not installed again
    with open_test_warehouse({"type": "duckdb", "path": "wh.duckdb"}, tmp_path / "state") as wh:
        assert wh.query("SELECT id, name FROM out_bi.people")[1] == [(1, "ADA")]  # the package's macro ran
