select
    order_id,
    customer_id,
    sku,
    quantity,
    unit_price,
    status,
    {{ to_cents('quantity * unit_price') }} as amount_cents,
    cast(ordered_at as date) as ordered_on
from {{ source('inputs', 'orders') }}
