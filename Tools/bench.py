#!/usr/bin/env python3
"""bench: Freshet against the physical limits, measured in the same run on the same data (issues 7 and 14).

    Tools/bench [--schema all|shop,wide,pgbench] [--orders N] [--wide-orders N] [--pgbench-scale S] [--runs K]
                [--big-tx-rows N] [--small-tx N] [--backlog-seconds S] [--rate TX_PER_S] [--freshness-seconds S]
                [--max-age-ms N] [--freshet BIN] [--only snapshot,catchup,freshness,query,clickhouse]
                [--keep-templates] [--keep-work] [--out FILE]

Runs on the sandbox PostgreSQL (Tools/pg-sandbox), one bench schema after the other (--schema, default all three),
each in a database of its own, `freshet_bench_NAME`, made fresh from a seeded template database
`freshet_bench_template_NAME`, so every --freshet binary compared sees the same data:
  shop     the demo shop (Schemas/demo-shop.sql), `shop.seed(N)`: N = --orders (default 1,000,000) orders, N/10
           customers, 20 shops, ~2.5 line items per order; loaded by Tools/loadgen.
  wide     Schemas/bench-wide.sql, `wide.seed(N)`: N = --wide-orders (default --orders / 4) orders of ~1.4 kB,
           N/10 customers of ~1.2 kB, ~2.5 line items of ~1 kB per order; jsonb, uuid, text[]/int[], char(n), inet,
           interval, bytea and out-of-line TOASTed text (every 20th order, every 25th customer); loaded by a pgbench
           script like Tools/loadgen's (written to the work dir).
  pgbench  `pgbench -i -s S` (S = --pgbench-scale, default --orders / 100,000), with an identity key added to
           pgbench_history; loaded by `pgbench -b simple-update`.
Each template also gets an empty `bench_probe` table for the quiet-table probe. The bench databases, their slots
and (unless --keep-templates, which keeps them for the next run) the templates are dropped at the end, also on
failure or Ctrl-C. Each measure runs K times per schema (default 3; all runs of one measure before the next, so the
snapshots read the data as seeded) and the median of the runs is reported for every number, peak RSS included.
Work files (stores, logs) live in ${TMPDIR:-/tmp}/freshet-bench-XXXXXX/NAME, removed at the end (kept, and named
in the log, when the run failed or with --keep-work, to query or profile the stores afterwards). On the 2-core
development VM, a default-size run of all three schemas took 12 minutes with --runs 1 (seeding included); the default --runs 3 takes about 30.

Measures
  1. snapshot: `freshet run` into a fresh store (new slot and publication) until its log says `snapshot.committed`
     (start-up included), versus the read limit, `COPY t TO STDOUT (FORMAT binary)` of the schema's tables one
     after the other to /dev/null (its byte count, measured once, gives the MB/s of both), and versus
     `pg_dump -Fc -Z0 --schema=S` to /dev/null (what a nightly clone costs). Ratio = COPY time / Freshet time.
  2. catch-up: three backlogs, each made while Freshet is stopped and ended by a marker transaction
     (`pg_logical_emit_message(true, 'freshet', 'bench-end')`, whose LSN is END). First an untimed `freshet run`
     brings the store up to the current WAL position and waits until its merger is idle (pending merges 0 for 3 s:
     what the snapshot or the previous backlog left is compacted and settled, so the timed run does only its own
     backlog's work, merges included); then the reference slot is made as a copy of Freshet's slot
     (pg_copy_logical_replication_slot: same restart_lsn and confirmed position), so neither decoder reads WAL the
     other does not. `freshet run` (resuming
     its slot; its time includes start-up) is done when STORE/store.json's checkpointLSN >= END; `pg_recvlogical
     --endpos=END` drains the reference slot to /dev/null. The order of the two alternates between runs (the second
     reader finds the WAL in the page cache). Ratio = pg_recvlogical time / Freshet time. pg_recvlogical asks for
     protocol 2 with streaming, as Freshet does by default (until session 5 both used protocol 1; docs/tuning.md §17).
       a. one big transaction: UPDATE of --big-tx-rows line items (default 1,000,000; pgbench: accounts); rows/s.
       b. --small-tx one-row UPDATE transactions on orders (pgbench: accounts) (default 200,000), pgbench at full
          speed, 4 clients; tx/s.
       c. mixed: the schema's load at --rate tx/s (default 3000) for --backlog-seconds (default 15); tx/s.
     Also reported: the time of the sync run before each backlog (start-up plus one marker, nothing to catch
     up), to show how much of Freshet's catch-up time is start-up.
     Transactions come from pgbench's "number of transactions actually processed", rows from the statement's
     command tag (a) or from the pg_stat_user_tables insert/update/delete counters of the schema's tables (b, c).
  3. freshness: `freshet run` caught up (with --metrics on a free loopback port, --max-age-ms passed through when
     given) and its merger idle (every table's freshet_table_pending_merges 0 for 3 s: the snapshot's parts or the
     backlogs' parts compacted and settled, as in a store that has been running; the wait is reported), then the
     schema's load at 2000 tx/s, 16 clients for --freshness-seconds (default 30). After a 5 s warm-up
     and again when the load ends, /metrics is scraped; from the difference of the `freshet_commit_lag_seconds`
     bucket counts come p50/p95/p99 (linear interpolation within the bucket, as Prometheus' histogram_quantile).
     Each observation of that histogram is one source transaction: its commit time on the source to the store
     commit that made it visible. CPU = delta of Freshet's utime+stime (/proc/PID/stat) over the same wall-clock window,
     in cores. Also the rate pgbench achieved (its tps) and Freshet's peak RSS.
     Quiet table (issue 14): from the end of the warm-up to the end of the load, one row is inserted 10 times a
     second into `bench_probe` (one psql session, autocommit), and pg_current_wal_lsn() read right after its commit;
     the probe's lag runs from just before the INSERT until store.json's checkpointLSN (polled every 2 ms) reaches
     that LSN. Exact p50/p95/p99 of the probes (the LSN read may include a few microseconds of other sessions'
     WAL, so a probe may wait for one store commit more than its own: the figure errs high).
  4. memory: peak RSS (VmHWM in /proc/PID/status, read just before SIGTERM) of Freshet in 1, 2a, 2b, 2c and 3.
  6. clickhouse (only with --only ...,clickhouse; needs Tools/install-deps --clickhouse): Tools/clickhouse-sandbox's
     server (Debian's 18.16) on loopback. `freshet run --clickhouse` into a fresh database `freshet_bench_NAME` (the
     store's clickhouse.json removed first): the first copy of every table (rows/s from the `clickhouse.shipped` log
     lines); then ClickHouse is stopped, the big transaction of 2a is committed to the store, ClickHouse started
     again, and the backlog drained (rows/s of that insert from its `clickhouse.shipped` line: the time from reading
     the store to ClickHouse's acknowledgement, not the retry back-off before it) versus ClickHouse's own ingest of
     the same rows in the same run: as many rows of the same table fetched as RowBinary (FINAL) and POSTed as one
     `INSERT ... FORMAT RowBinary` into a copy of the table, timed; and the same rows in two halves POSTed at once
     (two connections, as the sink sends a backlog of >= 100,000 rows). The drained table is the big transaction's:
     shop's line_items (7 ClickHouse columns with `_version` and `_deleted`, ~45 B a row in RowBinary, like the
     issue's 7-column reference), wide's line items, pgbench's accounts (~100 B a row); the report names its columns
     and bytes a row, and the load average at the end of the drain. Then the 2,000 tx/s load of phase 3 with
     `freshet_clickhouse_lag_seconds` (source commit to ClickHouse's acknowledgement) sampled every 250 ms after the
     warm-up: p50 / p90 / max. Last, every table's `count() FINAL WHERE _deleted = 0` against PostgreSQL's count.
  5. storage and query: bytes of STORE/tables right after the initial snapshot versus the sum of
     pg_total_relation_size of the schema's tables; and, on the shop and wide schemas, `SELECT status, count(*),
     sum(total) FROM orders GROUP BY status ORDER BY status` after 5% of the orders were updated spread over the whole
     key range (10 transactions, so the new parts overlap every older one). The updates are made on a settled table:
     first a `freshet run` catches up and waits until its merger has settled orders (what the snapshot and earlier
     phases left), then stops. After the updates a `freshet run` catches up and keeps
     running; the query is measured right after the catch-up (recent parts overlap the settled ones), and again once
     its merger has settled the table (one part per partition, `StoreOptions.settle`), each time in PostgreSQL (psql
     \\timing), in DuckDB (in-process) through a view created once from `freshet sql SCHEMA.orders --dialect duckdb
     --view orders`, and in DuckDB over the same parts without dedup (`freshet sql --raw`), each one untimed warm-up
     then median of 5.
     Both must give the same groups, counts and sums (to the cent), else the bench fails.

Output: the machine (nproc and load average at the start and the end, the run's duration), a side-by-side table
(one column per schema: each ratio against its reference of the same run, lags, peak RSS per phase), then per
schema a markdown table (measure | Freshet | limit / reference | ratio | target) and a freshness table, each with
the issues' targets marked met / not met; the same markdown (with date and command line) goes to --out (default
docs/bench.md). --only runs a subset (the tables then hold only those rows); the default is every phase but
clickhouse. Child processes are killed and the
bench's slots, publications and databases dropped on exit, also on Ctrl-C.
"""
import argparse
import datetime as dt
import decimal
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PGBIN = "/usr/lib/postgresql/15/bin"
PUBLICATION = "freshet_bench"         # one per bench database
PHASES = ["snapshot", "catchup", "freshness", "query", "clickhouse"]
DEFAULT_PHASES = PHASES[:4]            # clickhouse only when asked (--only ...,clickhouse): it needs clickhouse-server
PROBE_RATE = 10                        # quiet-table probe: rows inserted per second during the freshness load
# 16 clients: with fsync on, one client commits a few hundred tx/s, so 4 cannot keep 2,000 tx/s on schedule.
FRESHNESS_RATE, FRESHNESS_CLIENTS, WARMUP_SECONDS = 2000, 16, 5
WAIT_LIMIT = 3 * 3600       # seconds any single wait may take before the bench gives up
MIB = 1024 * 1024
QUERY = "SELECT status, count(*) AS n, sum(total) AS total FROM orders GROUP BY status ORDER BY status"

