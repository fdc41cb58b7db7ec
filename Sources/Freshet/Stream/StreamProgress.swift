import Foundation
import PostgresReplication

/// The `stream.progress` log line: every `interval` seconds, transactions per second, rows and commits so far, the
/// commit-to-visible lag p50 / p99 of the transactions since the last line, the commit pacing's spacing
/// (`CommitPacer`), WAL behind and the committed LSN.
struct StreamProgress {
    let stats: ReplicatorStats
    private var last = Date()
    private var lastTransactions: Int
    private var lastLagSamples: Int

    init(stats: ReplicatorStats) {
        self.stats = stats
        lastTransactions = stats.transactions
        lastLagSamples = stats.lagSamplesTotal
    }

    /// Logs the line when `interval` seconds passed since the last one.
    mutating func logIfDue(every interval: Double, logger: Logger, spacing: Double) {
        let now = Date()
        guard now.timeIntervalSince(last) >= interval else { return }
        let tx = stats.transactions
        let behind = stats.serverWALEnd > stats.committedLSN ? stats.serverWALEnd - stats.committedLSN : 0
        let samplesSince = stats.lagSamplesTotal - lastLagSamples
        let p50 = stats.lagQuantile(0.5, lastSamples: samplesSince).map { Int($0 * 1000) } ?? -1
        let p99 = stats.lagQuantile(0.99, lastSamples: samplesSince).map { Int($0 * 1000) } ?? -1
        logger.info("stream.progress", ["tx_per_s": Int(Double(tx - lastTransactions) / now.timeIntervalSince(last)),
                                         "rows": stats.rowsApplied, "commits": stats.commits,
                                         "lag_p50_ms": p50, "lag_p99_ms": p99, "spacing_ms": Int(spacing * 1000),
                                         "wal_behind_bytes": behind,
                                         "committed": LSN(stats.committedLSN).description])
        lastLagSamples = stats.lagSamplesTotal
        last = now
        lastTransactions = tx
    }
}
