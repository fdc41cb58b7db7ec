import Foundation
import XCTest
@testable import ColumnStore

/// Overlapping commits (`Store.prepareCommit` / `finishCommit`, the stream's committer): a commit prepared on top of
/// one not yet finished builds on its manifests and checkpoint, nothing of it is visible before its own finish, and
/// the checkpoint moves in order. Other manifest writers wait for the run of commits to end.
final class OverlappingCommitTests: XCTestCase {
    private func staged(_ store: Store, id: Int64, name: String, version: UInt64) throws -> StoreCommit {
        var batch = RowBatch(columns: ModelSchema.base)
        ModelSchema.append(&batch, id: id, ModelRow(name: name), version: version)
        var commit = StoreCommit(upTo: version)
        commit.add(try store.stage(batch, table: "public.t", deferFsync: true))
        return commit
    }

    func testACommitPreparedOnTopOfAnUnfinishedOneBecomesVisibleOnlyAfterIt() throws {
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        defer { store.close() }
        try store.defineTable("public.t", schema: ModelSchema.schema(ModelSchema.base))
        try store.defineTable("public.u", schema: ModelSchema.schema(ModelSchema.base))

        store.beginCommits()
        let first = try store.prepareCommit(try staged(store, id: 1, name: "a", version: 10), after: nil)
        let second = try store.prepareCommit(try staged(store, id: 1, name: "b", version: 20), after: first)
        XCTAssertEqual(store.checkpointLSN, 0, "nothing is visible before a finish")
        XCTAssertEqual(try store.manifest("public.t").parts.count, 0)

        try store.finishCommit(first)
        XCTAssertEqual(store.checkpointLSN, 10)
        XCTAssertEqual(try store.manifest("public.t").parts.count, 1)
        XCTAssertEqual(try ModelSchema.readAll(store, "public.t")[1]?.name, "a")

        // A checkpoint-only commit prepared on top of the second one (which changes only public.t).
        let third = try store.prepareCommit(StoreCommit(upTo: 30), after: second)
        try store.finishCommit(second)
        XCTAssertEqual(store.checkpointLSN, 20)
        XCTAssertEqual(try store.manifest("public.t").parts.count, 2, "the second manifest keeps the first's part")
        XCTAssertEqual(try ModelSchema.readAll(store, "public.t")[1]?.name, "b")
        try store.finishCommit(third)
        XCTAssertEqual(store.checkpointLSN, 30)
        store.endCommits()

        // An abandoned prepared commit leaves nothing visible, and no temp files.
        store.beginCommits()
        let dropped = try store.prepareCommit(try staged(store, id: 2, name: "c", version: 40), after: nil)
        store.abandon(dropped)
        store.endCommits()
        XCTAssertEqual(store.checkpointLSN, 30)
        XCTAssertNil(try ModelSchema.readAll(store, "public.t")[2])
        let temps = try FileManager.default.subpathsOfDirectory(atPath: dir.path).filter {
            StoreFile.isTemporary(URL(fileURLWithPath: $0).lastPathComponent)
        }
        XCTAssertEqual(temps, [])

        // The store reopened finds the finished commits.
        store.close()
        let reopened = try Store.open(at: dir, identity: testIdentity)
        defer { reopened.close() }
        XCTAssertEqual(reopened.checkpointLSN, 30)
        XCTAssertEqual(try ModelSchema.readAll(reopened, "public.t")[1]?.name, "b")
    }

    /// A table definition (any other manifest writer) waits until the run of commits ends, and the run sees it wait.
    func testOtherManifestWritersWaitForTheRunOfCommits() throws {
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        defer { store.close() }
        try store.defineTable("public.t", schema: ModelSchema.schema(ModelSchema.base))
        store.beginCommits()
        let prepared = try store.prepareCommit(try staged(store, id: 1, name: "a", version: 10), after: nil)
        let defined = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? store.defineTable("public.v", schema: ModelSchema.schema(ModelSchema.base))
            defined.signal()
        }
        let deadline = Date().addingTimeInterval(10)
        while !store.commitsAwaited && Date() < deadline { usleep(1_000) }
        XCTAssertTrue(store.commitsAwaited)
        XCTAssertEqual(defined.wait(timeout: .now() + 0.2), .timedOut, "a writer ran inside the run of commits")
        try store.finishCommit(prepared)
        store.endCommits()
        XCTAssertEqual(defined.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(store.tableNames, ["public.t", "public.v"])
        XCTAssertEqual(try store.manifest("public.t").parts.count, 1)
    }
}
