import Foundation
import XCTest
@testable import ColumnStore

/// Merges: concurrent commits are kept, truncates win, grace period, tombstone rules, background merger,
/// and predicate pushdown to partitions.
final class MergerTests: XCTestCase {
    var dir: URL!
    var store: Store!

    func open(grace: TimeInterval = 0, maxParts: Int = 16) throws {
        dir = try makeTempDirectory(self)
        var o = StoreOptions()
        o.gracePeriod = grace
        o.rowGroupRows = 16
        o.mergeFanIn = 2
        o.mergeMaxParts = maxParts
        store = try Store.open(at: dir, identity: testIdentity, options: o)
    }

    /// Commits `ids` as upserts (or tombstones) at `version`.
    func commit(_ table: String, _ ids: [Int64], version: UInt64, delete: Bool = false, region: String? = "eu") throws {
        var b = RowBatch(columns: ModelSchema.base)
        for id in ids {
            if delete { ModelSchema.appendDelete(&b, id: id, version: version) } else {
                ModelSchema.append(&b, id: id, ModelRow(name: "v\(version)", big: "b", region: region,
                                                        ts: Int64(id) * 86_400_000_000 * 40), version: version)
            }
        }
        var c = StoreCommit(upTo: version)
        c.add(try store.stage(b, table: table))
        try store.commit(c)
    }

    /// Table `public.m` with two commits (ids 0..<30 at 10, `second` at 20) and the merge planned over them.
    func twoPartsAndPlan(second: [Int64]) throws -> (Manifest, MergePlan) {
        try open()
        try store.defineTable("public.m", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none)
        try commit("public.m", Array(0..<30), version: 10)
        try commit("public.m", second, version: 20)
        let snapshot = try store.manifest("public.m")
        return (snapshot, try XCTUnwrap(store.planMerges(snapshot).first))
    }

    func testCommitDuringMergeIsKept() throws {
        let (snapshot, plan) = try twoPartsAndPlan(second: Array(10..<40))
        // A commit lands after the merge took its snapshot, before it swaps.
        try commit("public.m", Array(35..<50), version: 30)
        let outputs = try XCTUnwrap(try store.run(plan, snapshot: snapshot))
        let m = try store.manifest("public.m")
        XCTAssertEqual(m.parts.count, 2, "merged part + the concurrent commit's part")
        XCTAssertTrue(m.parts.contains(outputs[0]) || m.parts.contains { $0.path == outputs[0].path })
        XCTAssertEqual(m.committedLSN, 30)
        let rows = try ModelSchema.readAll(store, "public.m")
        XCTAssertEqual(rows.count, 50)
        XCTAssertEqual(rows[36]?.name, "v30")
        XCTAssertEqual(rows[20]?.name, "v20")
        XCTAssertEqual(rows[5]?.name, "v10")
    }

    /// A merge asked to stop (as `stopMerger` asks the background merger, so SIGTERM does not wait for a large merge)
    /// gives up within 4,096 keys: no output file is left, the manifest and the rows are unchanged, and the same plan
    /// merges fully afterwards.
    func testInterruptedMergeLeavesNothing() throws {
        try open()
        try store.defineTable("public.m", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none)
        try commit("public.m", Array(0..<20_000), version: 10)
        try commit("public.m", Array(0..<30), version: 20)
        let snapshot = try store.manifest("public.m")
        let plan = MergePlan(table: "public.m", inputs: snapshot.parts, dropTombstones: true, routeByPartition: false)
        let before = ModelSchema.partFiles(store, "public.m")
        var asked = 0
        XCTAssertThrowsError(try store.run(plan, snapshot: snapshot, shouldStop: { asked += 1; return asked >= 2 })) { error in
            XCTAssertTrue(error is MergeInterrupted, "\(error)")
        }
        XCTAssertEqual(asked, 2, "asked every 4,096 keys; stopped at the second")
        XCTAssertEqual(try store.manifest("public.m").parts, snapshot.parts)
        XCTAssertEqual(ModelSchema.partFiles(store, "public.m"), before, "the interrupted output is deleted")
        XCTAssertThrowsError(try store.mergeDue("public.m", shouldStop: { true })) { XCTAssertTrue($0 is MergeInterrupted) }
        XCTAssertEqual(try ModelSchema.readAll(store, "public.m").count, 20_000)
        XCTAssertNotNil(try store.run(plan, snapshot: try store.manifest("public.m")))
        XCTAssertEqual(try store.manifest("public.m").parts.count, 1)
        XCTAssertEqual(try ModelSchema.readAll(store, "public.m").count, 20_000)
    }