# Targets from issue 7; the p99 lag target is issue 14's (≤ 100 ms for every table, quiet ones included).
T_SNAPSHOT, T_CATCHUP, T_P50_MS, T_P99_MS, T_CORES, T_RSS_MB, T_STORE = 0.9, 1.0, 100, 100, 0.5, 300, 0.4


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------- output

def redact(text):
    """Hides the password of any URL (`://user:secret@` becomes `://user:***@`)."""
    return re.sub(r"(://[^:/@\s]+):[^@\s]*@", r"\1:***@", str(text))


def log(msg):
    print("bench: " + redact(msg), file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values) if values else None


def fmt_int(x):
    return f"{x:,.0f}"


def mib(n):
    return f"{n / MIB:,.0f} MiB"


def verdict(ok):
    return "met" if ok else "**not met**"


# ------------------------------------------------------------------------------------------------ child processes

class Children:
    """Every long-running child, each in its own process group, so it (and what it spawned) can be ended."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def end_all(self):
        """SIGTERM to each running child's process group (Freshet flushes and exits), SIGKILL after 30 s."""
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=30)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        self.procs = [p for p in self.procs if p.poll() is None]


CHILDREN = Children()


def run(argv, check=True, **kw):
    """Runs a short command, capturing its output; fails (with the redacted stderr) on a non-zero exit."""
    out = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and out.returncode != 0:
        raise BenchError(f"{os.path.basename(argv[0])} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return out


def proc_status_bytes(pid, field):
    """A `kB` field of /proc/PID/status (e.g. VmHWM, the peak RSS) in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise BenchError(f"no {field} in /proc/{pid}/status")


def cpu_seconds(pid):
    """utime + stime of a process (fields 14 and 15 of /proc/PID/stat), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()    # fields[0] is field 3 (state)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------------------- postgres

class Postgres:
    """psql -X -tA against one database URL."""

    def __init__(self, url):
        self.url = url

    def query(self, sql):
        out = run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                  env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))
        return out.stdout.strip()

    def value(self, sql):
        """The first line of the result ("" when there is none)."""
        lines = self.query(sql).splitlines()
        return lines[0] if lines else ""

    def command_tag(self, sql):
        """Runs one statement and returns its command tag (e.g. `UPDATE 1000000`)."""
        out = run(["psql", "-X", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql])
        return out.stdout.strip().splitlines()[-1]

    def emit_marker(self):
        """The end of a backlog: a transactional logical message; returns its LSN as text and as an integer."""
        row = self.query("SELECT l, l - '0/0' FROM pg_logical_emit_message(true, 'freshet', 'bench-end') l")
        lsn, num = row.split("|")
        return lsn, int(num)

    def row_changes(self, schema):
        """Inserted + updated + deleted rows of the tables of `schema` so far (pg_stat_user_tables)."""
        return int(self.value("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables "
                              f"WHERE schemaname = '{schema}'"))

    def drop_slots(self, slots):
        """Drops the named slots of the cluster (waiting up to 10 s for their walsenders to go)."""
        names = ", ".join(f"'{s}'" for s in slots)
        for attempt in range(20):
            active = self.value(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ({names}) AND active")
            self.query(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                       f"WHERE slot_name IN ({names}) AND NOT active")
            if active == "0":
                break
            time.sleep(0.5)

    def drop_bench_objects(self, spec):
        """Drops the bench's slots of `spec` (when no walsender holds them) and its publication."""
        self.drop_slots([spec.slot, spec.ref_slot])
        self.query(f"DROP PUBLICATION IF EXISTS {PUBLICATION}")


def with_database(url, name):
    return url.rsplit("/", 1)[0] + "/" + name


def psql_file(url, path):
    run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-f", path],
        env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))


