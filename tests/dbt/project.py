"""A small dbt project the dbt tests vary: one file extractor and the dbt transformation ``bi``."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_files

DEMO = {
    "project.yaml": "name: demo\nwarehouse: {type: duckdb, path: wh.duckdb}\n",
    "extractors/crm.yaml": """
        type: file
        tables:
          - name: customers
            path: data/customers.csv
            columns: {id: integer, name: string}
        """,
    "data/customers.csv": "id,name\n1,Ada\n",
    "transformations/bi/transformation.yaml": "type: dbt\ninputs: [in_crm.customers]\noutputs: [people]\n",
    "transformations/bi/dbt_project.yml": "name: bi\nprofile: headrace\n",
    "transformations/bi/models/people.sql": "select * from {{ source('inputs', 'customers') }}\n",
}


def demo_project(root: Path, files: dict[str, str]) -> Path:
    """A DuckDB project with one file extractor (``in_crm.customers``) and the dbt transformation ``bi``
    (model ``people``); ``files`` add to or replace its files."""
    return write_files(root, {**DEMO, **files})
