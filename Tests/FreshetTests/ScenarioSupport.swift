import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// What the end-to-end suites share on top of `EndToEndTests.Scenario`: starting caught up, comparing tables,
/// the store's tables and rows, and resync requests and their progress.
extension EndToEndTests.Scenario {
    /// The scenario's schema, quoted for SQL.
    var quotedSchema: String { SQLQuoting.identifier(schema) }

    /// Starts `freshet run` (with `extra` arguments) and waits until the store has caught up with the source.
    func startCaughtUp(_ extra: [String] = []) throws -> FreshetProcess {
        let process = try start(extra)
        try waitCaughtUp()
        return process
    }

    /// Waits for the `count`-th automatic resync of `table` and for the store to catch up, then compares `tables`
    /// (by default `table` alone) with PostgreSQL.
    func waitForAutomaticResyncThenCompare(of table: String, count: Int, tables: [String]? = nil,
                                           file: StaticString = #filePath, line: UInt = #line) throws {
        try waitForAutomaticResync(of: table, count: count, file: file, line: line)
        try waitCaughtUp()
        try compare(tables: tables ?? [table], file: file, line: line)
    }

    /// Creates `status` (an enum of 'new' and 'paid') and `orders` (id, a status, a status[] history) with 50 rows.
    func createEnumOrders() throws {
        let q = quotedSchema
        try pg.sql.execute("""
            CREATE TYPE \(q).status AS ENUM ('new', 'paid');
            CREATE TABLE \(q).orders (id int PRIMARY KEY, s \(q).status, history \(q).status[]);
            INSERT INTO \(q).orders SELECT g, (CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'new' END)::\(q).status, '{new,paid}' FROM generate_series(1, 50) g;
            """)
    }

    /// The store's log so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Compares the named tables with PostgreSQL (`Tools/compare-store`, through scan and DuckDB).
    func compare(tables: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("compare-store").path
        let result = try Subprocess.run(try TestEnvironment.python(), [tool, "--source", url, "--store", store,
                                                                       "--freshet", TestEnvironment.product("freshet"), "--duckdb"] + tables)
        XCTAssertEqual(result.status, 0, "store differs from PostgreSQL:\n\(result.stdout)\n\(result.stderr)\nlog:\n\(log)",
                       file: file, line: line)
    }

    /// The store's table names, from their manifests.
    func storeTables() throws -> [String] {
        try storeManifests().compactMap { $0["table"] as? String }.sorted()
    }

    /// The store's manifests, each as decoded JSON.
    func storeManifests() throws -> [[String: Any]] {
        let dir = store + "/tables"
        return try FileManager.default.contentsOfDirectory(atPath: dir).compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(dir)/\(name)/manifest.json") else { return nil }
            return try JSONSerialization.jsonObject(with: data) as? [String: Any]
        }
    }

    /// The rows of `freshet scan TABLE --format jsonl` (only `columns` when given), each a JSON object.
    func scanRows(_ table: String, columns: [String]? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let scan = try runFreshet(["scan", table, "--store", store, "--format", "jsonl"]
                                  + (columns.map { ["--columns", $0.joined(separator: ",")] } ?? []))
        XCTAssertEqual(scan.status, 0, scan.stderr, file: file, line: line)
        return try scan.stdout.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], file: file, line: line)
        }
    }

    /// Rows `freshet scan` returns for a table.
    func storeRowCount(_ table: String) throws -> Int {
        let r = try runFreshet(["scan", table, "--store", store, "--format", "jsonl"])
        guard r.status == 0 else { throw XCTSkip("freshet scan failed: \(r.stderr)") }
        return r.stdout.split(separator: "\n").count
    }

    /// Sends `freshet resync` for tables.
    func resync(_ tables: [String]) throws {
        let r = try runFreshet(["resync"] + tables + ["--source", url])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// Resync requests recorded in `STORE/resync.json`: (tables, reason, state, message).
    func resyncEntries() -> [(tables: [String], reason: String?, state: String, message: String)] {
        guard let data = FileManager.default.contents(atPath: store + "/resync.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let entries = json["entries"] as? [[String: Any]] else { return [] }
        return entries.map { e in
            let request = e["request"] as? [String: Any] ?? [:]
            return (request["tables"] as? [String] ?? [], request["reason"] as? String, e["state"] as? String ?? "",
                    e["message"] as? String ?? "")
        }
    }

    /// Waits until `count` automatic resyncs (requested by Freshet itself) that include `table` are done.
    func waitForAutomaticResync(of table: String, count: Int, timeout: Double = 90,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            let done = resyncEntries().filter { $0.reason != nil && $0.tables.contains(table) && $0.state == "done" }
            if done.count >= count { return }
            usleep(200_000)
        }
        XCTFail("no automatic resync of \(table) done (\(count) expected): \(resyncEntries())\nlog:\n\(log)", file: file, line: line)
        throw XCTSkip("failed: automatic resync did not happen")
    }

    /// Waits until `done` requests are done, or `failed` have failed (then returns their messages).
    @discardableResult
    func waitForResyncs(done: Int = 0, failed: Int = 0, timeout: Double = 90,
                        file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            let entries = resyncEntries()
            let failures = entries.filter { $0.state == "failed" }
            if entries.filter({ $0.state == "done" }).count >= done && failures.count >= failed {
                return failures.map(\.message).joined(separator: "\n")
            }
            usleep(200_000)
        }
        XCTFail("resyncs not finished (\(done) done, \(failed) failed expected): \(resyncEntries())\nlog:\n\(log)", file: file, line: line)
        throw XCTSkip("failed: resyncs did not finish")
    }
}
