import Foundation
import PostgresReplication

/// Emits a transactional logical message every `interval` seconds on its own connection. Its arrival in the stream
/// measures end-to-end lag when the database is idle, and its commit lets the slot advance.
final class HeartbeatEmitter: @unchecked Sendable {
    private let task: PeriodicSQLTask
    private let logger: Logger

    init(settings: ConnectionSettings, interval: Double, logger: Logger) {
        task = PeriodicSQLTask(settings: settings, applicationName: "freshet-heartbeat", interval: interval)
        self.logger = logger
    }

    func start() {
        task.start({ connection in
            let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
            try connection.execute("SELECT pg_logical_emit_message(true, \(SQLQuoting.literal(Heartbeat.prefix)), "
                                   + "\(SQLQuoting.literal(Heartbeat.content(nowMicros: now))))")
        }, onError: { [logger] error in logger.warn("heartbeat.failed", ["error": "\(error)"]) })
    }

    func stop() { task.stop() }
}
