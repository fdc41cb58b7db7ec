import Foundation
import PostgresReplication

/// Opens the snapshot workers' connections in the background while the slot is being created, so the copy starts as
/// soon as the snapshot is exported: each connection costs round trips and a SCRAM key derivation (tens of
/// milliseconds of CPU on both sides), which on a small schema is a fair part of the whole snapshot. Only plain
/// connections are opened ahead; the workers begin their snapshot transactions on them once the snapshot exists.
final class ConnectionPrefetch: @unchecked Sendable {
    private let condition = NSCondition()
    private var opened: [Result<Connection, Error>] = []
    private var opening: Int

    /// Starts opening `count` connections, named `freshet-snapshot-0`, `-1`, ….
    init(settings: ConnectionSettings, count: Int) {
        opening = count
        for i in 0..<count {
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

    /// Closes the connections nobody took (waiting for those still being opened).
    func closeRemaining() {
        condition.lock()
        while opening > 0 { condition.wait() }
        let rest = opened
        opened = []
        condition.unlock()
        for case let .success(c) in rest { c.close() }
    }
}
