import Foundation
import XCTest
@testable import ColumnStore

/// Several changes of one key inside one transaction share a version: the store keeps only the last, with
/// unchanged (TOAST) columns taken from the earlier changes of that transaction.
final class VersionCollapseTests: XCTestCase {
    let columns = [ColumnDefinition("id", .int64, nullable: false), ColumnDefinition("qty", .int64),
                   ColumnDefinition("big", .string)]

    func testSameKeySameVersionKeepsTheLastChangeWithCarriedValues() throws {
        var b = RowBatch(columns: columns)
        func row(_ id: Int64, _ qty: Int64?, _ big: String?, unchanged: Bool = false, version: UInt64) {
            b.append(id, column: 0)
            if let qty { b.append(qty, column: 1) } else { b.appendNull(column: 1) }
            if unchanged { b.appendUnchanged(column: 2) } else if let big { b.append(big, column: 2) } else { b.appendNull(column: 2) }
            b.finishRow(version: version)
        }
        row(1, 10, "old", version: 5)                    // earlier transaction
        row(1, 11, "fresh", version: 9)                  // same transaction: insert …
        row(2, 1, "two", version: 9)
        row(1, 12, nil, unchanged: true, version: 9)     // … then an update leaving `big` unchanged
        row(3, 1, nil, unchanged: true, version: 9)      // nothing earlier in the transaction: the marker stays
        b.append(Int64(2), column: 0); b.finishTombstone(version: 9)   // key 2 inserted then deleted
        let out = b.sorted(keys: [0]).collapsingEqualVersions(keys: [0])
        XCTAssertEqual(out.count, 4)
        XCTAssertEqual((0..<out.count).map { out.int64($0, 0) }, [1, 1, 2, 3])
        XCTAssertEqual(out.versions, [5, 9, 9, 9])
        XCTAssertEqual(out.int64(1, 1), 12)
        XCTAssertEqual(out.string(1, 2), "fresh")        // carried from the insert of the same transaction
        XCTAssertFalse(out.isUnchanged(1, 2))
        XCTAssertTrue(out.isDeleted(2))
        XCTAssertTrue(out.isUnchanged(3, 2))
    }

    func testStagedPartsNeverHoldTwoRowsWithTheSameKeyAndVersion() throws {
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        try store.defineTable("s.t", schema: TableSchema(columns: columns, keyColumns: ["id"]), partitioning: .none)
        var b = RowBatch(columns: columns)
        for qty in 0..<5 as Range<Int64> {
            b.append(Int64(7), column: 0); b.append(qty, column: 1); b.append("v\(qty)", column: 2); b.finishRow(version: 42)
        }
        var commit = StoreCommit(upTo: 42)
        commit.add(try store.stage(b, table: "s.t"))
        try store.commit(commit)
        XCTAssertEqual(try store.manifest("s.t").parts.map(\.rows), [1])
        var reader = try store.read("s.t")
        let rows = try XCTUnwrap(reader.next())
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.int64(0, 1), 4)
    }
}
