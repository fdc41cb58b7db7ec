import ColumnStore
import Foundation

/// Runs the apply thread's store commits on a thread of its own, in the order they were submitted, so decoding,
/// applying and staging the next batch overlap with the fsyncs of the commit in flight.
///
/// With `Overlap` (the stream), a commit runs in two halves: `prepare` (parts, new manifests and checkpoint as
/// temp files: the first fsync round) on the committer thread, then `finish` (manifest renames, then the checkpoint)
/// on a finisher thread. While commit N is being finished, the committer takes commit N+1 and prepares it from N's new
/// manifests, so N+1's first fsync round overlaps N's last two. Finishes run one at a time and in order, and each
/// confirms its LSN only after its checkpoint is durable, so the checkpoint and the confirmed LSN only move forward
/// and never pass what is durable (invariant 1 of the design). At most one commit is prepared ahead.
/// Without `Overlap` (`init(run:)`), commits run whole, one after the other.
///
/// A prepare that fails (e.g. the disk is full) is not an error yet: once the commit before it is finished, the job
/// runs whole through `run` (which may wait for space). A failed `run` or `finish` is reported by the next call of
/// `submit`, `waitIdle` or `completed`; nothing runs after it.
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
        /// When it was durable and confirmed (set by the committer).
        var finished: Date? = nil
    }

    /// The two halves of an overlapping commit, and the store's writer token around a run of them.
    struct Overlap: Sendable {
        /// Takes the store's manifest-writer token (`Store.beginCommits`).
        var begin: @Sendable () -> Void
        /// Gives it back (`Store.endCommits`).
        var end: @Sendable () -> Void
        /// True when another manifest writer waits: no further commit is prepared ahead (`Store.commitsAwaited`).
        var awaited: @Sendable () -> Bool
        /// The first half; the second argument is the commit being finished meanwhile, if any.
        var prepare: @Sendable (Job, PreparedCommit?) throws -> PreparedCommit
        /// The second half, then the confirmation of the job's LSN.
        var finish: @Sendable (Job, PreparedCommit) throws -> Void
        /// Drops a prepared commit that will not be finished.
        var abandon: @Sendable (PreparedCommit) -> Void
    }

    private let condition = NSCondition()
    private var job: Job?
    /// True while the committer thread would take a submitted job at once.
    private var accepting = true
    /// Jobs taken and not yet finished (or failed).
    private var inFlight = 0
    private var finished: [Job] = []
    private var failure: Error?
    private var stopping = false
    private var threadDone = false
    private let run: @Sendable (Job) throws -> Void
    private let overlap: Overlap?
    private let finisher = DispatchQueue(label: "freshet.commit-finisher")
    /// Called on the committer thread after each commit (also a failed one), and when it can take the next commit
    /// while one is being finished, so the apply thread looks at it at once instead of at its next timed wake-up.
    var wake: @Sendable () -> Void = {}

    /// `run` performs one commit durably and confirms it (called on the committer thread, one job at a time); with
    /// `overlap`, commits run in overlapping halves and `run` only for a job whose `prepare` failed.
    init(overlap: Overlap? = nil, run: @escaping @Sendable (Job) throws -> Void) {
        self.run = run
        self.overlap = overlap
        Thread.detachNewThread { [self] in
            if let overlap { overlapLoop(overlap) } else { loop() }
        }
    }

    /// True while the committer cannot take a commit at once (policy: rows wait and go into a later, larger commit).
    var isBusy: Bool { condition.withLock { job != nil || (inFlight > 0 && !accepting) } }

    /// True while a commit is submitted or in flight.
    var hasWork: Bool { condition.withLock { job != nil || inFlight > 0 } }

    /// Hands `job` to the committer thread once the previous submitted job was taken. Throws the error of an
    /// earlier commit that failed.
    func submit(_ job: Job) throws {
        condition.lock(); defer { condition.unlock() }
        while self.job != nil && failure == nil { condition.wait() }
        if let failure { throw failure }
        precondition(!stopping, "commit submitted after stop")
        self.job = job
        condition.broadcast()
    }

    /// Waits until no commit is submitted or in flight; throws the error of a failed commit.
    func waitIdle() throws {
        condition.lock(); defer { condition.unlock() }
        while (job != nil || inFlight > 0) && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// The commits finished since the last call, oldest first; throws the error of a failed commit.
    func completed() throws -> [Job] {
        condition.lock(); defer { condition.unlock() }
        if let failure { throw failure }
        defer { finished.removeAll() }
        return finished
    }

    /// Waits for the commits in flight (their errors are dropped: the caller is ending) and ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !threadDone { condition.wait() }
        condition.unlock()
    }

    // MARK: committer thread

    /// Waits for a submitted job and takes it; nil when stopping (or after a failure).
    private func take() -> Job? {
        condition.lock(); defer { condition.unlock() }
        accepting = true
        while job == nil && !stopping && failure == nil { condition.wait() }
        guard failure == nil, let next = job else { return nil }
        job = nil
        accepting = false
        inFlight += 1
        condition.broadcast()
        return next
    }

    /// Records the outcome of a taken job.
    private func done(_ job: Job, error: Error?) {
        condition.lock()
        if let error { failure = error } else {
            var job = job
            job.finished = Date()
            finished.append(job)
        }
        inFlight -= 1
        condition.broadcast()
        condition.unlock()
        wake()
    }

    /// Marks the thread ended (after `stop`, or at once after a failure: nothing may be committed after it).
    private func end() {
        condition.lock()
        while !stopping { condition.wait() }
        threadDone = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while let next = take() {
            var error: Error?
            do { try run(next) } catch let e { error = e }
            done(next, error: error)
            if error != nil { break }
        }
        end()
    }

    private func overlapLoop(_ o: Overlap) {
        var holding = false
        var current: (job: Job, prepared: PreparedCommit)?
        var waiting: Job?   // taken, to run after the current commit
        defer {
            if let current { o.abandon(current.prepared) }
            if holding { o.end() }
            end()
        }
        while true {
            if current == nil {
                // Nothing prepared: take the next job (or the one whose overlapped prepare failed) and prepare it.
                guard let next = waiting ?? take() else { return }
                let retry = waiting != nil
                waiting = nil
                if !holding { o.begin(); holding = true }
                if !retry, let p = try? o.prepare(next, nil) {
                    current = (next, p)
                } else {
                    // The whole commit, as `Store.commit` does it (with its retries while the disk is full).
                    o.end(); holding = false
                    var error: Error?
                    do { try run(next) } catch let e { error = e }
                    done(next, error: error)
                    if error != nil { return }
                    continue
                }
            }
            guard let c = current else { continue }
            let finishing = c.job, prepared = c.prepared
            // Finish `current` on the finisher thread; meanwhile take and prepare the next commit, unless another
            // manifest writer waits for the token (then the run of commits ends after this one).
            let finishedSignal = FinishSignal()
            finisher.async { [condition] in
                var error: Error?
                do { try o.finish(finishing, prepared) } catch let e { error = e }
                condition.withLock { finishedSignal.error = error; finishedSignal.done = true; condition.broadcast() }
            }
            var ahead: Job?
            let mayOverlap = !o.awaited()
            condition.lock()
            accepting = mayOverlap
            condition.broadcast()
            condition.unlock()
            if mayOverlap { wake() }
            condition.lock()
            while mayOverlap && job == nil && !finishedSignal.done && !stopping { condition.wait() }
            if mayOverlap, let j = job, failure == nil {
                ahead = j
                job = nil
                inFlight += 1
            }
            accepting = false
            condition.broadcast()
            condition.unlock()
            var next: (job: Job, prepared: PreparedCommit)?
            if let ahead {
                if let p = try? o.prepare(ahead, prepared) { next = (ahead, p) } else { waiting = ahead }
            }
            condition.lock()
            while !finishedSignal.done { condition.wait() }
            let error = finishedSignal.error
            condition.unlock()
            current = nil
            if let error {
                if let next { o.abandon(next.prepared) }
                if waiting != nil || next != nil {
                    condition.withLock { inFlight -= 1 }   // the job prepared ahead is dropped with the failure
                }
                done(finishing, error: error)
                return
            }
            done(finishing, error: nil)
            current = next
            if current == nil, holding { o.end(); holding = false }
        }
    }
}

/// Whether a finish on the finisher thread is done, and its error (guarded by the committer's condition).
private final class FinishSignal: @unchecked Sendable {
    var done = false
    var error: Error?
}
