import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// A process killed inside `defineTable`, after the table's directory exists and before its first manifest: the next
/// open finds no such table (and removes the empty directory) instead of refusing a table with a missing manifest.
final class InterruptedDefinitionTests: XCTestCase {
    private struct SimulatedCrash: Error {}

    func testADefinitionStoppedBeforeItsFirstManifestLeavesNoTable() throws {
        let dir = try makeTempDirectory(self)
        do {
            let store = try Store.open(at: dir, identity: testIdentity)
            defer { store.close() }
            _ = try store.defineTable("public.kept", schema: ModelSchema.schema(ModelSchema.base))
            store.crashHook = { if case .beforeManifestRename("public.t") = $0 { throw SimulatedCrash() } }
            XCTAssertThrowsError(try store.defineTable("public.t", schema: ModelSchema.schema(ModelSchema.base)))
        }
        let tableDir = dir.appendingPathComponent("tables/" + TableName(schema: "public", table: "t").directoryName)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tableDir.path), "the crash left the directory")

        // Read-only: the table is simply not there.
        var ro = StoreOptions(); ro.readOnly = true
        let reader = try Store.open(at: dir, options: ro)
        XCTAssertEqual(reader.tableNames, ["public.kept"])
        reader.close()

        let store = try Store.open(at: dir, identity: testIdentity)
        defer { store.close() }
        XCTAssertEqual(store.tableNames, ["public.kept"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: tableDir.path), "the empty directory is removed")
        XCTAssertEqual(try store.defineTable("public.t", schema: ModelSchema.schema(ModelSchema.base)), 1)

        // A directory that holds data but lost its manifest is still reported, never removed.
        let kept = dir.appendingPathComponent("tables/" + TableName(schema: "public", table: "kept").directoryName)
        var batch = RowBatch(columns: ModelSchema.base)
        ModelSchema.append(&batch, id: 1, ModelRow(name: "a"), version: 10)
        var commit = StoreCommit(upTo: 10)
        commit.add(try store.stage(batch, table: "public.kept"))
        try store.commit(commit)
        store.close()
        try FileManager.default.removeItem(at: kept.appendingPathComponent("manifest.json"))
        let again = try Store.open(at: dir, identity: testIdentity)
        defer { again.close() }
        XCTAssertThrowsError(try again.manifest("public.kept"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: kept.path))
    }
}
