import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// The FINAL reader's path for a table whose only part to read has unique keys (compacted or settled, one partition):
/// row groups filtered in place instead of the key merge, with the same rows, order, batch bounds and NULLs.
final class FinalReaderDirectTests: XCTestCase {
    static let table = "public.d"
    static let columns = QueryViewTests.columns

    /// `(id, amount, big)` rows of `table` through the FINAL reader, with its batch sizes.
    private func read(_ store: Store, columns: [String]? = nil, where predicates: [ColumnPredicate] = [],
                      batchRows: Int) throws -> (rows: [String], batches: [Int], unresolved: Int) {
        var reader = try store.read(Self.table, columns: columns, where: predicates, batchRows: batchRows)
        var rows = [String](), batches = [Int]()
        while let b = try reader.next() {
            batches.append(b.count)
            for r in 0..<b.count {
                rows.append((0..<b.columns.count).map { c in
                    b.isNull(r, c) ? "null" : b.columns[c].type == .string ? b.string(r, c) ?? "?" : String(b.int64(r, c))
                }.joined(separator: ":"))
            }
        }
        return (rows, batches, reader.unresolvedUnchanged)
    }

    func testOnlyPartWithUniqueKeysIsReadWithoutTheMerge() throws {
        let dir = try makeTempDirectory(self).appendingPathComponent("store")
        var options = StoreOptions()
        options.rowGroupRows = 100          // several row groups, each cut into several batches
        let store = try Store.open(at: dir, identity: testIdentity, options: options)
        try store.defineTable(Self.table, schema: TableSchema(columns: Self.columns, keyColumns: ["id"]), partitioning: .none)
        // One staged part with unique keys: rows, tombstones (keys no older part holds), `big` marked unchanged.
        var b = RowBatch(columns: Self.columns)
        var expected = [(id: Int, amount: Int, big: String?)]()
        for id in 1...450 {
            b.append(Int64(id), column: 0)
            if id % 9 == 0 { b.finishTombstone(version: 10); continue }
            b.append(Int64(id * 2), column: 1)
            if id % 10 == 0 { b.appendUnchanged(column: 2) } else { b.append("big \(id)", column: 2) }
            b.finishRow(version: 10)
            expected.append((id, id * 2, id % 10 == 0 ? nil : "big \(id)"))
        }
        var c = StoreCommit(upTo: 10)
        c.add(try store.stage(b, table: Self.table))
        try store.commit(c)
        XCTAssertEqual(try store.manifest(Self.table).parts.map(\.uniqueKeys), [true])
        let markers = expected.filter { $0.big == nil }.count
        let all = try read(store, batchRows: 7)
        XCTAssertEqual(all.rows, expected.map { "\($0.id):\($0.amount):\($0.big ?? "null")" })
        XCTAssertTrue(all.batches.allSatisfy { $0 > 0 && $0 <= 7 }, "\(all.batches)")
        XCTAssertEqual(all.unresolved, markers)
        // Projection and a predicate on a column that is not the key.
        let some = try read(store, columns: ["big", "id"], where: [ColumnPredicate(column: "amount", op: .gt, literal: "700")], batchRows: 50)
        XCTAssertEqual(some.rows, expected.filter { $0.amount > 700 }.map { "\($0.big ?? "null"):\($0.id)" })
        XCTAssertEqual(some.unresolved, expected.filter { $0.amount > 700 && $0.big == nil }.count)
        // A second part: the key merge again, with the same answer for the keys it does not touch.
        var u = RowBatch(columns: Self.columns)
        u.append(Int64(1), column: 0); u.append(Int64(-1), column: 1); u.appendUnchanged(column: 2); u.finishRow(version: 20)
        c = StoreCommit(upTo: 20)
        c.add(try store.stage(u, table: Self.table))
        try store.commit(c)
        var merged = expected.map { "\($0.id):\($0.amount):\($0.big ?? "null")" }
        merged[0] = "1:-1:big 1"
        XCTAssertEqual(try read(store, batchRows: 64).rows, merged)
    }
}
