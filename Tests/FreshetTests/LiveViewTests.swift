import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// DuckDB views created once from `freshet sql`, early, keep equalling PostgreSQL while `freshet run` streams
/// updates, deletes, key changes, TOAST-unchanged updates, a TRUNCATE, a resync and a `freshet compact`; and the
/// ClickHouse dialect, run in chDB (ClickHouse in process), equals PostgreSQL over parts in several partition
/// directories: items by `flag` (not a key column: rows move between partitions), events by its key column `a`
/// (50 directories), plain by a hash of the key into 3.
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

    /// Waits (up to 60 s) until every table of the scenario holds one part per partition, as `freshet run`'s merger
    /// leaves it once it has settled the recent parts (`StoreOptions.settle`).
    private func waitSettled(_ scenario: Scenario, file: StaticString = #filePath, line: UInt = #line) throws {
        let tables = URL(fileURLWithPath: scenario.store).appendingPathComponent("tables")
        func unsettled() -> [String] {
            let dirs = (try? FileManager.default.contentsOfDirectory(atPath: tables.path)) ?? []
            return dirs.filter { d in
                guard let data = FileManager.default.contents(atPath: tables.appendingPathComponent(d).appendingPathComponent("manifest.json").path),
                      let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let parts = json["parts"] as? [[String: Any]] else { return false }
                return parts.count != Set(parts.compactMap { $0["partition"] as? String }).count
            }
        }
        let end = Date().addingTimeInterval(60)
        while !unsettled().isEmpty && Date() < end { usleep(200_000) }
        XCTAssertEqual(unsettled(), [], "tables not settled 60 s after the changes", file: file, line: line)
    }

    func testViewMadeOnceStaysTrue() throws {
        try requireChDB()
        let scenario = try Scenario(rows: 3000)
        defer { scenario.cleanup() }
        let db = scenario.store + ".views.duckdb"
        defer { try? FileManager.default.removeItem(atPath: db) }
        let config = scenario.store + ".config.json"
        defer { try? FileManager.default.removeItem(atPath: config) }
        let settings: [String: Any] = ["source": scenario.url, "tableSettings": [
            "\(scenario.schema).items": ["partition": "column:flag"], "\(scenario.schema).events": ["partition": "column:a"],
            "\(scenario.schema).plain": ["partition": "hash:3"],
        ]]
        try JSONSerialization.data(withJSONObject: settings).write(to: URL(fileURLWithPath: config))
        var process = try scenario.start(["--config", config])
        try scenario.waitCaughtUp()
        try compare(scenario, db, "after the snapshot (views created)")
        // The part files (as `freshet sql --raw` lists them) lie in several partition directories.
        for (table, least) in [("items", 2), ("events", 50), ("plain", 3)] {
            let raw = try runFreshet(["sql", "\(scenario.schema).\(table)", "--store", scenario.store, "--dialect", "duckdb", "--raw"])
            XCTAssertEqual(raw.status, 0, raw.stderr)
            let files = raw.stdout.components(separatedBy: "'").filter { $0.hasSuffix(".parquet") }
            let dirs = Set(files.map { ($0 as NSString).deletingLastPathComponent })
            XCTAssertGreaterThanOrEqual(dirs.count, least, "\(table) partition directories: \(dirs)")
        }

        let sql = try Connection(scenario.url)
        defer { sql.close() }
        let s = SQLQuoting.identifier(scenario.schema)
        // Updates over the whole key range, TOAST-unchanged updates (big is not touched), deletes, key changes, rows
        // moving between items' partitions. One statement per transaction: versions are commit LSNs, so two changes
        // of one key in one transaction that land in different partitions (items is partitioned by a non-key column)
        // would tie — a limitation of the store's versioning that this test does not exercise.
        for statement in [
            "UPDATE \(s).items SET qty = qty + 1, price = price * 2 WHERE id % 3 = 0",
            "UPDATE \(s).items SET flag = NOT flag WHERE id % 7 = 0",
            "UPDATE \(s).items SET flag = NULL WHERE id % 17 = 0",
            "UPDATE \(s).items SET note = 'toast kept ' || id WHERE id % 10 = 0",
            "DELETE FROM \(s).items WHERE id % 11 = 0",
            "UPDATE \(s).items SET id = id + 100000 WHERE id % 13 = 0",
            "INSERT INTO \(s).items (id, qty, note) SELECT g, 1, 'new' FROM generate_series(200001, 200050) g",
            "UPDATE \(s).events SET b = b || '-moved' WHERE a = 7",
            "DELETE FROM \(s).events WHERE a = 8",
            "UPDATE \(s).plain SET v = NULL WHERE id % 4 = 0",
            "DELETE FROM \(s).plain WHERE id % 5 = 0",
        ] { try sql.execute(statement) }
        try scenario.waitCaughtUp()
        try compare(scenario, db, "after updates, deletes, key changes and TOAST-unchanged updates")
        // The running merger settles each table (one part per partition) within seconds of the updates; the views
        // created before stay equal.
        try waitSettled(scenario)
        try compare(scenario, db, "after the merger settled the tables")

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

        process = try scenario.start(["--config", config])
        try sql.execute("UPDATE \(s).items SET qty = qty + 100, flag = NOT flag WHERE id % 2 = 0")
        try sql.execute("DELETE FROM \(s).plain WHERE id % 7 = 0")
        try scenario.waitCaughtUp()
        try compare(scenario, db, "after a restart and more changes")
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
    }
}
