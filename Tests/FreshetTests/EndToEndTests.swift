import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `freshet run` against the sandbox PostgreSQL, end to end: snapshot, streaming, crashes, restarts.
/// After each scenario the store must equal PostgreSQL, compared row by row with per-table checksums through
/// `freshet scan` and through DuckDB over `freshet sql` (Tools/compare-store).
final class EndToEndTests: XCTestCase {
    /// A test schema with three tables covering composite keys, TOASTed text, arrays, jsonb and numerics.
    final class Scenario {
        let pg: PostgresFixture
        let url: String
        let schema: String
        let store: String
        let slot: String
        let publication: String
        let logPath: String
        var tables: [String] { ["items", "events", "plain"].map { "\(schema).\($0)" } }

        init(url: String? = nil, rows: Int = 3000) throws {
            pg = try PostgresFixture()
            self.url = try url ?? TestEnvironment.postgresURL()
            schema = pg.name("shop")
            slot = pg.name("slot")
            publication = pg.name("pub")
            store = NSTemporaryDirectory() + "freshet-e2e-" + pg.prefix
            logPath = store + ".log"
            let sql = try Connection(self.url)
            let s = SQLQuoting.identifier(schema)
            try sql.execute("""
                CREATE SCHEMA \(s);
                CREATE TABLE \(s).items (id bigint PRIMARY KEY, qty int NOT NULL, price numeric(10,2), note text, big text,
                  updated timestamptz NOT NULL DEFAULT now(), tags text[], flag bool, ratio float8);
                CREATE TABLE \(s).events (a int, b text, payload jsonb, at date, PRIMARY KEY (a, b));
                CREATE TABLE \(s).plain (id int PRIMARY KEY, v float8, u uuid);
                INSERT INTO \(s).items SELECT g, g % 100, g / 7.0, 'note ' || g,
                  CASE WHEN g % 10 = 0 THEN (SELECT string_agg(md5((g * 1000 + x)::text), '') FROM generate_series(1, 200) x) END,
                  timestamptz '2024-01-01 00:00:00+00' + g * interval '1.5 second', ARRAY['t' || (g % 3), 'x y'], g % 2 = 0, g / 3.0
                FROM generate_series(1, \(rows)) g;
                INSERT INTO \(s).events SELECT g % 50, 'k' || g, jsonb_build_object('g', g, 'arr', jsonb_build_array(g, 'x')), date '2024-01-01' + g % 400
                FROM generate_series(1, \(rows)) g;
                INSERT INTO \(s).plain SELECT g, g * 1.25, md5(g::text)::uuid FROM generate_series(1, \(rows / 3)) g;
                """)
            sql.close()
        }

        func start(_ extra: [String] = [], environment: [String: String] = [:]) throws -> FreshetProcess {
            try FreshetProcess(["run", "--source", url, "--store", store, "--slot", slot, "--publication", publication,
                                "--schema", schema, "--metrics", "off", "--heartbeat-seconds", "1", "--max-age-ms", "100"] + extra,
                               logPath: logPath, environment: environment)
        }

        /// The store's checkpoint LSN (0 before the first snapshot commit).
        var checkpoint: LSN {
            guard let data = FileManager.default.contents(atPath: store + "/store.json"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let value = json["checkpointLSN"] as? NSNumber else { return .zero }
            return LSN(value.uint64Value)
        }

        /// Waits until the store has everything PostgreSQL committed so far.
        func waitCaughtUp(timeout: Double = 120) throws {
            let sql = try Connection(url)
            defer { sql.close() }
            let target = try XCTUnwrap(LSN(try XCTUnwrap(sql.execute("SELECT pg_current_wal_lsn()::text").scalar)))
            let end = Date().addingTimeInterval(timeout)
            while checkpoint < target {
                guard Date() < end else {
                    throw TestFailure("store did not catch up to \(target) (at \(checkpoint)); log:\n" + ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""))
                }
                usleep(100_000)
            }
        }

