#!/usr/bin/env python3
"""bench: Freshet against the physical limits, measured in the same run on the same data (issue 7).

    Tools/bench [--orders N] [--runs K] [--big-tx-rows N] [--small-tx N] [--backlog-seconds S] [--rate TX_PER_S]
                [--freshness-seconds S] [--max-age-ms N] [--freshet BIN] [--only snapshot,catchup,freshness,query]
                [--out FILE]

Runs on the sandbox PostgreSQL (Tools/pg-sandbox) in a database of its own, `freshet_bench`, made fresh for every
invocation from a template database holding the demo shop schema (Schemas/demo-shop.sql) seeded with
`shop.seed(N)`: N orders (default 1,000,000), N/10 customers, 20 shops and ~2.5 line items per order, so every
invocation (and every --freshet binary compared) sees the same data. Each measure runs K times (default 3; all runs
of one measure before the next, so the snapshots read the data as seeded) and the median of the runs is reported
for every number, peak RSS included. Work files (stores, logs) live in ${TMPDIR:-/tmp}/freshet-bench.

Measures
  1. snapshot: `freshet run` into a fresh store (new slot and publication) until its log says `snapshot.committed`
     (start-up included), versus the read limit, `COPY t TO STDOUT (FORMAT binary)` of the four shop tables one
     after the other to /dev/null (its byte count, measured once, gives the MB/s of both), and versus
     `pg_dump -Fc -Z0 --schema=shop` to /dev/null (what a nightly clone costs). Ratio = COPY time / Freshet time.
  2. catch-up: three backlogs, each made while Freshet is stopped and ended by a marker transaction
     (`pg_logical_emit_message(true, 'freshet', 'bench-end')`, whose LSN is END). First an untimed `freshet run`
     brings the store up to the current WAL position; then a reference slot (pgoutput) is created, so both slots sit
     at the same point and neither decoder reads WAL the other does not. `freshet run` (resuming
     its slot; its time includes start-up) is done when STORE/store.json's checkpointLSN >= END; `pg_recvlogical
     --endpos=END` drains the reference slot to /dev/null. The order of the two alternates between runs (the second
     reader finds the WAL in the page cache). Ratio = pg_recvlogical time / Freshet time.
       a. one big transaction: UPDATE of --big-tx-rows line items (default 1,000,000); rows/s.
       b. --small-tx one-row UPDATE transactions on shop.orders (default 200,000), pgbench at full speed, 4 clients; tx/s.
       c. mixed: Tools/loadgen at --rate tx/s (default 3000) for --backlog-seconds (default 15); tx/s.
     Also reported: the time of the sync run before each backlog (start-up plus one marker, nothing to catch
     up), to show how much of Freshet's catch-up time is start-up.
     Transactions come from pgbench's "number of transactions actually processed", rows from the statement's
     command tag (a) or from the pg_stat_user_tables insert/update/delete counters of the shop tables (b, c).
  3. freshness: `freshet run` caught up (with --metrics on a free loopback port, --max-age-ms passed through when
     given), then Tools/loadgen --rate 2000 --clients 16 for --freshness-seconds (default 30). After a 5 s warm-up
     and again when the load ends, /metrics is scraped; from the difference of the `freshet_commit_lag_seconds`
     bucket counts come p50/p95/p99 (linear interpolation within the bucket, as Prometheus' histogram_quantile).
     Each observation of that histogram is one source transaction: its commit time on the source to the store
     commit that made it visible. CPU = delta of Freshet's utime+stime (/proc/PID/stat) over the same wall-clock window,
     in cores. Also the rate pgbench achieved (its tps) and Freshet's peak RSS.
  4. memory: peak RSS (VmHWM in /proc/PID/status, read just before SIGTERM) of Freshet in 1, 2a and 3.
  5. storage and query: bytes of STORE/tables right after the initial snapshot versus the sum of
     pg_total_relation_size of the shop tables; and `SELECT status, count(*), sum(total) FROM orders GROUP BY status
     ORDER BY status` after 5% of the orders were updated spread over the whole key range (10 transactions, so the
     new parts overlap every older one) and the store brought up to date: in PostgreSQL (psql \\timing), in DuckDB
     (in-process) through a view created once from `freshet sql shop.orders --dialect duckdb --view orders`, and in
     DuckDB over the same parts without dedup (`freshet sql --raw`), each one untimed warm-up then median of 5.
     Both must give the same groups, counts and sums (to the cent), else the bench fails.

Output: the machine, then a markdown table (measure | Freshet | limit / reference | ratio | target) and a freshness
table, each with the issue's targets marked met / not met; the same markdown (with date and command line) goes to
--out (default docs/bench.md). --only runs a subset (the tables then hold only those rows). Child processes are
killed and the bench's slots and publication dropped on exit, also on Ctrl-C.
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
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PGBIN = "/usr/lib/postgresql/15/bin"
DB, TEMPLATE_DB = "freshet_bench", "freshet_bench_template"
SLOT, REF_SLOT, PUBLICATION = "freshet_bench", "freshet_bench_ref", "freshet_bench"
TABLES = ["shop.shops", "shop.customers", "shop.orders", "shop.line_items"]
PHASES = ["snapshot", "catchup", "freshness", "query"]
# 16 clients: with fsync on, one client commits a few hundred tx/s, so 4 cannot keep 2,000 tx/s on schedule.
FRESHNESS_RATE, FRESHNESS_CLIENTS, WARMUP_SECONDS = 2000, 16, 5
WAIT_LIMIT = 3 * 3600       # seconds any single wait may take before the bench gives up
MIB = 1024 * 1024
QUERY = "SELECT status, count(*) AS n, sum(total) AS total FROM orders GROUP BY status ORDER BY status"

# Targets from issue 7.
T_SNAPSHOT, T_CATCHUP, T_P50_MS, T_P99_MS, T_CORES, T_RSS_MB, T_STORE = 0.9, 1.0, 100, 250, 0.5, 300, 0.4


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

    def row_changes(self):
        """Inserted + updated + deleted rows of the shop tables so far (pg_stat_user_tables)."""
        return int(self.value("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables "
                              "WHERE schemaname = 'shop'"))

    def drop_bench_objects(self):
        """Drops the bench's slots (when no walsender holds them) and its publication."""
        for attempt in range(20):
            active = self.value(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ('{SLOT}', '{REF_SLOT}') "
                                "AND active")
            self.query(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                       f"WHERE slot_name IN ('{SLOT}', '{REF_SLOT}') AND NOT active")
            if active == "0":
                break
            time.sleep(0.5)
        self.query(f"DROP PUBLICATION IF EXISTS {PUBLICATION}")


