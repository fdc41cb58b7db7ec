import Foundation
import PostgresReplication

/// Reads the replication stream on a thread of its own, so decoding and store commits overlap with receiving, and
/// hands the events to the apply thread in chunks through a queue bounded in bytes.
///
/// When the apply side is slow (a long fsync, a large commit) the queue fills and the reader waits for space. It
/// waits in slices of `statusInterval` seconds and sends the server a standby status update after each slice,
/// reading nothing more meanwhile: the walsender counts any message from the client as a sign of life, so
/// `wal_sender_timeout` never fires however long the apply side takes, and memory stays within the queue's budget.
final class StreamReader: @unchecked Sendable {
    typealias Chunk = (events: [ReplicationEvent], receivedAt: Date)

    /// Seconds between status updates while the reader waits for queue space (well below any sane
    /// `wal_sender_timeout`; PostgreSQL's default is 60 s).
    static let statusInterval: Double = 1
    /// Most events in one chunk (one lock hand-off per chunk, not per message).
    static let maxChunkEvents = 1024
    /// A wait for queue space at least this long is logged (`stream.apply_stalled`) when it ends.
    static let stallLogSeconds: Double = 10

    /// Where the apply thread takes the chunks; closed when the reader ends.
    let queue: BoundedQueue<Chunk>
    private let stream: ReplicationStream
    private let logger: Logger
    private let stopRequested: AtomicFlag
    private let stopReading = AtomicFlag()
    private let finished = DispatchSemaphore(value: 0)
    private let failure = ErrorBox()

    /// `stopRequested` is the replicator's stop flag; the reader also ends when it is set.
    init(stream: ReplicationStream, budgetBytes: Int, stopRequested: AtomicFlag, logger: Logger) {
        self.stream = stream
        self.logger = logger
        self.stopRequested = stopRequested
        queue = BoundedQueue(budget: budgetBytes)
    }

    /// The error that ended reading (a lost connection), if any.
    var error: Error? { failure.error }

    func start() {
        Thread.detachNewThread { [self] in
            defer { queue.close(); finished.signal() }
            do { try read() } catch { failure.set(error) }
        }
    }

    /// Stops reading, closes the queue (what is in it can still be popped) and waits for the thread to end.
    func stop() {
        stopReading.set()
        queue.close()
        finished.wait()
    }

    private var shouldStop: Bool { stopRequested.isSet || stopReading.isSet }

    private func read() throws {
        var chunk: [ReplicationEvent] = []
        var cost = 0
        while !shouldStop {
            // Take what is already buffered without waiting; wait only when the chunk is empty.
            if let event = try stream.next(timeout: chunk.isEmpty ? 0.2 : 0) {
                if case let .data(x) = event { cost += x.payload.count }
                cost += MemoryBudget.queuedMessageOverhead
                chunk.append(event)
                if chunk.count < StreamReader.maxChunkEvents { continue }
            }
            if !chunk.isEmpty {
                guard try push((chunk, Date()), cost: cost) else { return }
                chunk = []
                chunk.reserveCapacity(64)
                cost = 0
            }
        }
    }

    /// Pushes one chunk, answering the server while the queue is full. False when the queue was closed.
    private func push(_ chunk: Chunk, cost: Int) throws -> Bool {
        var waitStarted: Date?
        var statusUpdates = 0
        while true {
            switch queue.push(chunk, cost: cost, timeout: StreamReader.statusInterval) {
            case .pushed:
                if let waitStarted, Date().timeIntervalSince(waitStarted) >= StreamReader.stallLogSeconds {
                    logger.info("stream.apply_stalled", ["waited_s": Int(Date().timeIntervalSince(waitStarted)),
                                                         "status_updates": statusUpdates,
                                                         "note": "the queue to the store was full; the connection was kept alive"])
                }
                return true
            case .closed:
                return false
            case .timedOut:
                if shouldStop { return false }
                if waitStarted == nil {
                    // The first slice already waited `statusInterval`.
                    waitStarted = Date().addingTimeInterval(-StreamReader.statusInterval)
                }
                try stream.sendStatus()
                statusUpdates += 1
            }
        }
    }
}
