import Foundation

extension Store {
    /// How many merges the background merger wants for `table` now (the metrics' "pending merges"): the size-tiered
    /// merges, and the settles (or the compaction round a settle waits for) of `options.settle`. 0 once the table's
    /// parts are in their steady state.
    public func pendingMerges(_ table: String) throws -> Int {
        let m = try manifest(table)
        return planMerges(m).count + planSettles(m).count
    }
}
