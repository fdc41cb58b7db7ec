import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// DuckDB views created once from `freshet sql`, early, keep equalling PostgreSQL while `freshet run` streams
/// updates, deletes, key changes, TOAST-unchanged updates, a TRUNCATE, a resync and a `freshet compact`; and the
/// ClickHouse dialect, run in chDB (ClickHouse in process), equals PostgreSQL over parts in several partition
/// directories (the scenario's tables are hash-partitioned into 8 directories).
final class LiveViewTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    /// Tools/compare-store over every table: PostgreSQL against `freshet scan`, the views in `db` (created on the first
    /// call only) and chDB.
    private func compare(_ scenario: Scenario, _ db: String, _ step: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("compare-store").path
        let r = try Subprocess.run(try TestEnvironment.python(), [tool, "--source", scenario.url, "--store", scenario.store,
                                                                  "--freshet", TestEnvironment.product("freshet"),
                                                                  "--duckdb-views", db, "--chdb"] + scenario.tables)
        XCTAssertEqual(r.status, 0, "\(step): store or views differ from PostgreSQL:\n\(r.stdout)\n\(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stdout.components(separatedBy: "| view rows=").count - 1, scenario.tables.count, r.stdout, file: file, line: line)
        XCTAssertEqual(r.stdout.components(separatedBy: "| clickhouse rows=").count - 1, scenario.tables.count, r.stdout, file: file, line: line)
    }

    private func requireChDB() throws {
        let r = try Subprocess.run(try TestEnvironment.python(), ["-c", "import chdb"])
        if r.status != 0 {
            XCTFail("chdb is not installed in the test venv (Tools/install-deps --python installs it): \(r.stderr)")
            throw XCTSkip("no chdb")
        }
    }

    func testViewMadeOnceStaysTrue() throws {
        try requireChDB()
        let scenario = try Scenario(rows: 3000)
        defer { scenario.cleanup() }
        let db = scenario.store + ".views.duckdb"
        defer { try? FileManager.default.removeItem(atPath: db) }
        var process = try scenario.start()
        try scenario.waitCaughtUp()
        try compare(scenario, db, "after the snapshot (views created)")

        let sql = try Connection(scenario.url)
        defer { sql.close() }
        let s = SQLQuoting.identifier(scenario.schema)
        // Updates over the whole key range, TOAST-unchanged updates (big is not touched), deletes, key changes.
        try sql.execute("""
            UPDATE \(s).items SET qty = qty + 1, price = price * 2 WHERE id % 3 = 0;
            UPDATE \(s).items SET note = 'toast kept ' || id WHERE id % 10 = 0;
            DELETE FROM \(s).items WHERE id % 11 = 0;
            UPDATE \(s).items SET id = id + 100000 WHERE id % 13 = 0;
            INSERT INTO \(s).items (id, qty, note) SELECT g, 1, 'new' FROM generate_series(200001, 200050) g;
            UPDATE \(s).events SET b = b || '-moved' WHERE a = 7;
            DELETE FROM \(s).events WHERE a = 8;
            UPDATE \(s).plain SET v = NULL WHERE id % 4 = 0;
            DELETE FROM \(s).plain WHERE id % 5 = 0;
            """)
        try scenario.waitCaughtUp()
        try compare(scenario, db, "after updates, deletes, key changes and TOAST-unchanged updates")

        try sql.execute("TRUNCATE \(s).events; INSERT INTO \(s).events (a, b) SELECT g, 'after' FROM generate_series(1, 20) g")
        try scenario.waitCaughtUp()
        try compare(scenario, db, "after TRUNCATE")

        let resync = try runFreshet(["resync", "\(scenario.schema).items", "--source", scenario.url, "--store", scenario.store, "--wait"])
        XCTAssertEqual(resync.status, 0, resync.stdout + resync.stderr + process.log)
        try sql.execute("UPDATE \(s).items SET qty = qty - 5 WHERE id % 5 = 1")
        try scenario.waitCaughtUp()
        try compare(scenario, db, "after a resync")

        // compact is a writer: it runs while freshet run is stopped, replacing every part at once with no grace period.
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0, process.log)
        for t in scenario.tables {
            let r = try runFreshet(["compact", t, "--store", scenario.store])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        try compare(scenario, db, "after freshet compact")

        process = try scenario.start()
        try sql.execute("UPDATE \(s).items SET qty = qty + 100 WHERE id % 2 = 0; DELETE FROM \(s).plain WHERE id % 7 = 0")
        try scenario.waitCaughtUp()
        try compare(scenario, db, "after a restart and more changes")
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
    }
}
