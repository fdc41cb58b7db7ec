import Foundation
import XCTest
@testable import ColumnStore

/// A commit does its file I/O (fsyncs of parts, manifests and directories) without the store's state lock, so
/// readers — `manifest`, `tableNames`, `checkpointLSN`, which the HTTP and resync threads call — never wait for it.
final class CommitConcurrencyTests: XCTestCase {
    func testReadersDoNotWaitForACommitInFlight() throws {
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        defer { store.close() }
        try store.defineTable("public.t", schema: ModelSchema.schema(ModelSchema.base))
        var batch = RowBatch(columns: ModelSchema.base)
        ModelSchema.append(&batch, id: 1, ModelRow(name: "a"), version: 10)
        var commit = StoreCommit(upTo: 10)
        commit.add(try store.stage(batch, table: "public.t"))

        // The commit stops between writing its manifest and renaming it into place until the reader has read.
        let readerDone = DispatchSemaphore(value: 0)
        let waitedOut = AtomicBox(false)
        store.crashHook = { point in
            if case .beforeManifestRename = point, readerDone.wait(timeout: .now() + 20) == .timedOut { waitedOut.set(true) }
        }
        let committed = DispatchSemaphore(value: 0)
        let commitError = AtomicBox<String?>(nil)
        let sendableCommit = commit
        Thread.detachNewThread {
            do { try store.commit(sendableCommit) } catch { commitError.set("\(error)") }
            committed.signal()
        }
        usleep(100_000)   // let the commit reach its hook (if it did not yet, the reads below simply come first)
        XCTAssertEqual(store.tableNames, ["public.t"])
        XCTAssertEqual(try store.manifest("public.t").parts.count, 0, "the commit is not visible before its rename")
        _ = store.checkpointLSN
        readerDone.signal()
        XCTAssertEqual(committed.wait(timeout: .now() + 30), .success)
        XCTAssertFalse(waitedOut.value, "readers waited for the commit in flight")
        XCTAssertNil(commitError.value)
        XCTAssertEqual(try store.manifest("public.t").parts.count, 1)
        XCTAssertEqual(store.checkpointLSN, 10)
    }
}

/// A value shared between threads.
final class AtomicBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    func set(_ value: T) { lock.lock(); stored = value; lock.unlock() }
    var value: T { lock.lock(); defer { lock.unlock() }; return stored }
}
