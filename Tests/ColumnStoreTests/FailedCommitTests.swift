import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// A commit that fails (a full disk while the new manifests are written) changes nothing: in particular a TRUNCATE in
/// it must not retire the parts its table still lists, or the next garbage collection would delete live data.
final class FailedCommitTests: XCTestCase {
    private struct DiskFull: Error {}

    func testFailedTruncateCommitKeepsThePartsItsManifestStillLists() throws {
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        defer { store.close() }
        _ = try store.defineTable("public.t", schema: ModelSchema.schema(ModelSchema.base))
        var batch = RowBatch(columns: ModelSchema.base)
        for id in 1...10 { ModelSchema.append(&batch, id: Int64(id), ModelRow(name: "n\(id)"), version: 10) }
        var first = StoreCommit(upTo: 10)
        first.add(try store.stage(batch, table: "public.t"))
        try store.commit(first)
        let parts = ModelSchema.partFiles(store, "public.t")
        XCTAssertFalse(parts.isEmpty)

        var truncate = StoreCommit(upTo: 20)
        truncate.truncate("public.t")
        store.crashHook = { if case .beforeManifestRename = $0 { throw DiskFull() } }
        XCTAssertThrowsError(try store.commit(truncate))
        store.crashHook = nil

        store.collectGarbage(force: true)
        XCTAssertEqual(Set(try store.manifest("public.t").parts.map(\.path)), parts, "the manifest is unchanged")
        XCTAssertEqual(ModelSchema.partFiles(store, "public.t"), parts, "its parts are all still there")
        XCTAssertEqual(try ModelSchema.readAll(store, "public.t").count, 10)

        // The same truncate, succeeding, retires them.
        try store.commit(truncate)
        XCTAssertEqual(store.collectGarbage(force: true), parts.count)
        XCTAssertTrue(ModelSchema.partFiles(store, "public.t").isEmpty)
    }
}
