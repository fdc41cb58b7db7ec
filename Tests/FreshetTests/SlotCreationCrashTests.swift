import Foundation
@testable import Freshet
import PostgresReplication
import TestSupport
import XCTest

/// A process killed between `CREATE_REPLICATION_SLOT` and the ledger's `created` record: the next start proves the
/// slot is its own (inactive, created after the WAL position recorded with `creating`), drops it and snapshots
/// afresh. Another store's slot is still refused.
final class SlotCreationCrashTests: XCTestCase {
    private func slot(active: Bool = false, confirmed: UInt64, database: String = "db") -> SlotInfo {
        SlotInfo(name: "s", plugin: "pgoutput", database: database, active: active, confirmedFlush: LSN(confirmed),
                 walStatus: "reserved", retainedBytes: 0)
    }

    private func ledger(_ state: SourceLedger.SlotRecord.State, walBefore: UInt64?, point: UInt64? = nil) -> SourceLedger {
        var l = SourceLedger()
        l.slot = SourceLedger.SlotRecord(name: "s", state: state, consistentPoint: point, walBefore: walBefore)
        return l
    }

    func testOwnershipOfASlotWhoseCreationWasInterrupted() throws {
        let o = SlotOwnership(slotName: "s", database: "db")
        // Created after the recorded position, idle: this store's.
        XCTAssertTrue(try o.mayDropForSnapshot(slot(confirmed: 1000), ledger: ledger(.creating, walBefore: 1000)))
        XCTAssertTrue(try o.mayDropForSnapshot(slot(confirmed: 5000), ledger: ledger(.creating, walBefore: 1000)))
        // Older than the attempt, or from a ledger without the position: not provably this store's.
        XCTAssertThrowsError(try o.mayDropForSnapshot(slot(confirmed: 999), ledger: ledger(.creating, walBefore: 1000)))
        XCTAssertThrowsError(try o.mayDropForSnapshot(slot(confirmed: 5000), ledger: ledger(.creating, walBefore: nil)))
        // In use by someone, or in another database: refused.
        XCTAssertThrowsError(try o.mayDropForSnapshot(slot(active: true, confirmed: 5000), ledger: ledger(.creating, walBefore: 1000)))
        XCTAssertThrowsError(try o.mayDropForSnapshot(slot(confirmed: 5000, database: "other"), ledger: ledger(.creating, walBefore: 1000)))
        // Created and never confirmed: its consistent point proves it; anything else is another's.
        XCTAssertTrue(try o.mayDropForSnapshot(slot(confirmed: 7000), ledger: ledger(.created, walBefore: nil, point: 7000)))
        XCTAssertThrowsError(try o.mayDropForSnapshot(slot(confirmed: 7001), ledger: ledger(.created, walBefore: nil, point: 7000)))
        XCTAssertFalse(try o.mayDropForSnapshot(nil, ledger: ledger(.creating, walBefore: 1000)))
        // Resuming: a slot created to replace a missing one is past the checkpoint by construction.
        XCTAssertNoThrow(try o.checkForResume(slot(confirmed: 9000), checkpoint: 8000, ledger: ledger(.creating, walBefore: 8500)))
        XCTAssertThrowsError(try o.checkForResume(slot(confirmed: 9000), checkpoint: 8000, ledger: ledger(.created, walBefore: nil, point: 100)))
    }

    func testAKillRightAfterCreatingTheSlotIsRecoveredOnTheNextStart() throws {
        let scenario = try EndToEndTests.Scenario(rows: 600)
        defer { scenario.cleanup() }
        let crashed = try scenario.start(environment: ["FRESHET_TEST_EXIT_AFTER_SLOT_CREATE": "1"])
        XCTAssertEqual(crashed.wait(timeout: 120), 137, scenario.log)
        let slots = try scenario.pg.sql.query("SELECT active::text FROM pg_replication_slots WHERE slot_name = $1", [scenario.slot]).rows
        XCTAssertEqual(slots.count, 1, "the slot was created before the kill")

        let resumed = try scenario.startCaughtUp()
        XCTAssertTrue(scenario.log.contains("snapshot.restart"), scenario.log)
        XCTAssertFalse(scenario.log.contains("cannot prove"), scenario.log)
        try scenario.pg.sql.execute("UPDATE \(scenario.quotedSchema).items SET qty = qty + 1 WHERE id % 4 = 0")
        try scenario.waitCaughtUp()
        try scenario.compare(tables: scenario.tables)
        resumed.signal(SIGTERM)
        XCTAssertEqual(resumed.wait(timeout: 60), 0, scenario.log)
    }
}
