CREATE FUNCTION shop.get_product(p_id integer)
RETURNS shop.products
LANGUAGE sql STABLE
AS $$ SELECT * FROM shop.products WHERE id = p_id $$;

CREATE FUNCTION shop.list_products(p_limit integer DEFAULT 20)
RETURNS SETOF shop.products
LANGUAGE sql STABLE
AS $$ SELECT * FROM shop.products ORDER BY name, id LIMIT p_limit $$;

-- Prices are stored without tax; 21% VAT since the rate change.
-- v3: no price below one cent after tax.
CREATE FUNCTION shop.price_with_tax(p_cents integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  RETURN greatest(round(p_cents * 1.21), 1);
END
$$;

CREATE FUNCTION shop.search_products(p_query text, p_limit integer DEFAULT 20)
RETURNS SETOF shop.products
LANGUAGE sql STABLE
AS $$
  SELECT * FROM shop.products WHERE name ILIKE '%' || p_query || '%' ORDER BY name LIMIT p_limit
$$;
