-- Activity after the first run: psql -d crm -f changes.sql, then run Headrace again.
UPDATE orders SET status = 'paid', updated_at = now() WHERE id = 101;      -- moves past the cursor
INSERT INTO orders (id, customer_id, sku, amount, status) VALUES (104, 3, 'BEAN-2', 29.70, 'paid');
UPDATE customers SET name = 'Bruno Caffè', email = 'ciao@example.com' WHERE id = 2;  -- upserted
INSERT INTO customers (id, name, country) VALUES (4, 'Dunes Coffee', 'MA');
