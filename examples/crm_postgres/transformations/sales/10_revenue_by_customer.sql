-- Paid revenue per customer; customers without paid orders show 0.
CREATE TABLE revenue_by_customer AS
SELECT
    c.id AS customer_id,
    c.name,
    c.country,
    count(o.id) AS paid_orders,
    coalesce(sum(o.amount), 0) AS revenue
FROM customers AS c
LEFT JOIN orders AS o ON o.customer_id = c.id AND o.status = 'paid'
GROUP BY c.id, c.name, c.country;
