select customer_id, name as customer_name, country
from {{ source('inputs', 'customers') }}
