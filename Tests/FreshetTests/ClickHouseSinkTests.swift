import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// The ClickHouse sink against a real ClickHouse (Tools/clickhouse-sandbox, Debian's 18.16) and a real PostgreSQL:
/// every kind of change arrives, a ClickHouse outage only delays it, and bad settings fail before the source is touched.
final class ClickHouseSinkTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    /// The sandbox URL with `?database=` for this test.
    private func clickhouse(database: String) throws -> String {
        try TestEnvironment.clickhouseURL() + "?database=" + database
    }

    private func sandbox(_ command: String) throws {
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("clickhouse-sandbox").path
        let r = try Subprocess.run(tool, [command])
        guard r.status == 0 else { throw TestFailure("clickhouse-sandbox \(command): \(r.stderr)") }
    }

    /// Compares every table of the scenario with ClickHouse at `clickhouse` (FINAL, `_deleted = 0`); the output, or
    /// nil when equal.
    static func difference(_ scenario: Scenario, clickhouse: String, database: String, tables: [String]) throws -> String? {
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("compare-clickhouse").path
        let pairs = tables.map { "\(scenario.schema).\($0)=\(scenario.schema)_\($0)" }
        let r = try Subprocess.run(try TestEnvironment.python(), [tool, "--source", scenario.url, "--clickhouse",
                                                                  clickhouse, "--database", database] + pairs)
        return r.status == 0 ? nil : r.stdout + r.stderr
    }

    /// Waits until ClickHouse at `clickhouse` equals PostgreSQL for `tables`.
    static func waitEqual(_ scenario: Scenario, clickhouse: String, database: String, tables: [String],
                          process: FreshetProcess, timeout: Double = 120) throws {
        try scenario.waitCaughtUp()
        let end = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < end {
            guard let diff = try difference(scenario, clickhouse: clickhouse, database: database, tables: tables) else { return }
            last = diff
            usleep(300_000)
        }
        throw TestFailure("ClickHouse at \(URLComponents(string: clickhouse)?.port ?? 0) differs from PostgreSQL:\n\(last)\nlog:\n\(process.log.suffix(6000))")
    }

    /// Waits until the sandbox ClickHouse equals PostgreSQL for `tables`.
    private func waitEqual(_ scenario: Scenario, database: String, tables: [String], process: FreshetProcess,
                           timeout: Double = 120) throws {
        try Self.waitEqual(scenario, clickhouse: try TestEnvironment.clickhouseURL(), database: database, tables: tables,
                           process: process, timeout: timeout)
    }

    /// Updates (some leaving the TOASTed `items.big` unchanged: every row with `id % 10 = 0` has one), deletes, key
    /// changes and `inserts` new rows over the scenario's tables in the quoted schema `s`.
    static func everyChangeKind(_ s: String, inserts: Int) -> String {
        """
        UPDATE \(s).items SET qty = qty + 1 WHERE id % 10 = 0;
        UPDATE \(s).items SET note = 'changed ' || id, price = price * 2 WHERE id % 7 = 1;
        DELETE FROM \(s).items WHERE id % 13 = 0;
        UPDATE \(s).items SET id = id + 100000 WHERE id % 17 = 0;
        INSERT INTO \(s).items (id, qty, price, note) SELECT g, 1, 1.25, 'new' FROM generate_series(200001, \(200_000 + inserts)) g;
        DELETE FROM \(s).events WHERE a = 3;
        UPDATE \(s).events SET payload = '{"x": 1}' WHERE a = 4;
        UPDATE \(s).plain SET v = -v WHERE id < 100;
        """
    }

    private func metric(_ endpoint: String, _ name: String) throws -> Double {
        let text = String(decoding: try HTTPClientProbe.get(endpoint + "/metrics"), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ")[1]) ?? -1
        }
        throw TestFailure("no \(name) in /metrics")
    }

    func testEveryChangeArrivesAndAnOutageOnlyDelays() throws {
        let chURL = try TestEnvironment.clickhouseURL()
        let scenario = try Scenario(rows: 3000)
        defer { scenario.cleanup() }
        let database = scenario.pg.prefix + "_ch"
        let tables = ["items", "events", "plain"]
        let s = SQLQuoting.identifier(scenario.schema)
        // The sink from the config file, with a ClickHouse lag limit for /healthz.
        let config = scenario.store + ".json"
        try Data("""
            {"clickhouse": {"url": "\(chURL)", "database": "\(database)", "healthMaxLagSeconds": 3}}
            """.utf8).write(to: URL(fileURLWithPath: config))
        defer { try? FileManager.default.removeItem(atPath: config) }
        let process = try scenario.start(["--config", config, "--metrics", "127.0.0.1:0"])
        defer { process.signal(SIGKILL) }
        let endpoint = try MetricsTests.endpoint(process)
        try waitEqual(scenario, database: database, tables: tables, process: process)

        // Updates (some leaving the TOASTed `big` unchanged), deletes, key changes, inserts.
        let sql = scenario.pg.sql
        try sql.execute(Self.everyChangeKind(s, inserts: 500))
        try waitEqual(scenario, database: database, tables: tables, process: process)

        // ADD and DROP COLUMN follow as ALTER TABLE.
        try sql.execute("""
            ALTER TABLE \(s).items ADD COLUMN extra int;
            UPDATE \(s).items SET extra = id % 5 WHERE id % 3 = 0;
            ALTER TABLE \(s).plain DROP COLUMN u;
            UPDATE \(s).plain SET v = 0 WHERE id < 10;
            ALTER TABLE \(s).items ALTER COLUMN qty TYPE bigint;
            UPDATE \(s).items SET qty = 5000000000 WHERE id = 1;
            """)
        try waitEqual(scenario, database: database, tables: tables, process: process)
        XCTAssertTrue(process.log.contains("ADD COLUMN `extra`"), process.log)
        XCTAssertTrue(process.log.contains("DROP COLUMN `u`"), process.log)
        XCTAssertTrue(process.log.contains("MODIFY COLUMN `qty` Nullable(Int64)"), process.log)

        // ClickHouse goes away: the source's changes still commit to the store, the lag grows, nothing is lost.
        try sandbox("stop")
        var restarted = false
        defer { if !restarted { try? sandbox("start") } }
        try sql.execute("""
            UPDATE \(s).items SET qty = qty + 5 WHERE id % 4 = 0;
            DELETE FROM \(s).items WHERE id % 11 = 0;
            INSERT INTO \(s).plain (id, v) SELECT g, g FROM generate_series(5000, 5300) g;
            """)
        try scenario.waitCaughtUp()
        do {
            try MetricsTests.waitFor("the ClickHouse lag to grow past 2 s", timeout: 30) {
                try metric(endpoint, "freshet_clickhouse_lag_seconds") > 2
            }
        } catch {
            throw TestFailure("\(error); lag \((try? metric(endpoint, "freshet_clickhouse_lag_seconds")) ?? -1); log:\n\(process.log.suffix(5000))")
        }
        XCTAssertGreaterThan(try metric(endpoint, "freshet_clickhouse_backlog_rows"), 0)
        try MetricsTests.waitFor("a ClickHouse error to be counted", timeout: 60) {
            try metric(endpoint, "freshet_clickhouse_errors_total") > 0
        }
        XCTAssertTrue(process.log.contains("clickhouse.error"), process.log)
        try MetricsTests.waitFor("/healthz to fail on the ClickHouse lag", timeout: 30) {
            let h = try MetricsTests.curl(endpoint + "/healthz")
            return h.status == 503 && h.body.contains("clickhouse lag")
        }
        let status = try runFreshet(["status", "--url", endpoint])
        XCTAssertTrue(status.stdout.contains("clickhouse http://127.0.0.1"), status.stdout + status.stderr)
        XCTAssertFalse(process.log.contains(URLComponents(string: chURL)?.password ?? "no password"), "password in the log")
        try sandbox("start")
        restarted = true
        try waitEqual(scenario, database: database, tables: tables, process: process)
        try MetricsTests.waitFor("the ClickHouse lag to return to 0", timeout: 30) {
            try metric(endpoint, "freshet_clickhouse_lag_seconds") == 0
        }

        // TRUNCATE: a new generation, shipped into a shadow table and swapped in.
        try sql.execute("TRUNCATE \(s).events; INSERT INTO \(s).events SELECT g, 'after' || g, NULL, NULL FROM generate_series(1, 100) g")
        try waitEqual(scenario, database: database, tables: tables, process: process)
        // A resync: likewise.
        let resync = try runFreshet(["resync", "\(scenario.schema).plain", "--source", scenario.url, "--store", scenario.store, "--wait"])
        XCTAssertEqual(resync.status, 0, resync.stdout + resync.stderr)
        try sql.execute("UPDATE \(s).plain SET v = 42 WHERE id = 1")
        try waitEqual(scenario, database: database, tables: tables, process: process)
        XCTAssertGreaterThanOrEqual(process.log.components(separatedBy: "clickhouse.table_copied").count - 1, 5, process.log)

        XCTAssertEqual(try MetricsTests.curl(endpoint + "/healthz").status, 200)

        // Killed under load, restarted: it resumes from the durable cursor, nothing re-copied, nothing lost.
        try sql.execute("INSERT INTO \(s).plain (id, v) SELECT g, g FROM generate_series(6000, 9000) g")
        process.signal(SIGKILL)
        _ = process.wait(timeout: 30)
        let again = try scenario.start(["--clickhouse", chURL + "?database=" + database])
        defer { again.signal(SIGKILL) }
        try sql.execute("UPDATE \(s).items SET qty = 0 WHERE id < 50")
        try waitEqual(scenario, database: database, tables: tables, process: again)
        XCTAssertFalse(again.log.contains("clickhouse.table_copied"), again.log)
        again.signal(SIGTERM)
        XCTAssertEqual(again.wait(timeout: 30), 0, again.log)
    }

    /// With `insertStreams: 2`, a backlog of over 100,000 rows (an outage) ships in two concurrent inserts, the rows
    /// split by key; every version still arrives right (updates of every row, deletes, a key change; TOAST-unchanged
    /// values are covered by ClickHouseParallelInsertTests).
    func testALargeBacklogShipsInTwoConcurrentInserts() throws {
        let scenario = try Scenario(rows: 100)
        defer { scenario.cleanup() }
        let database = scenario.pg.prefix + "_chpar"
        let tables = ["bulk", "items"]
        let s = SQLQuoting.identifier(scenario.schema)
        try scenario.pg.sql.execute("""
            CREATE TABLE \(s).bulk (id bigint PRIMARY KEY, n int NOT NULL, note text, amount numeric(12,2));
            INSERT INTO \(s).bulk SELECT g, g % 1000, 'note ' || g, g / 100.0 FROM generate_series(1, 110000) g;
            """)
        let config = scenario.store + ".json"
        try Data("""
            {"clickhouse": {"url": "\(try TestEnvironment.clickhouseURL())", "database": "\(database)", "insertStreams": 2}}
            """.utf8).write(to: URL(fileURLWithPath: config))
        defer { try? FileManager.default.removeItem(atPath: config) }
        let process = try scenario.start(["--config", config])
        defer { process.signal(SIGKILL) }
        try waitEqual(scenario, database: database, tables: tables, process: process)
        try sandbox("stop")
        var restarted = false
        defer { if !restarted { try? sandbox("start") } }
        try scenario.pg.sql.execute("""
            UPDATE \(s).bulk SET n = n + 1, note = NULL WHERE id % 3 = 0;
            UPDATE \(s).bulk SET n = n + 2 WHERE id % 3 <> 0;
            DELETE FROM \(s).bulk WHERE id % 9 = 0;
            UPDATE \(s).bulk SET id = id + 1000000 WHERE id % 11 = 0;
            UPDATE \(s).items SET qty = qty + 1 WHERE id % 2 = 0;
            """)
        try scenario.waitCaughtUp()
        try sandbox("start")
        restarted = true
        try waitEqual(scenario, database: database, tables: tables, process: process, timeout: 240)
        XCTAssertTrue(process.log.contains("inserts_in_parallel=2"), process.log)
    }

    /// Unreachable server, wrong password, read-only user, bad URL: a clear error at start-up, no slot or
    /// publication created on the source, no password in the output.
    func testBadSettingsFailBeforeTheSourceIsTouched() throws {
        let chURL = try TestEnvironment.clickhouseURL()
        let scenario = try Scenario(rows: 10)
        defer { scenario.cleanup() }
        let parts = try XCTUnwrap(URLComponents(string: chURL))
        let host = "127.0.0.1:\(try XCTUnwrap(parts.port))"
        let cases: [(String, String)] = [
            ("http://freshet:wrong-secret@\(host)/", "refused the credentials"),
            ("http://nobody:wrong-secret@\(host)/", "refused the credentials"),
            ("http://reader:reader@\(host)/?database=x", "missing privilege"),
            ("http://127.0.0.1:1/", "cannot reach"),
            ("https://127.0.0.1:8443/", "https is not supported"),
            ("http://127.0.0.1:8123/db", "no path expected"),
        ]
        for (url, expected) in cases {
            let r = try runFreshet(["run", "--source", scenario.url, "--store", scenario.store, "--slot", scenario.slot,
                                    "--publication", scenario.publication, "--schema", scenario.schema, "--metrics", "off",
                                    "--clickhouse", url])
            XCTAssertNotEqual(r.status, 0, url)
            XCTAssertTrue((r.stdout + r.stderr).contains(expected), "\(url): \(r.stdout + r.stderr)")
            XCTAssertFalse((r.stdout + r.stderr).contains("wrong-secret"), "password shown: \(r.stdout + r.stderr)")
        }
        let slots = try scenario.pg.sql.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [scenario.slot])
        XCTAssertEqual(slots.scalar, "0")
        let pubs = try scenario.pg.sql.query("SELECT count(*) FROM pg_publication WHERE pubname = $1", [scenario.publication])
        XCTAssertEqual(pubs.scalar, "0")
        // CLICKHOUSE_PASSWORD supplies the password a URL lacks.
        let password = try XCTUnwrap(parts.password)
        let ok = try FreshetProcess(["run", "--source", scenario.url, "--store", scenario.store, "--slot", scenario.slot,
                                     "--publication", scenario.publication, "--schema", scenario.schema, "--metrics", "off",
                                     "--clickhouse", "http://freshet@\(host)/?database=\(scenario.pg.prefix)_env"],
                                    logPath: scenario.logPath, environment: ["CLICKHOUSE_PASSWORD": password])
        defer { ok.signal(SIGKILL) }
        try MetricsTests.waitFor("the sink to connect", timeout: 60) { ok.log.contains("clickhouse.table_copied") }
        XCTAssertFalse(ok.log.contains(password), "password in the log")
        ok.signal(SIGTERM)
        XCTAssertEqual(ok.wait(timeout: 30), 0, ok.log)
    }
}

/// A plain HTTP GET for the tests (the metrics endpoint).
enum HTTPClientProbe {
    static func get(_ url: String) throws -> Data {
        let r = try Subprocess.run("/usr/bin/curl", ["-s", "-S", "--max-time", "10", url])
        guard r.status == 0 else { throw TestFailure("curl \(url): \(r.stderr)") }
        return Data(r.stdout.utf8)
    }
}
