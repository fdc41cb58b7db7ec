import Foundation

/// Runs `FinalStream`s (one per partition of an unordered read) on worker threads and hands out their batches in
/// the order they are ready: each worker takes the next stream not yet started and reads it to its end, putting its
/// batches into a small bounded queue that `take` empties.
final class FinalPump: @unchecked Sendable {
    private let lock = NSCondition()
    /// Streams not started yet, taken from the end.
    private var pending: [FinalStream]
    private var ready: [RowBatch] = []
    private var running: Int
    private var failure: (any Error)?
    private var cancelled = false
    private var skipped = 0, unresolved = 0
    private let capacity: Int
    private let batchRows: Int

    /// Starts `threads` workers over `streams`.
    init(streams: [FinalStream], threads: Int, batchRows: Int) {
        pending = streams.reversed()
        running = threads
        capacity = 2 * threads
        self.batchRows = batchRows
        for _ in 0..<threads { Thread.detachNewThread { self.work() } }
    }

    /// Row groups skipped by statistics and unresolved unchanged columns of the streams finished so far.
    var counts: (skippedRowGroups: Int, unresolvedUnchanged: Int) { lock.withLock { (skipped, unresolved) } }

    /// The next batch of any stream, or nil when every stream has ended; rethrows the first worker's error.
    func take() throws -> RowBatch? {
        lock.lock()
        defer { lock.unlock() }
        while ready.isEmpty && running > 0 && failure == nil { lock.wait() }
        if let failure { throw failure }
        guard !ready.isEmpty else { return nil }
        lock.broadcast()
        return ready.removeFirst()
    }

    /// Stops the workers at their next batch (the reader was dropped before the end).
    func cancel() {
        lock.withLock {
            cancelled = true
            lock.broadcast()
        }
    }

    private func work() {
        while true {
            lock.lock()
            guard !cancelled, failure == nil, var stream = pending.popLast() else {
                running -= 1
                lock.broadcast()
                lock.unlock()
                return
            }
            lock.unlock()
            var failed: (any Error)?
            do {
                while let batch = try stream.next(batchRows: batchRows), put(batch) {}
            } catch { failed = error }
            lock.withLock {
                if let failed, failure == nil { failure = failed }
                skipped += stream.skippedRowGroups
                unresolved += stream.unresolvedUnchanged
                lock.broadcast()
            }
        }
    }

    /// Queues `batch`, waiting while the queue is full; false when the read was cancelled or has failed.
    private func put(_ batch: RowBatch) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        while ready.count >= capacity && !cancelled && failure == nil { lock.wait() }
        guard !cancelled, failure == nil else { return false }
        ready.append(batch)
        lock.broadcast()
        return true
    }
}

/// Owns a `FinalPump` for a reader (a struct, which has no deinit): cancels its workers when the reader goes away.
final class FinalPumpOwner: Sendable {
    let pump: FinalPump
    init(_ pump: FinalPump) { self.pump = pump }
    deinit { pump.cancel() }
}
