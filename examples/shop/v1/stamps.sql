-- A trigger next to its function: push points the trigger at the version compiled from this file
-- and moves it when the function changes.
CREATE FUNCTION shop.stamp_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER products_stamp BEFORE UPDATE ON shop.products
FOR EACH ROW EXECUTE FUNCTION shop.stamp_updated_at();

-- Properties: every version of price_with_tax carries them; they are not part of its hash.
COMMENT ON FUNCTION shop.price_with_tax(integer) IS 'Price in cents including VAT';
