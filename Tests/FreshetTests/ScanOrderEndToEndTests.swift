import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `freshet scan` on a table of several hash partitions reads partition by partition on every core (rows in any order
/// across partitions) and equals PostgreSQL after updates, deletes and TOAST-unchanged updates; `--key-order` gives
/// the same rows in key order, exactly as `ORDER BY id`.
final class ScanOrderEndToEndTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    func testUnorderedScanOfSeveralPartitionsEqualsPostgres() throws {
        let scenario = try Scenario(rows: 3000)
        defer { scenario.cleanup() }
        let config = scenario.store + ".config.json"
        defer { try? FileManager.default.removeItem(atPath: config) }
        let items = "\(scenario.schema).items", plain = "\(scenario.schema).plain"
        let settings: [String: Any] = ["source": scenario.url, "tableSettings": [items: ["partition": "hash:4"], plain: ["partition": "hash:3"]]]
        try JSONSerialization.data(withJSONObject: settings).write(to: URL(fileURLWithPath: config))
        let process = try scenario.startCaughtUp(["--config", config])
        defer { process.killAndWait() }
        let sql = try Connection(scenario.url)
        defer { sql.close() }
        let s = scenario.quotedSchema
        for statement in [
            "UPDATE \(s).items SET qty = qty + 1, price = price * 2 WHERE id % 3 = 0",   // big (TOAST) unchanged
            "UPDATE \(s).items SET note = 'toast kept ' || id WHERE id % 10 = 0",       // rows whose big is TOASTed
            "DELETE FROM \(s).items WHERE id % 11 = 0",
            "INSERT INTO \(s).items (id, qty, note) SELECT g, 1, 'new' FROM generate_series(5001, 5100) g",
            "UPDATE \(s).plain SET v = NULL WHERE id % 4 = 0",
            "DELETE FROM \(s).plain WHERE id % 5 = 0",
        ] { try sql.execute(statement) }
        try scenario.waitCaughtUp()
        // Several partition directories, and the unordered scan (compare-store sorts it) equals PostgreSQL.
        for (table, least) in [(items, 4), (plain, 3)] {
            let raw = try runFreshet(["sql", table, "--store", scenario.store, "--dialect", "duckdb", "--raw"])
            let dirs = Set(raw.stdout.components(separatedBy: "'").filter { $0.hasSuffix(".parquet") }.map { ($0 as NSString).deletingLastPathComponent })
            XCTAssertEqual(dirs.count, least, "\(table) partition directories: \(dirs)")
        }
        try scenario.compare(tables: [items, plain])
        // --key-order: the rows in key order, as PostgreSQL's ORDER BY id; without it the same rows.
        let columns = "id,qty,price,note,big"
        let ordered = try runFreshet(["scan", items, "--store", scenario.store, "--columns", columns, "--format", "csv", "--key-order"])
        XCTAssertEqual(ordered.status, 0, ordered.stderr)
        let pgRows = try sql.query("SELECT id, qty, price, note, big FROM \(s).items ORDER BY id").rows
        let keys = ordered.stdout.split(separator: "\n").dropFirst().map { Int64($0.prefix { $0 != "," }) ?? -1 }
        XCTAssertEqual(keys, pgRows.map { Int64($0[0] ?? "") ?? -2 })
        let any = try runFreshet(["scan", items, "--store", scenario.store, "--columns", columns, "--format", "csv"])
        XCTAssertEqual(any.status, 0, any.stderr)
        XCTAssertEqual(any.stdout.split(separator: "\n").sorted(), ordered.stdout.split(separator: "\n").sorted())
    }
}
