-- Customer lookups used by the storefront and the back office.
CREATE FUNCTION shop.get_customer(p_id integer)
RETURNS TABLE (id integer, email text, name text)
LANGUAGE sql STABLE
AS $$
  SELECT c.id, c.email, c.name   -- reformatted in v3: still the same version
    FROM shop.customers c
   WHERE c.id = p_id
$$;

CREATE FUNCTION shop.find_customer_by_email(p_email text)
RETURNS integer
LANGUAGE sql STABLE
AS $$ SELECT id FROM shop.customers WHERE email = lower(p_email) $$;

CREATE FUNCTION shop.customer_orders(p_customer integer, p_limit integer DEFAULT 10)
RETURNS SETOF shop.orders
LANGUAGE sql STABLE
AS $$
  SELECT * FROM shop.orders WHERE customer_id = p_customer ORDER BY created_at DESC LIMIT p_limit
$$;
