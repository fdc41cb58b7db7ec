import Foundation
import PostgresReplication

/// Emits a transactional logical message every `interval` seconds on its own connection. Its arrival in the stream
/// measures end-to-end lag when the database is idle, and its commit lets the slot advance.
final class HeartbeatEmitter: @unchecked Sendable {
    private let settings: ConnectionSettings
    private let interval: Double
    private let logger: Logger
    private let stopped = AtomicFlag()
    private let done = DispatchSemaphore(value: 0)

    init(settings: ConnectionSettings, interval: Double, logger: Logger) {
        self.settings = settings; self.interval = interval; self.logger = logger
    }

    func start() {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            var connection: Connection?
            while !stopped.isSet {
                do {
                    if connection == nil { connection = try Connection(settings: settings, applicationName: "freshet-heartbeat") }
                    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
                    try connection?.execute("SELECT pg_logical_emit_message(true, \(SQLQuoting.literal(Heartbeat.prefix)), "
                                            + "\(SQLQuoting.literal(Heartbeat.content(nowMicros: now))))")
                } catch {
                    logger.warn("heartbeat.failed", ["error": "\(error)"])
                    connection?.close()
                    connection = nil
                }
                let end = Date().addingTimeInterval(interval)
                while Date() < end && !stopped.isSet { usleep(50_000) }
            }
            connection?.close()
        }
    }

    func stop() {
        stopped.set()
        done.wait()
    }
}
