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
