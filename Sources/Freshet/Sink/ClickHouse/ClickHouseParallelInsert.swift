import Foundation

/// Concurrent streamed inserts into one ClickHouse table, each stream on a thread and an HTTP connection of its own.
///
/// ClickHouse parses an INSERT and writes its parts on one thread: with two streams it uses two cores. The shipper
/// hands each stream its share of the encoded rows (`send`, split by key: `RowBinaryRouting`) and goes on reading and
/// encoding the next row group while the streams upload. A stream sends its pieces in order, in inserts of at most
/// `maxRows` rows and `maxBytes` bytes (the next insert starts after the previous one was acknowledged).
///
/// `finish` returns once the last insert of every stream is acknowledged, so the caller moves its durable cursor only
/// past rows every insert acknowledged. A failure of any stream is thrown by `send` or `finish`; the other streams
/// then stop, and their inserts not yet ended are abandoned (the connection closed: ClickHouse drops an insert cut
/// short, up to 1,048,576 rows). Inserts acknowledged before the failure stay in ClickHouse: the caller sends them
/// again, harmlessly (same versions).
final class ClickHouseParallelInsert: @unchecked Sendable {
    private struct Piece {
        let bytes: [UInt8]
        let range: Range<Int>
        let rows: Int
    }

    let streams: Int
    private let maxRows: Int
    private let maxBytes: Int
    private let begin: @Sendable () throws -> ClickHouseInsert
    private let acknowledged: @Sendable (Int) -> Void
    /// For tests: the stream whose inserts get 3 stray bytes at their end, so that the server refuses them.
    private let corruptStream: Int?
    /// Pieces a stream may have waiting (each is a row group's share, a few MiB).
    private let depth = 2

    private let condition = NSCondition()
    private var queues: [[Piece]]
    private var ending = false
    private var failure: Error?
    private var running: Int
    private var rowsAcknowledged = 0

    /// Starts `streams` threads; `begin` opens an insert (on the stream's thread), `acknowledged` is told the rows of
    /// each insert ClickHouse acknowledged.
    init(streams: Int, maxRows: Int, maxBytes: Int, corruptStream: Int? = nil,
         begin: @escaping @Sendable () throws -> ClickHouseInsert, acknowledged: @escaping @Sendable (Int) -> Void) {
        self.streams = max(1, streams)
        self.maxRows = maxRows
        self.maxBytes = maxBytes
        self.corruptStream = corruptStream
        self.begin = begin
        self.acknowledged = acknowledged
        queues = Array(repeating: [], count: self.streams)
        running = self.streams
        for s in 0..<self.streams {
            let t = Thread { [self] in run(s) }
            t.name = "freshet-clickhouse-insert"
            t.start()
        }
    }

    /// Hands `rows` rows (the bytes `range` of `bytes`) to `stream`; waits while that stream has `depth` pieces
    /// waiting. Throws the first failure of any stream.
    func send(_ stream: Int, _ bytes: [UInt8], _ range: Range<Int>, rows: Int) throws {
        guard rows > 0 else { return }
        condition.lock()
        defer { condition.unlock() }
        while failure == nil && queues[stream].count >= depth { condition.wait() }
        if let failure { throw failure }
        queues[stream].append(Piece(bytes: bytes, range: range, rows: rows))
        condition.broadcast()
    }

    /// Ends every stream's insert and waits until ClickHouse acknowledged all of them; returns the rows acknowledged.
    func finish() throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        ending = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        if let failure { throw failure }
        return rowsAcknowledged
    }

    /// Abandons every insert not acknowledged yet and waits for the threads (a write in progress ends first).
    func cancel() {
        condition.lock()
        defer { condition.unlock() }
        if failure == nil { failure = CancellationError() }
        condition.broadcast()
        while running > 0 { condition.wait() }
    }

    private func run(_ stream: Int) {
        var insert: ClickHouseInsert?
        func end(_ done: ClickHouseInsert) throws {
            if corruptStream == stream { try done.write([1, 2, 3], rows: 0) }
            try done.finish()
            acknowledged(done.rows)
            condition.withLock { rowsAcknowledged += done.rows }
        }
        do {
            while true {
                condition.lock()
                while queues[stream].isEmpty && !ending && failure == nil { condition.wait() }
                if failure != nil { condition.unlock(); break }
                guard !queues[stream].isEmpty else {
                    condition.unlock()
                    if let done = insert { insert = nil; try end(done) }
                    break
                }
                let piece = queues[stream].removeFirst()
                condition.broadcast()
                condition.unlock()
                if let open = insert, open.rows + piece.rows > maxRows || open.bytes + piece.range.count > maxBytes {
                    insert = nil
                    try end(open)
                }
                let target = try insert ?? begin()
                insert = target
                try target.write(piece.bytes, piece.range, rows: piece.rows)
            }
        } catch {
            condition.withLock { if failure == nil { failure = error } }
        }
        insert = nil   // an insert not ended closes its connection: ClickHouse drops it
        condition.withLock {
            running -= 1
            condition.broadcast()
        }
    }
}
