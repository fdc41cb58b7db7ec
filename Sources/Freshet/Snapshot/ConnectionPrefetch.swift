import Foundation
import PostgresReplication

/// Opens the snapshot workers' connections in the background while the slot is being created, so the copy starts as
/// soon as the snapshot is exported: each connection costs round trips and a SCRAM key derivation (tens of
/// milliseconds of CPU on both sides), which on a small schema is a fair part of the whole snapshot. Only plain
/// connections are opened ahead; the workers begin their snapshot transactions on them once the snapshot exists.
/// An idle connection of the caller can be lent as one of them (one connection, and one SCRAM exchange, fewer); it is
/// handed out first and never closed here.
final class ConnectionPrefetch: @unchecked Sendable {
    private let condition = NSCondition()
    private var opened: [Result<Connection, Error>] = []
    private var opening: Int
    /// The caller's connection lent to a worker (not closed here).
    let lent: Connection?

    /// Starts opening `count` connections (one fewer when `lent` is given), named `freshet-snapshot-1`, `-2`, ….
    init(settings: ConnectionSettings, count: Int, lent: Connection? = nil) {
        self.lent = lent
        if let lent { opened.append(.success(lent)) }
        opening = max(0, count - opened.count)
        for i in opened.count..<max(count, opened.count) {
            Thread.detachNewThread { [self] in
                let result = Result { try Connection(settings: settings, applicationName: "freshet-snapshot-\(i)") }
                condition.lock()
                opened.append(result)
                opening -= 1
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// A connection opened ahead, waiting for one still being opened; nil when none is left. Throws the error of a
    /// connection that failed to open.
    func take() throws -> Connection? {
        condition.lock()
        defer { condition.unlock() }
        while opened.isEmpty && opening > 0 { condition.wait() }
        guard !opened.isEmpty else { return nil }
        return try opened.removeFirst().get()
    }

    /// Returns a connection taken with `take` (outside any transaction) for a later `take`.
    func giveBack(_ connection: Connection) {
        condition.lock()
        opened.insert(.success(connection), at: 0)
        condition.broadcast()
        condition.unlock()
    }

    /// Closes the connections nobody took (waiting for those still being opened), except the lent one.
    func closeRemaining() {
        condition.lock()
        while opening > 0 { condition.wait() }
        let rest = opened
        opened = []
        condition.unlock()
        for case let .success(c) in rest where c !== lent { c.close() }
    }

    /// Closes `connection` after a worker's use, unless it is the lent one.
    func release(_ connection: Connection) {
        if connection !== lent { connection.close() }
    }
}
