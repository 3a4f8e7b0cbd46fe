"""Transformations: SQL run in an isolated working schema, dbt projects (dbt/) and containers."""
