-- pgbench script for Tools/loadgen: one small shop transaction per run, mixing inserts, updates
-- (including updates that leave the large TOASTed customers.notes unchanged) and deletes.
\set kind random(1, 100)
\set pick random(0, 99)
\set cid random(1, 1000)
\if :kind <= 40
BEGIN;
WITH o AS (
  INSERT INTO shop.orders (id, shop_id, customer_id, status, total, discount, items, created_at, updated_at,
                           ship_by, local_time, attrs, raw, weight_kg, rating, signature)
  VALUES (nextval('shop.order_ids'), 1 + :cid % 20, :cid, 'new', round(random()::numeric * 500, 2),
          CASE WHEN :kind % 2 = 0 THEN round(random()::numeric, 3) END, 1 + :kind % 5, now(), now(),
          current_date + 7, localtimestamp, jsonb_build_object('k', :kind), '{"gen": true}',
          random() * 10, random()::float4, '\xdeadbeef')
  RETURNING id)
INSERT INTO shop.line_items SELECT o.id, l, 'SKU-' || (:pick + l), l, 9.99 FROM o, generate_series(1, 2) l;
COMMIT;
\elif :kind <= 75
UPDATE shop.orders SET status = 'paid', updated_at = now(), total = total + 1
  WHERE id = (SELECT max(id) - :pick FROM shop.orders);
\elif :kind <= 90
UPDATE shop.customers SET vip = NOT vip WHERE id = :cid;
\else
DELETE FROM shop.orders WHERE id = (SELECT max(id) - 50 - :pick FROM shop.orders);
\endif