def with_database(url, name):
    return url.rsplit("/", 1)[0] + "/" + name


def schema_fingerprint(orders):
    with open(os.path.join(ROOT, "Schemas", "demo-shop.sql"), "rb") as f:
        return f"shop.seed({orders}) schema-md5 {hashlib.md5(f.read()).hexdigest()}"


def prepare_database(base_url, orders):
    """(Re)creates `freshet_bench` from a seeded template database (seeded once per size and schema version)."""
    admin = Postgres(base_url)
    template = Postgres(with_database(base_url, TEMPLATE_DB))
    fingerprint = schema_fingerprint(orders)
    current = admin.value(f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{TEMPLATE_DB}'")
    if current != fingerprint:
        log(f"seeding a template database with {orders:,} orders (once per size) ...")
        admin.query(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        admin.query(f"CREATE DATABASE {TEMPLATE_DB}")
        run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", template.url, "-f", os.path.join(ROOT, "Schemas", "demo-shop.sql")],
            env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))
        template.query(f"SELECT shop.seed({orders})")
        template.query("SELECT setval('shop.order_ids', greatest((SELECT max(id) FROM shop.orders), 1000000))")
        template.query("VACUUM (FREEZE, ANALYZE)")
        admin.query(f"COMMENT ON DATABASE {TEMPLATE_DB} IS '{fingerprint}'")
    bench = Postgres(with_database(base_url, DB))
    if admin.value(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'") == "1":
        bench.drop_bench_objects()
        admin.query(f"DROP DATABASE {DB}")
    admin.query(f"CREATE DATABASE {DB} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
    return bench


# -------------------------------------------------------------------------------------------------------- freshet

class Freshet:
    """One `freshet run` process on the bench's slot, publication and store."""

    def __init__(self, binary, url, store, log_path, metrics_port=None, max_age_ms=None):
        self.store, self.log_path, self.metrics_port = store, log_path, metrics_port
        self.argv = [binary, "run", "--source", url, "--store", store, "--schema", "shop", "--slot", SLOT,
                     "--publication", PUBLICATION, "--heartbeat-seconds", "0", "--progress-seconds", "1",
                     "--metrics", f"127.0.0.1:{metrics_port}" if metrics_port else "off"]
        if max_age_ms is not None:
            self.argv += ["--max-age-ms", str(max_age_ms)]
        self.proc = None

    def start(self):
        self.log_file = open(self.log_path, "w")
        self.proc = CHILDREN.start(self.argv, stdout=self.log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def log_tail(self, lines=15):
        with open(self.log_path, errors="replace") as f:
            return redact("".join(f.readlines()[-lines:]))

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


# ------------------------------------------------------------------------------------------------- the bench run

class Bench:
    def __init__(self, args, base_url):
        self.a = args
        self.work = os.path.join(os.environ.get("TMPDIR", "/tmp"), "freshet-bench")
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

    def freshet(self, log_name, metrics=False, max_age=False):
        return Freshet(self.a.freshet, self.pg.url, self.store, os.path.join(self.work, log_name),
                       metrics_port=free_port() if metrics else None,
                       max_age_ms=self.a.max_age_ms if max_age else None)

    def fresh_store(self):
        self.pg.drop_bench_objects()
        run(["rm", "-rf", self.store])

    def catch_up(self, f):
        """Emits a marker and waits until the running Freshet f has it in its store."""
        _, end = self.pg.emit_marker()
        f.wait_checkpoint(end)

    def sync_store(self, log_name):
        """Brings the store up to the current WAL position with a `freshet run`; returns its seconds (start-up
        plus a marker round trip when there is nothing to catch up)."""
        f = self.freshet(log_name)
        t0 = time.monotonic()
        f.start()
        try:
            self.catch_up(f)
            return time.monotonic() - t0
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
        tables = ", ".join(f"'{t}'::regclass" for t in TABLES)
        counts = " + ".join(f"(SELECT count(*) FROM {t})" for t in TABLES)
        self.facts["rows"] = int(self.pg.value(f"SELECT {counts}"))
        self.facts["pg_bytes"] = int(self.pg.value(f"SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY[{tables}]) c"))

    # -- 1. snapshot

    def copy_tables(self, count_bytes=False):
        """Binary COPY of every table, one after the other, to /dev/null (or counted); returns (seconds, bytes)."""
        total, t0 = 0, time.monotonic()
        for t in TABLES:
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
            out = subprocess.run([f"{PGBIN}/pg_dump", "-Fc", "-Z0", "--schema=shop", "-d", self.pg.url],
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
        log(f"[snapshot {i}] freshet {snap_s:.2f} s (peak RSS {mib(rss)}), COPY {copy_s:.2f} s, pg_dump {dump_s:.2f} s")

    # -- 2. catch-up

    def make_big_tx(self):
        n = self.a.big_tx_rows
        last = self.pg.value(f"SELECT order_id FROM shop.line_items ORDER BY order_id OFFSET {n - 1} LIMIT 1") or \
            self.pg.value("SELECT max(order_id) FROM shop.line_items")
        tag = self.pg.command_tag(f"UPDATE shop.line_items SET quantity = quantity + 1 WHERE order_id <= {last}")
        return {"tx": 1, "rows": int(tag.split()[-1])}

    def make_small_tx(self):
        script = os.path.join(self.work, "small-tx.sql")
        with open(script, "w") as f:
            # Seeded ids 1..N/2 stay (Tools/loadgen deletes only near the newest order): one row per transaction.
            f.write(f"\\set id random(1, {max(1, self.a.orders // 2)})\n"
                    "UPDATE shop.orders SET total = total + 0.01, updated_at = now() WHERE id = :id;\n")
        clients = 4
        before = self.pg.row_changes()
        out = run([f"{PGBIN}/pgbench", "-n", "-f", script, "-c", str(clients), "-j", "2",
                   "-t", str(max(1, math.ceil(self.a.small_tx / clients))), self.pg.url])
        return {"tx": pgbench_transactions(out.stdout), "rows": self.pg.row_changes() - before}

    def make_mixed(self):
        before = self.pg.row_changes()
        out = run([os.path.join(ROOT, "Tools", "loadgen"), "--url", self.pg.url, "--rate", str(self.a.rate),
                   "--duration", str(self.a.backlog_seconds), "--clients", "4"])
        return {"tx": pgbench_transactions(out.stdout), "rows": self.pg.row_changes() - before}

    def drain_recvlogical(self, end_lsn):
        t0 = time.monotonic()
        run([f"{PGBIN}/pg_recvlogical", "-d", self.pg.url, "-S", REF_SLOT, "--start", f"--endpos={end_lsn}",
             "--no-loop", "-o", "proto_version=1", "-o", f"publication_names={PUBLICATION}", "-f", "/dev/null"])
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
        # Freshet's slot and the reference slot start at (nearly) the same WAL position: neither reads extra WAL.
        self.record("startup_s", self.sync_store(f"catchup-{kind}-sync.log"))
        self.pg.query(f"SELECT pg_create_logical_replication_slot('{REF_SLOT}', 'pgoutput')")
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
            self.pg.query(f"SELECT pg_drop_replication_slot('{REF_SLOT}') FROM pg_replication_slots "
                          f"WHERE slot_name = '{REF_SLOT}'")
        self.record(f"{kind}_freshet_s", fresh_s)
        self.record(f"{kind}_recv_s", recv_s)
        self.record(f"{kind}_tx", made["tx"])
        self.record(f"{kind}_rows", made["rows"])
        if kind == "big":
            self.record("big_rss", rss)
        log(f"[catch-up {kind} {i}] {made['tx']:,} tx, {made['rows']:,} rows: freshet {fresh_s:.2f} s "
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
            load = CHILDREN.start([os.path.join(ROOT, "Tools", "loadgen"), "--url", self.pg.url,
                                   "--rate", str(FRESHNESS_RATE), "--clients", str(FRESHNESS_CLIENTS),
                                   "--duration", str(self.a.freshness_seconds)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(WARMUP_SECONDS)
            f.ensure_alive()
            text0, cpu0, t0 = f.scrape(), f.cpu_seconds(), time.monotonic()
            output = load.communicate(timeout=self.a.freshness_seconds + 120)[0]
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
        show = ", ".join(f"p{p} {'n/a' if v is None else f'{v * 1000:.0f} ms'}" for p, v in q.items())
        log(f"[freshness {i}] {show} over {window[max(window)]:.0f} transactions, {cores:.2f} cores, "
            f"{pgbench_tps(output):,.0f} tx/s achieved, peak RSS {mib(rss)}")

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

    def duckdb_query(self):
        """QUERY through a view created once from `freshet sql --view` (the query-time view), and over the same
        parts without dedup (`freshet sql --raw`)."""
        import duckdb
        view = run([self.a.freshet, "sql", "shop.orders", "--store", self.store, "--dialect", "duckdb", "--view", "orders"]).stdout
        raw = run([self.a.freshet, "sql", "shop.orders", "--store", self.store, "--dialect", "duckdb", "--raw"]).stdout
        con = duckdb.connect()
        con.execute(view)
        rows, view_s = self.timed_duckdb(con, QUERY)
        _, raw_s = self.timed_duckdb(con, QUERY.replace("FROM orders", f"FROM ({raw.strip()})"))
        return rows, view_s, raw_s

    def postgres_query(self):
        sql = QUERY.replace("FROM orders", "FROM shop.orders")
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
            self.pg.query(f"UPDATE shop.orders SET total = total + 1, status = 'paid' WHERE id % 200 = {(i * 10 + j) % 200}")

    def phase_query(self, i):
        self.ensure_store()
        self.spread_updates(i)
        self.sync_store("query-sync.log")
        parts = run([self.a.freshet, "sql", "shop.orders", "--store", self.store, "--dialect", "duckdb", "--raw"]).stdout.count(".parquet'")
        duck_rows, duck_s, raw_s = self.duckdb_query()
        pg_rows, pg_s = self.postgres_query()
        check_same_result(duck_rows, pg_rows)
        self.record("duck_s", duck_s)
        self.record("raw_s", raw_s)
        self.record("pgq_s", pg_s)
        self.facts["query_parts"] = parts
        log(f"[query {i}] PostgreSQL {pg_s * 1000:.1f} ms | DuckDB view {duck_s * 1000:.1f} ms | raw scan of the "
            f"{parts} parts {raw_s * 1000:.1f} ms ({len(pg_rows)} groups, results equal)")

    # -- driver

    def run(self):
        log("preparing the database ...")
        self.pg = prepare_database(self.base_url, self.a.orders)
        run(["rm", "-rf", self.store])          # its slot went with the old database
        self.table_facts()
        log(f"{self.facts['rows']:,} rows in the shop tables, {mib(self.facts['pg_bytes'])} in PostgreSQL; "
            "warming up (untimed COPY) ...")
        _, self.facts["copy_bytes"] = self.copy_tables(count_bytes=True)
        # Each measure K times before the next, so every snapshot reads the data as seeded (no catch-up yet).
        for p in [p for p in PHASES if p in self.a.only]:
            for i in range(1, self.a.runs + 1):
                log(f"{p}: run {i} of {self.a.runs}")
                getattr(self, "phase_" + p)(i)
        self.pg.drop_bench_objects()


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


def load_average():
    with open("/proc/loadavg") as f:
        return "load average at the end: " + " ".join(f.read().split()[:3])


def main_table(b):
    """Rows of the main markdown table for the measures that ran."""
    a, f, rows = b.a, b.facts, []
    if "snapshot" in a.only:
        snap, copy, dump = b.med("snap_s"), b.med("copy_s"), b.med("dump_s")
        n, mb = f["rows"], f["copy_bytes"] / 1e6
        ratio = copy / snap
        rows.append([f"initial snapshot, {n:,} rows ({mb:,.0f} MB as binary COPY)",
                     f"{fmt_int(n / snap)} rows/s, {mb / snap:,.1f} MB/s ({snap:.2f} s, incl. start-up)",
                     f"binary COPY, one stream: {fmt_int(n / copy)} rows/s, {mb / copy:,.1f} MB/s ({copy:.2f} s)",
                     f"{ratio:.2f}", f"≥ {T_SNAPSHOT}: {verdict(ratio >= T_SNAPSHOT)}"])
        rows.append(["… versus a nightly clone", "",
                     f"pg_dump -Fc -Z0: {fmt_int(n / dump)} rows/s ({dump:.2f} s)", f"{dump / snap:.2f}", ""])
    if "catchup" in a.only:
        for kind, label, unit in [("big", "one transaction", "rows"), ("small", "one-row transactions", "tx"),
                                  ("mixed", f"Tools/loadgen at {a.rate:,} tx/s for {a.backlog_seconds} s", "tx")]:
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
                        ("fresh_rss", "peak RSS, freshness under load")]:
        if b.results.get(name):
            rss = b.med(name)
            rows.append([label, mib(rss), "", "", f"≤ {T_RSS_MB} MB: {verdict(rss <= T_RSS_MB * 1e6)}"])
    if "store_bytes" in f and ("snapshot" in a.only or "query" in a.only):
        ratio = f["store_bytes"] / f["pg_bytes"]
        rows.append(["store size after the snapshot", mib(f["store_bytes"]),
                     f"pg_total_relation_size: {mib(f['pg_bytes'])}", f"{ratio:.2f}× the table size",
                     f"≤ {T_STORE}×: {verdict(ratio <= T_STORE)}"])
    if "query" in a.only:
        d, p, r = b.med("duck_s"), b.med("pgq_s"), b.med("raw_s")
        rows.append([f"`SELECT status, count(*), sum(total) FROM orders GROUP BY status` after 5% of the orders were "
                     f"updated across the key range ({b.facts.get('query_parts', '?')} parts; same result)",
                     f"DuckDB through the view: {d * 1000:,.1f} ms", f"PostgreSQL: {p * 1000:,.1f} ms",
                     f"{p / d:.2f}", f"≥ 10: {verdict(p / d >= 10)}"])
        rows.append(["… the view versus a raw scan of the same parts (no dedup)", f"{d * 1000:,.1f} ms",
                     f"raw scan: {r * 1000:,.1f} ms", f"{r / d:.2f}", f"≥ 0.5: {verdict(r / d >= 0.5)}"])
    return rows


def freshness_table(b):
    def ms(name):
        v = b.med(name)
        return "n/a (no store commits)" if v is None else f"{v:,.0f} ms"
    p50, p99, cores, rss, tps = b.med("fresh_p50"), b.med("fresh_p99"), b.med("fresh_cores"), b.med("fresh_rss"), \
        b.med("fresh_tps")
    return [["commit-to-visible lag p50", ms("fresh_p50"), f"≤ {T_P50_MS} ms: {verdict(p50 is not None and p50 <= T_P50_MS)}"],
            ["commit-to-visible lag p95", ms("fresh_p95"), ""],
            ["commit-to-visible lag p99", ms("fresh_p99"), f"≤ {T_P99_MS} ms: {verdict(p99 is not None and p99 <= T_P99_MS)}"],
            ["CPU used by Freshet", f"{cores:.2f} cores", f"≤ {T_CORES} core: {verdict(cores <= T_CORES)}"],
            ["load achieved by pgbench", f"{tps:,.0f} tx/s (asked {FRESHNESS_RATE:,})",
             f"{FRESHNESS_RATE:,} tx/s: {verdict(tps >= 0.95 * FRESHNESS_RATE)}"],
            ["transactions observed in the window", f"{b.med('fresh_transactions'):,.0f}", ""],
            ["store commits in the window; their duration p50 / p99", f"{b.med('fresh_commits'):,.0f}; "
             f"{ms('fresh_commit_p50')} / {ms('fresh_commit_p99')}", ""],
            ["peak RSS", mib(rss), f"≤ {T_RSS_MB} MB: {verdict(rss <= T_RSS_MB * 1e6)}"]]


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def report(b, command, machine_lines):
    a = b.a
    out = ["# Freshet benchmark", "",
           f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, median of {a.runs} run{'s' if a.runs != 1 else ''}. "
           f"Command: `{command}`", ""]
    out += [f"- {line}" for line in machine_lines] + [""]
    rows = main_table(b)
    if rows:
        out += ["Ratio ≥ 1.0: Freshet as fast as the reference (for the store size: the fraction of the table size).",
                "Freshet's times include its start-up.", "",
                markdown_table(["measure", "Freshet", "limit / reference", "ratio", "target"], rows), ""]
    if "freshness" in a.only:
        max_age = f"--max-age-ms {a.max_age_ms}" if a.max_age_ms is not None else "freshet's default --max-age-ms"
        out += [f"Freshness: Tools/loadgen at {FRESHNESS_RATE:,} tx/s, {FRESHNESS_CLIENTS} clients, for "
                f"{a.freshness_seconds} s ({WARMUP_SECONDS} s warm-up excluded), {max_age}. Lag quantiles from the "
                "`freshet_commit_lag_seconds` histogram (one observation per source transaction, from its commit on "
                "the source to the store commit that made it visible), interpolated within buckets.", "",
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


def parse_args(argv):
    p = Parser(prog="Tools/bench", add_help=True)
    p.add_argument("--orders", type=positive, default=1_000_000)
    p.add_argument("--runs", type=positive, default=3)
    p.add_argument("--big-tx-rows", type=positive, default=1_000_000)
    p.add_argument("--small-tx", type=positive, default=200_000)
    p.add_argument("--backlog-seconds", type=positive, default=15)
    p.add_argument("--rate", type=positive, default=3000)
    p.add_argument("--freshness-seconds", type=positive, default=30)
    p.add_argument("--max-age-ms", type=positive, default=None)
    p.add_argument("--freshet", default=os.environ.get("FRESHET_BENCH_BIN"))
    p.add_argument("--only", type=phase_list, default=list(PHASES))
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "bench.md"))
    a = p.parse_args(argv)
    if not a.freshet and not os.environ.get("FRESHET_BENCH_CHECK_ARGS"):
        p.error("no freshet binary (--freshet BIN)")
    if "freshness" in a.only and a.freshness_seconds <= WARMUP_SECONDS:
        p.error(f"--freshness-seconds must exceed the {WARMUP_SECONDS} s warm-up")
    a.freshet = a.freshet and os.path.abspath(a.freshet)
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
    bench = Bench(a, base_url)
    try:
        machine_lines = machine(Postgres(base_url), a.freshet, bench.work)
        for line in machine_lines:
            log(line)
        bench.run()
        text = report(bench, command, machine_lines + [load_average()])
    except BenchError as e:
        log(f"failed: {e}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        CHILDREN.end_all()
        if bench.pg:
            try:
                bench.pg.drop_bench_objects()
            except BenchError as e:
                log(f"could not drop the bench's slots/publication: {e}")
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text + "\n")
    log(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
