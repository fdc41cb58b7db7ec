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

    private func get(_ k: String) -> Double { lock.lock(); defer { lock.unlock() }; return _values[k] ?? 0 }
    private func set(_ k: String, _ v: Double) { lock.lock(); _values[k] = v; lock.unlock() }

    public var rowsApplied: Int { get { Int(get("rows")) } set { set("rows", Double(newValue)) } }
    public var transactions: Int { get { Int(get("tx")) } set { set("tx", Double(newValue)) } }
    public var spills: Int { get { Int(get("spills")) } set { set("spills", Double(newValue)) } }
    public var commits: Int { Int(get("commits")) }
    public var rowsCommitted: Int { Int(get("rows_committed")) }
    public var reconnects: Int { get { Int(get("reconnects")) } set { set("reconnects", Double(newValue)) } }
    public var committedLSN: UInt64 { get { UInt64(get("committed_lsn")) } set { set("committed_lsn", Double(newValue)) } }
    public var serverWALEnd: UInt64 { get { UInt64(get("wal_end")) } set { set("wal_end", Double(newValue)) } }
    /// Commit time (µs since the Unix epoch) of the last transaction seen.
    public var lastCommitTimestampMicros: Int64 { get { Int64(get("last_commit_ts")) } set { set("last_commit_ts", Double(newValue)) } }
    public var lastHeartbeatSentMicros: Int64 { get { Int64(get("hb_sent")) } set { set("hb_sent", Double(newValue)) } }
    public var lastStoreCommit: Date {
        get { Date(timeIntervalSince1970: get("last_store_commit")) }
        set { set("last_store_commit", newValue.timeIntervalSince1970) }
    }
    /// Commit-to-visible lag of the last store commit (oldest transaction in it), seconds.
    public var lastLagSeconds: Double { get("last_lag") }

    func recordCommit(rows: Int, lagSeconds: Double) {
        lock.lock()
        _values["commits", default: 0] += 1
        _values["rows_committed", default: 0] += Double(rows)
        _values["last_lag"] = lagSeconds
        _lagSamples.append(lagSeconds)
        if _lagSamples.count > 10_000 { _lagSamples.removeFirst(5_000) }
        lock.unlock()
    }

    /// Recent commit-to-visible lag samples (seconds), oldest first.
    public var lagSamples: [Double] { lock.lock(); defer { lock.unlock() }; return _lagSamples }
}
