import ColumnStore
import Foundation

/// Runs the apply thread's store commits on a thread of its own, one at a time and in the order they were submitted,
/// so decoding, applying and staging the next batch overlap with the fsyncs of the commit in flight.
///
/// At most one commit is in flight: `submit` waits for the previous one to finish. A commit's LSN is confirmed (by
/// `committed`, on the committer thread) only after `Store.commit` returned, i.e. once everything up to it is durable;
/// since commits run one after the other, the confirmed LSN only moves forward (invariant 1 of the design).
/// A failed commit is reported by the next call of `submit`, `waitIdle` or `completed`; nothing runs after it.
final class StoreCommitter: @unchecked Sendable {
    /// One store commit and what the applier needs to know when it is durable.
    struct Job: Sendable {
        var commit: StoreCommit
        /// Rows made visible by the commit.
        var rows: Int
        /// Source commit times (µs since 2000) of the transactions it makes visible.
        var transactionMicros: [Int64]
        /// When the applier started building the commit (staging included).
        var started: Date
    }

    private let condition = NSCondition()
    private var job: Job?
    private var finished: [Job] = []
    private var failure: Error?
    private var stopping = false
    private var threadDone = false
    private let run: @Sendable (Job) throws -> Void
    /// Called on the committer thread after each commit (also a failed one) so the apply thread looks at the result
    /// at once, instead of at its next timed wake-up.
    var wake: @Sendable () -> Void = {}

    /// `run` performs one commit durably and confirms it (called on the committer thread, one job at a time).
    init(run: @escaping @Sendable (Job) throws -> Void) {
        self.run = run
        Thread.detachNewThread { [self] in loop() }
    }

    /// True while a commit is in flight.
    var isBusy: Bool { condition.withLock { job != nil } }

    /// Hands `job` to the committer thread, after the commit in flight (if any) is done. Throws the error of an
    /// earlier commit that failed.
    func submit(_ job: Job) throws {
        condition.lock(); defer { condition.unlock() }
        while self.job != nil && failure == nil { condition.wait() }
        if let failure { throw failure }
        precondition(!stopping, "commit submitted after stop")
        self.job = job
        condition.broadcast()
    }

    /// Waits until no commit is in flight; throws the error of a failed commit.
    func waitIdle() throws {
        condition.lock(); defer { condition.unlock() }
        while job != nil && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// The commits finished since the last call, oldest first; throws the error of a failed commit.
    func completed() throws -> [Job] {
        condition.lock(); defer { condition.unlock() }
        if let failure { throw failure }
        defer { finished.removeAll() }
        return finished
    }

    /// Waits for the commit in flight (its error is dropped: the caller is ending) and ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !threadDone { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while job == nil && !stopping { condition.wait() }
            guard let next = job else {
                threadDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            var error: Error?
            do { try run(next) } catch let e { error = e }
            condition.lock()
            if let error { failure = error } else { finished.append(next) }
            job = nil
            condition.broadcast()
            condition.unlock()
            wake()
            if error != nil {
                // Nothing may be committed after a failed commit (the checkpoint advances in order): wait for stop.
                condition.lock()
                while !stopping { condition.wait() }
                threadDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }
}
