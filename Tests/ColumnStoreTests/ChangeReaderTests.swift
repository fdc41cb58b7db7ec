import Foundation
import XCTest
@testable import ColumnStore

/// `Store.changes(after:)` (what the ClickHouse sink ships) and merge floors (what it has not shipped survives merges).
final class ChangeReaderTests: XCTestCase {
    var store: Store!

    override func setUpWithError() throws {
        var o = StoreOptions()
        o.gracePeriod = 0
        o.rowGroupRows = 16
        o.mergeFanIn = 2
        store = try Store.open(at: try makeTempDirectory(self), identity: testIdentity, options: o)
        try store.defineTable("public.m", schema: ModelSchema.schema(ModelSchema.base), partitioning: .keyHash(buckets: 2))
    }

    private func commit(_ version: UInt64, _ build: (inout RowBatch) -> Void) throws {
        var b = RowBatch(columns: ModelSchema.base)
        build(&b)
        var c = StoreCommit(upTo: version)
        c.add(try store.stage(b, table: "public.m"))
        try store.commit(c)
    }

    /// Every changed row above `after`: id → (name, big, version, deleted).
    private func changes(after: UInt64, lookupLimit: Int = 8) throws -> [Int64: (String?, String?, UInt64, Bool)] {
        var reader = try store.changes("public.m", after: after, batchRows: 7)
        reader.lookupLimit = lookupLimit
        var out: [Int64: (String?, String?, UInt64, Bool)] = [:]
        while let b = try reader.next() {
            for r in 0..<b.count {
                XCTAssertFalse(b.isUnchanged(r, 3), "unchanged marker returned")
                out[b.int64(r, 0)] = (b.string(r, 1), b.isDeleted(r) ? nil : b.string(r, 3), b.versions[r], b.isDeleted(r))
            }
        }
        XCTAssertEqual(reader.unresolvedUnchanged, 0, "limit \(lookupLimit) after \(after) all \(reader.mergesAllParts)")
        return out
    }

    private func seed() throws {
        try commit(10) { b in for id in Int64(0)..<40 { ModelSchema.append(&b, id: id, ModelRow(name: "a\(id)", big: "big\(id)"), version: 10) } }
        // Above 10: TOAST-unchanged updates (the value lives in the version-10 part), deletes, an insert.
        try commit(20) { b in
            for id in Int64(0)..<5 { ModelSchema.append(&b, id: id, ModelRow(name: "u\(id)"), version: 20, unchangedBig: true) }
            for id in Int64(5)..<8 { ModelSchema.appendDelete(&b, id: id, version: 20) }
            ModelSchema.append(&b, id: 100, ModelRow(name: "new", big: "nb"), version: 20)
        }
    }

    func testChangesAboveAVersionResolveUnchangedColumnsAndCarryDeletes() throws {
        try seed()
        for limit in [8, 0] {   // lookups by key, and the fallback that merges every part
            let c = try changes(after: 10, lookupLimit: limit)
            XCTAssertEqual(Set(c.keys), Set([0, 1, 2, 3, 4, 5, 6, 7, 100]), "limit \(limit)")
            XCTAssertEqual(c[2]?.0, "u2")
            XCTAssertEqual(c[2]?.1, "big2", "the unchanged TOAST value comes from the older part")
            XCTAssertEqual(c[2]?.2, 20)
            XCTAssertEqual(c[6]?.3, true)
            XCTAssertEqual(c[100]?.1, "nb")
        }
        XCTAssertEqual(try changes(after: 20).count, 0)
        XCTAssertEqual(try changes(after: 0).count, 41, "from 0: every key's newest version, deletes included")
    }

    /// `Store.versions(after:)`: every row version above `after`, unmerged, tombstones included; it stops at the
    /// first unchanged (TOAST) marker, which only `Store.changes` resolves.
    func testVersionScanReturnsEveryVersionAboveAndStopsAtUnchangedMarkers() throws {
        try commit(10) { b in for id in Int64(0)..<40 { ModelSchema.append(&b, id: id, ModelRow(name: "a\(id)", big: "big\(id)"), version: 10) } }
        try commit(20) { b in
            for id in Int64(0)..<5 { ModelSchema.append(&b, id: id, ModelRow(name: "v\(id)", big: "b\(id)"), version: 20) }
            for id in Int64(5)..<8 { ModelSchema.appendDelete(&b, id: id, version: 20) }
        }
        try commit(30) { b in for id in Int64(0)..<3 { ModelSchema.append(&b, id: id, ModelRow(name: "w\(id)", big: "c\(id)"), version: 30) } }
        func scan(after: UInt64) throws -> (rows: [(Int64, UInt64, Bool, String?)], sawUnchanged: Bool) {
            var s = try store.versions("public.m", after: after)
            var rows: [(Int64, UInt64, Bool, String?)] = []
            while let b = try s.next() {
                XCTAssertGreaterThan(b.count, 0)
                for r in 0..<b.count { rows.append((b.int64(r, 0), b.versions[r], b.isDeleted(r), b.string(r, 1))) }
            }
            return (rows, s.sawUnchanged)
        }
        let above10 = try scan(after: 10)
        XCTAssertFalse(above10.sawUnchanged)
        XCTAssertEqual(above10.rows.count, 11, "8 rows at 20 and 3 at 30: versions are not merged")
        XCTAssertTrue(above10.rows.allSatisfy { $0.1 > 10 })
        XCTAssertEqual(above10.rows.filter(\.2).map(\.0).sorted(), [5, 6, 7], "tombstones come along")
        XCTAssertEqual(Set(above10.rows.filter { $0.1 == 30 }.map(\.3)), ["w0", "w1", "w2"])
        XCTAssertEqual(try scan(after: 20).rows.count, 3)
        XCTAssertEqual(try scan(after: 30).rows.count, 0)
        XCTAssertEqual(try scan(after: 0).rows.count, 51)
        // Merged parts hold versions on both sides of `after`: only those above come.
        try store.compact("public.m")
        let merged = try scan(after: 20)
        XCTAssertEqual(merged.rows.map(\.0).sorted(), [0, 1, 2])
        // An unchanged marker above `after`: the scan stops and says so.
        try commit(40) { b in ModelSchema.append(&b, id: 9, ModelRow(name: "u9"), version: 40, unchangedBig: true) }
        let marked = try scan(after: 30)
        XCTAssertTrue(marked.sawUnchanged)
        XCTAssertTrue(marked.rows.isEmpty)
    }

    func testMergeFloorKeepsUnshippedTombstones() throws {
        store.enableMergeFloors()
        store.setMergeFloor("public.m", version: 10)
        try seed()
        try store.compact("public.m")
        XCTAssertGreaterThan(try store.manifest("public.m").parts.reduce(0) { $0 + $1.tombstones }, 0,
                             "tombstones above the floor survive a compaction")
        let c = try changes(after: 10)
        XCTAssertEqual(c[5]?.3, true, "the delete is still there to ship")
        XCTAssertEqual(c[3]?.1, "big3")
        // Once shipped, the next compaction may drop them.
        store.setMergeFloor("public.m", version: 20)
        try store.compact("public.m")
        XCTAssertEqual(try store.manifest("public.m").parts.reduce(0) { $0 + $1.tombstones }, 0)
        XCTAssertEqual(try ModelSchema.readAll(store, "public.m").count, 38)
    }
}
