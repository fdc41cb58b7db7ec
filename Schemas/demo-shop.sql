-- Freshet demo database: a small shop. Used by Tools/demo, Tools/loadgen, the end-to-end tests and Tools/bench.
-- Covers the types Freshet maps: int2/4/8, numeric (constrained and not), text/varchar, bool, uuid, date,
-- timestamp, timestamptz, jsonb, json, bytea, arrays, an enum, and a large (TOASTed) text column.
-- Idempotent: safe to run on a database that already has it.

CREATE SCHEMA IF NOT EXISTS shop;

DO $$ BEGIN
    CREATE TYPE shop.order_status AS ENUM ('new', 'paid', 'shipped', 'delivered', 'cancelled');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS shop.shops (
    id          int PRIMARY KEY,
    name        text NOT NULL,
    country     char(2) NOT NULL,
    opened_on   date NOT NULL,
    settings    jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS shop.customers (
    id          bigint PRIMARY KEY,
    shop_id     int NOT NULL,
    email       varchar(200) NOT NULL,
    name        text,
    tags        text[] NOT NULL DEFAULT '{}',
    external_id uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    vip         boolean NOT NULL DEFAULT false,
    notes       text            -- sometimes large: TOASTed, left unchanged by most updates
);

CREATE TABLE IF NOT EXISTS shop.orders (
    id           bigint PRIMARY KEY,
    shop_id      int NOT NULL,
    customer_id  bigint NOT NULL,
    status       shop.order_status NOT NULL DEFAULT 'new',
    total        numeric(12,2) NOT NULL,
    discount     numeric,        -- unconstrained: stored as exact text
    currency     char(3) NOT NULL DEFAULT 'EUR',
    items        int2 NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    ship_by      date,
    local_time   timestamp,
    attrs        jsonb,
    raw          json,
    weight_kg    float8,
    rating       float4,
    signature    bytea
);

CREATE TABLE IF NOT EXISTS shop.line_items (
    order_id     bigint NOT NULL,
    line_no      int NOT NULL,
    sku          text NOT NULL,
    quantity     int NOT NULL,
    unit_price   numeric(10,2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE SEQUENCE IF NOT EXISTS shop.order_ids START 1000000;

-- shop.seed(n_orders): fills the tables with deterministic data (n_orders orders, ~2.5 line items each).
CREATE OR REPLACE FUNCTION shop.seed(n_orders bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO shop.shops
    SELECT s, 'Shop ' || s, (ARRAY['DE','FR','NL','US','JP'])[1 + s % 5], date '2020-01-01' + s,
           jsonb_build_object('theme', 'blue', 'id', s)
    FROM generate_series(1, 20) s ON CONFLICT DO NOTHING;
    INSERT INTO shop.customers
    SELECT c, 1 + c % 20, 'user' || c || '@example.com', 'Customer ' || c,
           ARRAY['tag' || (c % 7), 'group ' || (c % 3)],
           md5(c::text)::uuid, timestamptz '2024-01-01 00:00:00+00' + c * interval '1 minute', c % 10 = 0,
           CASE WHEN c % 50 = 0 THEN repeat('long note ' || c || ' ', 500) ELSE 'note ' || c END
    FROM generate_series(1, greatest(n_orders / 10, 10)) c ON CONFLICT DO NOTHING;
    INSERT INTO shop.orders
    SELECT o, 1 + o % 20, 1 + o % greatest(n_orders / 10, 10),
           (ARRAY['new','paid','shipped','delivered','cancelled']::shop.order_status[])[1 + o % 5],
           round((o % 100000) / 7.0, 2), CASE WHEN o % 3 = 0 THEN (o % 17) / 3.0 END, 'EUR', (1 + o % 5)::int2,
           timestamptz '2024-01-01 00:00:00+00' + o * interval '1 second',
           timestamptz '2024-01-01 00:00:00+00' + o * interval '1 second',
           date '2024-02-01' + (o % 30)::int, timestamp '2024-01-01 12:00:00' + o * interval '1 second',
           jsonb_build_object('gift', o % 2 = 0, 'channel', 'web'),
           ('{"o": ' || o || '}')::json, (o % 1000) / 10.0, (o % 5)::float4, decode(md5(o::text), 'hex')
    FROM generate_series(1, n_orders) o ON CONFLICT DO NOTHING;
    INSERT INTO shop.line_items
    SELECT o, l, 'SKU-' || ((o * 7 + l) % 5000), 1 + (o + l) % 4, round(((o + l) % 10000) / 9.0, 2)
    FROM generate_series(1, n_orders) o, generate_series(1, 2 + (o % 2)::int) l ON CONFLICT DO NOTHING;
$$;
