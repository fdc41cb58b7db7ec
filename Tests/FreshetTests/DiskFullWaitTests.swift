import ColumnStore
import Foundation
import XCTest
@testable import Freshet

/// `DiskFullWait` without a disk: which errors it retries, that an episode is logged and counted once however many
/// retries it takes, that the state goes back afterwards, and that a stop request ends the wait with the error.
final class DiskFullWaitTests: XCTestCase {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    static let full = StoreError.io(path: "/s/tables/t/parts/h=000/p.parquet.staged", operation: "create part (write)", errno: ENOSPC)

    func testRetriesUntilSpaceReturnsAndLogsTheEpisodeOnce() throws {
        let lines = Lines(), stats = ReplicatorStats()
        stats.setState(.streaming)
        let wait = DiskFullWait(storePath: "/s", logger: Logger(sink: { lines.add($0) }), stats: stats,
                                initialDelay: 0.01, maximumDelay: 0.02, isStopping: { false })
        var attempts = 0
        let result: Int = try wait.retrying("stage", needed: 3 << 20) {
            attempts += 1
            if attempts < 5 {
                XCTAssertTrue(attempts == 1 || stats.state.state == .diskFull)
                throw attempts % 2 == 0 ? Self.full : StoreError.io(path: "/s/q", operation: "write", errno: EDQUOT)
            }
            return 42
        }
        XCTAssertEqual(result, 42)
        XCTAssertEqual(attempts, 5)
        XCTAssertEqual(stats.errors["disk_full"], 1)
        XCTAssertEqual(stats.state.state, .streaming)
        XCTAssertFalse(wait.isFull)
        let logged = lines.all
        XCTAssertEqual(logged.filter { $0.contains("error store.disk_full") }.count, 1, "\(logged)")
        XCTAssertTrue(logged.contains { $0.contains("needed_mb=3.0") && $0.contains("Disk quota exceeded") }, "\(logged)")
        XCTAssertEqual(logged.filter { $0.contains("info store.disk_space_back") }.count, 1, "\(logged)")
    }

    func testOtherErrorsAndFsyncFailuresAreThrownAtOnce() {
        let stats = ReplicatorStats()
        let wait = DiskFullWait(storePath: "/s", logger: Logger(sink: { _ in }), stats: stats, initialDelay: 0.01,
                                isStopping: { false })
        for error in [StoreError.io(path: "/s/m", operation: "fsync", errno: ENOSPC),
                      StoreError.io(path: "/s/m", operation: "write", errno: EIO),
                      StoreError.invalidCommit(reason: "x")] {
            var attempts = 0
            XCTAssertThrowsError(try wait.retrying("commit") { attempts += 1; throw error }) {
                XCTAssertEqual($0 as? StoreError, error)
            }
            XCTAssertEqual(attempts, 1)
        }
        XCTAssertNil(stats.errors["disk_full"])
    }

    func testAStopRequestEndsTheWaitWithTheError() {
        let stopping = ManagedAtomicFlag()
        let stats = ReplicatorStats()
        stats.setState(.streaming)
        let wait = DiskFullWait(storePath: "/s", logger: Logger(sink: { _ in }), stats: stats, initialDelay: 0.01,
                                maximumDelay: 0.01, isStopping: { stopping.isSet })
        var attempts = 0
        XCTAssertThrowsError(try wait.retrying("stage") {
            attempts += 1
            if attempts == 3 { stopping.set() }
            throw Self.full
        }) { XCTAssertEqual($0 as? StoreError, Self.full) }
        XCTAssertEqual(attempts, 3)
        XCTAssertEqual(stats.state.state, .diskFull)
        XCTAssertEqual(DiskFullWait.storeError(CommitPartlyApplied(Self.full)), Self.full)
        XCTAssertNil(DiskFullWait.storeError(StoreError.io(path: "/s", operation: "write", errno: EIO)))
    }

    final class ManagedAtomicFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.lock(); value = true; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    }
}
