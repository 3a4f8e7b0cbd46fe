-- One row per paid order, with who bought what and the amount in EUR.
CREATE TABLE orders_enriched AS
SELECT
    o.order_id,
    o.ordered_at,
    o.customer_id,
    c.name AS customer_name,
    c.country,
    co.currency,
    o.sku,
    p.name AS product_name,
    o.quantity,
    o.unit_price,
    o.quantity * o.unit_price AS amount,
    CAST(o.quantity * o.unit_price * r.eur_rate AS DECIMAL(14, 2)) AS amount_eur
FROM orders AS o
JOIN customers AS c ON c.customer_id = o.customer_id
JOIN products AS p ON p.sku = o.sku
JOIN countries AS co ON co.code = c.country
JOIN rates AS r ON r.currency = co.currency
WHERE o.status = 'paid';
