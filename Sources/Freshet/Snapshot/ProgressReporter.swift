import Foundation

/// Snapshot progress every few seconds: rows, rows/s, percent of the planner's estimate and the time left, per table
/// and in total. On a terminal (`Logger.terminal`) it is one updating line instead of log lines.
final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let logger: Logger
    private var rows: [String: Int] = [:]
    private let estimates: [String: Int64]
    private let order: [String]
    private let start = Date()
    private var lastReport: Date
    private let interval: Double

    init(logger: Logger, tables: [(String, Int64)], interval: Double = 2) {
        self.logger = logger
        self.order = tables.map(\.0)
        self.estimates = Dictionary(tables, uniquingKeysWith: { a, _ in a })
        self.interval = logger.terminal ? min(interval, 0.5) : interval
        // On a terminal the line shows from the first batch on, however fast the snapshot; log lines every `interval`.
        self.lastReport = logger.terminal ? .distantPast : Date()
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

    /// Percent done (0…100, nil without an estimate) and seconds left (nil until something was copied).
    /// A table larger than its estimate stays at 99% until it is done.
    static func progress(copied: Int, expected: Int64, elapsed: Double) -> (percent: Int?, eta: Double?) {
        guard expected > 0 else { return (nil, nil) }
        let fraction = min(0.99, Double(copied) / Double(expected))
        guard copied > 0 else { return (0, nil) }
        return (Int(fraction * 100), elapsed * (1 - fraction) / fraction)
    }

    /// `42s`, `3m05s`, `1h02m`.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    private func report(_ rows: [String: Int], final: Bool) {
        let elapsed = max(0.001, Date().timeIntervalSince(start))
        let total = rows.values.reduce(0, +)
        let expected = estimates.values.reduce(Int64(0)) { $0 + max(0, $1) }
        let (percent, eta) = Self.progress(copied: total, expected: expected, elapsed: elapsed)
        let rate = Int(Double(total) / elapsed)
        if logger.terminal && !final {
            let tables = order.filter { rows[$0] != nil }.suffix(2).joined(separator: ", ")
            logger.transient("snapshot \(percent.map { "\($0)%" } ?? "?")  \(total) of ~\(expected) rows  \(rate) rows/s  "
                             + "ETA \(Self.duration(eta))  \(tables)")
            return
        }
        for table in order where rows[table] != nil || final {
            let n = rows[table] ?? 0
            let estimate = estimates[table] ?? -1
            let p = final ? 100 : Self.progress(copied: n, expected: estimate, elapsed: elapsed).percent
            logger.info(final ? "snapshot.table_done" : "snapshot.progress",
                        ["table": table, "rows": n, "expected_rows": estimate, "percent": p.map { "\($0)%" } ?? "?"])
        }
        if final {
            logger.info("snapshot.done", ["rows": total, "rows_per_s": rate, "elapsed_s": String(format: "%.1f", elapsed)])
        } else {
            logger.info("snapshot.total", ["rows": total, "expected_rows": expected, "percent": percent.map { "\($0)%" } ?? "?",
                                           "rows_per_s": rate, "elapsed_s": String(format: "%.1f", elapsed), "eta": Self.duration(eta)])
        }
    }
}
