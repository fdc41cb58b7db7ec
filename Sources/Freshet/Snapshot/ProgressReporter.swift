import Foundation

/// Snapshot progress on stderr (through the logger) every few seconds: rows, rows/s, percent of the estimate, per table.
final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let logger: Logger
    private var rows: [String: Int] = [:]
    private let estimates: [String: Int64]
    private let order: [String]
    private let start = Date()
    private var lastReport = Date()
    private let interval: Double

    init(logger: Logger, tables: [(String, Int64)], interval: Double = 2) {
        self.logger = logger
        self.order = tables.map(\.0)
        self.estimates = Dictionary(tables, uniquingKeysWith: { a, _ in a })
        self.interval = interval
    }

    func add(table: String, rows n: Int) {
        lock.lock()
        rows[table, default: 0] += n
        let due = Date().timeIntervalSince(lastReport) >= interval
        if due { lastReport = Date() }
        let snapshot = rows
        lock.unlock()
        if due { report(snapshot, final: false) }
    }

    func finish() {
        lock.lock(); let snapshot = rows; lock.unlock()
        report(snapshot, final: true)
    }

    /// Rows copied so far per table.
    var copied: [String: Int] { lock.lock(); defer { lock.unlock() }; return rows }

    private func report(_ rows: [String: Int], final: Bool) {
        let elapsed = max(0.001, Date().timeIntervalSince(start))
        let total = rows.values.reduce(0, +)
        for table in order where rows[table] != nil || final {
            let n = rows[table] ?? 0
            let estimate = estimates[table] ?? -1
            let percent = estimate > 0 ? min(100, Int(Double(n) * 100 / Double(estimate))) : -1
            logger.info(final ? "snapshot.table_done" : "snapshot.progress",
                        ["table": table, "rows": n, "percent": percent >= 0 ? "\(percent)%" : "?"])
        }
        logger.info(final ? "snapshot.done" : "snapshot.total",
                    ["rows": total, "rows_per_s": Int(Double(total) / elapsed), "elapsed_s": String(format: "%.1f", elapsed)])
    }
}
