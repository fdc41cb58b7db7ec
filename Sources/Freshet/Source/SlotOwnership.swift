import ColumnStore
import Foundation
import PostgresReplication

/// Decides whether this store may use, or drop, the replication slot named in its config. A store drops or reuses only
/// a slot it can prove it created; another store's slot (another database, or another store of this database that
/// happens to use the same name) is refused with the slot's name and the fix.
///
/// The proof is in `SourceLedger.slot`: the slot is recorded as `creating` (with the server's WAL position just
/// before) before `CREATE_REPLICATION_SLOT` and as `created` with its consistent point after. A process killed
/// between the two finds, on its next start, an inactive slot whose `confirmed_flush_lsn` is at or above the recorded
/// WAL position: the slot it asked for (another store's slot of that name would have to have been created, in this
/// database, during those milliseconds, and be idle). Freshet never confirms beyond its store's checkpoint, so:
/// - before the first checkpoint (an interrupted snapshot), its own slot still has `confirmed_flush_lsn` = the
///   recorded consistent point;
/// - after it, its own slot's `confirmed_flush_lsn` is at most the store's checkpoint.
struct SlotOwnership {
    let slotName: String
    let database: String

    /// Before a snapshot: returns true when an existing slot of that name is this store's unfinished one (drop it and
    /// start over); false when there is no such slot. Throws when the slot exists and is not provably this store's.
    func mayDropForSnapshot(_ slot: SlotInfo?, ledger: SourceLedger) throws -> Bool {
        guard let slot else { return false }
        if slot.active { throw SetupError.slotInUse(slot: slotName) }
        try checkDatabase(slot)
        if let mine = ledger.slot, mine.name == slotName, mine.state == .created,
           let point = mine.consistentPoint, slot.confirmedFlush.value == point {
            return true
        }
        if isInterruptedCreation(slot, ledger: ledger) { return true }
        let why = ledger.slot?.name == slotName && ledger.slot?.state == .creating
            ? "this store was stopped while creating it, and the slot's position \(slot.confirmedFlush) is not after the point where it began to, so it cannot be the one it asked for"
            : "this store did not create it (it may belong to another Freshet store or another tool)"
        throw SetupError.slotNotOwned(slot: slotName, reason: why)
    }

    /// True when `slot` is the one this store was creating when it stopped: recorded as `creating` with the WAL
    /// position before the command, inactive, and its confirmed position at or after that position.
    func isInterruptedCreation(_ slot: SlotInfo, ledger: SourceLedger) -> Bool {
        guard let mine = ledger.slot, mine.name == slotName, mine.state == .creating, let before = mine.walBefore,
              !slot.active, slot.plugin == "pgoutput", slot.database == database else { return false }
        return slot.confirmedFlush.value >= before
    }

    /// Before resuming from `checkpoint`: throws unless the slot can be this store's. A slot this store was creating
    /// when it stopped (after its snapshot, replacing a missing slot) passes: its position is past the checkpoint by
    /// construction.
    func checkForResume(_ slot: SlotInfo, checkpoint: UInt64, ledger: SourceLedger) throws {
        try checkDatabase(slot)
        if isInterruptedCreation(slot, ledger: ledger) { return }
        if slot.confirmedFlush.value > checkpoint {
            throw SetupError.slotNotOwned(slot: slotName, reason: "its confirmed position \(slot.confirmedFlush) is beyond this store's checkpoint \(LSN(checkpoint)), which Freshet never does for its own slot")
        }
        if let mine = ledger.slot, mine.name == slotName, let point = mine.consistentPoint, slot.confirmedFlush.value < point,
           slot.confirmedFlush.value != 0 {
            throw SetupError.slotNotOwned(slot: slotName, reason: "its confirmed position \(slot.confirmedFlush) is below the point \(LSN(point)) where this store created its slot")
        }
    }

    private func checkDatabase(_ slot: SlotInfo) throws {
        if slot.plugin != "pgoutput" { throw SetupError.slotWrongPlugin(slot: slotName, plugin: slot.plugin) }
        if slot.database != database { throw SetupError.slotInOtherDatabase(slot: slotName, slotDatabase: slot.database, database: database) }
    }
}
