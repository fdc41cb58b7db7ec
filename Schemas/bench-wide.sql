-- Freshet bench schema "wide" (Tools/bench --schema wide, issue 14): a shop like Schemas/demo-shop.sql, but with the
-- types that have no native binary reader in Freshet's snapshot and rows of about 1-2 kB on average:
-- jsonb, uuid, text[] and int[] arrays, char(n), inet, interval, bytea and TOASTed text (out of line: incompressible).
-- wide.seed(n_orders) fills it deterministically: n/10 customers, n orders, ~2.5 line items per order.
-- Idempotent: safe to run on a database that already has it.

CREATE SCHEMA IF NOT EXISTS wide;

CREATE TABLE IF NOT EXISTS wide.customers (
    id           bigint PRIMARY KEY,
    external_id  uuid NOT NULL,
    email        text NOT NULL,
    name         text NOT NULL,
    country      char(2) NOT NULL,
    tags         text[] NOT NULL,
    last_ip      inet,
    profile      jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    notes        text                 -- ~700 B on average, every 25th ~6 kB (TOASTed, out of line)
);

CREATE TABLE IF NOT EXISTS wide.orders (
    id              bigint PRIMARY KEY,
    uid             uuid NOT NULL,
    customer_id     bigint NOT NULL,
    status          text NOT NULL,
    currency        char(3) NOT NULL,
    total           numeric(12,2) NOT NULL,
    item_ids        int[] NOT NULL,
    tags            text[] NOT NULL,
    attrs           jsonb NOT NULL,   -- ~450 B
    client_ip       inet NOT NULL,
    delivery_window interval NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    signature       bytea NOT NULL,   -- 32 B
    comment         text              -- ~650 B on average, every 20th ~6 kB (TOASTed, out of line)
);

CREATE TABLE IF NOT EXISTS wide.line_items (
    order_id     bigint NOT NULL,
    line_no      int NOT NULL,
    sku          char(12) NOT NULL,
    quantity     int NOT NULL,
    unit_price   numeric(10,2) NOT NULL,
    dims         int[] NOT NULL,
    lead_time    interval NOT NULL,
    options      jsonb NOT NULL,      -- ~150 B
    description  text NOT NULL,       -- ~900 B, inline
    PRIMARY KEY (order_id, line_no)
);

CREATE SEQUENCE IF NOT EXISTS wide.order_ids START 1000000;

-- 64 kB of hex digits (incompressible for pglz): text columns are slices of it, so long values stay long when TOASTed.
-- bytea, because substr of a long text walks its characters from the start.
CREATE OR REPLACE FUNCTION wide.pool() RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(string_agg(md5(g::text), '' ORDER BY g), 'UTF8') FROM generate_series(1, 2048) g
$$;

-- wide.slice(seed, len): len characters (len <= 30000) of the pool starting at a position derived from seed.
CREATE OR REPLACE FUNCTION wide.slice(pool bytea, seed bigint, len int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_from(substr(pool, 1 + ((seed * 7919) % 32000)::int, len), 'UTF8')
$$;

CREATE OR REPLACE FUNCTION wide.seed(n_orders bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO wide.customers
    SELECT c, md5('c' || c)::uuid, 'user' || c || '@example.com', 'Customer ' || c,
           (ARRAY['DE','FR','NL','US','JP'])[1 + c % 5],
           ARRAY['tag' || (c % 7), 'group ' || (c % 3), 'seg-' || (c % 11)],
           ('10.' || (c / 65536) % 256 || '.' || (c / 256) % 256 || '.' || c % 256)::inet,
           jsonb_build_object('lang', 'de', 'newsletter', c % 2 = 0, 'score', c % 97,
                              'address', jsonb_build_object('street', 'Street ' || c, 'city', 'City ' || c % 300,
                                                            'zip', lpad((c % 99999)::text, 5, '0'))),
           timestamptz '2024-01-01 00:00:00+00' + c * interval '1 minute',
           wide.slice(p.pool, c, CASE WHEN c % 25 = 0 THEN 6000 ELSE 200 + (c % 1000)::int END)
    FROM generate_series(1, greatest(n_orders / 10, 10)) c, (SELECT wide.pool() AS pool) p ON CONFLICT DO NOTHING;
    INSERT INTO wide.orders
    SELECT o, md5('o' || o)::uuid, 1 + o % greatest(n_orders / 10, 10),
           (ARRAY['new','paid','shipped','delivered','cancelled'])[1 + o % 5],
           (ARRAY['EUR','USD','JPY'])[1 + o % 3], round((o % 100000) / 7.0, 2),
           ARRAY[(o % 5000)::int, (o * 7 % 5000)::int, (o * 13 % 5000)::int],
           ARRAY['web', 'promo-' || (o % 13)],
           jsonb_build_object('gift', o % 2 = 0, 'channel', 'web', 'device', 'mobile-' || o % 9,
                              'utm', jsonb_build_object('source', 'newsletter', 'campaign', 'c' || o % 101),
                              'note', wide.slice(p.pool, o + 1, 300)),
           ('192.168.' || (o / 256) % 256 || '.' || o % 256)::inet,
           make_interval(days => (o % 7)::int, hours => (o % 24)::int),
           timestamptz '2024-01-01 00:00:00+00' + o * interval '1 second',
           timestamptz '2024-01-01 00:00:00+00' + o * interval '1 second',
           sha256(int8send(o)),
           wide.slice(p.pool, o, CASE WHEN o % 20 = 0 THEN 6000 ELSE 100 + (o % 700)::int END)
    FROM generate_series(1, n_orders) o, (SELECT wide.pool() AS pool) p ON CONFLICT DO NOTHING;
    INSERT INTO wide.line_items
    SELECT o, l, 'SKU-' || lpad(((o * 7 + l) % 5000)::text, 8, '0'), 1 + (o + l) % 4,
           round(((o + l) % 10000) / 9.0, 2), ARRAY[(10 + o % 50)::int, (20 + l)::int, 5],
           make_interval(days => ((o + l) % 30)::int),
           jsonb_build_object('color', (ARRAY['red','green','blue'])[1 + (o + l) % 3], 'size', 'M', 'wrap', l % 2 = 0),
           wide.slice(p.pool, o * 3 + l, 700 + ((o + l) % 400)::int)
    FROM generate_series(1, n_orders) o, generate_series(1, 2 + (o % 2)::int) l, (SELECT wide.pool() AS pool) p
    ON CONFLICT DO NOTHING;
$$;
