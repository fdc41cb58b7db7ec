import Foundation

/// Counters and gauges of a running replicator, read by the metrics endpoint and `freshet status`.
/// Written by the apply thread, read from others: every access goes through a lock.
public final class ReplicatorStats: @unchecked Sendable {
    public enum Operation: String, CaseIterable, Sendable { case insert, update, delete, truncate, snapshot }

    private let lock = NSLock()
    private var _rowsByTable: [String: [Operation: Int]] = [:]
    private var _values: [String: Double] = [:]
    private var _lagSamples: [Double] = []

    public init() {}

    func count(table: String, _ op: Operation, _ n: Int = 1) {
        lock.lock(); _rowsByTable[table, default: [:]][op, default: 0] += n; lock.unlock()
    }

    /// Rows applied per table and operation.
    public var rowsByTable: [String: [Operation: Int]] { lock.lock(); defer { lock.unlock() }; return _rowsByTable }

    private func read(_ k: String) -> Double { lock.lock(); defer { lock.unlock() }; return _values[k] ?? 0 }
    private func write(_ k: String, _ v: Double) { lock.lock(); _values[k] = v; lock.unlock() }

    public var rowsApplied: Int { get { Int(read("rows")) } set { write("rows", Double(newValue)) } }
    public var transactions: Int { get { Int(read("tx")) } set { write("tx", Double(newValue)) } }
    public var spills: Int { get { Int(read("spills")) } set { write("spills", Double(newValue)) } }
    public var commits: Int { Int(read("commits")) }
    public var rowsCommitted: Int { Int(read("rows_committed")) }
    public var reconnects: Int { get { Int(read("reconnects")) } set { write("reconnects", Double(newValue)) } }
    public var committedLSN: UInt64 { get { UInt64(read("committed_lsn")) } set { write("committed_lsn", Double(newValue)) } }
    public var serverWALEnd: UInt64 { get { UInt64(read("wal_end")) } set { write("wal_end", Double(newValue)) } }
    /// Commit time (µs since the Unix epoch) of the last transaction seen.
    public var lastCommitTimestampMicros: Int64 { get { Int64(read("last_commit_ts")) } set { write("last_commit_ts", Double(newValue)) } }
    public var lastHeartbeatSentMicros: Int64 { get { Int64(read("hb_sent")) } set { write("hb_sent", Double(newValue)) } }
    public var lastStoreCommit: Date {
        get { Date(timeIntervalSince1970: read("last_store_commit")) }
        set { write("last_store_commit", newValue.timeIntervalSince1970) }
    }
    /// Commit-to-visible lag of the last store commit (oldest transaction in it), seconds.
    public var lastLagSeconds: Double { read("last_lag") }

    func recordCommit(rows: Int, lagSeconds: Double) {
        lock.lock()
        _values["commits", default: 0] += 1
        _values["rows_committed", default: 0] += Double(rows)
        _values["last_lag"] = lagSeconds
        _lagSamples.append(lagSeconds)
        if _lagSamples.count > 10_000 { _lagSamples.removeFirst(5_000) }
        lock.unlock()
    }

    /// The p-quantile (0…1) of the lag samples recorded since `since` samples ago (nil without samples).
    public func lagQuantile(_ p: Double, lastSamples n: Int) -> Double? {
        lock.lock(); let recent = _lagSamples.suffix(n).sorted(); lock.unlock()
        guard !recent.isEmpty else { return nil }
        return recent[min(recent.count - 1, Int(Double(recent.count - 1) * p + 0.5))]
    }

    /// Recent commit-to-visible lag samples (seconds), oldest first.
    public var lagSamples: [Double] { lock.lock(); defer { lock.unlock() }; return _lagSamples }
}