    func testTruncateDuringMergeWins() throws {
        let (snapshot, plan) = try twoPartsAndPlan(second: Array(0..<30))
        var c = StoreCommit(upTo: 25)
        c.truncate("public.m")
        try store.commit(c)
        XCTAssertNil(try store.run(plan, snapshot: snapshot), "the swap is refused: its inputs are gone")
        let m = try store.manifest("public.m")
        XCTAssertEqual(m.parts, [])
        XCTAssertEqual(m.generation, snapshot.generation + 1)
        XCTAssertEqual(try ModelSchema.readAll(store, "public.m").count, 0)
        store.collectGarbage(force: true)
        XCTAssertEqual(ModelSchema.partFiles(store, "public.m"), [], "refused outputs and truncated parts are deleted")
    }

    func testReplacedFilesOutliveGracePeriodForOpenReaders() throws {
        try open(grace: 3600)
        try store.defineTable("public.m", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none)
        try commit("public.m", Array(0..<100), version: 10)
        try commit("public.m", Array(50..<150), version: 20)
        var reader = try store.read("public.m", batchRows: 10)
        let first = try XCTUnwrap(try reader.next())
        XCTAssertEqual(try store.compact("public.m").merges, 1)
        XCTAssertEqual(store.collectGarbage(), 0, "grace period not over")
        var n = first.count
        while let b = try reader.next() { n += b.count }
        XCTAssertEqual(n, 150, "a reader on the old manifest finishes after the merge")
        XCTAssertEqual(store.collectGarbage(force: true), 2)
        XCTAssertEqual(ModelSchema.partFiles(store, "public.m").count, 1)
    }

    func testTombstonesKeptUnlessMergeCoversEnough() throws {
        try open(maxParts: 3)
        // Non-key partitioning: a tombstone lands in partition `null`, the row it deletes elsewhere; merges run over
        // version-adjacent parts of the whole table and route rows to partitions.
        try store.defineTable("public.v", schema: ModelSchema.schema(ModelSchema.base), partitioning: .value(column: "region"))
        try commit("public.v", [1, 2, 3], version: 10, region: "eu")
        try commit("public.v", [4], version: 15, region: "eu")
        try commit("public.v", [1], version: 20, delete: true)
        try commit("public.v", [2], version: 30, delete: true)
        var m = try store.manifest("public.v")
        XCTAssertEqual(m.parts.map(\.partition), ["v=eu", "v=eu", "null", "null"])
        let plan = try XCTUnwrap(store.planMerges(m).first)
        XCTAssertEqual(plan.inputs.map(\.minVersion), [10, 15, 20], "the oldest adjacent run, at most 3 parts")
        XCTAssertFalse(plan.dropTombstones, "does not cover the whole table")
        XCTAssertTrue(plan.routeByPartition)
        let out = try XCTUnwrap(try store.run(plan, snapshot: m))
        XCTAssertEqual(Set(out.map(\.partition)), ["v=eu", "null"])
        XCTAssertEqual(out.first { $0.partition == "null" }?.tombstones, 1, "the tombstone of 1 is kept")
        XCTAssertEqual(Set(try ModelSchema.readAll(store, "public.v").keys), [3, 4])
        try store.compact("public.v")
        m = try store.manifest("public.v")
        XCTAssertEqual(m.parts.count, 1)
        XCTAssertEqual(m.parts[0].tombstones, 0, "a whole-table merge drops them")
        XCTAssertEqual(m.parts[0].rows, 2)
        XCTAssertEqual(Set(try ModelSchema.readAll(store, "public.v").keys), [3, 4])

        // Key-derived partitioning: a merge of every part of a partition drops tombstones.
        try store.defineTable("public.h", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none)
        try commit("public.h", [1, 2, 3], version: 10)
        try commit("public.h", [1], version: 20, delete: true)
        let hm = try store.manifest("public.h")
        let hp = try XCTUnwrap(store.planMerges(hm).first)
        XCTAssertTrue(hp.dropTombstones)
        let hout = try XCTUnwrap(try store.run(hp, snapshot: hm))
        XCTAssertEqual(hout.map(\.tombstones), [0])
        XCTAssertEqual(hout.map(\.rows), [2])
    }