        /// Runs Tools/compare-store over every table; returns its output, failing the test on a difference.
        @discardableResult
        func compare(file: StaticString = #filePath, line: UInt = #line) throws -> String {
            let tool = TestEnvironment.toolsDirectory.appendingPathComponent("compare-store").path
            let result = try Subprocess.run(try TestEnvironment.python(), [tool, "--source", url, "--store", store,
                                                                           "--freshet", TestEnvironment.product("freshet"), "--duckdb"] + tables)
            XCTAssertEqual(result.status, 0, "store differs from PostgreSQL:\n\(result.stdout)\n\(result.stderr)", file: file, line: line)
            return result.stdout
        }

        func cleanup() {
            let sql = try? Connection(url)
            _ = try? sql?.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", [slot])
            usleep(200_000)
            _ = try? sql?.query("SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1", [slot])
            _ = try? sql?.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(publication))")
            _ = try? sql?.execute("DROP SCHEMA IF EXISTS \(SQLQuoting.identifier(schema)) CASCADE")
            removeTemporaryFiles(store)
        }
    }

    /// A random mixed workload: inserts, updates (also of keys), TOAST-unchanged updates, deletes, truncates and
    /// ALTER TABLE add / drop column, on its own connection and thread.
    final class Workload: @unchecked Sendable {
        let url: String
        let schema: String
        private let stopFlag = NSLock()
        private var stopped = false
        private(set) var operations = 0
        private let done = DispatchSemaphore(value: 0)
        private(set) var error: Error?

        init(url: String, schema: String) { self.url = url; self.schema = schema }

        func start(seed: UInt64) {
            Thread.detachNewThread { [self] in
                defer { done.signal() }
                do { try run(seed: seed) } catch { self.error = error }
            }
        }

        func stop() {
            stopFlag.lock(); stopped = true; stopFlag.unlock()
            done.wait()
        }

        private var isStopped: Bool { stopFlag.lock(); defer { stopFlag.unlock() }; return stopped }

        private func run(seed: UInt64) throws {
            var rng = SeededRandom(seed: seed)
            let sql = try Connection(url)
            defer { sql.close() }
            let s = SQLQuoting.identifier(schema)
            var nextID = 1_000_000 + Int(seed) * 100_000
            // Where an earlier workload left the ALTER TABLE steps.
            let columns = try sql.query("SELECT string_agg(attname, ',') FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
                                        ["\(s).items"]).scalar ?? ""
            var altered = columns.contains("extra") ? (columns.contains("flag") ? 1 : 2) : 0
            while !isStopped {
                operations += 1
                let op = rng.next(100)
                switch op {
                case 0..<30:
                    let n = 1 + rng.next(40)
                    let flag = altered < 2 ? ", flag" : "", flagValue = altered < 2 ? ", g % 3 = 0" : ""
                    try sql.execute("""
                        INSERT INTO \(s).items (id, qty, price, note, big, tags, ratio\(flag))
                        SELECT g, g % 97, g / 3.0, CASE WHEN g % 4 = 0 THEN NULL ELSE 'n' || g END,
                          CASE WHEN g % 5 = 0 THEN (SELECT string_agg(md5((g + x)::text), '') FROM generate_series(1, 150) x) END,
                          ARRAY['a', NULL, 'q"uote'], g * 0.1\(flagValue) FROM generate_series(\(nextID), \(nextID + n - 1)) g
                        """)
                    try sql.execute("INSERT INTO \(s).events SELECT \(nextID % 50), 'w' || g, '{\"w\": true}', NULL FROM generate_series(\(nextID), \(nextID + n - 1)) g")
                    nextID += n
                case 30..<50:
                    // Updates that leave the TOASTed `big` unchanged (pgoutput sends 'u' for it).
                    try sql.execute("UPDATE \(s).items SET qty = qty + 1, updated = now() WHERE id % 10 = \(rng.next(10)) AND id % 7 = \(rng.next(7))")
                case 50..<58:
                    try sql.execute("UPDATE \(s).items SET big = md5(random()::text), note = NULL WHERE id = (SELECT id FROM \(s).items ORDER BY id OFFSET \(rng.next(500)) LIMIT 1)")
                case 58..<64:
                    // Key change: the old key must disappear.
                    try sql.execute("UPDATE \(s).items SET id = id + 5000000 WHERE id = (SELECT id FROM \(s).items WHERE id < 5000000 ORDER BY id OFFSET \(rng.next(300)) LIMIT 1)")
                case 64..<76:
                    try sql.execute("DELETE FROM \(s).items WHERE id IN (SELECT id FROM \(s).items ORDER BY id OFFSET \(rng.next(1000)) LIMIT \(1 + rng.next(5)))")
                    try sql.execute("DELETE FROM \(s).events WHERE a = \(rng.next(50)) AND b LIKE 'k1%'")
                case 76..<86:
                    try sql.execute("BEGIN; UPDATE \(s).events SET payload = payload || '{\"u\": 1}' WHERE a = \(rng.next(50)); UPDATE \(s).plain SET v = v + 1 WHERE id % 13 = \(rng.next(13)); COMMIT")
                case 86..<94:
                    let id = rng.next(5000)
                    try sql.execute("INSERT INTO \(s).plain VALUES (\(id), \(rng.next(1000)) / 7.0, gen_random_uuid()) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v")
                case 94..<96:
                    try sql.execute("TRUNCATE \(s).plain")
                    try sql.execute("INSERT INTO \(s).plain SELECT g, g, NULL FROM generate_series(1, 50) g")
                case 96..<98 where altered == 0:
                    // No DEFAULT: existing rows read NULL, as in Postgres (a DEFAULT for existing rows is not in the WAL,
                    // see docs/replication.md). New values arrive through the WAL.
                    try sql.execute("ALTER TABLE \(s).items ADD COLUMN extra int")
                    try sql.execute("UPDATE \(s).items SET extra = 7 WHERE id % 11 = 0")
                    altered = 1
                case 96..<98 where altered == 1:
                    try sql.execute("ALTER TABLE \(s).items DROP COLUMN flag")
                    altered = 2
                default:
                    // A transaction mixing tables, with the same key changed twice.
                    try sql.execute("BEGIN; INSERT INTO \(s).plain VALUES (\(90000 + operations), 1, NULL); UPDATE \(s).plain SET v = 2 WHERE id = \(90000 + operations); UPDATE \(s).items SET qty = -1 WHERE id = (SELECT min(id) FROM \(s).items); COMMIT")
                }
                usleep(UInt32(rng.next(3000)))
            }
        }
    }

    // MARK: tests

    func testSnapshotThenStreamingSurvivesRepeatedSIGKILL() throws {
        let scenario = try Scenario()
        defer { scenario.cleanup() }
        let workload = Workload(url: scenario.url, schema: scenario.schema)
        var rng = SeededRandom(seed: 42)
        var kills = 0
        var process = try scenario.start()
        workload.start(seed: 7)
        // Kill at random moments: the first ones land in the snapshot, later ones while streaming.
        while kills < 12 {
            usleep(UInt32(150_000 + rng.next(1_500_000)))
            process.signal(SIGKILL)
            process.wait(timeout: 10)
            kills += 1
            process = try scenario.start()
        }
        workload.stop()
        XCTAssertNil(workload.error, "workload failed: \(String(describing: workload.error))")
        XCTAssertGreaterThan(workload.operations, 50)
        try scenario.waitCaughtUp()
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0, "SIGTERM must flush, confirm and exit 0:\n\(process.log.suffix(2000))")
        let report = try scenario.compare()
        print("after \(kills) SIGKILLs and \(workload.operations) operations:\n\(report)")
        // The replicator confirmed exactly the store's checkpoint to Postgres, never more.
        let confirmed = try XCTUnwrap(LSN(try XCTUnwrap(scenario.pg.sql.query(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [scenario.slot]).scalar)))
        XCTAssertLessThanOrEqual(confirmed, scenario.checkpoint)
        // The store is still consistent after all those crashes.
        let verify = try runFreshet(["verify", "--store", scenario.store])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }

    func testSIGINTFlushesPendingChangesAndExitsZero() throws {
        let scenario = try Scenario(rows: 100)
        defer { scenario.cleanup() }
        // A long age limit: without the shutdown flush, these changes would not be in the store.
        let process = try scenario.start(["--max-age-ms", "600000", "--heartbeat-seconds", "0"])
        let end = Date().addingTimeInterval(60)
        while scenario.checkpoint == .zero && Date() < end { usleep(50_000) }
        try scenario.pg.sql.execute("UPDATE \(SQLQuoting.identifier(scenario.schema)).plain SET v = -v")
        try scenario.pg.sql.execute("DELETE FROM \(SQLQuoting.identifier(scenario.schema)).items WHERE id <= 10")
        // Key changes of rows whose TOASTed `big` the UPDATE leaves unchanged: committed rows (found in the store) and
        // a row inserted in the same transaction (found in the pending batch).
        let s = SQLQuoting.identifier(scenario.schema)
        try scenario.pg.sql.execute("UPDATE \(s).items SET id = id + 7000000 WHERE id IN (20, 30)")
        try scenario.pg.sql.execute("""
            BEGIN;
            INSERT INTO \(s).items (id, qty, big) SELECT 555, 1, string_agg(md5(x::text), '') FROM generate_series(1, 300) x;
            UPDATE \(s).items SET id = 556 WHERE id = 555;
            COMMIT
            """)
        usleep(1_000_000)
        process.signal(SIGINT)
        XCTAssertEqual(process.wait(timeout: 30), 0, process.log)
        try scenario.compare()
        XCTAssertTrue(process.log.contains("stream.stopped"), process.log)
    }

    func testNewTableMidStreamAndJSONLogs() throws {
        let scenario = try Scenario(rows: 200)
        defer { scenario.cleanup() }
        let process = try scenario.start(["--log-format", "json"])
        let end = Date().addingTimeInterval(60)
        while scenario.checkpoint == .zero && Date() < end { usleep(50_000) }
        // A table created while streaming: the catalog watcher publishes it and copies the rows it already has;
        // later changes stream.
        let s = SQLQuoting.identifier(scenario.schema)
        try scenario.pg.sql.execute("CREATE TABLE \(s).later (id int PRIMARY KEY, note text, amount numeric(8,3))")
        try scenario.pg.sql.execute("INSERT INTO \(s).later SELECT g, 'n' || g, g / 8.0 FROM generate_series(1, 300) g")
        try scenario.waitForAutomaticResync(of: "\(scenario.schema).later", count: 1)
        try scenario.pg.sql.execute("UPDATE \(s).later SET note = NULL WHERE id % 2 = 0; DELETE FROM \(s).later WHERE id > 290")
        try scenario.waitCaughtUp()
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0, process.log)
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("compare-store").path
        let result = try Subprocess.run(try TestEnvironment.python(), [tool, "--source", scenario.url, "--store", scenario.store,
                                                                       "--freshet", TestEnvironment.product("freshet"), "--duckdb",
                                                                       "\(scenario.schema).later"] + scenario.tables)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("later: postgres rows=290"), result.stdout)
        // --log-format json: every line one JSON object with time, level and event; no password anywhere.
        let lines = process.log.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 3)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(object?["event"], "not a JSON log line: \(line)")
            XCTAssertNotNil(object?["time"])
        }
        XCTAssertTrue(process.log.contains("\"event\":\"source.table_added\""), process.log)
        XCTAssertFalse(process.log.contains(try XCTUnwrap(ConnectionSettings(scenario.url)["password"])))
    }

    func testPostgresRestartAndTerminatedWalsenderLoseNothing() throws {
        let sandbox = try ExtraSandbox()
        defer { sandbox.destroy() }
        let scenario = try Scenario(url: sandbox.url, rows: 500)
        defer { scenario.cleanup() }
        let workload = Workload(url: sandbox.url, schema: scenario.schema)
        let process = try scenario.start()
        let end = Date().addingTimeInterval(60)
        while scenario.checkpoint == .zero && Date() < end { usleep(50_000) }
        workload.start(seed: 11)
        usleep(1_000_000)
        // The walsender is terminated: freshet reconnects and resumes.
        let admin = try Connection(sandbox.url)
        try admin.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1", [scenario.slot])
        admin.close()
        usleep(1_500_000)
        workload.stop()
        // The whole server restarts while freshet streams.
        XCTAssertEqual(try sandbox.control("restart").status, 0)
        let workload2 = Workload(url: sandbox.url, schema: scenario.schema)
        workload2.start(seed: 12)
        usleep(1_500_000)
        workload2.stop()
        XCTAssertNil(workload.error); XCTAssertNil(workload2.error)
        try scenario.waitCaughtUp()
        XCTAssertTrue(process.isRunning, "freshet must survive a server restart:\n\(process.log)")
        XCTAssertTrue(process.log.contains("stream.disconnected"), process.log)
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
        try scenario.compare()
    }
}

