import Foundation

/// Overlaps encoding with sending: `submit` hands one encoded insert to a sender thread and returns at once, after
/// waiting for the previous insert (so at most one is in flight and one being encoded). `finish` waits for the last.
/// The first failure is rethrown by the next `submit` or by `finish`; nothing after it is sent.
final class InsertPipeline: @unchecked Sendable {
    private let queue = DispatchQueue(label: "freshet-clickhouse-insert")
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: Error?
    private var acknowledged = 0
    private let send: @Sendable ([UInt8], Int) throws -> Void

    /// `send(bytes, rows)` performs one insert.
    init(send: @escaping @Sendable ([UInt8], Int) throws -> Void) { self.send = send }

    /// Rows acknowledged so far.
    var rows: Int { lock.withLock { acknowledged } }

    func submit(_ bytes: [UInt8], rows: Int) throws {
        group.wait()
        if let failure = lock.withLock({ failure }) { throw failure }
        group.enter()
        queue.async { [self] in
            defer { group.leave() }
            do {
                try send(bytes, rows)
                lock.withLock { acknowledged += rows }
            } catch {
                lock.withLock { failure = error }
            }
        }
    }

    func finish() throws {
        group.wait()
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
