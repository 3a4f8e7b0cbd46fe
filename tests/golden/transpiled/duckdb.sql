-- transformations/marketing/10_conversion.sql, line 1
CREATE TABLE conversion_by_country AS
WITH s AS (
    SELECT country, CAST(date_trunc('month', CAST(started_at AS DATE)) AS DATE) AS month,
           count(*) AS sessions, count(*) FILTER (WHERE converted) AS converted_sessions
    FROM sessions
    GROUP BY ALL
), o AS (
    SELECT country, CAST(date_trunc('month', CAST(ordered_at AS DATE)) AS DATE) AS month,
           count(*) AS paid_orders, sum(amount_eur) AS revenue_eur
    FROM orders
    GROUP BY ALL
)
SELECT s.month, s.country, s.sessions, s.converted_sessions,
       coalesce(o.paid_orders, 0) AS paid_orders,
       coalesce(o.revenue_eur, 0) AS revenue_eur,
       round(coalesce(o.paid_orders, 0) / s.sessions, 4) AS orders_per_session
FROM s LEFT JOIN o USING (country, month)
ORDER BY s.month, s.country;

-- transformations/sales/10_orders_enriched.sql, line 2
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

-- transformations/sales/15_orders_enriched.assert.sql, line 4
SELECT 'ERROR: order ' || CAST(order_id AS VARCHAR) || ' has no amount in EUR' AS message
FROM orders_enriched
WHERE amount_eur IS NULL OR amount_eur < 0;

-- transformations/sales/20_revenue_by_month.sql, line 2
CREATE TABLE revenue_by_month AS
SELECT
    CAST(date_trunc('month', CAST(ordered_at AS DATE)) AS DATE) AS month,
    country,
    count(*) AS orders,
    sum(quantity) AS items,
    sum(amount_eur) AS revenue_eur
FROM orders_enriched
GROUP BY ALL
ORDER BY month, country;
