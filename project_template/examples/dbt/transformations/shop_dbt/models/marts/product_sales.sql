-- Items sold and revenue per product, paid orders only.
select
    p.sku,
    p.product_name,
    sum(o.quantity) as items,
    sum(o.amount_cents) as revenue_cents
from {{ ref('stg_products') }} as p
join {{ ref('stg_orders') }} as o on o.sku = p.sku
join {{ ref('order_statuses') }} as s on s.status = o.status
where s.counts_as_revenue
group by p.sku, p.product_name
