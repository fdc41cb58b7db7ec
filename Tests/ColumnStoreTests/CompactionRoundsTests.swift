import Foundation
import XCTest
@testable import ColumnStore

/// `compact` never merges more than `mergeMaxParts` parts at once (each input holds a row group in memory): a domain
/// of more parts is merged run by run first, also when the parts share one version (the chunks of a large transaction
/// past `StreamApplier.chunkVersions`, ordered only by their place in the manifest), and reads give the same rows.
final class CompactionRoundsTests: XCTestCase {
    var store: Store!

    override func setUpWithError() throws {
        var o = StoreOptions()
        o.gracePeriod = 0
        o.rowGroupRows = 16
        o.mergeMaxParts = 4
        store = try Store.open(at: try makeTempDirectory(self), identity: testIdentity, options: o)
        try store.defineTable("public.c", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none)
    }

    /// One committed part: `ids` with `name`, `big` (nil: unchanged), at `version`; `deleted` as tombstones.
    func commit(_ ids: Range<Int64>, name: String, big: String?, version: UInt64, deleted: [Int64] = [],
                model: inout [Int64: ModelRow]) throws {
        var b = RowBatch(columns: ModelSchema.base)
        for id in ids where !deleted.contains(id) {
            let row = ModelRow(name: name, big: big ?? model[id]?.big, region: "eu")
            ModelSchema.append(&b, id: id, row, version: version, unchangedBig: big == nil && model[id] != nil)
            model[id] = row
        }
        for id in deleted { ModelSchema.appendDelete(&b, id: id, version: version); model[id] = nil }
        var c = StoreCommit(upTo: version)
        c.add(try store.stage(b, table: "public.c"))
        try store.commit(c)
    }

    func testChunksOfOneVersionCompactInRunsOfMaxParts() throws {
        var model = [Int64: ModelRow]()
        try commit(0..<40, name: "base", big: "base", version: 10, model: &model)
        // 15 chunks of one transaction, all at version 50: overlapping keys, unchanged `big` in every other chunk,
        // a key deleted and inserted again.
        for k in 0..<15 {
            try commit(Int64(k * 2)..<Int64(k * 2 + 10), name: "c\(k)", big: k % 2 == 0 ? nil : "big\(k)", version: 50,
                       deleted: k == 7 ? [39] : [], model: &model)
        }
        try commit(39..<40, name: "again", big: "again", version: 50, model: &model)
        try commit(5..<8, name: "later", big: nil, version: 60, model: &model)
        XCTAssertEqual(try ModelSchema.readAll(store, "public.c"), model)

        let first = try XCTUnwrap(store.planCompactionRound(try store.manifest("public.c")))
        XCTAssertEqual(first.inputs.count, 4)
        // A round's output (level 1) is merged again only when no run of unmerged parts is left: rows are rewritten
        // about twice in all, not once per round.
        let snapshot = try store.manifest("public.c")
        XCTAssertNotNil(try store.run(first, snapshot: snapshot))
        let second = try XCTUnwrap(store.planCompactionRound(try store.manifest("public.c")))
        XCTAssertEqual(second.inputs.map(\.level), [0, 0, 0, 0])
        XCTAssertEqual(try ModelSchema.readAll(store, "public.c"), model)
        let report = try store.compact("public.c")
        XCTAssertGreaterThan(report.merges, 3)
        XCTAssertEqual(try store.manifest("public.c").parts.count, 1)
        XCTAssertEqual(try ModelSchema.readAll(store, "public.c"), model)
    }

    func testAPartOutOfVersionOrderIsNeverMergedAcross() throws {
        var model = [Int64: ModelRow]()
        // Parts in manifest order with versions 10, 30, 20, 40, 50, 60: no run may hold 30 without 20 (a key's
        // version 20 would sit between the run's rows); runs elsewhere are fine.
        for (i, v) in [10, 30, 20, 40, 50, 60].enumerated() {
            try commit(0..<20, name: "v\(v)", big: i % 2 == 0 ? "b\(v)" : nil, version: UInt64(v), model: &model)
        }
        let m = try store.manifest("public.c")
        let plan = try XCTUnwrap(store.planCompactionRound(m))
        let versions = plan.inputs.map(\.minVersion)
        XCTAssertFalse(versions.contains(30) != versions.contains(20), "\(versions)")
        try store.compact("public.c")
        XCTAssertEqual(try store.manifest("public.c").parts.count, 1)
        // Rows of the highest version win, whatever the manifest order.
        XCTAssertEqual(try ModelSchema.readAll(store, "public.c").values.map(\.name), Array(repeating: "v60", count: 20))
    }
}
