import Foundation

/// Runs independent work items on the available cores (the store's commit rounds; the replicator's staging of
/// several tables).
public enum Parallel {
    /// Calls `body(i)` for every `i` in `0..<count`, concurrently when `count > 1`; returns each item's error (nil
    /// for the items that succeeded). Items must not share mutable state.
    public static func forEach(_ count: Int, _ body: @Sendable (Int) throws -> Void) -> [Error?] {
        if count <= 1 {
            return (0..<count).map { i in
                do { try body(i); return nil } catch { return error }
            }
        }
        let results = ResultSlots(count)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            do { try body(i) } catch { results.set(i, error) }
        }
        return results.errors
    }

    private final class ResultSlots: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Error?]
        init(_ n: Int) { slots = Array(repeating: nil, count: n) }
        func set(_ i: Int, _ e: Error) { lock.withLock { slots[i] = e } }
        var errors: [Error?] { lock.withLock { slots } }
    }
}
