import Foundation
import Freshet
import PostgresReplication
import TestSupport
import XCTest

/// `freshet run` with its operations endpoint against the sandbox PostgreSQL: `/metrics` scraped with curl and parsed
/// strictly, `/healthz`, `/status`, `freshet status`, the slot warning, and `freshet drop`.
final class MetricsTests: XCTestCase {
    /// `curl` GET: status code and body.
    static func curl(_ url: String, file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int, body: String) {
        let curl = "/usr/bin/curl"
        guard FileManager.default.isExecutableFile(atPath: curl) else {
            try TestEnvironment.unavailable("/usr/bin/curl is missing (Tools/install-deps installs it)", file: file, line: line)
        }
        let r = try Subprocess.run(curl, ["-s", "-S", "--max-time", "10", "-w", "\n%{http_code}", url])
        guard let newline = r.stdout.lastIndex(of: "\n"), let status = Int(r.stdout[r.stdout.index(after: newline)...]) else {
            throw SubprocessError.failed(command: "curl \(url)", status: r.status, stderr: r.stderr)
        }
        return (status, String(r.stdout[..<newline]))
    }

    /// Waits for `metrics.listening address=HOST:PORT` in the log; returns `http://HOST:PORT`.
    static func endpoint(_ process: FreshetProcess, timeout: Double = 60) throws -> String {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let r = process.log.range(of: "metrics.listening address=") {
                let address = process.log[r.upperBound...].prefix(while: { !$0.isWhitespace })
                return "http://\(address)"
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        throw TestFailure("no metrics.listening line; log:\n\(process.log)")
    }

    static func waitFor(_ what: String, timeout: Double = 60, _ condition: () throws -> Bool) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if (try? condition()) == true { return }
            usleep(200_000)
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    static let expectedNames = [
        "freshet_info", "freshet_state", "freshet_streaming", "freshet_healthy", "freshet_commit_lag_seconds",
        "freshet_commit_lag_last_seconds", "freshet_lag_seconds", "freshet_heartbeat_lag_seconds", "freshet_heartbeat_age_seconds",
        "freshet_heartbeats_total", "freshet_wal_behind_bytes", "freshet_committed_lsn", "freshet_slot_retained_bytes",
        "freshet_slot_wal_status", "freshet_slot_active", "freshet_slot_retained_warning", "freshet_rows_applied_total",
        "freshet_transactions_total", "freshet_commits_total", "freshet_store_commits_total", "freshet_rows_committed_total", "freshet_bytes_committed_total", "freshet_snapshot_in_progress", "freshet_snapshot_rows_expected",
        "freshet_table_parts", "freshet_table_bytes", "freshet_table_pending_merges", "freshet_reconnects_total", "freshet_errors_total",
        "freshet_streamed_transactions_total", "freshet_stream_open_transactions", "freshet_stream_spool_bytes", "freshet_settles_held",
    ]

    func testMetricsHealthStatusUnderLoadAndIdle() throws {
        let scenario = try EndToEndTests.Scenario(rows: 2000)
        defer { scenario.cleanup() }
        let password = try XCTUnwrap(ConnectionSettings(scenario.url)["password"])
        let process = try scenario.start(["--metrics", "127.0.0.1:0", "--slot-warn-bytes", "1"])
        defer { process.signal(SIGKILL) }
        let base = try Self.endpoint(process)
        try Self.waitFor("streaming") { process.log.contains("stream.started") }

        // Under load.
        let workload = EndToEndTests.Workload(url: scenario.url, schema: scenario.schema)
        workload.start(seed: 11)
        sleep(5)
        let loaded = try Self.curl(base + "/metrics")
        XCTAssertEqual(loaded.status, 200)
        let busy = try Exposition(loaded.body)
        for name in Self.expectedNames { XCTAssertNotNil(busy.types[name], "missing \(name)") }
        for name in busy.types.keys { XCTAssertTrue(name.hasPrefix("freshet_"), name) }
        XCTAssertEqual(busy.value("freshet_streaming"), 1)
        XCTAssertGreaterThan(try XCTUnwrap(busy.value("freshet_commit_lag_seconds_count")), 0)
        let busyLag = try XCTUnwrap(busy.value("freshet_commit_lag_last_seconds"))
        XCTAssertTrue(busyLag > 0 && busyLag < 10, "commit lag under load \(busyLag)")
        XCTAssertGreaterThan(try XCTUnwrap(busy.value("freshet_rows_applied_total", ["table": "\(scenario.schema).items", "operation": "insert"])), 0)
        XCTAssertEqual(busy.value("freshet_rows_applied_total", ["table": "\(scenario.schema).items", "operation": "snapshot"]), 2000)
        XCTAssertGreaterThan(try XCTUnwrap(busy.value("freshet_transactions_total")), 10)
        XCTAssertGreaterThan(try XCTUnwrap(busy.value("freshet_table_parts", ["table": "\(scenario.schema).items"])), 0)
        XCTAssertGreaterThan(try XCTUnwrap(busy.value("freshet_bytes_committed_total", ["table": "\(scenario.schema).items"])), 0)
        XCTAssertFalse(loaded.body.contains(password))
        let health = try Self.curl(base + "/healthz")
        XCTAssertEqual(health.status, 200, health.body)
        XCTAssertEqual(health.body, "ok\n")
        workload.stop()
        XCTAssertNil(workload.error)

        // Idle: heartbeats (every second) bring the current lag near zero.
        try scenario.waitCaughtUp()
        sleep(3)
        let idle = try Exposition(try Self.curl(base + "/metrics").body)
        let idleLag = try XCTUnwrap(idle.value("freshet_lag_seconds"))
        XCTAssertTrue(idleLag >= 0 && idleLag < 1, "idle lag \(idleLag)")
        XCTAssertLessThan(try XCTUnwrap(idle.value("freshet_heartbeat_lag_seconds")), 1)
        XCTAssertLessThan(try XCTUnwrap(idle.value("freshet_heartbeat_age_seconds")), 3)
        XCTAssertGreaterThan(try XCTUnwrap(idle.value("freshet_heartbeats_total")), 2)
        XCTAssertLessThan(try XCTUnwrap(idle.value("freshet_wal_behind_bytes")), 1_048_576)
        XCTAssertGreaterThan(try XCTUnwrap(idle.value("freshet_committed_lsn")), try XCTUnwrap(busy.value("freshet_committed_lsn")))
        // Slot warning (threshold 1 byte): metric and log line.
        try Self.waitFor("slot warning") {
            let m = try Exposition(try Self.curl(base + "/metrics").body)
            return m.value("freshet_slot_retained_warning") == 1 && (m.value("freshet_slot_retained_bytes") ?? 0) > 1
                && process.log.contains("slot.retained_wal")
        }
        XCTAssertEqual(idle.value("freshet_slot_active"), 1)

        // /status JSON and `freshet status`.
        let status = try Self.curl(base + "/status")
        XCTAssertEqual(status.status, 200)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any])
        XCTAssertEqual(json["state"] as? String, "streaming")
        XCTAssertEqual(json["healthy"] as? Bool, true)
        let tables = try XCTUnwrap(json["tables"] as? [[String: Any]])
        XCTAssertEqual(Set(tables.compactMap { $0["name"] as? String }), Set(scenario.tables))
        for t in tables {
            XCTAssertGreaterThan(t["parts"] as? Int ?? 0, 0)
            XCTAssertNotNil(t["applied"] as? [String: Int])
        }
        XCTAssertNotNil(json["committedLSN"] as? String)
        XCTAssertNotNil((json["slot"] as? [String: Any])?["retainedBytes"] as? Int)
        XCTAssertFalse(status.body.contains(password))

