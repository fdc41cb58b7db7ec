import Foundation
import XCTest
@testable import ColumnStore

/// A table partitioned by a column that is not its key: one transaction changes a key twice, moving it to another
/// partition. Both changes share a version; only the last may be stored, or readers cannot tell which is newer.
final class PartitionMoveTests: XCTestCase {
    func testTwoChangesOfAKeyInOneTransactionAcrossPartitionsKeepTheLast() throws {
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        defer { store.close() }
        try store.defineTable("public.v", schema: ModelSchema.schema(ModelSchema.base), partitioning: .value(column: "region"))
        var batch = RowBatch(columns: ModelSchema.base)
        ModelSchema.append(&batch, id: 1, ModelRow(name: "first", region: "eu"), version: 30)
        ModelSchema.append(&batch, id: 2, ModelRow(name: "other", region: "eu"), version: 30)
        ModelSchema.append(&batch, id: 1, ModelRow(name: "last", region: "us"), version: 30)   // moved, same transaction
        var commit = StoreCommit(upTo: 30)
        commit.add(try store.stage(batch, table: "public.v"))
        try store.commit(commit)
        for compacted in [false, true] {
            if compacted { try store.compact("public.v") }
            let rows = try ModelSchema.readAll(store, "public.v")
            XCTAssertEqual(rows.count, 2, "compacted: \(compacted)")
            XCTAssertEqual(rows[1]?.name, "last", "compacted: \(compacted)")
            XCTAssertEqual(rows[1]?.region, "us")
        }
    }
}
