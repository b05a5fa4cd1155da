-- Tables the demo shop's procedures read and write. Not managed by procver (tables are not
-- versioned); `procver dev` runs this before pushing the procedures.
CREATE SCHEMA IF NOT EXISTS shop;
CREATE TABLE IF NOT EXISTS shop.customers (
  id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS shop.products (
  id serial PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, price_cents int NOT NULL, stock int NOT NULL
);
CREATE TABLE IF NOT EXISTS shop.orders (
  id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES shop.customers, status text NOT NULL DEFAULT 'placed',
  total_cents int NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS shop.order_items (
  order_id int NOT NULL REFERENCES shop.orders, product_id int NOT NULL REFERENCES shop.products,
  qty int NOT NULL, price_cents int NOT NULL
);
INSERT INTO shop.customers (email, name)
SELECT 'customer' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 200) g
ON CONFLICT DO NOTHING;
INSERT INTO shop.products (sku, name, price_cents, stock)
SELECT 'SKU-' || g, 'Product ' || g, 100 + g * 37 % 5000, 1000000 FROM generate_series(1, 100) g
ON CONFLICT DO NOTHING;
-- Stamped by the products_stamp trigger, which procver points at the newest stamp_updated_at.
ALTER TABLE shop.products ADD COLUMN IF NOT EXISTS updated_at timestamptz;
