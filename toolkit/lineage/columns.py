"""Column-level lineage of SQL run in a working schema, inferred with sqlglot.

A transformation's statements run in order in one schema where its inputs appear under their
``as`` names. ``WorkingSchema`` replays them: every ``CREATE TABLE/VIEW ... AS SELECT`` (and
``INSERT INTO ... SELECT``) gives the new table's columns, each traced with ``sqlglot.lineage``
back through CTEs, subqueries and earlier tables of the same schema to the input columns. A
statement sqlglot cannot parse or trace is skipped (its tables stay known at table level).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

log = logging.getLogger(__name__)

ColumnRef = tuple[str, str]  # (table id, column): an input's real schema.table, or a local table's name


@dataclass
class LocalTable:
    columns: list[str]
    # column -> input columns it is computed from (resolved through local tables)
    sources: dict[str, set[ColumnRef]] = field(default_factory=dict)


@dataclass
class WorkingSchema:
    """The tables visible to one transformation's SQL: inputs (alias -> schema.table and columns)
    and the tables its statements made so far."""

    dialect: str
    inputs: dict[str, tuple[str, list[str]]]  # alias -> (schema.table, columns)
    tables: dict[str, LocalTable] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)  # why a statement was skipped, for the docs

    def names(self) -> dict[str, str]:
        """Name in SQL -> input alias: the alias, and the input table's own name where no alias
        or table takes it (compiled dbt SQL may name an input by its table)."""
        found = {alias: alias for alias in self.inputs}
        for alias, (real, _) in self.inputs.items():
            found.setdefault(real.rsplit(".", 1)[-1], alias)
        return found

    def schema(self) -> dict[str, object]:
        mapping: dict[str, object] = {
            name: dict.fromkeys(self.inputs[alias][1], "TEXT")
            for name, alias in self.names().items()
            if self.inputs[alias][1]
        }
        for name, table in self.tables.items():
            if table.columns:
                mapping[name] = dict.fromkeys(table.columns, "TEXT")
        return mapping

    def run(self, sql: str) -> None:
        """Replay one statement (a file may hold several: each is replayed)."""
        try:
            statements = sqlglot.parse(sql, dialect=self.dialect)
        except SqlglotError as exc:
            self.unresolved.append(f"not parsed: {str(exc).splitlines()[0]}")
            return
        for statement in statements:
            if statement is not None:
                self._statement(statement)

    def _statement(self, statement: exp.Expr) -> None:
        if isinstance(statement, exp.Create) and statement.kind in ("TABLE", "VIEW"):
            name = _table_name(statement.this)
            if name is None:
                return
            if isinstance(statement.expression, exp.Query):
                self.tables[name] = self._trace(statement.expression, name)
            elif isinstance(statement.this, exp.Schema):  # CREATE TABLE t (a INT, ...)
                cols = [c.name for c in statement.this.expressions if isinstance(c, exp.ColumnDef)]
                self.tables[name] = LocalTable(cols, {c: set() for c in cols})
        elif isinstance(statement, exp.Insert) and isinstance(statement.expression, exp.Query):
            name = _table_name(statement.this)
            if name is None or name not in self.tables:
                return
            traced = self._trace(statement.expression, name)
            target = self.tables[name]
            listed = [c.name for c in statement.this.expressions] if isinstance(statement.this, exp.Schema) else []
            names = listed or target.columns
            for column, produced in zip(names, traced.columns, strict=False):
                target.sources.setdefault(column, set()).update(traced.sources.get(produced, set()))
        elif isinstance(statement, exp.Drop):
            name = _table_name(statement.this)
            self.tables.pop(name or "", None)

    def _trace(self, query: exp.Query, name: str) -> LocalTable:
        from sqlglot.lineage import lineage
        from sqlglot.optimizer.qualify import qualify

        schema = self.schema()
        try:
            qualified = qualify(
                _unqualified(query.copy()), schema=schema, dialect=self.dialect, validate_qualify_columns=False
            )
        except SqlglotError as exc:
            self.unresolved.append(f"{name}: {str(exc).splitlines()[0]}")
            return LocalTable([])
        if not isinstance(qualified, exp.Query):
            return LocalTable([])
        columns = [c for c in qualified.named_selects if c and c != "*"]
        table = LocalTable(columns)
        for column in columns:
            try:
                root = lineage(column, qualified, schema=schema, dialect=self.dialect, copy=False)
            except (SqlglotError, KeyError, ValueError, AttributeError) as exc:
                self.unresolved.append(
                    f"{name}.{column}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                )
                table.sources[column] = set()
                continue
            found: set[ColumnRef] = set()
            for node in root.walk():
                if node.downstream or not isinstance(node.source, exp.Table):
                    continue
                found |= self._resolve(node.source.name, node.name.rsplit(".", 1)[-1].strip('"`'))
            table.sources[column] = found
        return table

    def _resolve(self, table: str, column: str) -> set[ColumnRef]:
        """Input columns behind ``table.column`` of this schema."""
        if table in self.tables:
            local = self.tables[table]
            return set(local.sources.get(column, set()))
        alias = self.names().get(table)
        if alias is not None:
            return {(self.inputs[alias][0], column)}
        return set()


def _table_name(node: exp.Expr | None) -> str | None:
    if isinstance(node, exp.Schema):
        node = node.this
    return node.name if isinstance(node, exp.Table) and node.name else None


def _unqualified(query: exp.Expr) -> exp.Expr:
    """Tables named by their last part only: the working schema (or a dbt relation's database and
    schema) is where they are, whatever the compiled SQL qualified them with."""
    for table in query.find_all(exp.Table):
        if table.args.get("db") is not None or table.args.get("catalog") is not None:
            table.set("db", None)
            table.set("catalog", None)
    return query
