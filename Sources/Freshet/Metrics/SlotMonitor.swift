import Foundation
import PostgresReplication

/// Polls the slot's row in `pg_replication_slots` every few seconds on its own connection (never the replication
/// connection) for the metrics, and warns when the slot retains more WAL than `warnBytes`: a stopped or lagging
/// replicator keeps WAL on the source until its disk fills.
final class SlotMonitor: @unchecked Sendable {
    private let slot: String
    private let warnBytes: Int64
    private let logger: Logger
    private let stats: ReplicatorStats
    private let task: PeriodicSQLTask
    private var lastWarned: Date?
    private let lock = NSLock()
    private var _latest: SlotInfo?
    private var _checkedAt: Date?
    private var _warning = false
    /// Seconds between repeated warnings while the slot stays above the threshold.
    static let warnEvery: Double = 300

    init(settings: ConnectionSettings, slot: String, warnBytes: Int64, interval: Double = 5, logger: Logger, stats: ReplicatorStats) {
        self.slot = slot; self.warnBytes = warnBytes; self.logger = logger; self.stats = stats
        task = PeriodicSQLTask(settings: settings, applicationName: "freshet-monitor", interval: interval)
    }

    /// The last successful reading (nil before the first, or when the slot does not exist).
    var reading: (slot: SlotInfo?, checkedAt: Date?, warning: Bool) {
        lock.lock(); defer { lock.unlock() }
        return (_latest, _checkedAt, _warning)
    }

    func start() {
        task.start({ [self] connection in
            lock.lock(); let last = lastWarned; lock.unlock()
            let warned = try check(SourceCatalog(connection: connection), lastWarned: last)
            lock.lock(); lastWarned = warned; lock.unlock()
        }, onError: { [stats] _ in stats.recordError("slot_query") })
    }

    func stop() { task.stop() }

    /// Reads the slot once; logs `slot.retained_wal` when above the threshold (again every `warnEvery` seconds).
    private func check(_ catalog: SourceCatalog, lastWarned: Date?) throws -> Date? {
        let info = try catalog.slot(slot)
        let over = (info?.retainedBytes ?? 0) > warnBytes
        lock.lock()
        let wasWarning = _warning
        _latest = info; _checkedAt = Date(); _warning = over
        lock.unlock()
        if over, let info, lastWarned.map({ Date().timeIntervalSince($0) >= SlotMonitor.warnEvery }) ?? true {
            logger.warn("slot.retained_wal", ["slot": slot, "retained_bytes": info.retainedBytes, "threshold_bytes": warnBytes,
                                              "wal_status": info.walStatus ?? "unknown", "active": info.active,
                "note": "the slot keeps this much WAL on the source; if this replicator is retired, remove it with `freshet drop`"])
            return Date()
        }
        if !over && wasWarning {
            logger.info("slot.retained_wal_ok", ["slot": slot, "retained_bytes": info?.retainedBytes ?? 0, "threshold_bytes": warnBytes])
            return nil
        }
        return over ? lastWarned : nil
    }
}
