CREATE FUNCTION shop.reserve_stock(p_product integer, p_qty integer)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE shop.products SET stock = stock - p_qty WHERE id = p_product AND stock >= p_qty;
  RETURN FOUND;
END
$$;

-- p_items: [{"product": 1, "qty": 2}, ...]
CREATE FUNCTION shop.cart_total(p_items jsonb)
RETURNS integer
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  total integer := 0;
  item jsonb;
BEGIN
  FOR item IN SELECT * FROM jsonb_array_elements(p_items) LOOP
    total := total + shop.price_with_tax(
      (SELECT price_cents FROM shop.products WHERE id = (item->>'product')::int)) * (item->>'qty')::int;
  END LOOP;
  RETURN total;
END
$$;

CREATE FUNCTION shop.place_order(p_customer integer, p_items jsonb)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  order_id integer;
  item jsonb;
BEGIN
  INSERT INTO shop.orders (customer_id, total_cents)
  VALUES (p_customer, shop.cart_total(p_items))
  RETURNING id INTO order_id;
  FOR item IN SELECT * FROM jsonb_array_elements(p_items) LOOP
    IF NOT shop.reserve_stock((item->>'product')::int, (item->>'qty')::int) THEN
      RAISE EXCEPTION 'out of stock: product %', item->>'product';
    END IF;
    INSERT INTO shop.order_items (order_id, product_id, qty, price_cents)
    SELECT order_id, id, (item->>'qty')::int, price_cents FROM shop.products WHERE id = (item->>'product')::int;
  END LOOP;
  RETURN order_id;
END
$$;

CREATE FUNCTION shop.order_summary(p_order integer)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
  SELECT jsonb_build_object('id', o.id, 'status', o.status, 'total_cents', o.total_cents)
  FROM shop.orders o WHERE o.id = p_order
$$;

CREATE PROCEDURE shop.cancel_order(p_order integer)
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE shop.orders SET status = 'cancelled' WHERE id = p_order AND status = 'placed';
END
$$;

CREATE FUNCTION shop.daily_revenue(p_day date)
RETURNS bigint
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT coalesce(sum(total_cents), 0) FROM shop.orders
  WHERE created_at >= p_day AND created_at < p_day + 1 AND status <> 'cancelled';
END;

CREATE PROCEDURE shop.restock(p_product integer, p_qty integer)
LANGUAGE sql
BEGIN ATOMIC
  UPDATE shop.products SET stock = stock + p_qty WHERE id = p_product;
END;
