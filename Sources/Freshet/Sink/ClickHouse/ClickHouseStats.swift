import Foundation

/// The ClickHouse sink's counters and gauges, written by the shipper thread and read by the metrics endpoint.
public final class ClickHouseStats: @unchecked Sendable {
    /// A consistent reading.
    public struct Reading: Sendable, Equatable {
        /// Seconds since the source commit of the oldest change not yet acknowledged by ClickHouse (0 when all is
        /// shipped): the time since the shipper first saw its store commit, plus that commit's source-to-store lag.
        public var lagSeconds: Double = 0
        public var rowsShipped: Int = 0
        /// Row versions in store parts above the tables' cursors (an upper bound of what is left to send).
        public var backlogRows: Int = 0
        public var errors: Int = 0
        public var lastError: String?
        public var lastShipped: Date?
        public var serverVersion: String = ""
        public var destination: String = ""
        public var healthMaxLag: Double = 60
    }

    private let lock = NSLock()
    private var value = Reading()
    /// The source-to-store lag of the last store commit (set by the replicator): a version first seen now was
    /// committed on the source that long ago.
    private var storeLag: @Sendable () -> Double = { 0 }

    /// Makes the lag count from the source commit: `lag` gives the last store commit's source-to-store lag.
    func measureFromSource(_ lag: @escaping @Sendable () -> Double) { lock.withLock { storeLag = lag } }
    /// Per store table: versions seen committed in the store and not yet acknowledged, with when each was first seen.
    private var unacknowledged: [String: [(version: UInt64, seen: Date)]] = [:]
    private var backlog: [String: Int] = [:]

    init(destination: String, healthMaxLag: Double) {
        value.destination = destination
        value.healthMaxLag = healthMaxLag
    }

    public var reading: Reading {
        lock.lock(); defer { lock.unlock() }
        var r = value
        let oldest = unacknowledged.values.compactMap { $0.first?.seen }.min()
        r.lagSeconds = oldest.map { max(0, Date().timeIntervalSince($0)) } ?? 0
        r.backlogRows = backlog.values.reduce(0, +)
        return r
    }

    func setServer(_ version: String) { lock.withLock { value.serverVersion = version } }

    /// Records what the store holds of `table` above the shipped version: its newest version (remembered with the
    /// time it was first seen, for the lag) and the rows of the parts above the cursor.
    func observe(_ table: String, newest: UInt64, shipped: UInt64, backlogRows: Int) {
        let lag = lock.withLock { storeLag }
        let committed = Date().addingTimeInterval(-max(0, lag()))
        lock.withLock {
            backlog[table] = backlogRows
            guard newest > shipped else { unacknowledged[table] = nil; return }
            if unacknowledged[table]?.last.map({ $0.version < newest }) ?? true {
                unacknowledged[table, default: []].append((newest, committed))
            }
        }
    }

    /// ClickHouse acknowledged `table` up to `version`.
    func acknowledged(_ table: String, upTo version: UInt64) {
        lock.withLock { unacknowledged[table]?.removeAll { $0.version <= version } }
    }

    /// Forgets a table no longer in the store.
    func forget(_ table: String) {
        lock.withLock { unacknowledged[table] = nil; backlog[table] = nil }
    }

    func shipped(_ rows: Int) {
        lock.withLock { value.rowsShipped += rows; value.lastShipped = Date() }
    }

    func failed(_ message: String) {
        lock.withLock { value.errors += 1; value.lastError = message }
    }
}
