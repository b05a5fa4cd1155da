-- The shop before v1: older versions of four procedures, kept by the demo to show the lifecycle
-- (retired, quarantined, dropped). No demo deployment references them.

-- Prices are stored without tax; 19% VAT (before the rate changed).
CREATE FUNCTION shop.price_with_tax(p_cents integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  RETURN round(p_cents * 1.19);
END
$$;

CREATE FUNCTION shop.get_product(p_id integer)
RETURNS shop.products
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  r shop.products;
BEGIN
  SELECT * INTO r FROM shop.products WHERE id = p_id;
  RETURN r;
END
$$;

CREATE FUNCTION shop.list_products(p_limit integer)
RETURNS SETOF shop.products
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN QUERY SELECT * FROM shop.products ORDER BY name LIMIT p_limit;
END
$$;

CREATE FUNCTION shop.daily_revenue(p_day date)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN (SELECT coalesce(sum(total_cents), 0) FROM shop.orders WHERE created_at::date = p_day);
END
$$;
