"""A small project on a PostgreSQL warehouse with a PostgreSQL source: two tables, a
transformation, a datamart with a reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.pgserver import PgServer, warehouse_block
from tests.postgres.source import execute, write_project

SOURCE_DDL = """
CREATE TABLE IF NOT EXISTS public.people (id int PRIMARY KEY, name text, team text);
INSERT INTO public.people VALUES (1, 'Ann', 'a'), (2, 'Bob', 'b'), (3, 'Cid', 'a') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS public.salaries (id int PRIMARY KEY, salary int);
INSERT INTO public.salaries VALUES (1, 100), (2, 200), (3, 300) ON CONFLICT DO NOTHING;
"""


def env(server: PgServer) -> dict[str, str]:
    return {"HEADRACE_SECRET_SOURCE_PASSWORD": server.password, "HEADRACE_SECRET_WAREHOUSE_PASSWORD": server.password}


def make(
    root: Path,
    server: PgServer,
    source_db: str,
    warehouse_db: str,
    sql: str | None = None,
    readers: list[str] | None = None,
) -> Path:
    execute(server, source_db, SOURCE_DDL)
    block, _ = warehouse_block(server, warehouse_db)
    project_yaml = yaml.safe_dump({"name": "pgproject", "warehouse": block}, sort_keys=False)
    tables: list[dict[str, Any]] = [
        {"name": "people", "source": "public.people"},
        {"name": "salaries", "source": "public.salaries"},
    ]
    files = {
        "transformations/teams/transformation.yaml": "type: sql\ninputs: [in_src.people]\noutputs: [team_size]\n",
        "transformations/teams/10_size.sql": sql
        or "CREATE TABLE team_size AS SELECT team, count(*) AS members FROM people GROUP BY team;\n",
        "datamarts.yaml": yaml.safe_dump(
            {"datamarts": [{"id": "people", "tables": ["out_teams.team_size"], "readers": readers or []}]},
            sort_keys=False,
        ),
    }
    return write_project(root, project_yaml, server, source_db, tables, files)
