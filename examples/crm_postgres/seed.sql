-- A small CRM to extract from: psql -d crm -f seed.sql
CREATE TYPE order_status AS ENUM ('new', 'paid', 'cancelled');
CREATE TABLE customers (
    id integer PRIMARY KEY, name text NOT NULL, email text, phone text, country char(2),
    tags text[], created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE products (
    sku text PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, tags jsonb, active boolean NOT NULL
);
CREATE TABLE orders (
    id bigint PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers, sku text REFERENCES products,
    amount numeric(12,2) NOT NULL, status order_status NOT NULL, is_test boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_updated_at ON orders (updated_at);   -- incremental reads use it

INSERT INTO customers (id, name, email, phone, country, tags) VALUES
    (1, 'Ada Roasters', 'ada@example.com', '+44 20 0000', 'GB', '{wholesale}'),
    (2, 'Bruno Café', '', NULL, 'IT', '{}'),
    (3, 'Chai & Co', NULL, '+1 555 0100', 'US', '{retail,"new, promising"}');
INSERT INTO products VALUES
    ('BEAN-1', 'House blend 1kg', 18.50, '{"origin": ["BR", "ET"]}', true),
    ('BEAN-2', 'Single origin 250g', 9.90, '{"origin": ["KE"]}', true),
    ('OLD-1', 'Discontinued', 1.00, NULL, false);
INSERT INTO orders (id, customer_id, sku, amount, status, is_test, updated_at) VALUES
    (100, 1, 'BEAN-1', 185.00, 'paid', false, '2024-05-01 09:00:00+02'),
    (101, 2, 'BEAN-2', 19.80, 'new', false, '2024-05-01 10:00:00+02'),
    (102, 3, 'BEAN-1', 18.50, 'paid', false, '2024-05-02 08:30:00-04'),
    (103, 1, 'BEAN-2', 0.01, 'paid', true, '2024-05-02 12:00:00+00');
