import Foundation

/// Versions a consumer of the store (the ClickHouse sink) has not read yet, per table: merges keep the tombstones of
/// such versions, so a delete above a table's floor always reaches the consumer. Merges still collapse versions of
/// a key (the consumer only needs the newest, and it keeps the newest's unchanged columns resolved).
///
/// Until `enable` is called nothing is kept. Once enabled, a table without a floor keeps every tombstone (nothing
/// of it has been read yet).
final class MergeFloors: @unchecked Sendable {
    private let lock = NSLock()
    private var enabled = false
    private var floors: [String: UInt64] = [:]

    func enable() { lock.withLock { enabled = true } }

    func set(_ table: String, _ version: UInt64) { lock.withLock { floors[table] = version } }

    /// Whether a merge of `inputs` may drop tombstones: no input holds a version above the table's floor.
    func mayDropTombstones(_ table: String, _ inputs: [PartEntry]) -> Bool {
        lock.withLock {
            guard enabled else { return true }
            let floor = floors[table] ?? 0
            return inputs.allSatisfy { $0.maxVersion <= floor }
        }
    }
}

extension Store {
    /// Makes merges keep tombstones of versions above each table's floor (`setMergeFloor`); a table without a floor
    /// keeps all of them. Call before `startMerger`. Lasts for this `Store` object (this process).
    public func enableMergeFloors() { mergeFloors.enable() }

    /// Tombstones of versions above `version` survive merges of `table` (once `enableMergeFloors` was called).
    public func setMergeFloor(_ table: String, version: UInt64) { mergeFloors.set(table, version) }
}
