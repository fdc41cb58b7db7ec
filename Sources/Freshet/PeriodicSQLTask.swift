import Foundation
import PostgresReplication

/// Runs `body` every `interval` seconds on its own thread and its own connection, reconnecting after errors
/// (`onError` is told about each). Used by the heartbeat emitter and the slot monitor.
final class PeriodicSQLTask: @unchecked Sendable {
    private let settings: ConnectionSettings
    private let applicationName: String
    private let interval: Double
    private let stopped = AtomicFlag()
    private let done = DispatchSemaphore(value: 0)

    init(settings: ConnectionSettings, applicationName: String, interval: Double) {
        self.settings = settings; self.applicationName = applicationName; self.interval = interval
    }

    func start(_ body: @escaping @Sendable (Connection) throws -> Void, onError: @escaping @Sendable (Error) -> Void) {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            var connection: Connection?
            while !stopped.isSet {
                do {
                    if connection == nil { connection = try Connection(settings: settings, applicationName: applicationName) }
                    if let c = connection { try body(c) }
                } catch {
                    onError(error)
                    connection?.close()
                    connection = nil
                }
                let end = Date().addingTimeInterval(interval)
                while Date() < end && !stopped.isSet { usleep(50_000) }
            }
            connection?.close()
        }
    }

    /// Stops the loop and waits for the thread (at most one run of `body` plus 50 ms).
    func stop() {
        stopped.set()
        done.wait()
    }
}
