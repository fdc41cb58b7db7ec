import Foundation

extension Store {
    /// How many merges the size-tiered policy wants for `table` now (the metrics' "pending merges").
    public func pendingMerges(_ table: String) throws -> Int {
        planMerges(try manifest(table)).count
    }
}
