import ColumnStore
import Foundation

/// One chunk of a transaction larger than the batch limits, staged on a thread of its own while the apply thread
/// decodes the next chunk.
///
/// Staging a chunk (sort, gather, Parquet encoding, LZ4, write) took about as long as decoding it, one after the other
/// on the apply thread: the replay of a streamed transaction after its Stream Commit, or a protocol-1 transaction,
/// used one core. With one chunk in flight the two overlap. At most one chunk is in flight (`StreamApplier` waits for
/// it before handing over the next, before any commit, schema change or TRUNCATE, and when abandoning work), so memory
/// holds at most one more batch than before. The jobs touch only their own batch and the thread-safe `Store`; the
/// writers get the parts back on the apply thread (`finish`).
final class ChunkStaging: @unchecked Sendable {
    /// One table's share of the chunk: its batch, taken from its writer (`TableWriter.takeBatch`).
    struct Job: @unchecked Sendable {
        let writer: TableWriter
        let batch: RowBatch
    }

    /// A job and what staging it gave.
    struct Outcome {
        let job: Job
        let result: Result<StagedParts, Error>
    }

    private let done = DispatchSemaphore(value: 0)
    private var outcomes: [Outcome] = []

    /// Starts staging `jobs` into `store` (the tables in parallel) on a new thread.
    init(jobs: [Job], store: Store) {
        Thread.detachNewThread { [self] in
            let slots = OutcomeSlots(jobs.count)
            _ = Parallel.forEach(jobs.count) { i in
                slots.set(i, Result { try store.stage(jobs[i].batch, table: jobs[i].writer.name, deferFsync: true) })
            }
            outcomes = zip(jobs, slots.values).map { Outcome(job: $0, result: $1) }
            done.signal()
        }
    }

    /// Waits until every job is staged and returns what each gave (call once, on the apply thread).
    func finish() -> [Outcome] {
        done.wait()
        return outcomes
    }

    /// Results filled in by concurrent jobs, one slot each.
    private final class OutcomeSlots: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Result<StagedParts, Error>?]
        init(_ count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ result: Result<StagedParts, Error>) { lock.lock(); slots[i] = result; lock.unlock() }
        var values: [Result<StagedParts, Error>] {
            lock.lock(); defer { lock.unlock() }
            return slots.map { $0 ?? .failure(ReplicatorError.protocolState("chunk staging job did not run")) }
        }
    }
}
