select sku, name as product_name, price
from {{ source('inputs', 'products') }}
