import Foundation
@testable import Freshet
import ColumnStore
import PostgresReplication
import TestSupport
import XCTest

/// A resync whose connection is lost (a restarting server, a terminated backend) or whose disk is full runs again
/// instead of failing for good: an automatic resync (after `ADD COLUMN ... DEFAULT`, say) that failed would leave the
/// table different from the source. Found by Tools/torture: a `pg_ctl restart -m immediate` during the resync that
/// an ADD COLUMN had started left it `failed`.
final class ResyncRetryTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    func testTransientErrorsAreRetriedOthersAreFinal() {
        XCTAssertTrue(ResyncWorker.isTransient(PostgresError.connectionLost(message: "server closed the connection")))
        XCTAssertTrue(ResyncWorker.isTransient(PostgresError.connectionFailed(target: "db", message: "refused")))
        XCTAssertTrue(ResyncWorker.isTransient(PostgresError.server(ServerError(severity: "FATAL", sqlState: "57P01",
                                                                                message: "terminating connection due to administrator command"))))
        XCTAssertTrue(ResyncWorker.isTransient(StoreError.io(path: "/s/p", operation: "write", errno: ENOSPC)))
        XCTAssertFalse(ResyncWorker.isTransient(PostgresError.server(ServerError(severity: "ERROR", sqlState: "42P01",
                                                                                 message: "relation does not exist"))))
        XCTAssertFalse(ResyncWorker.isTransient(StoreError.io(path: "/s/p", operation: "write", errno: EACCES)))
        XCTAssertFalse(ResyncWorker.isTransient(ReplicatorError.snapshotFailed(table: "a.b", reason: "no such table")))
    }

    func testResyncWhoseCopyConnectionIsTerminatedRunsAgainAndCompletes() throws {
        let s = try Scenario(rows: 500)
        defer { s.cleanup() }
        let items = "\(s.schema).items"
        let process = try s.start()
        defer { process.signal(SIGKILL); _ = process.wait(timeout: 10) }
        try s.waitCaughtUp()

        // Hold the table in a transaction (ACCESS EXCLUSIVE gets it an xid), so the resync waits for it when it
        // creates its slot; then terminate the waiting resync backend.
        let locker = try Connection(s.url)
        defer { locker.close() }
        try locker.execute("BEGIN; LOCK TABLE \(SQLQuoting.identifier(s.schema)).items IN ACCESS EXCLUSIVE MODE")
        try s.resync([items])
        var terminated = 0
        let end = Date().addingTimeInterval(60)
        while terminated == 0 && Date() < end {
            let r = try s.pg.sql.query("""
                SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity
                WHERE application_name = 'freshet-resync' AND wait_event_type = 'Lock' AND datname = current_database()
                """)
            terminated = Int(r.scalar ?? "0") ?? 0
            usleep(50_000)
        }
        XCTAssertGreaterThan(terminated, 0, "the resync never waited on the lock; log:\n\(s.log)")
        try locker.execute("ROLLBACK")

        let failures = try s.waitForResyncs(done: 1)
        XCTAssertEqual(failures, "", "a terminated connection must not fail the resync")
        XCTAssertTrue(s.log.contains("resync.retry"), s.log)
        XCTAssertTrue(process.isRunning, s.log)
        try s.waitCaughtUp()
        try s.compare(tables: [items])
    }
}
