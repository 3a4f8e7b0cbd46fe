"""Lineage from the manifest: table-level edges from tasks, column-level from SQL (sqlglot) and dbt nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from headrace.lineage import build_lineage
from headrace.lineage.transformations import column_lineage
from headrace.project.compile import compile_project
from headrace.project.manifest import (
    DbtNode,
    DbtRun,
    Manifest,
    SqlFile,
    SqlStatement,
    TransformationInputRef,
    TransformationTask,
    read_manifest,
)

from tests.helpers import TEMPLATE

pytestmark = pytest.mark.unit

ORDERS = ["order_id", "customer_id", "sku", "quantity", "unit_price", "status"]
CUSTOMERS = ["customer_id", "name", "country"]
KNOWN = {"in_shop.orders": ORDERS, "in_shop.customers": CUSTOMERS}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    target = tmp_path_factory.mktemp("manifest") / "manifest.json"
    return read_manifest(compile_project(TEMPLATE, target))


def transformation(*statements: str, dbt: list[DbtNode] | None = None, outputs: tuple[str, ...] = ("result",)):
    return TransformationTask(
        id="transformation:t",
        component="t",
        type="dbt" if dbt is not None else "sql",
        source_file="transformations/t/transformation.yaml",
        runs_on="local",
        timeout=60,
        retries=0,
        target_schema="out_t",
        work_schema_prefix="tr_t",
        inputs=[
            TransformationInputRef(table="in_shop.orders", alias="o"),
            TransformationInputRef(table="in_shop.customers", alias="customers"),
        ],
        outputs=list(outputs),
        sql=[SqlFile(file="10.sql", statements=[SqlStatement(line=1, sql=s) for s in statements])],
        dialect="duckdb",
        config={},
        dbt=DbtRun(project_dir="dbt", adapter="dbt-duckdb", threads=1, nodes=dbt) if dbt is not None else None,
    )


def upstream(task: TransformationTask) -> tuple[dict[str, set[str]], dict[str, list[str]], list[str]]:
    edges, columns, unresolved = column_lineage(task, KNOWN)
    found: dict[str, set[str]] = {}
    for source, target in edges:
        found.setdefault(target.removeprefix("out_t.result."), set()).add(source)
    return found, columns, unresolved


def test_the_example_project_has_every_stage_and_the_edges_of_its_tasks(example: Manifest) -> None:
    graph = build_lineage(example)
    kinds = {n.id: n.kind for n in graph.nodes.values()}
    published = {
        f"{t.target_schema}.{e.name}" for t in example.tasks.values() if t.kind == "datamart" for e in t.tables
    }
    assert published == {"dm_sales.orders", "dm_sales.revenue_by_month", "dm_marketing.conversion_by_country"}
    assert {i for i, k in kinds.items() if k == "table"} == published | {
        t for task in example.tasks.values() for t in (*task.reads, *task.writes)
    }
    assert {i for i, k in kinds.items() if k in ("extractor", "transformation", "datamart")} == set(example.tasks)
    assert graph.nodes["source:shop.orders"].label == "data/orders.csv"
    assert graph.nodes["source:reference.currencies"].label == "data/reference.zip!currencies.csv"
    edges = {(e.source, e.target) for e in graph.edges}
    assert ("source:shop.orders", "extractor:shop") in edges
    assert ("extractor:shop", "in_shop.orders") in edges
    assert ("in_reference.currencies", "transformation:sales") in edges
    assert ("transformation:sales", "out_sales.orders_enriched") in edges
    assert ("out_sales.orders_enriched", "transformation:marketing") in edges
    assert ("datamart:sales", "dm_sales.orders") in edges
    expected = sum(len(t.reads) + len(t.writes) for t in example.tasks.values() if t.kind != "extractor")
    expected += len(published)
    expected += sum(
        2 * len(t.writes) for t in example.tasks.values() if t.kind == "extractor"
    )  # source -> extractor -> in_
    assert len(graph.edges) == expected


def test_the_example_projects_columns_are_traced_through_joins_aliases_and_another_transformation(
    example: Manifest,
) -> None:
    graph = build_lineage(example)
    up = graph.upstream_columns("out_sales.orders_enriched")
    assert up["customer_name"] == ["in_shop.customers.name"]  # c.name AS customer_name
    assert sorted(up["amount_eur"]) == [  # rates is in_reference.currencies under its `as` name
        "in_reference.currencies.eur_rate",
        "in_shop.orders.quantity",
        "in_shop.orders.unit_price",
    ]
    # the marketing transformation reads sales' output: traced in data order, through its CTE
    conversion = graph.upstream_columns("out_marketing.conversion_by_country")
    assert conversion["revenue_eur"] == ["out_sales.orders_enriched.amount_eur"]
    assert conversion["month"] == ["in_web.sessions.started_at"]
    assert "sessions" not in conversion  # count(*) has no input column
    assert graph.columns["out_marketing.conversion_by_country"][:3] == ["month", "country", "sessions"]
    # datamarts publish columns 1:1
    assert graph.upstream_columns("dm_sales.orders")["amount_eur"] == ["out_sales.orders_enriched.amount_eur"]
    assert graph.columns["dm_sales.orders"] == graph.columns["out_sales.orders_enriched"]
    assert graph.unresolved == {}


def test_ctes_select_star_aliases_and_aggregates() -> None:
    found, columns, unresolved = upstream(
        transformation(
            """
            CREATE TABLE result AS
            WITH paid AS (SELECT * FROM o WHERE status = 'paid'),
                 per_customer AS (SELECT customer_id AS cid, sum(quantity * unit_price) AS total, count(*) AS n
                                  FROM paid GROUP BY 1)
            SELECT c.*, p.total AS revenue, p.n, 1 AS one
            FROM customers AS c LEFT JOIN per_customer AS p ON p.cid = c.customer_id
            """
        )
    )
    assert columns["out_t.result"] == [*CUSTOMERS, "revenue", "n", "one"]  # c.* expanded from the schema
    assert found["name"] == {"in_shop.customers.name"}
    assert found["revenue"] == {"in_shop.orders.quantity", "in_shop.orders.unit_price"}
    assert "n" not in found and "one" not in found
    assert unresolved == []


def test_intermediate_tables_inserts_and_several_statements() -> None:
    found, columns, unresolved = upstream(
        transformation(
            "CREATE TABLE big AS SELECT order_id, customer_id, quantity * unit_price AS amount FROM o",
            "CREATE TABLE result (customer_id INTEGER, name VARCHAR, amount DECIMAL)",
            "INSERT INTO result SELECT b.customer_id, c.name, b.amount FROM big b JOIN customers c USING (customer_id)",
            "DROP TABLE big",
        )
    )
    assert columns["out_t.result"] == ["customer_id", "name", "amount"]
    assert found["amount"] == {"in_shop.orders.quantity", "in_shop.orders.unit_price"}
    assert found["name"] == {"in_shop.customers.name"}
    assert found["customer_id"] == {"in_shop.orders.customer_id"}
    assert unresolved == []


def test_sql_sqlglot_cannot_read_stays_table_level_without_an_error() -> None:
    task = transformation("CREATE TABLE result AS SELECT FROM WHERE ((", outputs=("result", "other"))
    edges, columns, unresolved = column_lineage(task, KNOWN)
    assert edges == [] and columns == {}
    assert any("result" in note for note in unresolved) and any("other" in note for note in unresolved)


def test_columns_of_an_input_whose_columns_are_unknown_are_still_traced_when_named() -> None:
    edges, _, _ = column_lineage(transformation("CREATE TABLE result AS SELECT o.order_id AS id FROM o"), {})
    assert edges == [("in_shop.orders.order_id", "out_t.result.id")]


def test_dbt_models_are_traced_from_the_inputs_source_through_staging_models() -> None:
    nodes = [
        DbtNode(
            unique_id="model.shop.stg_orders",
            name="stg_orders",
            resource_type="model",
            depends_on=["source.shop.inputs.o"],
            sql='select order_id, customer_id, quantity * unit_price as amount from "warehouse"."tr_t_1234"."o"',
        ),
        DbtNode(
            unique_id="model.shop.result",
            name="result",
            resource_type="model",
            depends_on=["model.shop.stg_orders", "source.shop.inputs.customers"],
            sql=(
                'select c.country, sum(s.amount) as revenue from "warehouse"."main"."stg_orders" s '
                'join "warehouse"."tr_t_1234"."customers" c using (customer_id) group by 1'
            ),
        ),
        DbtNode(unique_id="test.shop.not_null_result_country", name="not_null", resource_type="test", sql="select 1"),
    ]
    found, columns, unresolved = upstream(transformation(dbt=list(reversed(nodes))))
    assert columns["out_t.result"] == ["country", "revenue"]
    assert found == {
        "country": {"in_shop.customers.country"},
        "revenue": {"in_shop.orders.quantity", "in_shop.orders.unit_price"},
    }
    assert unresolved == []


def test_a_dbt_model_without_compiled_sql_keeps_its_documented_columns() -> None:
    node = DbtNode(unique_id="model.shop.result", name="result", resource_type="model", columns=["a", "b"])
    edges, columns, unresolved = column_lineage(transformation(dbt=[node]), KNOWN)
    assert edges == [] and columns == {"out_t.result": ["a", "b"]}
    assert unresolved == ["result: no compiled SQL, columns as documented"]


def test_lineage_reads_only_the_manifest(example: Manifest, tmp_path: Path) -> None:
    """The graph is a function of the manifest alone: the same manifest read again gives the same graph."""
    again = build_lineage(read_manifest(compile_project(TEMPLATE, tmp_path / "m.json")))
    assert again.to_json() == build_lineage(example).to_json()
