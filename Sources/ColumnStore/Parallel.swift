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

    /// Like `forEach`, for items that mostly wait on the disk (fsync, rename): every item gets a thread of its own
    /// (the caller's thread takes the first), so the fsyncs of a commit round are all in flight at once and the
    /// filesystem can serve them in one journal commit. `forEach` runs only as many items at a time as there are
    /// cores: on two cores a round of eight fsyncs waited for four of them one after the other.
    /// The threads come from `WaitingThreads`, which keeps them for the next round: creating a thread per fsync cost
    /// a few percent of the stream's CPU at 50 commits a second.
    public static func forEachWaiting(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [Error?] {
        if count <= 1 { return forEach(count, body) }
        let results = ResultSlots(count)
        let group = DispatchGroup()
        for i in 1..<count {
            group.enter()
            WaitingThreads.shared.run {
                do { try body(i) } catch { results.set(i, error) }
                group.leave()
            }
        }
        do { try body(0) } catch { results.set(0, error) }
        group.wait()
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
