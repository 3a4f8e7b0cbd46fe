-- An assertion (its name ends in .assert.sql): one query whose rows' message column checks the
-- data. A message starting with ERROR fails the task before anything is published; WARNING is
-- reported and the task goes on; other rows say nothing (docs/transformations.md, "Assertions").
SELECT 'ERROR: order ' || CAST(order_id AS VARCHAR) || ' has no amount in EUR' AS message
FROM orders_enriched
WHERE amount_eur IS NULL OR amount_eur < 0
