-- One row per customer: paid orders and what they spent, in cents.
select
    c.customer_id,
    c.customer_name,
    c.country,
    count(o.order_id) as paid_orders,
    coalesce(sum(o.amount_cents), 0) as spent_cents,
    min(o.ordered_on) as first_order_on
from {{ ref('stg_customers') }} as c
left join {{ ref('stg_orders') }} as o
    on o.customer_id = c.customer_id
    and o.status in (select status from {{ ref('order_statuses') }} where counts_as_revenue)
group by c.customer_id, c.customer_name, c.country
