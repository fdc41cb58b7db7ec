import ColumnStore
import Foundation
import TestSupport
import XCTest
@testable import Freshet

/// Concurrent inserts of one shipment (`ClickHouseParallelInsert`): the rows split by key over two streams, and the
/// durable cursor moving only once every stream's inserts were acknowledged.
final class ClickHouseParallelInsertTests: XCTestCase {
    private static let schema = TableSchema(columns: [ColumnDefinition("id", .int64, nullable: false), ColumnDefinition("v", .string)],
                                            keyColumns: ["id"])

    /// Split over two streams, every row is encoded as without routing, each key's rows all in one stream in batch
    /// order, and both streams get rows.
    func testRoutingKeepsEveryKeyInOneStreamInBatchOrder() {
        var b = RowBatch(schema: Self.schema)
        for i in 0..<3000 {
            let id = Int64(i % 1000)   // each key three times, versions rising
            b.append(id, column: 0); b.append("v\(i)", column: 1); b.finishRow(version: UInt64(10 + i / 1000))
        }
        let plan = [RowBinaryColumn(source: 0, field: .int(bytes: 8), nullable: false),
                    RowBinaryColumn(source: 1, field: .string, nullable: true)]
        var out: [UInt8] = [7]   // bytes already there stay first
        let routing = RowBinaryRouting(keyColumns: [0], streams: 2)
        let done = b.appendRowBinary(to: &out, columns: plan, skipDeleted: false, routing: routing)
        XCTAssertEqual(done.rows, 3000)
        XCTAssertEqual(done.streamRows.reduce(0, +), 3000)
        XCTAssertTrue(done.streamRows.allSatisfy { $0 > 1000 }, "\(done.streamRows)")
        XCTAssertEqual(done.streamBytes.first?.lowerBound, 1)
        XCTAssertEqual(done.streamBytes.last?.upperBound, out.count)
        for s in 0..<2 {
            let rows = (0..<b.count).filter { routing.stream(of: b, row: $0) == s }
            var only = RowBatch(schema: Self.schema)
            for r in rows { only.append(Int64(r % 1000), column: 0); only.append("v\(r)", column: 1); only.finishRow(version: UInt64(10 + r / 1000)) }
            var expected: [UInt8] = []
            only.appendRowBinary(to: &expected, columns: plan, skipDeleted: false)
            XCTAssertEqual(Array(out[done.streamBytes[s]]), expected, "stream \(s): its rows in batch order")
            XCTAssertEqual(rows.count, done.streamRows[s])
        }
        let streamOfKey = Dictionary((0..<b.count).map { (b.int64($0, 0), routing.stream(of: b, row: $0)) }, uniquingKeysWith: { a, c in
            XCTAssertEqual(a, c, "one key, one stream"); return a
        })
        XCTAssertEqual(streamOfKey.count, 1000)
    }

    /// Two concurrent inserts, one of them refused by the server: the shipment fails, the cursor stays below its
    /// rows (the other stream's acknowledged insert does not move it), and the retry makes FINAL equal the store.
    func testOneFailingInsertOfTwoKeepsTheCursorAndTheRetryShipsEverything() throws {
        let chURL = try TestEnvironment.clickhouseURL()
        let dir = URL(fileURLWithPath: NSTemporaryDirectory() + "freshet-chpar-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store.open(at: dir, identity: StoreIdentity(systemIdentifier: "1", slot: "s", publication: "p"),
                                   options: StoreOptions())
        try store.defineTable("public.t", schema: Self.schema, partitioning: .none)
        func commit(_ version: UInt64, _ build: (inout RowBatch) -> Void) throws {
            var b = RowBatch(schema: Self.schema)
            build(&b)
            var c = StoreCommit(upTo: version)
            c.add(try store.stage(b, table: "public.t"))
            try store.commit(c)
        }
        let n: Int64 = 20_000
        try commit(10) { b in for id in 0..<n { b.append(id, column: 0); b.append("a\(id)", column: 1); b.finishRow(version: 10) } }

        let database = "freshet_par_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        var settings = ClickHouseSettings(url: chURL, database: database)
        settings.insertStreams = 2
        let sink = try ClickHouseSink.connect(settings: settings, tableSettings: [:], logger: Logger(minimum: .error))
        defer { _ = try? sink.client.execute("DROP DATABASE IF EXISTS \(ClickHouseSQL.identifier(database))", inDatabase: false) }
        sink.parallelMinRows = 0   // every shipment in two concurrent inserts
        sink.protect(store)
        var firstSeen: [String: Date] = [:]
        try sink.cycle(store, firstSeen: &firstSeen)
        func cursorVersion() throws -> UInt64? {
            let data = try XCTUnwrap(store.readSidecar(ClickHouseCursor.sidecarName))
            return try JSONDecoder().decode(ClickHouseCursor.self, from: data).tables["public.t"]?.version
        }
        XCTAssertEqual(try cursorVersion(), 10)

        // Version 20: every key updated (every 5th leaving `v` unchanged, as TOAST: resolved through Store.changes,
        // whose batches are split over the streams too), every 7th deleted. Stream 1's insert is refused.
        try commit(20) { b in
            for id in 0..<n {
                b.append(id, column: 0)
                if id % 7 == 0 {
                    b.finishTombstone(version: 20)
                } else {
                    if id % 5 == 1 { b.appendUnchanged(column: 1) } else { b.append("b\(id)", column: 1) }
                    b.finishRow(version: 20)
                }
            }
        }
        let t = ClickHouseSQL.table(database, "t")
        sink.corruptStream = 1
        firstSeen = [:]
        XCTAssertThrowsError(try sink.cycle(store, firstSeen: &firstSeen)) { e in
            guard case ClickHouseError.server? = e as? ClickHouseError else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try cursorVersion(), 10, "the cursor does not pass rows an insert failed to deliver")
        let partial = try sink.client.execute("SELECT countIf(_version = 20), count() FROM \(t) FORMAT TSV")
            .split(separator: "\t").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        XCTAssertGreaterThan(partial[0], 0, "stream 0's insert was acknowledged")
        XCTAssertLessThan(partial[0], Int(n), "stream 1's insert was refused")

        sink.corruptStream = nil
        try sink.cycle(store, firstSeen: &firstSeen)
        XCTAssertEqual(try cursorVersion(), 20)
        let rows = try sink.client.execute("SELECT id, v FROM \(t) FINAL WHERE _deleted = 0 ORDER BY id FORMAT TSV")
        let expected = (0..<n).filter { $0 % 7 != 0 }.map { "\($0)\t\($0 % 5 == 1 ? "a" : "b")\($0)\n" }.joined()
        XCTAssertEqual(rows, expected, "after the retry FINAL equals the store")
    }
}