    func testPartialMergeKeepsTombstonesAndMarkers() throws {
        try open()
        try store.defineTable("public.p", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none)
        try commit("public.p", [1, 2], version: 10)      // level 0, the full rows
        // Two more level-0 parts: an unchanged update of 1 and a delete of 2; merge only those two.
        var b = RowBatch(columns: ModelSchema.base)
        ModelSchema.append(&b, id: 1, ModelRow(name: "new"), version: 20, unchangedBig: true)
        var c = StoreCommit(upTo: 20); c.add(try store.stage(b, table: "public.p")); try store.commit(c)
        try commit("public.p", [2], version: 30, delete: true)
        let m = try store.manifest("public.p")
        let plan = MergePlan(table: "public.p", inputs: Array(m.parts.suffix(2)), dropTombstones: false, routeByPartition: false)
        let out = try XCTUnwrap(try store.run(plan, snapshot: m))
        XCTAssertEqual(out[0].tombstones, 1)
        let rows = try ModelSchema.readAll(store, "public.p")
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[1]?.name, "new")
        XCTAssertEqual(rows[1]?.big, "b", "the merged part kept the unchanged marker; the reader carried the value")
    }

    func testBackgroundMergerNeverLosesCommits() throws {
        try open()
        try store.defineTable("public.bg", schema: ModelSchema.schema(ModelSchema.base), partitioning: .keyHash(buckets: 2))
        store.startMerger(interval: 0.001)
        var expected = [Int64: String]()
        for v in 1...40 {
            let ids = (0..<10).map { Int64(($0 * 7 + v * 3) % 60) }
            try commit("public.bg", ids, version: UInt64(v))
            for id in ids { expected[id] = "v\(v)" }
            store.wakeMerger()
        }
        store.stopMerger()
        XCTAssertNil(store.lastMergeError)
        try store.mergeDue("public.bg")
        let rows = try ModelSchema.readAll(store, "public.bg")
        XCTAssertEqual(rows.mapValues { $0.name ?? "" }, expected)
        XCTAssertEqual(try store.committedLSN("public.bg"), 40)
        XCTAssertLessThan(try store.manifest("public.bg").parts.count, 40)
    }

    func testPredicatesPruneKeyDerivedPartitionsOnly() throws {
        try open()
        try store.defineTable("public.h", schema: ModelSchema.schema(ModelSchema.base), partitioning: .keyHash(buckets: 8))
        try commit("public.h", Array(0..<200), version: 10)
        var r = try store.read("public.h", columns: ["id", "name"], where: [ColumnPredicate(column: "id", op: .eq, literal: "77")])
        XCTAssertEqual(r.partsRead, 1)
        let b = try XCTUnwrap(try r.next())
        XCTAssertEqual(b.count, 1)
        XCTAssertEqual(b.int64(0, 0), 77)
        XCTAssertEqual(b.columns.map(\.name), ["id", "name"])

        // Row groups (16 rows each) are skipped by key statistics; a non-key predicate skips none.
        try store.defineTable("public.rg", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none)
        try commit("public.rg", Array(0..<200), version: 10)
        try commit("public.rg", [195], version: 20, delete: true)
        var byKey = try store.read("public.rg", where: [ColumnPredicate(column: "id", op: .gt, literal: "189")])
        var keys = [Int64]()
        while let b = try byKey.next() { keys += (0..<b.count).map { b.int64($0, 0) } }
        XCTAssertEqual(keys, [190, 191, 192, 193, 194, 196, 197, 198, 199])
        XCTAssertEqual(byKey.skippedRowGroups, 11, "groups 0…10 of the first part end below 190")
        var byName = try store.read("public.rg", where: [ColumnPredicate(column: "name", op: .eq, literal: "v10")])
        var n = 0
        while let b = try byName.next() { n += b.count }
        XCTAssertEqual(n, 199)
        XCTAssertEqual(byName.skippedRowGroups, 0)

        // Time buckets of a key column prune by range; of a non-key column they cannot.
        let keyed = TableSchema(columns: ModelSchema.base, keyColumns: ["id", "ts"])
        try store.defineTable("public.tk", schema: keyed, partitioning: .time(column: "ts", bucket: .month))
        try store.defineTable("public.tn", schema: ModelSchema.schema(ModelSchema.base), partitioning: .time(column: "ts", bucket: .month))
        for t in ["public.tk", "public.tn"] { try commit(t, Array(0..<100), version: 10) }
        let since = ColumnPredicate(column: "ts", op: .ge, literal: "1970-05-01")
        let parts = try store.manifest("public.tk").parts.count
        for t in ["public.tk", "public.tn"] {
            var reader = try store.read(t, where: [since])
            var n = 0
            while let b = try reader.next() { n += b.count }
            XCTAssertEqual(n, 100 - 3, "ids 0,1,2 are before May 1970 (40 days apart)")
            if t == "public.tk" { XCTAssertLessThan(reader.partsRead, parts) } else { XCTAssertEqual(reader.partsRead, parts) }
        }
    }
}
