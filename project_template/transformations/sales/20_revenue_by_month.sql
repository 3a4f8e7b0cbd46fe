-- Monthly revenue per country, in EUR.
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