        let human = try runFreshet(["status", "--url", base])
        XCTAssertEqual(human.status, 0, human.stderr)
        XCTAssertTrue(human.stdout.contains("state streaming") && human.stdout.contains("TABLE") && human.stdout.contains("committed LSN"), human.stdout)
        for t in scenario.tables { XCTAssertTrue(human.stdout.contains(t), human.stdout) }
        let machine = try runFreshet(["status", "--url", base, "--json"])
        XCTAssertEqual(machine.status, 0, machine.stderr)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(machine.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(try Self.curl(base + "/nothing").status, 404)
        let watch = try FreshetProcess(["status", "--url", base, "--watch", "1"], logPath: scenario.store + "-watch.log")
        sleep(3)
        watch.signal(SIGTERM)
        watch.wait(timeout: 10)
        XCTAssertGreaterThanOrEqual(watch.log.components(separatedBy: "state streaming").count - 1, 2, "--watch redraws:\n\(watch.log)")

        // `freshet drop` refuses an active slot and changes nothing.
        let drop = try runFreshet(["drop", "--source", scenario.url, "--slot", scenario.slot, "--publication", scenario.publication, "--yes"])
        XCTAssertEqual(drop.status, 1)
        XCTAssertTrue(drop.stderr.contains("is active"), drop.stderr)
        XCTAssertFalse(drop.stderr.contains(password))
        XCTAssertEqual(try scenario.pg.sql.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [scenario.slot]).rows.count, 1)

        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, process.log)
        XCTAssertFalse(process.log.contains(password))
        // Row-by-row equality with PostgreSQL is EndToEndTests' job (this workload's key changes of rows with an
        // unchanged TOASTed column currently differ there too).
    }

    /// Key-changing UPDATEs that leave the TOASTed `big` unchanged: a committed row's old value is found in the store
    /// and carried to the new key; inside a transaction larger than the batch limits (its old row already staged) it
    /// is found nowhere, counted in `freshet_unresolved_key_moves_total` and `/status`, logged, and reads NULL.
    func testUnresolvedKeyMovesAreCountedInMetricsAndStatus() throws {
        let scenario = try EndToEndTests.Scenario(rows: 100)
        defer { scenario.cleanup() }
        let process = try scenario.start(["--metrics", "127.0.0.1:0", "--max-rows", "50"])
        defer { process.killAndWait() }
        let base = try Self.endpoint(process)
        try Self.waitFor("streaming") { process.log.contains("stream.started") }
        let s = scenario.quotedSchema
        try scenario.pg.sql.execute("UPDATE \(s).items SET id = 7000020 WHERE id = 20")
        try scenario.pg.sql.execute("""
            BEGIN;
            INSERT INTO \(s).items (id, qty, big) SELECT 555, 1, string_agg(md5(x::text), '') FROM generate_series(1, 300) x;
            INSERT INTO \(s).items (id, qty) SELECT g, 1 FROM generate_series(900000, 902999) g;
            UPDATE \(s).items SET id = 556 WHERE id = 555;
            COMMIT
            """)
        try scenario.waitCaughtUp()
        let metrics = try Exposition(try Self.curl(base + "/metrics").body)
        XCTAssertEqual(metrics.types["freshet_unresolved_key_moves_total"], "counter")
        XCTAssertEqual(metrics.value("freshet_unresolved_key_moves_total"), 1)
        XCTAssertGreaterThan(try XCTUnwrap(metrics.value("freshet_spills_total")), 0)
        let status = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try Self.curl(base + "/status").body.utf8)) as? [String: Any])
        XCTAssertEqual(status["unresolvedKeyMoves"] as? Int, 1)
        XCTAssertTrue(process.log.contains("stream.key_move_unresolved"), process.log)

        let rows = try scenario.scanRows("\(scenario.schema).items", columns: ["id", "big"])
        func big(_ id: Int) -> Any? { rows.first { ($0["id"] as? NSNumber)?.intValue == id || ($0["id"] as? String) == "\(id)" }?["big"] }
        XCTAssertEqual((big(7000020) as? String)?.count, 6400, "found in the store: carried to the new key")
        XCTAssertTrue(big(556) is NSNull, "found nowhere: NULL, got \(String(describing: big(556)))")
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, process.log)
    }

    func testHealthzTurns503WhenPostgresStopsAndRecovers() throws {
        let sandbox = try ExtraSandbox()
        defer { sandbox.destroy() }
        let sql = try Connection(sandbox.url)
        try sql.execute("CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t SELECT g, 'x' FROM generate_series(1, 100) g")
        sql.close()
        let store = NSTemporaryDirectory() + "freshet-health-" + UUID().uuidString.prefix(8)
        defer { removeTemporaryFiles(store) }
        let process = try FreshetProcess(["run", "--source", sandbox.url, "--store", store, "--schema", "public",
                                          "--metrics", "127.0.0.1:0", "--heartbeat-seconds", "1", "--max-age-ms", "100",
                                          "--health-max-lag-seconds", "10"], logPath: store + ".log")
        defer { process.signal(SIGKILL) }
        let base = try Self.endpoint(process)
        try Self.waitFor("200 while streaming") { try Self.curl(base + "/healthz").status == 200 }

        try sandbox.control("stop")
        var last = (status: 0, body: "")
        try Self.waitFor("503 with Postgres stopped", timeout: 30) {
            last = try Self.curl(base + "/healthz")
            return last.status == 503
        }
        XCTAssertTrue(last.body.hasPrefix("not streaming: "), last.body)
        XCTAssertFalse(last.body.dropLast().contains("\n"), "one line: \(last.body)")
        let metrics = try Exposition(try Self.curl(base + "/metrics").body)
        XCTAssertEqual(metrics.value("freshet_streaming"), 0)
        XCTAssertEqual(metrics.value("freshet_healthy"), 0)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(metrics.value("freshet_reconnects_total")), 1)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(metrics.value("freshet_errors_total", ["kind": "stream"])), 1)

        try sandbox.control("start")
        try Self.waitFor("200 after Postgres is back", timeout: 60) { try Self.curl(base + "/healthz").status == 200 }
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, process.log)
    }

    func testBusyMetricsAddressFailsBeforeTouchingTheSource() throws {
        let pg = try PostgresFixture()
        defer { pg.cleanup() }
        let schema = pg.name("s")
        try pg.sql.execute("CREATE SCHEMA \(SQLQuoting.identifier(schema)); CREATE TABLE \(SQLQuoting.identifier(schema)).t (id int PRIMARY KEY)")
        defer { _ = try? pg.sql.execute("DROP SCHEMA \(SQLQuoting.identifier(schema)) CASCADE") }
        let occupant = HTTPServer()
        try occupant.start(address: "127.0.0.1:0") { _ in .text(200, "") }
        defer { occupant.stop() }
        let store = NSTemporaryDirectory() + "freshet-busy-" + pg.prefix
        defer { removeTemporaryFiles(store) }
        let slot = pg.name("slot"), publication = pg.name("pub")
        pg.trackSlot(slot)
        let r = try runFreshet(["run", "--source", pg.url, "--store", store, "--schema", schema, "--slot", slot,
                                "--publication", publication, "--metrics", occupant.boundAddress])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("metrics address \(occupant.boundAddress): cannot listen") && r.stderr.contains("--metrics"), r.stderr)
        XCTAssertTrue(try pg.sql.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]).rows.isEmpty)
        XCTAssertTrue(try pg.sql.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication]).rows.isEmpty)
    }

    func testDropRefusesWithoutYesThenRemovesSlotAndPublication() throws {
        let pg = try PostgresFixture()
        defer { pg.cleanup() }
        let table = pg.name("t"), slot = pg.name("slot")
        try pg.sql.execute("CREATE TABLE \(SQLQuoting.identifier(table)) (id int PRIMARY KEY)")
        defer { _ = try? pg.sql.execute("DROP TABLE IF EXISTS \(SQLQuoting.identifier(table))") }
        let publication = try pg.createPublication("pub", tables: [table])
        pg.trackSlot(slot)
        _ = try pg.sql.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot])
        func exists() throws -> (slot: Bool, publication: Bool) {
            (try !pg.sql.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]).rows.isEmpty,
             try !pg.sql.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication]).rows.isEmpty)
        }
        let args = ["drop", "--source", pg.url, "--slot", slot, "--publication", publication]
        let refused = try runFreshet(args)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("would drop slot \(slot)") && refused.stderr.contains("publication \(publication)")
                      && refused.stderr.contains("--yes"), refused.stderr)
        XCTAssertTrue(try exists() == (true, true))
        let missingNames = try runFreshet(["drop", "--source", pg.url, "--slot", slot, "--yes"])
        XCTAssertEqual(missingNames.status, 2, missingNames.stderr)
        XCTAssertTrue(try exists() == (true, true))

        let dropped = try runFreshet(args + ["--yes"])
        XCTAssertEqual(dropped.status, 0, dropped.stderr)
        XCTAssertEqual(dropped.stdout, "dropped slot \(slot)\ndropped publication \(publication)\n")
        XCTAssertTrue(try exists() == (false, false))
        let again = try runFreshet(args + ["--yes"])
        XCTAssertEqual(again.status, 0)
        XCTAssertTrue(again.stdout.hasPrefix("nothing to drop"), again.stdout)
        XCTAssertFalse((refused.stderr + dropped.stdout).contains(try XCTUnwrap(ConnectionSettings(pg.url)["password"])))
    }
}
