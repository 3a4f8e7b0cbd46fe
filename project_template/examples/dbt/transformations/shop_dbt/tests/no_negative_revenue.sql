-- A singular test: any row it returns fails `dbt build`.
select * from {{ ref('product_sales') }} where revenue_cents < 0
