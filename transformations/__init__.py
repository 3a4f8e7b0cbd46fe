"""Transformations: SQL run in an isolated working schema (dbt and containers later)."""