def file_md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def database_exists(admin, name):
    return admin.value(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def prepare_database(base_url, spec, a):
    """(Re)creates the schema's bench database from a seeded template database (seeded once per size and schema
    version while --keep-templates keeps it; otherwise dropped at the end of the run)."""
    admin = Postgres(base_url)
    template = Postgres(with_database(base_url, spec.template))
    fingerprint = spec.fingerprint(a)
    current = admin.value(f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{spec.template}'")
    if current != fingerprint:
        log(f"[{spec.name}] seeding a template database: {spec.size_text(a)} ...")
        admin.query(f"DROP DATABASE IF EXISTS {spec.template}")
        admin.query(f"CREATE DATABASE {spec.template}")
        spec.seed(template, a)
        # The quiet-table probe's table (issue 14): empty until the freshness phase inserts PROBE_RATE rows a second.
        template.query(f'CREATE TABLE "{spec.pg_schema}".bench_probe (id bigserial PRIMARY KEY, '
                       'at timestamptz NOT NULL DEFAULT clock_timestamp())')
        template.query("VACUUM (FREEZE, ANALYZE)")
        admin.query(f"COMMENT ON DATABASE {spec.template} IS '{fingerprint}'")
    bench = Postgres(with_database(base_url, spec.db))
    if database_exists(admin, spec.db):
        bench.drop_bench_objects(spec)
        admin.query(f"DROP DATABASE {spec.db}")
    admin.query(f"CREATE DATABASE {spec.db} TEMPLATE {spec.template} STRATEGY FILE_COPY")
    return bench


def drop_databases(base_url, spec, keep_template):
    """Drops the schema's slots, its bench database and (unless kept) its template."""
    admin = Postgres(base_url)
    admin.drop_slots([spec.slot, spec.ref_slot])
    admin.query(f"DROP DATABASE IF EXISTS {spec.db}")
    if not keep_template:
        admin.query(f"DROP DATABASE IF EXISTS {spec.template}")


# ------------------------------------------------------------------------------------------------- bench schemas

class Spec:
    """One bench schema: its databases, slots, tables, seeding and workloads."""
    name = pg_schema = None
    tables = []

    @property
    def db(self):
        return f"freshet_bench_{self.name}"

    @property
    def template(self):
        return f"freshet_bench_template_{self.name}"

    @property
    def slot(self):
        return f"freshet_bench_{self.name}"

    @property
    def ref_slot(self):
        return f"freshet_bench_{self.name}_ref"

    def pgbench_load(self, url, rate, seconds, clients, script_args):
        """pgbench at a fixed rate for `seconds` (the mixed backlog and the freshness load)."""
        return [f"{PGBIN}/pgbench", "-n", *script_args, "-c", str(clients), "-j", "1", "-R", str(rate),
                "-T", str(seconds), "-P", "10", url]


class ShopLikeSpec(Spec):
    """A shop schema file (`path`) with `S.seed(n)`, the sequence `S.order_ids` and tables orders and line_items."""
    path = None

    def orders(self, a):
        """The seed's number of orders."""
        raise NotImplementedError

    def size_text(self, a):
        return f"{self.pg_schema}.seed({self.orders(a):,})"

    def fingerprint(self, a):
        return f"{self.pg_schema}.seed({self.orders(a)}) schema-md5 {file_md5(self.path)} probe 1"

    def seed(self, pg, a):
        psql_file(pg.url, self.path)
        s = self.pg_schema
        pg.query(f"SELECT {s}.seed({self.orders(a)})")
        pg.query(f"SELECT setval('{s}.order_ids', greatest((SELECT max(id) FROM {s}.orders), 1000000))")

    def big_tx_sql(self, pg, n):
        s = self.pg_schema
        last = pg.value(f"SELECT order_id FROM {s}.line_items ORDER BY order_id OFFSET {n - 1} LIMIT 1") or \
            pg.value(f"SELECT max(order_id) FROM {s}.line_items")
        return f"UPDATE {s}.line_items SET quantity = quantity + 1 WHERE order_id <= {last}"

    def small_tx_script(self, a):
        # Seeded ids 1..N/2 stay (the loads delete only near the newest order): one row per transaction. On the wide
        # schema each update rewrites a whole ~1.4 kB orders row; out-of-line comments stay unchanged (TOAST).
        return (f"\\set id random(1, {max(1, self.orders(a) // 2)})\n"
                f"UPDATE {self.pg_schema}.orders SET total = total + 0.01, updated_at = now() WHERE id = :id;\n")


class ShopSpec(ShopLikeSpec):
    """The demo shop (Schemas/demo-shop.sql), loaded by Tools/loadgen."""
    name, pg_schema, load_name = "shop", "shop", "Tools/loadgen"
    tables = ["shop.shops", "shop.customers", "shop.orders", "shop.line_items"]
    path = os.path.join(ROOT, "Schemas", "demo-shop.sql")

    def orders(self, a):
        return a.orders

    def load(self, url, rate, seconds, clients, work, a):
        return [os.path.join(ROOT, "Tools", "loadgen"), "--url", url, "--rate", str(rate), "--duration", str(seconds),
                "--clients", str(clients)]


class WideSpec(ShopLikeSpec):
    """Schemas/bench-wide.sql: jsonb, uuid, arrays, char(n), inet, interval, bytea, TOASTed text; ~1 kB rows."""
    name, pg_schema, load_name = "wide", "wide", "pgbench with a loadgen-like script on wide rows"
    tables = ["wide.customers", "wide.orders", "wide.line_items"]
    path = os.path.join(ROOT, "Schemas", "bench-wide.sql")
    # The mixed and freshness load: like Tools/loadgen.sql (inserts of an order with two line items, updates,
    # updates leaving the TOASTed customers.notes unchanged, deletes), with wide rows.
    LOAD = """\\set kind random(1, 100)
\\set pick random(0, 99)
\\set cid random(1, {customers})
\\if :kind <= 40
BEGIN;
WITH o AS (
  INSERT INTO wide.orders (id, uid, customer_id, status, currency, total, item_ids, tags, attrs, client_ip,
                           delivery_window, created_at, updated_at, signature, comment)
  VALUES (nextval('wide.order_ids'), gen_random_uuid(), :cid, 'new', 'EUR', round(random()::numeric * 500, 2),
          ARRAY[:pick, :kind, 7], ARRAY['web', 'load'],
          jsonb_build_object('k', :kind, 'channel', 'web', 'note', repeat(md5(random()::text), 10)),
          '10.1.2.3', interval '2 days 3 hours', now(), now(), sha256(convert_to(random()::text, 'UTF8')),
          repeat(md5(random()::text), 20))
  RETURNING id)
INSERT INTO wide.line_items
  SELECT o.id, l, 'SKU-' || :pick, l, 9.99, ARRAY[1, 2, l], interval '3 days', '{{"color": "red"}}',
         repeat(md5(random()::text), 25)
  FROM o, generate_series(1, 2) l;
COMMIT;
\\elif :kind <= 75
UPDATE wide.orders SET status = 'paid', updated_at = now(), total = total + 1
  WHERE id = (SELECT max(id) - :pick FROM wide.orders);
\\elif :kind <= 90
UPDATE wide.customers SET last_ip = '10.9.9.9', profile = jsonb_set(profile, '{{score}}', to_jsonb(:pick)) WHERE id = :cid;
\\else
DELETE FROM wide.orders WHERE id = (SELECT max(id) - 50 - :pick FROM wide.orders);
\\endif
"""

    def orders(self, a):
        return a.wide_orders

    def load(self, url, rate, seconds, clients, work, a):
        script = os.path.join(work, "wide-load.sql")
        with open(script, "w") as f:
            f.write(self.LOAD.format(customers=max(10, a.wide_orders // 10)))
        return self.pgbench_load(url, rate, seconds, clients, ["-f", script])


class PgbenchSpec(Spec):
    """pgbench's own tables (`pgbench -i -s S`), with a key added to pgbench_history. Loaded by pgbench's
    simple-update script (an account update and a history insert per transaction): tpcb-like's updates of the
    S branch rows serialise 16 clients on S rows and reached only a few hundred tx/s here."""
    name, pg_schema, load_name = "pgbench", "public", "pgbench -b simple-update"
    tables = ["public.pgbench_branches", "public.pgbench_tellers", "public.pgbench_accounts", "public.pgbench_history"]

    def size_text(self, a):
        return f"pgbench -i -s {a.pgbench_scale}, {a.pgbench_scale * 100_000:,} accounts"

    def fingerprint(self, a):
        return f"pgbench -i -s {a.pgbench_scale} history key, probe 1"

    def seed(self, pg, a):
        run([f"{PGBIN}/pgbench", "-i", "-q", "-s", str(a.pgbench_scale), pg.url])
        # Every replicated table needs a key; pgbench's inserts name their columns, so an added identity is filled.
        pg.query("ALTER TABLE pgbench_history ADD COLUMN hid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")

    def big_tx_sql(self, pg, n):
        return f"UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= {n}"

    def small_tx_script(self, a):
        return (f"\\set id random(1, {a.pgbench_scale * 100_000})\n"
                "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :id;\n")

    def load(self, url, rate, seconds, clients, work, a):
        return self.pgbench_load(url, rate, seconds, clients, ["-b", "simple-update"])


SPECS = {s.name: s for s in (ShopSpec(), WideSpec(), PgbenchSpec())}


# -------------------------------------------------------------------------------------------------------- freshet

class Freshet:
    """One `freshet run` process on the bench's slot, publication and store."""

    def __init__(self, binary, url, spec, store, log_path, metrics_port=None, max_age_ms=None, extra=()):
        self.store, self.log_path, self.metrics_port = store, log_path, metrics_port
        self.argv = [binary, "run", "--source", url, "--store", store, "--schema", spec.pg_schema, "--slot", spec.slot,
                     "--publication", PUBLICATION, "--heartbeat-seconds", "0", "--progress-seconds", "1",
                     "--metrics", f"127.0.0.1:{metrics_port}" if metrics_port else "off"]
        if max_age_ms is not None:
            self.argv += ["--max-age-ms", str(max_age_ms)]
        self.argv += list(extra)
        self.proc = None

    def start(self):
        self.log_file = open(self.log_path, "w")
        self.proc = CHILDREN.start(self.argv, stdout=self.log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def log_tail(self, lines=15):
        with open(self.log_path, errors="replace") as f:
            return redact("".join(f.readlines()[-lines:]))

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def ensure_alive(self):
        if self.proc.poll() is not None:
            raise BenchError(f"freshet exited with status {self.proc.returncode}; its log ({self.log_path}) ends:\n"
                             + self.log_tail())

    def wait_until(self, done, what, poll=0.02):
        deadline = time.monotonic() + WAIT_LIMIT
        while not done():
            self.ensure_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"freshet: gave up waiting for {what}")
            time.sleep(poll)

    def wait_snapshot(self):
        def committed():
            with open(self.log_path, errors="replace") as f:
                return "snapshot.committed" in f.read()
        self.wait_until(committed, "snapshot.committed", poll=0.05)

    def checkpoint_lsn(self):
        try:
            with open(os.path.join(self.store, "store.json")) as f:
                return int(json.load(f)["checkpointLSN"])
        except (OSError, ValueError, KeyError):
            return 0

    def wait_checkpoint(self, end):
        self.wait_until(lambda: self.checkpoint_lsn() >= end, f"checkpointLSN >= {end}")

    def peak_rss(self):
        return proc_status_bytes(self.proc.pid, "VmHWM")

    def cpu_seconds(self):
        return cpu_seconds(self.proc.pid)

    def scrape(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
            return r.read().decode()

    def wait_metrics(self):
        def answers():
            try:
                self.scrape()
                return True
            except OSError:
                return False
        self.wait_until(answers, "/metrics", poll=0.1)

    def wait_merger_idle(self, quiet=3.0):
        """Waits until every table's `freshet_table_pending_merges` has been 0 for `quiet` seconds (the merger has
        compacted and settled what earlier phases left); returns the seconds waited."""
        t0, since = time.monotonic(), None
        def idle():
            nonlocal since
            try:
                text = self.scrape()
            except OSError:
                return False
            pending = sum(float(m.group(1)) for m in
                          re.finditer(r'^freshet_table_pending_merges\{[^}]*\}\s+(\S+)$', text, re.M))
            now = time.monotonic()
            if pending > 0:
                since = None
            elif since is None:
                since = now
            return since is not None and now - since >= quiet
        self.wait_until(idle, "the merger to finish pending merges", poll=0.25)
        return time.monotonic() - t0

    def stop(self):
        """SIGTERM (Freshet flushes and exits 0); returns the exit status."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise BenchError("freshet did not exit within 120 s of SIGTERM")
        if self.proc is None:
            return None
        self.log_file.close()
        if self.proc.returncode != 0:
            log(f"warning: freshet exited with status {self.proc.returncode} after SIGTERM; log ends:\n{self.log_tail(5)}")
        return self.proc.returncode


def lag_buckets(metrics_text, name="freshet_commit_lag_seconds"):
    """{upper bound: cumulative count} of the histogram `name` (default: the commit-to-visible lag) from Prometheus
    text."""
    buckets = {}
    for line in metrics_text.splitlines():
        m = re.match(re.escape(name) + r'_bucket\{([^}]*)\}\s+(\S+)', line)
        if m:
            le = re.search(r'le="([^"]+)"', m.group(1)).group(1)
            buckets[math.inf if le == "+Inf" else float(le)] = float(m.group(2))
    if not buckets:
        raise BenchError(f"/metrics has no {name}_bucket samples")
    return buckets


def histogram_quantile(q, buckets):
    """Prometheus' histogram_quantile over {upper bound: cumulative count}; None without observations."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for upper in bounds:
        count = buckets[upper]
        if count >= rank:
            if math.isinf(upper):
                return lower          # in the +Inf bucket: the highest finite bound, as Prometheus does
            return lower + (upper - lower) * (rank - below) / (count - below) if count > below else upper
        lower, below = upper, count
    return lower


class QuietProbe:
    """Lag on a rarely written table (issue 14): inserts one row into `table` PROBE_RATE times a second over one psql
    session (autocommit), then reads pg_current_wal_lsn(), which is at or past that insert's commit. A probe is
    visible once the store's durable checkpoint (store.json checkpointLSN, polled every 2 ms) reaches that LSN; its
    lag runs from just before the INSERT was sent. (The LSN read after the commit may include WAL of other sessions'
    transactions from the microseconds in between, so a probe can wait for a later store commit than its own: the
    figure errs high, never low.)"""

    def __init__(self, url, table, checkpoint_lsn):
        self.url, self.table, self.checkpoint_lsn = url, table, checkpoint_lsn
        self.pending, self.lags, self.sent = [], [], 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.give_up_at = math.inf
        self.error = None

    def start(self):
        self.psql = CHILDREN.start(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", self.url],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, bufsize=1)
        self.writer = threading.Thread(target=self.write_loop, daemon=True)
        self.poller = threading.Thread(target=self.poll_loop, daemon=True)
        self.writer.start()
        self.poller.start()
        return self

    def write_loop(self):
        try:
            next_at = time.monotonic()
            while not self.stopping.is_set():
                t0 = time.monotonic()
                self.psql.stdin.write(f"INSERT INTO {self.table} DEFAULT VALUES;\n"
                                      "SELECT pg_current_wal_lsn() - '0/0';\n")
                self.psql.stdin.flush()
                line = self.psql.stdout.readline()
                if not line:
                    raise BenchError("the probe's psql session ended")
                with self.lock:
                    self.pending.append((int(line.strip()), t0))
                    self.sent += 1
                next_at += 1 / PROBE_RATE
                time.sleep(max(0.0, next_at - time.monotonic()))
        except (OSError, ValueError, BenchError) as e:
            self.error = e

    def poll_loop(self):
        while True:
            checkpoint, now = self.checkpoint_lsn(), time.monotonic()
            with self.lock:
                self.lags += [now - t0 for lsn, t0 in self.pending if lsn <= checkpoint]
                self.pending = [(lsn, t0) for lsn, t0 in self.pending if lsn > checkpoint]
                if self.stopping.is_set() and (not self.pending or time.monotonic() > self.give_up_at):
                    return
            time.sleep(0.002)

    def stop(self, wait_seconds=30):
        """Stops inserting; waits up to `wait_seconds` for the pending probes; returns (lags in s, unresolved count)."""
        self.give_up_at = time.monotonic() + wait_seconds
        self.stopping.set()
        self.writer.join()
        self.poller.join(timeout=wait_seconds + 1)
        try:
            self.psql.stdin.close()
            self.psql.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.error:
            raise BenchError(f"quiet-table probe failed: {self.error}")
        with self.lock:
            return list(self.lags), len(self.pending)


def quantile(values, q):
    """The q-quantile (0 < q < 1) of `values` by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


# ----------------------------------------------------------------------------------------------------- clickhouse

class ClickHouse:
    """The ClickHouse sandbox (Tools/clickhouse-sandbox: Debian's clickhouse-server on loopback), started on first
    use; statements over its HTTP interface (the password stays out of argv and logs)."""

    def __init__(self):
        self.url = None

    def tool(self, command):
        return run([os.path.join(ROOT, "Tools", "clickhouse-sandbox"), command]).stdout.strip()

    def started(self):
        if self.url is None:
            self.url = self.tool("start").rstrip("/")
        return self

    def start(self):
        self.tool("start")

    def stop(self):
        self.tool("stop")

    def query(self, sql, data=None, timeout=600):
        """Runs `sql` (with `data` as the body after it, e.g. RowBinary rows) and returns the answer's bytes."""
        import base64
        import urllib.parse
        p = urllib.parse.urlsplit(self.url)
        if data is None:
            req = urllib.request.Request(f"http://{p.hostname}:{p.port}/", data=sql.encode())
        else:
            req = urllib.request.Request(f"http://{p.hostname}:{p.port}/?query={urllib.parse.quote(sql)}", data=data)
        token = base64.b64encode(f"{urllib.parse.unquote(p.username)}:{urllib.parse.unquote(p.password or '')}".encode())
        req.add_header("Authorization", "Basic " + token.decode())
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            raise BenchError(f"ClickHouse answered {e.code} to {sql[:80]}: {e.read().decode()[:500]}")

    def version(self):
        return self.query("SELECT version()").decode().strip()

    def ingest_same_rows(self, db, table, rows):
        """ClickHouse's own RowBinary ingest: `rows` rows of `table` (FINAL, every column, `_version` and `_deleted`
        included) fetched as RowBinary, then one timed POST of `INSERT ... FORMAT RowBinary` of those bytes into a
        copy of the table; and the same rows in two halves POSTed at once (two connections, as the sink sends a large
        backlog). Returns (seconds of one POST, seconds of two concurrent POSTs, bytes, columns)."""
        import threading
        data = self.query(f"SELECT * FROM {db}.{table} FINAL LIMIT {rows} FORMAT RowBinary")
        half = rows // 2
        halves = [self.query(f"SELECT * FROM {db}.{table} FINAL LIMIT {half} FORMAT RowBinary"),
                  self.query(f"SELECT * FROM {db}.{table} FINAL LIMIT {rows - half} OFFSET {half} FORMAT RowBinary")]
        columns = int(self.query(f"SELECT count() FROM system.columns WHERE database = '{db}' AND table = '{table}'"))

        def timed(bodies):
            self.query(f"DROP TABLE IF EXISTS {db}.bench_ingest")
            self.query(f"CREATE TABLE {db}.bench_ingest AS {db}.{table}")
            errors = []

            def post(body):
                try:
                    self.query(f"INSERT INTO {db}.bench_ingest FORMAT RowBinary", data=body)
                except BaseException as e:       # re-raised below, in the calling thread
                    errors.append(e)
            threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.monotonic() - t0
            if errors:
                raise errors[0]
            return seconds
        try:
            return timed([data]), timed(halves), len(data), columns
        finally:
            self.query(f"DROP TABLE IF EXISTS {db}.bench_ingest")


CLICKHOUSE = ClickHouse()


def ch_gauge(f, name):
    """A gauge from freshet's /metrics."""
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", f.scrape(), re.M)
    if not m:
        raise BenchError(f"/metrics has no {name}")
    return float(m.group(1))


def parallel_inserts(log_text, table, rows):
    """The `inserts_in_parallel` of the last `clickhouse.shipped` line of `rows` rows into `table` (1 when it has none)."""
    streams = 1
    for line in re.findall(r"clickhouse\.shipped .*", log_text):
        if f"clickhouse_table={table} " in line and f" rows={rows} " in line:
            p = re.search(r"inserts_in_parallel=(\d+)", line)
            streams = int(p.group(1)) if p else 1
    return streams


def shipped_lines(log_text):
    """(ClickHouse table, rows, seconds) of each `clickhouse.shipped` line (inserts of >= 100,000 rows) in a log."""
    return [(m.group(1), int(m.group(2)), float(m.group(3))) for m in
            re.finditer(r"clickhouse\.shipped .*?clickhouse_table=(\S+) rows=(\d+) seconds=([\d.e-]+)", log_text)]


# ------------------------------------------------------------------------------------------------- the bench run

class Bench:
    """The measures on one bench schema (`spec`), with their references, in one database of its own."""

    def __init__(self, args, base_url, spec, work_root):
        self.a, self.spec = args, spec
        self.work = os.path.join(work_root, spec.name)
        self.store = os.path.join(self.work, "store")
        os.makedirs(self.work, exist_ok=True)
        self.base_url = base_url
        self.pg = None
        self.results = {}    # measure name -> list of values (one per run)
        self.facts = {}      # single values: row counts, bytes

    # -- helpers

    def record(self, name, value):
        self.results.setdefault(name, []).append(value)

    def med(self, name):
        return median(self.results.get(name, []))

    def freshet(self, log_name, metrics=False, max_age=False, extra=()):
        return Freshet(self.a.freshet, self.pg.url, self.spec, self.store, os.path.join(self.work, log_name),
                       metrics_port=free_port() if metrics else None,
                       max_age_ms=self.a.max_age_ms if max_age else None, extra=extra)

    def fresh_store(self):
        self.pg.drop_bench_objects(self.spec)
        run(["rm", "-rf", self.store])

    def catch_up(self, f):
        """Emits a marker and waits until the running Freshet f has it in its store."""
        _, end = self.pg.emit_marker()
        f.wait_checkpoint(end)

    def sync_store(self, log_name):
        """Brings the store up to the current WAL position with a `freshet run`; returns its seconds (start-up
        plus a marker round trip when there is nothing to catch up). Then, untimed, waits until the merger is idle,
        so that the next timed run does not also finish what earlier phases left (the snapshot's parts, the last
        backlog's)."""
        f = self.freshet(log_name, metrics=True)
        t0 = time.monotonic()
        f.start()
        try:
            self.catch_up(f)
            seconds = time.monotonic() - t0
            f.wait_merger_idle()
            return seconds
        finally:
            f.stop()

    def ensure_store(self):
        """A store exists (made by an untimed snapshot if phase 1 did not run); measures its size once."""
        if os.path.exists(os.path.join(self.store, "store.json")):
            return
        log("making a store (untimed snapshot) ...")
        self.fresh_store()
        f = self.freshet("prepare.log").start()
        try:
            f.wait_snapshot()
        finally:
            f.stop()
        self.measure_storage()

    def measure_storage(self):
        total = 0
        for d, _, files in os.walk(os.path.join(self.store, "tables")):
            total += sum(os.path.getsize(os.path.join(d, n)) for n in files)
        self.facts["store_bytes"] = total

    def table_facts(self):
        tables = ", ".join(f"'{t}'::regclass" for t in self.spec.tables)
        counts = " + ".join(f"(SELECT count(*) FROM {t})" for t in self.spec.tables)
        self.facts["rows"] = int(self.pg.value(f"SELECT {counts}"))
        self.facts["pg_bytes"] = int(self.pg.value(f"SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY[{tables}]) c"))

    # -- 1. snapshot

    def copy_tables(self, count_bytes=False):
        """Binary COPY of every table, one after the other, to /dev/null (or counted); returns (seconds, bytes)."""
        total, t0 = 0, time.monotonic()
        for t in self.spec.tables:
            argv = ["psql", "-X", "-q", self.pg.url, "-c", f"COPY {t} TO STDOUT (FORMAT binary)"]
            if count_bytes:
                with subprocess.Popen(argv, stdout=subprocess.PIPE) as p:
                    while chunk := p.stdout.read(1 << 20):
                        total += len(chunk)
                if p.returncode != 0:
                    raise BenchError(f"COPY {t} failed")
            else:
                with open(os.devnull, "wb") as null:
                    subprocess.run(argv, stdout=null, check=True)
        return time.monotonic() - t0, total

    def pg_dump(self):
        t0 = time.monotonic()
        with open(os.devnull, "wb") as null:
            out = subprocess.run([f"{PGBIN}/pg_dump", "-Fc", "-Z0", f"--schema={self.spec.pg_schema}", "-d", self.pg.url],
                                 stdout=null, stderr=subprocess.PIPE, text=True)
        if out.returncode != 0:
            raise BenchError("pg_dump failed: " + out.stderr.strip())
        return time.monotonic() - t0

    def freshet_snapshot(self):
        self.fresh_store()
        f = self.freshet("snapshot.log")
        t0 = time.monotonic()
        f.start()
        try:
            f.wait_snapshot()
            seconds = time.monotonic() - t0
            rss = f.peak_rss()
        finally:
            f.stop()
        return seconds, rss

    def phase_snapshot(self, i):
        copy_s, _ = self.copy_tables()
        dump_s = self.pg_dump()
        snap_s, rss = self.freshet_snapshot()
        self.measure_storage()
        self.record("copy_s", copy_s)
        self.record("dump_s", dump_s)
        self.record("snap_s", snap_s)
        self.record("snap_rss", rss)
        log(f"[{self.spec.name} snapshot {i}] freshet {snap_s:.2f} s (peak RSS {mib(rss)}), COPY {copy_s:.2f} s, pg_dump {dump_s:.2f} s")

    # -- 2. catch-up

    def make_big_tx(self):
        tag = self.pg.command_tag(self.spec.big_tx_sql(self.pg, self.a.big_tx_rows))
        return {"tx": 1, "rows": int(tag.split()[-1])}

    def make_small_tx(self):
        script = os.path.join(self.work, "small-tx.sql")
        with open(script, "w") as f:
            f.write(self.spec.small_tx_script(self.a))
        clients = 4
        before = self.pg.row_changes(self.spec.pg_schema)
        out = run([f"{PGBIN}/pgbench", "-n", "-f", script, "-c", str(clients), "-j", "2",
                   "-t", str(max(1, math.ceil(self.a.small_tx / clients))), self.pg.url])
        return {"tx": pgbench_transactions(out.stdout), "rows": self.pg.row_changes(self.spec.pg_schema) - before}

    def load_argv(self, rate, seconds, clients):
        return self.spec.load(self.pg.url, rate, seconds, clients, self.work, self.a)

    def make_mixed(self):
        before = self.pg.row_changes(self.spec.pg_schema)
        out = run(self.load_argv(self.a.rate, self.a.backlog_seconds, 4))
        return {"tx": pgbench_transactions(out.stdout), "rows": self.pg.row_changes(self.spec.pg_schema) - before}

    def drain_recvlogical(self, end_lsn):
        t0 = time.monotonic()
        run([f"{PGBIN}/pg_recvlogical", "-d", self.pg.url, "-S", self.spec.ref_slot, "--start", f"--endpos={end_lsn}",
             "--no-loop", "-o", "proto_version=2", "-o", "streaming=on", "-o", f"publication_names={PUBLICATION}",
             "-f", "/dev/null"])
        return time.monotonic() - t0

    def drain_freshet(self, end, kind):
        f = self.freshet(f"catchup-{kind}.log")
        t0 = time.monotonic()
        f.start()
        try:
            f.wait_checkpoint(end)
            seconds = time.monotonic() - t0
            rss = f.peak_rss()
        finally:
            f.stop()
        return seconds, rss

    def backlog(self, i, kind, make):
        # The reference slot is a copy of Freshet's slot (same restart_lsn and confirmed_flush_lsn), so both walsenders
        # decode exactly the same WAL. A slot's restart_lsn trails its confirmed position (it moves only at running-xacts
        # records the client confirmed past), so a freshly created reference slot would skip WAL that Freshet's
        # walsender decodes again: the previous backlog's, spilled big transaction included.
        self.record("startup_s", self.sync_store(f"catchup-{kind}-sync.log"))
        self.pg.query(f"SELECT pg_copy_logical_replication_slot('{self.spec.slot}', '{self.spec.ref_slot}')")
        try:
            made = make()
            end_lsn, end = self.pg.emit_marker()
            if i % 2 == 1:
                recv_s = self.drain_recvlogical(end_lsn)
                fresh_s, rss = self.drain_freshet(end, kind)
            else:
                fresh_s, rss = self.drain_freshet(end, kind)
                recv_s = self.drain_recvlogical(end_lsn)
        finally:
            self.pg.drop_slots([self.spec.ref_slot])
        self.record(f"{kind}_freshet_s", fresh_s)
        self.record(f"{kind}_recv_s", recv_s)
        self.record(f"{kind}_tx", made["tx"])
        self.record(f"{kind}_rows", made["rows"])
        self.record(f"{kind}_rss", rss)
        log(f"[{self.spec.name} catch-up {kind} {i}] {made['tx']:,} tx, {made['rows']:,} rows: freshet {fresh_s:.2f} s "
            f"(peak RSS {mib(rss)}), pg_recvlogical {recv_s:.2f} s")

    def phase_catchup(self, i):
        self.ensure_store()
        self.backlog(i, "big", self.make_big_tx)
        self.backlog(i, "small", self.make_small_tx)
        self.backlog(i, "mixed", self.make_mixed)

    # -- 3. freshness

    def phase_freshness(self, i):
        self.ensure_store()
        f = self.freshet("freshness.log", metrics=True, max_age=True).start()
        try:
            f.wait_metrics()
            self.catch_up(f)
            # Steady state first: the snapshot's or the backlogs' parts are compacted and settled before the window.
            self.record("fresh_idle_s", f.wait_merger_idle())
            load = CHILDREN.start(self.load_argv(FRESHNESS_RATE, self.a.freshness_seconds, FRESHNESS_CLIENTS),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(WARMUP_SECONDS)
            f.ensure_alive()
            probe = QuietProbe(self.pg.url, f'"{self.spec.pg_schema}".bench_probe', f.checkpoint_lsn).start()
            text0, cpu0, t0 = f.scrape(), f.cpu_seconds(), time.monotonic()
            try:
                output = load.communicate(timeout=self.a.freshness_seconds + 120)[0]
            finally:
                probe_lags, unresolved = probe.stop()
            text1, cpu1, t1 = f.scrape(), f.cpu_seconds(), time.monotonic()
            before, after = lag_buckets(text0), lag_buckets(text1)
            commits0 = lag_buckets(text0, "freshet_store_commit_seconds")
            commits1 = lag_buckets(text1, "freshet_store_commit_seconds")
            if load.returncode != 0:
                raise BenchError("loadgen failed: " + output[-2000:])
            rss = f.peak_rss()
        finally:
            f.stop()
        window = {le: after.get(le, 0) - before.get(le, 0) for le in after}
        q = {p: histogram_quantile(p / 100, window) for p in (50, 95, 99)}
        cores = (cpu1 - cpu0) / (t1 - t0)
        self.record("fresh_transactions", window[max(window)])
        commit_window = {le: commits1.get(le, 0) - commits0.get(le, 0) for le in commits1}
        self.record("fresh_commits", commit_window[max(commit_window)])
        for p in (50, 99):
            v = histogram_quantile(p / 100, commit_window)
            if v is not None:
                self.record(f"fresh_commit_p{p}", v * 1000)
        for p, v in q.items():
            if v is not None:
                self.record(f"fresh_p{p}", v * 1000)
        self.record("fresh_cores", cores)
        self.record("fresh_tps", pgbench_tps(output))
        self.record("fresh_rss", rss)
        self.record("probe_n", len(probe_lags))
        self.record("probe_unresolved", unresolved)
        for p in (50, 95, 99):
            v = quantile(probe_lags, p / 100)
            if v is not None:
                self.record(f"probe_p{p}", v * 1000)
        if unresolved:
            log(f"warning: {unresolved} quiet-table probes were not in the store 30 s after the load ended")
        show = ", ".join(f"p{p} {'n/a' if v is None else f'{v * 1000:.0f} ms'}" for p, v in q.items())
        pshow = ", ".join(f"p{p} {quantile(probe_lags, p / 100) * 1000:.0f} ms" for p in (50, 95, 99)) \
            if probe_lags else "no probe reached the store"
        log(f"[{self.spec.name} freshness {i}] {show} over {window[max(window)]:.0f} transactions, {cores:.2f} cores, "
            f"{pgbench_tps(output):,.0f} tx/s achieved, peak RSS {mib(rss)}; quiet table: {pshow} over "
            f"{len(probe_lags)} probes")

    # -- 5. query

    def timed_duckdb(self, con, sql):
        """One untimed warm-up (its rows returned), then the median of 5."""
        rows = con.execute(sql).fetchall()
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            con.execute(sql).fetchall()
            times.append(time.monotonic() - t0)
        return rows, median(times)

    def orders_table(self):
        return f"{self.spec.pg_schema}.orders"

    def duckdb_query(self):
        """QUERY through a view created once from `freshet sql --view` (the query-time view), and over the same
        parts without dedup (`freshet sql --raw`). Returns (rows, view seconds, raw seconds, parts)."""
        import duckdb
        t = self.orders_table()
        view = run([self.a.freshet, "sql", t, "--store", self.store, "--dialect", "duckdb", "--view", "orders"]).stdout
        raw = run([self.a.freshet, "sql", t, "--store", self.store, "--dialect", "duckdb", "--raw"]).stdout
        con = duckdb.connect()
        con.execute(view)
        rows, view_s = self.timed_duckdb(con, QUERY)
        _, raw_s = self.timed_duckdb(con, QUERY.replace("FROM orders", f"FROM ({raw.strip()})"))
        return rows, view_s, raw_s, raw.count(".parquet'")

    def postgres_query(self):
        sql = QUERY.replace("FROM orders", f"FROM {self.orders_table()}")
        rows = [r.split("|") for r in self.pg.query(sql).splitlines()]
        script = "\\timing on\n" + (sql + ";\n") * 6
        out = run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", self.pg.url], input=script).stdout
        times = [float(m) / 1000 for m in re.findall(r"^Time: ([\d.]+) ms", out, re.M)]
        if len(times) != 6:
            raise BenchError(f"psql \\timing gave {len(times)} times, expected 6")
        return rows, median(times[1:])

    def spread_updates(self, i):
        """Updates 5% of the orders, spread over the whole key range in 10 transactions, so that the parts they make
        overlap every older part (the case read-time dedup cannot skip)."""
        for j in range(10):
            self.pg.query(f"UPDATE {self.orders_table()} SET total = total + 1, status = 'paid' "
                          f"WHERE id % 200 = {(i * 10 + j) % 200}")

    def orders_settled(self):
        """True when every partition of the orders table holds one part (the merger settled it)."""
        d = os.path.join(self.store, "tables", self.orders_table(), "manifest.json")
        with open(d) as fh:
            parts = json.load(fh)["parts"]
        return len(parts) == len({p["partition"] for p in parts})

    def phase_query(self, i):
        """The group-by right after the updates are in the store (recent parts overlap the settled ones: the view
        anti-joins them), then once the running Freshet's merger has settled the table (one part per partition), each
        beside PostgreSQL and a raw scan of the same parts. The updates are made on a store in its steady state: a
        `freshet run` first catches up and waits until the merger has settled orders (what the snapshot and the
        backlogs of earlier phases left), so that "after catch-up" is the settled table plus the updates' parts."""
        self.ensure_store()
        f = self.freshet("query-settle.log")
        f.start()
        try:
            self.catch_up(f)
            f.wait_until(self.orders_settled, "the orders table settled before the updates", poll=0.2)
        finally:
            f.stop()
        self.spread_updates(i)
        f = self.freshet("query-sync.log")
        f.start()
        try:
            self.catch_up(f)
            duck_rows, duck_s, raw_s, parts = self.duckdb_query()
            pg_rows, pg_s = self.postgres_query()
            check_same_result(duck_rows, pg_rows)
            t0 = time.monotonic()
            while not self.orders_settled() and time.monotonic() - t0 < 120:
                time.sleep(0.2)
            settle_s = time.monotonic() - t0
            if not self.orders_settled():
                raise BenchError("the orders table was not settled 120 s after the catch-up")
            sduck_rows, sduck_s, sraw_s, sparts = self.duckdb_query()
            spg_rows, spg_s = self.postgres_query()
            check_same_result(sduck_rows, spg_rows)
        finally:
            f.stop()
        for k, v in [("duck_s", duck_s), ("raw_s", raw_s), ("pgq_s", pg_s), ("sduck_s", sduck_s), ("sraw_s", sraw_s),
                     ("spgq_s", spg_s), ("settle_s", settle_s)]:
            self.record(k, v)
        self.facts["query_parts"] = parts
        self.facts["query_settled_parts"] = sparts
        log(f"[{self.spec.name} query {i}] after catch-up: PostgreSQL {pg_s * 1000:.1f} ms | DuckDB view {duck_s * 1000:.1f} ms "
            f"| raw scan of the {parts} parts {raw_s * 1000:.1f} ms; settled {settle_s:.1f} s later: PostgreSQL "
            f"{spg_s * 1000:.1f} ms | DuckDB view {sduck_s * 1000:.1f} ms | raw scan of the {sparts} parts "
            f"{sraw_s * 1000:.1f} ms ({len(pg_rows)} groups, results equal)")

    # -- 6. ClickHouse sink

    def phase_clickhouse(self, i):
        """The ClickHouse sink into the sandbox server: the first copy of the store, an outage backlog (one big
        transaction committed to the store while ClickHouse is down) drained when it is back, ClickHouse's own
        RowBinary ingest of the same rows, then the sink's lag under the 2,000 tx/s load."""
        self.ensure_store()
        ch = CLICKHOUSE.started()
        db = f"freshet_bench_{self.spec.name}"
        ch.query(f"DROP DATABASE IF EXISTS {db}")
        try:
            os.remove(os.path.join(self.store, "clickhouse.json"))     # copy every table afresh
        except FileNotFoundError:
            pass
        f = self.freshet("clickhouse.log", metrics=True, max_age=True, extra=["--clickhouse", f"{ch.url}?database={db}"])
        f.start()
        try:
            f.wait_metrics()
            def copied():
                return f.log_text().count("clickhouse.table_copied") >= len(self.spec.tables)
            f.wait_until(copied, "clickhouse.table_copied of every table", poll=0.1)
            f.wait_until(lambda: ch_gauge(f, "freshet_clickhouse_lag_seconds") == 0, "ClickHouse lag 0", poll=0.1)
            copy = shipped_lines(f.log_text())
            copy_rows, copy_s = sum(r for _, r, _ in copy), sum(t for _, _, t in copy)
            # The outage: the big transaction reaches the store while ClickHouse is down.
            ch.stop()
            try:
                made = self.make_big_tx()
                self.catch_up(f)
                f.wait_until(lambda: ch_gauge(f, "freshet_clickhouse_lag_seconds") > 0, "ClickHouse lag > 0", poll=0.1)
                before = len(shipped_lines(f.log_text()))
            finally:
                ch.start()
            f.wait_until(lambda: ch_gauge(f, "freshet_clickhouse_lag_seconds") == 0, "ClickHouse lag 0 after the outage",
                         poll=0.1)
            drained = shipped_lines(f.log_text())[before:]
            if not drained:
                raise BenchError("no clickhouse.shipped line after the outage (fewer than 100,000 rows shipped?)")
            table, drain_rows, drain_s = max(drained, key=lambda x: x[1])
            streams = parallel_inserts(f.log_text(), table, drain_rows)
            ref_s, ref2_s, ref_bytes, columns = ch.ingest_same_rows(db, table, drain_rows)
            lags = self.clickhouse_lag_under_load(f)
            equal = self.clickhouse_counts_equal(ch, db)
        finally:
            f.stop()
        self.record("ch_copy_rows", copy_rows)
        self.record("ch_copy_s", copy_s)
        self.record("ch_drain_rows", drain_rows)
        self.record("ch_drain_s", drain_s)
        self.record("ch_ref_s", ref_s)
        self.record("ch_ref2_s", ref2_s)
        self.facts["ch_table"] = table
        self.facts["ch_columns"] = columns
        self.facts["ch_row_bytes"] = ref_bytes / max(drain_rows, 1)
        self.facts["ch_streams"] = streams
        self.facts["ch_equal"] = self.facts.get("ch_equal", True) and equal
        self.facts["ch_server"] = ch.version()
        for p in (50, 90, 100):
            self.record(f"ch_lag_p{p}", quantile(lags, p / 100) if lags else None)
        log(f"[{self.spec.name} clickhouse {i}] first copy {copy_rows:,} rows at {fmt_int(copy_rows / max(copy_s, 1e-9))} "
            f"rows/s; outage backlog ({made['rows']:,} rows updated): {drain_rows:,} rows of {table} ({columns} columns, "
            f"{ref_bytes / max(drain_rows, 1):.0f} B/row in RowBinary) in {drain_s:.2f} s = {fmt_int(drain_rows / drain_s)} "
            f"rows/s ({streams} inserts at once), ClickHouse's own RowBinary ingest of them {ref_s:.2f} s = "
            f"{fmt_int(drain_rows / ref_s)} rows/s (ratio {ref_s / drain_s:.2f}), in two concurrent POSTs {ref2_s:.2f} s = "
            f"{fmt_int(drain_rows / ref2_s)} rows/s; load average {os.getloadavg()[0]:.1f}; lag at {FRESHNESS_RATE:,} tx/s p50 {quantile(lags, 0.5):.2f} s, "
            f"p90 {quantile(lags, 0.9):.2f} s, max {max(lags):.2f} s; FINAL counts {'equal' if equal else 'DIFFER'}")

    def clickhouse_lag_under_load(self, f):
        """`freshet_clickhouse_lag_seconds` sampled every 250 ms under the freshness load (warm-up excluded)."""
        load = CHILDREN.start(self.load_argv(FRESHNESS_RATE, self.a.freshness_seconds, FRESHNESS_CLIENTS),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(WARMUP_SECONDS)
        lags = []
        while load.poll() is None:
            f.ensure_alive()
            lags.append(ch_gauge(f, "freshet_clickhouse_lag_seconds"))
            time.sleep(0.25)
        output = load.communicate()[0]
        if load.returncode != 0:
            raise BenchError("load failed: " + output[-2000:])
        self.record("ch_tps", pgbench_tps(output))
        self.catch_up(f)
        f.wait_until(lambda: ch_gauge(f, "freshet_clickhouse_lag_seconds") == 0, "ClickHouse lag 0 after the load", poll=0.1)
        return lags

    def clickhouse_counts_equal(self, ch, db):
        """Every table's `count() FROM T FINAL WHERE _deleted = 0` equals PostgreSQL's count."""
        same = True
        for t in self.spec.tables:
            schema, name = t.split(".")
            ch_name = name if schema == "public" else f"{schema}_{name}"
            n_pg = int(self.pg.value(f"SELECT count(*) FROM {t}"))
            n_ch = int(ch.query(f"SELECT count() FROM {db}.{ch_name} FINAL WHERE _deleted = 0").decode().strip())
            if n_pg != n_ch:
                log(f"warning: {t}: PostgreSQL {n_pg:,} rows, ClickHouse {n_ch:,}")
                same = False
        return same

    # -- driver

    def phases(self):
        """The phases of --only that run on this schema (the query phase on the schemas with an orders table)."""
        return [p for p in PHASES if p in self.a.only and (p != "query" or self.spec.name in ("shop", "wide"))]

    def run(self):
        name = self.spec.name
        log(f"[{name}] preparing the database ...")
        self.pg = prepare_database(self.base_url, self.spec, self.a)
        run(["rm", "-rf", self.store])          # its slot went with the old database
        self.table_facts()
        log(f"[{name}] {self.facts['rows']:,} rows in {len(self.spec.tables)} tables, {mib(self.facts['pg_bytes'])} "
            "in PostgreSQL; warming up (untimed COPY) ...")
        _, self.facts["copy_bytes"] = self.copy_tables(count_bytes=True)
        # Each measure K times before the next, so every snapshot reads the data as seeded (no catch-up yet).
        for p in self.phases():
            for i in range(1, self.a.runs + 1):
                log(f"[{name}] {p}: run {i} of {self.a.runs}")
                getattr(self, "phase_" + p)(i)
        self.pg.drop_bench_objects(self.spec)


def pgbench_transactions(output):
    m = re.search(r"number of transactions actually processed: (\d+)", output)
    if not m:
        raise BenchError("no transaction count in pgbench's output: " + output[-1000:])
    return int(m.group(1))


def pgbench_tps(output):
    m = re.search(r"tps = ([\d.]+)", output)
    if not m:
        raise BenchError("no tps in pgbench's output: " + output[-1000:])
    return float(m.group(1))


def check_same_result(duck_rows, pg_rows):
    """Same groups, counts and sums (to the cent) from DuckDB and PostgreSQL, else BenchError."""
    cent = decimal.Decimal("0.01")

    def norm(rows):
        return {str(s): (int(n), decimal.Decimal(str(t)).quantize(cent)) for s, n, t in rows}
    duck, pg = norm(duck_rows), norm(pg_rows)
    if duck != pg:
        raise BenchError(f"DuckDB over the store and PostgreSQL disagree:\n  duckdb:   {sorted(duck.items())}\n"
                         f"  postgres: {sorted(pg.items())}")


# ------------------------------------------------------------------------------------------------------- reporting

def machine(pg, freshet_bin, work):
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        ram = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1)) * 1024
    fs = run(["df", "-PT", work], check=False).stdout.splitlines()[-1].split()[1]
    pg_version = pg.value("SHOW server_version")
    bin_dir = os.path.dirname(os.path.realpath(freshet_bin))
    head = run(["git", "-C", bin_dir, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
    if head:
        # Only what the binary is built from counts (the bench's own edits in Tools/ do not).
        dirty = run(["git", "-C", bin_dir, "status", "--porcelain", "--", ":/Sources", ":/Package.swift",
                     ":/Package.resolved"], check=False).stdout.strip()
        commit = f"{head}{' + uncommitted changes in Sources/' if dirty else ' (clean)'}"
    else:
        commit = "unknown (binary not in a git checkout)"
    return [f"CPU: {cpu}, {os.cpu_count()} cores; RAM {ram / 1024**3:.0f} GiB; kernel {os.uname().release}",
            f"work dir {work} on {fs}; PostgreSQL {pg_version}",
            f"freshet {freshet_bin}, commit {commit}"]


def load_average(when):
    with open("/proc/loadavg") as f:
        return f"load average {when}: " + " ".join(f.read().split()[:3])


def nproc_line():
    return f"nproc {len(os.sched_getaffinity(0))}, {load_average('at the start')}"


def main_table(b):
    """Rows of the main markdown table for the measures that ran."""
    a, f, rows, phases = b.a, b.facts, [], b.phases()
    if "snapshot" in phases:
        snap, copy, dump = b.med("snap_s"), b.med("copy_s"), b.med("dump_s")
        n, mb = f["rows"], f["copy_bytes"] / 1e6
        ratio = copy / snap
        rows.append([f"initial snapshot, {n:,} rows ({mb:,.0f} MB as binary COPY)",
                     f"{fmt_int(n / snap)} rows/s, {mb / snap:,.1f} MB/s ({snap:.2f} s, incl. start-up)",
                     f"binary COPY, one stream: {fmt_int(n / copy)} rows/s, {mb / copy:,.1f} MB/s ({copy:.2f} s)",
                     f"{ratio:.2f}", f"≥ {T_SNAPSHOT}: {verdict(ratio >= T_SNAPSHOT)}"])
        rows.append(["… versus a nightly clone", "",
                     f"pg_dump -Fc -Z0: {fmt_int(n / dump)} rows/s ({dump:.2f} s)", f"{dump / snap:.2f}", ""])
    if "catchup" in phases:
        for kind, label, unit in [("big", "one transaction", "rows"), ("small", "one-row transactions", "tx"),
                                  ("mixed", f"{b.spec.load_name} at {a.rate:,} tx/s for {a.backlog_seconds} s", "tx")]:
            fs, rs = b.med(f"{kind}_freshet_s"), b.med(f"{kind}_recv_s")
            tx, nrows = int(b.med(f"{kind}_tx")), int(b.med(f"{kind}_rows"))
            count = nrows if unit == "rows" else tx
            what = {"big": f"one transaction of {nrows:,} row updates",
                    "small": f"{tx:,} one-row transactions",
                    "mixed": f"{label}: {tx:,} transactions, {nrows:,} rows"}[kind]
            ratio = rs / fs
            rows.append([f"catch-up, {what}",
                         f"{fmt_int(count / fs)} {unit}/s ({fs:.2f} s, incl. start-up)",
                         f"pg_recvlogical: {fmt_int(count / rs)} {unit}/s ({rs:.2f} s)",
                         f"{ratio:.2f}", f"≥ {T_CATCHUP}: {verdict(ratio >= T_CATCHUP)}"])
        rows.append(["… of which start-up: `freshet run` with nothing to catch up, until a marker is in the store",
                     f"{b.med('startup_s'):.2f} s", "", "", ""])
    for name, label in [("snap_rss", "peak RSS, initial snapshot"), ("big_rss", "peak RSS, catch-up of one big transaction"),
                        ("small_rss", "peak RSS, catch-up of the one-row transactions"),
                        ("mixed_rss", "peak RSS, catch-up of the mixed backlog"),
                        ("fresh_rss", "peak RSS, freshness under load")]:
        if b.results.get(name):
            rss = b.med(name)
            rows.append([label, mib(rss), "", "", f"≤ {T_RSS_MB} MB: {verdict(rss <= T_RSS_MB * 1e6)}"])
    if "store_bytes" in f and ("snapshot" in phases or "query" in phases):
        ratio = f["store_bytes"] / f["pg_bytes"]
        rows.append(["store size after the snapshot", mib(f["store_bytes"]),
                     f"pg_total_relation_size: {mib(f['pg_bytes'])}", f"{ratio:.2f}× the table size",
                     f"≤ {T_STORE}×: {verdict(ratio <= T_STORE)}"])
    if "query" in phases and b.results.get("duck_s"):
        states = [("", f"right after 5% of the orders were updated across the key range "
                       f"({b.facts.get('query_parts', '?')} parts; same result)"),
                  ("s", f"… the same query once the merger settled the table ({b.med('settle_s'):.1f} s later, "
                        f"{b.facts.get('query_settled_parts', '?')} parts)")]
        for prefix, when in states:
            d, p, r = b.med(prefix + "duck_s"), b.med(prefix + "pgq_s"), b.med(prefix + "raw_s")
            rows.append([(f"`{QUERY}` " if not prefix else "") + when, f"DuckDB through the view: {d * 1000:,.1f} ms",
                         f"PostgreSQL: {p * 1000:,.1f} ms", f"{p / d:.2f}", f"≥ 10: {verdict(p / d >= 10)}"])
            rows.append(["… the view versus a raw scan of the same parts (no dedup)", f"{d * 1000:,.1f} ms",
                         f"raw scan: {r * 1000:,.1f} ms", f"{r / d:.2f}", f"≥ 0.5: {verdict(r / d >= 0.5)}"])
    if "clickhouse" in phases:
        cr, cs = b.med("ch_copy_rows"), b.med("ch_copy_s")
        dr, ds, rs, rs2 = b.med("ch_drain_rows"), b.med("ch_drain_s"), b.med("ch_ref_s"), b.med("ch_ref2_s")
        rows.append([f"ClickHouse {f['ch_server']}: first copy of the store, {cr:,.0f} rows (inserts of ≥ 100,000 rows)",
                     f"{fmt_int(cr / cs)} rows/s ({cs:.2f} s)", "", "", ""])
        rows.append([f"ClickHouse: outage backlog ({a.big_tx_rows:,}-row transaction committed while it was down), "
                     f"{dr:,.0f} rows of `{f['ch_table']}` ({f['ch_columns']} columns, {f['ch_row_bytes']:.0f} B/row in "
                     f"RowBinary) drained when it came back, {f['ch_streams']} inserts at once",
                     f"{fmt_int(dr / ds)} rows/s ({ds:.2f} s)",
                     f"ClickHouse's own RowBinary ingest of the same rows: {fmt_int(dr / rs)} rows/s ({rs:.2f} s); "
                     f"in two concurrent POSTs {fmt_int(dr / rs2)} rows/s ({rs2:.2f} s)",
                     f"{rs / ds:.2f}", f"≥ 1M rows/s: {verdict(dr / ds >= 1e6)}"])
        p50 = b.med("ch_lag_p50")
        rows.append([f"ClickHouse lag (source commit to acknowledged) under {b.spec.load_name} at {FRESHNESS_RATE:,} tx/s "
                     f"({b.med('ch_tps'):,.0f} achieved), sampled every 250 ms: p50 / p90 / max",
                     f"{p50:.2f} / {b.med('ch_lag_p90'):.2f} / {b.med('ch_lag_p100'):.2f} s", "", "",
                     f"p50 ≤ 1 s: {verdict(p50 <= 1)}"])
        rows.append(["ClickHouse `count() FINAL WHERE _deleted = 0` of every table = PostgreSQL's count",
                     "equal" if f["ch_equal"] else "DIFFERENT", "", "", ""])
    return rows


def freshness_table(b):
    def ms(name):
        v = b.med(name)
        return "n/a (no store commits)" if v is None else f"{v:,.0f} ms"
    p50, p99, cores, rss, tps = b.med("fresh_p50"), b.med("fresh_p99"), b.med("fresh_cores"), b.med("fresh_rss"), \
        b.med("fresh_tps")
    qp99 = b.med("probe_p99")
    return [["commit-to-visible lag p50", ms("fresh_p50"), f"≤ {T_P50_MS} ms: {verdict(p50 is not None and p50 <= T_P50_MS)}"],
            ["commit-to-visible lag p95", ms("fresh_p95"), ""],
            ["commit-to-visible lag p99", ms("fresh_p99"), f"≤ {T_P99_MS} ms: {verdict(p99 is not None and p99 <= T_P99_MS)}"],
            [f"quiet table ({PROBE_RATE} rows/s into `bench_probe`): commit-to-durable-checkpoint p50", ms("probe_p50"), ""],
            ["quiet table p95", ms("probe_p95"), ""],
            ["quiet table p99", ms("probe_p99"), f"≤ {T_P99_MS} ms: {verdict(qp99 is not None and qp99 <= T_P99_MS)}"],
            ["quiet-table probes measured (not in the store 30 s after the load)",
             f"{b.med('probe_n'):,.0f} ({b.med('probe_unresolved'):,.0f})", ""],
            ["CPU used by Freshet", f"{cores:.2f} cores", f"≤ {T_CORES} core: {verdict(cores <= T_CORES)}"],
            ["load achieved by pgbench", f"{tps:,.0f} tx/s (asked {FRESHNESS_RATE:,})",
             f"{FRESHNESS_RATE:,} tx/s: {verdict(tps >= 0.95 * FRESHNESS_RATE)}"],
            ["transactions observed in the window", f"{b.med('fresh_transactions'):,.0f}", ""],
            ["wait before the load for the merger to finish what earlier phases left (steady state)",
             f"{b.med('fresh_idle_s'):,.1f} s", ""],
            ["store commits in the window; their duration p50 / p99", f"{b.med('fresh_commits'):,.0f}; "
             f"{ms('fresh_commit_p50')} / {ms('fresh_commit_p99')}", ""],
            ["peak RSS", mib(rss), f"≤ {T_RSS_MB} MB: {verdict(rss <= T_RSS_MB * 1e6)}"]]


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def summary_table(benches):
    """Side by side, one column per schema: each ratio against its reference in the same run, lags, RSS per phase."""
    def cell(b, fn):
        try:
            return fn(b)
        except (TypeError, KeyError, ZeroDivisionError):
            return "—"          # the measure did not run on this schema

    def ratio(b, ref, ours):
        return f"{b.med(ref) / b.med(ours):.2f} ({b.med(ours):.2f} s vs {b.med(ref):.2f} s)"

    def ms3(b, prefix):
        return " / ".join(f"{b.med(f'{prefix}_p{p}'):,.0f}" for p in (50, 95, 99)) + " ms"

    rows = [
        ("rows; MB as binary COPY", lambda b: f"{b.facts['rows']:,}; {b.facts['copy_bytes'] / 1e6:,.0f} MB"),
        ("snapshot vs one binary COPY stream (target ≥ 0.9)", lambda b: ratio(b, "copy_s", "snap_s")),
        ("snapshot vs pg_dump -Fc -Z0", lambda b: ratio(b, "dump_s", "snap_s")),
        ("catch-up vs pg_recvlogical: one big transaction (≥ 1.0)", lambda b: ratio(b, "big_recv_s", "big_freshet_s")),
        ("… one-row transactions (≥ 1.0)", lambda b: ratio(b, "small_recv_s", "small_freshet_s")),
        ("… mixed backlog (≥ 1.0)", lambda b: ratio(b, "mixed_recv_s", "mixed_freshet_s")),
        ("lag p50 / p95 / p99, all transactions (histogram)", lambda b: ms3(b, "fresh")),
        ("lag p50 / p95 / p99, quiet table (probe; p99 ≤ 100 ms)", lambda b: ms3(b, "probe")),
        ("CPU under the 2,000 tx/s load (≤ 0.5 core); load achieved",
         lambda b: f"{b.med('fresh_cores'):.2f} cores; {b.med('fresh_tps'):,.0f} tx/s"),
        ("peak RSS: snapshot (≤ 300 MB)", lambda b: mib(b.med("snap_rss"))),
        ("peak RSS: big transaction", lambda b: mib(b.med("big_rss"))),
        ("peak RSS: one-row transactions", lambda b: mib(b.med("small_rss"))),
        ("peak RSS: mixed backlog", lambda b: mib(b.med("mixed_rss"))),
        ("peak RSS: freshness", lambda b: mib(b.med("fresh_rss"))),
        ("store size / pg_total_relation_size", lambda b: f"{b.facts['store_bytes'] / b.facts['pg_bytes']:.2f}"),
        ("ClickHouse: outage backlog drain vs its own RowBinary ingest of the same rows (one POST)",
         lambda b: f"{b.med('ch_ref_s') / b.med('ch_drain_s'):.2f} ({fmt_int(b.med('ch_drain_rows') / b.med('ch_drain_s'))} "
                   f"vs {fmt_int(b.med('ch_drain_rows') / b.med('ch_ref_s'))} rows/s; `{b.facts['ch_table']}`, "
                   f"{b.facts['ch_columns']} columns)"),
        ("ClickHouse lag p50 / p90 / max at 2,000 tx/s (p50 ≤ 1 s)",
         lambda b: f"{b.med('ch_lag_p50'):.2f} / {b.med('ch_lag_p90'):.2f} / {b.med('ch_lag_p100'):.2f} s"),
    ]
    header = ["measure"] + [f"{b.spec.name} ({b.spec.size_text(b.a)})" for b in benches]
    # Rows of measures that ran on no schema (--only) are left out.
    cells = [[label] + [cell(b, fn) for b in benches] for label, fn in rows]
    return markdown_table(header, [r for r in cells if any(c != "—" for c in r[1:])])


def report(benches, command, machine_lines):
    a = benches[0].a
    out = ["# Freshet benchmark", "",
           f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, median of {a.runs} run{'s' if a.runs != 1 else ''}. "
           f"Command: `{command}`", ""]
    out += [f"- {line}" for line in machine_lines] + [""]
    out += ["## Two schemas and pgbench, side by side", "",
            "Each schema ran in its own database, one after the other in this run; every ratio is Freshet against its "
            "reference on the same data in the same run (≥ 1.0: Freshet as fast; Freshet's times include its "
            "start-up). Compare figures across schemas with care when the load average above is high.", "",
            summary_table(benches), ""]
    for b in benches:
        out += [f"## {b.spec.name}: {b.spec.size_text(a)}, {', '.join(b.spec.tables)}", ""]
        rows = main_table(b)
        if rows:
            out += [markdown_table(["measure", "Freshet", "limit / reference", "ratio", "target"], rows), ""]
        if "freshness" in b.phases():
            max_age = f"--max-age-ms {a.max_age_ms}" if a.max_age_ms is not None else "freshet's default --max-age-ms"
            out += [f"Freshness: {b.spec.load_name} at {FRESHNESS_RATE:,} tx/s, {FRESHNESS_CLIENTS} clients, for "
                    f"{a.freshness_seconds} s ({WARMUP_SECONDS} s warm-up excluded), {max_age}. Lag quantiles from "
                    "the `freshet_commit_lag_seconds` histogram (one observation per source transaction, from its "
                    "commit on the source to the store commit that made it visible), interpolated within buckets. "
                    f"Quiet table: one row inserted {PROBE_RATE}× a second into `bench_probe` during the same "
                    "window, each timed until store.json's checkpointLSN passed the LSN read right after its "
                    "commit (exact quantiles of the probes).", "",
                    markdown_table(["measure", "Freshet", "target"], freshness_table(b)), ""]
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------------------- main

USAGE = __doc__.split("\nRuns on")[0].strip()


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{USAGE}\n\nbench: {message}", file=sys.stderr)
        sys.exit(2)

    def print_help(self, file=None):
        print(__doc__.strip())


def positive(text):
    v = int(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text}")
    return v


def phase_list(text):
    phases = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in phases if p not in PHASES]
    if bad or not phases:
        raise argparse.ArgumentTypeError(f"--only takes a subset of {','.join(PHASES)}")
    return phases


def schema_list(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(SPECS)
    bad = [n for n in names if n not in SPECS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"--schema takes all or a subset of {','.join(SPECS)}")
    return [n for n in SPECS if n in names]


def parse_args(argv):
    p = Parser(prog="Tools/bench", add_help=True)
    p.add_argument("--schema", type=schema_list, default=list(SPECS))
    p.add_argument("--orders", type=positive, default=1_000_000)
    p.add_argument("--wide-orders", type=positive, default=None)
    p.add_argument("--pgbench-scale", type=positive, default=None)
    p.add_argument("--keep-templates", action="store_true")
    p.add_argument("--keep-work", action="store_true")
    p.add_argument("--runs", type=positive, default=3)
    p.add_argument("--big-tx-rows", type=positive, default=1_000_000)
    p.add_argument("--small-tx", type=positive, default=200_000)
    p.add_argument("--backlog-seconds", type=positive, default=15)
    p.add_argument("--rate", type=positive, default=3000)
    p.add_argument("--freshness-seconds", type=positive, default=30)
    p.add_argument("--max-age-ms", type=positive, default=None)
    p.add_argument("--freshet", default=os.environ.get("FRESHET_BENCH_BIN"))
    p.add_argument("--only", type=phase_list, default=list(DEFAULT_PHASES))
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "bench.md"))
    a = p.parse_args(argv)
    if not a.freshet and not os.environ.get("FRESHET_BENCH_CHECK_ARGS"):
        p.error("no freshet binary (--freshet BIN)")
    if "freshness" in a.only and a.freshness_seconds <= WARMUP_SECONDS:
        p.error(f"--freshness-seconds must exceed the {WARMUP_SECONDS} s warm-up")
    a.freshet = a.freshet and os.path.abspath(a.freshet)
    a.wide_orders = a.wide_orders or max(1, a.orders // 4)
    a.pgbench_scale = a.pgbench_scale or max(1, a.orders // 100_000)
    return a


def main(argv):
    a = parse_args(argv)
    if os.environ.get("FRESHET_BENCH_CHECK_ARGS"):      # Tools/bench validates options before building
        return 0
    if not os.access(a.freshet, os.X_OK):
        log(f"not an executable: {a.freshet}")
        return 2
    def interrupt(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, interrupt)      # also when started in the background (SIGINT ignored)
    signal.signal(signal.SIGTERM, interrupt)
    command = "Tools/bench" + "".join(" " + shlex.quote(x) for x in argv)
    base_url = run([os.path.join(ROOT, "Tools", "pg-sandbox"), "start"]).stdout.strip()
    work_root = tempfile.mkdtemp(prefix="freshet-bench-", dir=os.environ.get("TMPDIR", "/tmp"))
    benches = [Bench(a, base_url, SPECS[name], work_root) for name in a.schema]
    started = time.monotonic()
    done = False
    try:
        machine_lines = machine(Postgres(base_url), a.freshet, os.path.dirname(benches[0].work)) + [nproc_line()]
        for line in machine_lines:
            log(line)
        for b in benches:
            try:
                b.run()
            finally:
                CHILDREN.end_all()
                drop_databases(base_url, b.spec, a.keep_templates)     # also on failure: nothing left behind
        minutes = (time.monotonic() - started) / 60
        log(f"all schemas done in {minutes:.1f} min")
        text = report(benches, command, machine_lines + [load_average("at the end"),
                                                         f"duration of the run: {minutes:.1f} min"])
        done = True
    except BenchError as e:
        log(f"failed: {e}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        CHILDREN.end_all()
        for b in benches:
            try:
                drop_databases(base_url, b.spec, a.keep_templates)
            except BenchError as e:
                log(f"could not drop the bench's slots/databases of {b.spec.name}: {e}")
        if done and not a.keep_work:
            shutil.rmtree(work_root, ignore_errors=True)
        else:
            log(f"work files (stores, logs) kept in {work_root}")
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text + "\n")
    log(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
