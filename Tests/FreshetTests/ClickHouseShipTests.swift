import ColumnStore
import Foundation
import TestSupport
import XCTest
@testable import Freshet

/// The sink's shipping from a store straight to the real 18.16 server (Tools/clickhouse-sandbox), without a source:
/// what the version scan and the TOAST-resolving fallback send together.
final class ClickHouseShipTests: XCTestCase {
    /// A new copy (first run, TRUNCATE, resync) is sent by the version scan until it meets a TOAST-unchanged marker,
    /// then by `Store.changes`. Keys the scan already sent an older version of must get their delete: a new copy that
    /// dropped it would bring a deleted row back (found by Tools/torture --clickhouse, a resync of a TOASTed table).
    func testANewCopyKeepsTheDeletesOfKeysTheScanSent() throws {
        let chURL = try TestEnvironment.clickhouseURL()
        let dir = URL(fileURLWithPath: NSTemporaryDirectory() + "freshet-chship-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store.open(at: dir, identity: StoreIdentity(systemIdentifier: "1", slot: "s", publication: "p"),
                                   options: StoreOptions())
        let schema = TableSchema(columns: [ColumnDefinition("id", .int64, nullable: false), ColumnDefinition("v", .string),
                                           ColumnDefinition("big", .string)], keyColumns: ["id"])
        try store.defineTable("public.t", schema: schema, partitioning: .none)
        func commit(_ version: UInt64, _ build: (inout RowBatch) -> Void) throws {
            var b = RowBatch(schema: schema)
            build(&b)
            var c = StoreCommit(upTo: version)
            c.add(try store.stage(b, table: "public.t"))
            try store.commit(c)
        }
        try commit(10) { b in
            for id in Int64(0)..<10 { b.append(id, column: 0); b.append("a\(id)", column: 1); b.append("big\(id)", column: 2); b.finishRow(version: 10) }
        }
        try commit(20) { b in
            b.append(Int64(1), column: 0); b.finishTombstone(version: 20)
            b.append(Int64(2), column: 0); b.append("u2", column: 1); b.appendUnchanged(column: 2); b.finishRow(version: 20)
        }

        let database = "freshet_ship_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let sink = try ClickHouseSink.connect(settings: ClickHouseSettings(url: chURL, database: database), tableSettings: [:],
                                              logger: Logger(minimum: .warn))
        defer { _ = try? sink.client.execute("DROP DATABASE IF EXISTS \(ClickHouseSQL.identifier(database))", inDatabase: false) }
        sink.protect(store)
        var firstSeen: [String: Date] = [:]
        try sink.cycle(store, firstSeen: &firstSeen)
        let rows = try sink.client.execute("SELECT id, v, big FROM \(ClickHouseSQL.table(database, "t")) FINAL WHERE _deleted = 0 ORDER BY id FORMAT TSV")
        let expected = (Int64(0)..<10).filter { $0 != 1 }.map { id in
            id == 2 ? "2\tu2\tbig2" : "\(id)\ta\(id)\tbig\(id)"
        }.joined(separator: "\n") + "\n"
        XCTAssertEqual(rows, expected, "key 1 is deleted; key 2's unchanged TOAST value comes from version 10")
    }

    /// A streamed insert the server refuses: a missing table (it answers at once and closes; the sink gets the answer
    /// by sending the statement again without rows) and rows it cannot parse (4 MiB of good rows, then 3 stray
    /// bytes). Both are the server's errors, never a silent success; a good insert after them works. (A String length
    /// prefix of 0xFF bytes would crash 18.16 itself: the sink never sends one.)
    func testAStreamedInsertTheServerRefusesIsAnError() throws {
        let database = "freshet_insert_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let client = ClickHouseClient(endpoint: try ClickHouseEndpoint(ClickHouseSettings(url: try TestEnvironment.clickhouseURL(),
                                                                                          database: database)))
        try client.execute("CREATE DATABASE IF NOT EXISTS \(ClickHouseSQL.identifier(database))", inDatabase: false)
        defer { _ = try? client.execute("DROP DATABASE IF EXISTS \(ClickHouseSQL.identifier(database))", inDatabase: false) }
        try client.execute("CREATE TABLE \(ClickHouseSQL.table(database, "t")) (x UInt64) ENGINE = Memory")

        let missing = try client.beginInsert(table: "nope", columns: ["x"])
        XCTAssertThrowsError(try { try missing.write([UInt8](repeating: 1, count: 1 << 20), rows: 1 << 17); try missing.finish() }()) { e in
            guard case let ClickHouseError.server(_, _, message)? = e as? ClickHouseError else { return XCTFail("\(e)") }
            XCTAssertTrue(message.contains("nope"), message)
        }
        let bad = try client.beginInsert(table: "t", columns: ["x"])
        XCTAssertThrowsError(try {
            for _ in 0..<4 { try bad.write([UInt8](repeating: 7, count: 1 << 20), rows: 1 << 17) }
            try bad.write([1, 2, 3], rows: 0)
            try bad.finish()
        }()) { e in
            guard case ClickHouseError.server? = e as? ClickHouseError else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try client.execute("SELECT count() FROM \(ClickHouseSQL.table(database, "t")) FORMAT TSV"), "0\n",
                       "a refused insert of fewer than 1,048,576 rows inserts nothing")

        let good = try client.beginInsert(table: "t", columns: ["x"])
        for chunk in 0..<3 { try good.write((0..<1000).flatMap { withUnsafeBytes(of: UInt64(chunk * 1000 + $0).littleEndian, Array.init) }, rows: 1000) }
        try good.finish()
        XCTAssertEqual(try client.execute("SELECT count(), sum(x) FROM \(ClickHouseSQL.table(database, "t")) FORMAT TSV"), "3000\t4498500\n")
    }
}
