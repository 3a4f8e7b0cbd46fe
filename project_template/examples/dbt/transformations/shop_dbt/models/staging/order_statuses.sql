-- Which order statuses count as revenue (a seed would do, but on DuckDB a seed is a file dbt
-- reads, and a transformation there reads no files: docs/dbt.md).
select 'paid' as status, true as counts_as_revenue
union all select 'refunded', false
union all select 'cancelled', false
