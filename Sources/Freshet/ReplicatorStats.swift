import ColumnStore
import Foundation

/// Counters and gauges of a running replicator, read by the metrics endpoint and `freshet status`.
/// Written by the apply thread, read from others: every access goes through a lock.
public final class ReplicatorStats: @unchecked Sendable {
    public enum Operation: String, CaseIterable, Sendable { case insert, update, delete, truncate, snapshot }

    private let lock = NSLock()
    private var _rowsByTable: [String: [Operation: Int]] = [:]
    private var _values: [String: Double] = [:]
    private var _lagSamples: [Double] = []
    private var _lagHistogram = HistogramCounts(bounds: ReplicatorStats.lagBuckets)
    private var _storeCommitHistogram = HistogramCounts(bounds: ReplicatorStats.storeCommitBuckets)
    private var _state = ReplicatorState.starting
    private var _stateReason = ""
    private var _errors: [String: Int] = [:]
    private var _touchedInTransaction: Set<String> = []
    private var _lastTouched: String?
    private var _tableCommitMicros: [String: Int64] = [:]
    private var _snapshotExpected: [String: Int64] = [:]
    private var _bytesCommitted: [String: Int] = [:]
    private var _lagHistory = LagHistory()
    private var _sourceChanges: [String: Int] = [:]
    private var _unreplicable: [UnreplicableTable] = []
    private var _clickhouse: ClickHouseStats?

    /// The ClickHouse sink's stats, when a sink runs.
    public var clickhouse: ClickHouseStats? {
        get { lock.lock(); defer { lock.unlock() }; return _clickhouse }
        set { lock.lock(); _clickhouse = newValue; lock.unlock() }
    }

    public init() {}

    func count(table: String, _ op: Operation, _ n: Int = 1) {
        lock.lock()
        _rowsByTable[table, default: [:]][op, default: 0] += n
        if op != .snapshot && table != _lastTouched {   // most rows repeat the previous table: skip the hashing
            _touchedInTransaction.insert(table)
            _lastTouched = table
        }
        lock.unlock()
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
    /// Setting it (at each Commit message) also stamps the tables the transaction changed.
    public var lastCommitTimestampMicros: Int64 {
        get { Int64(read("last_commit_ts")) }
        set {
            lock.lock()
            _values["last_commit_ts"] = Double(newValue)
            for t in _touchedInTransaction { _tableCommitMicros[t] = newValue }
            _touchedInTransaction.removeAll(keepingCapacity: true)
            _lastTouched = nil
            lock.unlock()
        }
    }
    /// Send time (µs since the Unix epoch) of the last heartbeat that arrived. Setting it records the arrival
    /// (now) and the heartbeat's round trip in `lastHeartbeatLagSeconds`.
    public var lastHeartbeatSentMicros: Int64 {
        get { Int64(read("hb_sent")) }
        set { recordHeartbeat(sentMicros: newValue, arrival: Date()) }
    }
    public var lastStoreCommit: Date {
        get { Date(timeIntervalSince1970: read("last_store_commit")) }
        set { write("last_store_commit", newValue.timeIntervalSince1970) }
    }
    /// Commit-to-visible lag of the last store commit (oldest transaction in it), seconds.
    public var lastLagSeconds: Double { read("last_lag") }

    /// Records a store commit that made `rows` visible, with the commit-to-visible lag of each source transaction in
    /// it (source commit time to store commit durable).
    func recordCommit(rows: Int, transactionLags: [Double], duration: Double) {
        let now = Date()
        lock.lock()
        _storeCommitHistogram.observe(duration)
        for lag in transactionLags { _lagHistogram.observe(lag) }
        _lagHistory.observe(transactionLags, at: now)
        _values["last_lag_at"] = now.timeIntervalSince1970
        _values["commits", default: 0] += 1
        _values["rows_committed", default: 0] += Double(rows)
        _values["last_lag"] = transactionLags.max() ?? 0
        _lagSamples.append(contentsOf: transactionLags.suffix(10_000))
        if _lagSamples.count > 20_000 { _lagSamples.removeFirst(_lagSamples.count - 10_000) }
        _values["lag_samples_total", default: 0] += Double(transactionLags.count)
        lock.unlock()
    }

    /// Transactions whose commit-to-visible lag was recorded since start.
    public var lagSamplesTotal: Int { Int(read("lag_samples_total")) }

    /// The p-quantile (0…1) of the last `n` per-transaction lag samples (nil without samples).
    public func lagQuantile(_ p: Double, lastSamples n: Int) -> Double? {
        lock.lock(); let recent = _lagSamples.suffix(n).sorted(); lock.unlock()
        guard !recent.isEmpty else { return nil }
        return recent[min(recent.count - 1, Int(Double(recent.count - 1) * p + 0.5))]
    }

    /// Commit-to-visible lag of the last 15 minutes per 10 s (p50, p99, max, count), oldest first.
    public func lagHistory(now: Date = Date()) -> [LagHistory.Point] {
        lock.lock(); defer { lock.unlock() }; return _lagHistory.points(now: now)
    }

    /// Recent commit-to-visible lag samples (seconds), oldest first.
    public var lagSamples: [Double] { lock.lock(); defer { lock.unlock() }; return _lagSamples }
}

extension ReplicatorStats {
    /// Upper bounds (seconds) of the commit-to-visible lag histogram buckets.
    public static let lagBuckets: [Double] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60]

    /// The current state and, when not streaming, why (e.g. the connection error).
    public var state: (state: ReplicatorState, reason: String) {
        lock.lock(); defer { lock.unlock() }
        return (_state, _stateReason)
    }

    /// Records a state change; `reason` says why (kept short, never contains the connection string).
    public func setState(_ state: ReplicatorState, reason: String = "") {
        lock.lock()
        if state != _state { _values["state_since"] = Date().timeIntervalSince1970 }
        _state = state
        // One short line: it ends up in /healthz.
        let line = reason.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        _stateReason = line.count > 200 ? String(line.prefix(200)) + "…" : line
        lock.unlock()
    }

    /// When the current state began.
    public var stateSince: Date { Date(timeIntervalSince1970: read("state_since")) }

    /// Upper bounds (seconds) of the store commit duration histogram buckets.
    public static let storeCommitBuckets: [Double] = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5]

    /// Bucket counts, sum and count of store commit durations.
    public var storeCommitHistogram: HistogramCounts { lock.lock(); defer { lock.unlock() }; return _storeCommitHistogram }

    /// Cumulative bucket counts, sum and count of the commit-to-visible lag.
    public var lagHistogram: HistogramCounts { lock.lock(); defer { lock.unlock() }; return _lagHistogram }

    /// When the last commit-to-visible lag was measured (nil before the first).
    public var lastLagAt: Date? { let t = read("last_lag_at"); return t > 0 ? Date(timeIntervalSince1970: t) : nil }

    /// Send-to-arrival time of the last heartbeat, seconds.
    public var lastHeartbeatLagSeconds: Double { read("hb_lag") }

    /// When the last heartbeat arrived in the stream (nil before the first).
    public var lastHeartbeatArrival: Date? { let t = read("hb_arrival"); return t > 0 ? Date(timeIntervalSince1970: t) : nil }

    /// Heartbeats received.
    public var heartbeats: Int { Int(read("hb_count")) }

    func recordHeartbeat(sentMicros: Int64, arrival: Date) {
        lock.lock()
        _values["hb_sent"] = Double(sentMicros)
        _values["hb_arrival"] = arrival.timeIntervalSince1970
        _values["hb_lag"] = max(0, arrival.timeIntervalSince1970 - Double(sentMicros) / 1e6)
        _values["hb_count", default: 0] += 1
        lock.unlock()
    }

    /// Source commit time (µs since the Unix epoch) of the last applied transaction that changed each table.
    public var tableCommitMicros: [String: Int64] { lock.lock(); defer { lock.unlock() }; return _tableCommitMicros }

    /// Records the planner's row estimate of a table about to be snapshotted (-1: never analyzed).
    func expectSnapshot(table: String, rows: Int64) {
        lock.lock(); _snapshotExpected[table] = rows; lock.unlock()
    }

    /// Estimated rows of each snapshotted table (from `pg_class.reltuples`; -1 when unknown).
    public var snapshotExpectedRows: [String: Int64] { lock.lock(); defer { lock.unlock() }; return _snapshotExpected }

    /// Counts a store commit (checkpoint-only commits included) and the part bytes it added per table.
    func recordStoreCommit(_ commit: StoreCommit) {
        lock.lock()
        _values["store_commits", default: 0] += 1
        for (table, change) in commit.tables {
            _bytesCommitted[table, default: 0] += change.staged.reduce(0) { $0 + $1.parts.reduce(0) { $0 + $1.bytes } }
        }
        lock.unlock()
    }

    /// Store commits, checkpoint-only ones included.
    public var storeCommits: Int { Int(read("store_commits")) }

    /// Part bytes committed per table since start (snapshot and streaming; merges not counted).
    public var bytesCommitted: [String: Int] { lock.lock(); defer { lock.unlock() }; return _bytesCommitted }

    /// Counts an error of `kind` (e.g. `stream`, `slot_query`).
    public func recordError(_ kind: String) {
        lock.lock(); _errors[kind, default: 0] += 1; lock.unlock()
    }

    /// Errors counted by kind.
    public var errors: [String: Int] { lock.lock(); defer { lock.unlock() }; return _errors }

    /// Counts a change of the source that changed what the copy holds or how it is kept.
    func recordSourceChange(_ kind: SourceChangeKind) {
        lock.lock(); _sourceChanges[kind.rawValue, default: 0] += 1; lock.unlock()
    }

    /// Source changes counted by kind.
    public var sourceChanges: [String: Int] { lock.lock(); defer { lock.unlock() }; return _sourceChanges }

    /// Replaces the list of tables in scope that cannot be replicated.
    func setUnreplicable(_ tables: [UnreplicableTable]) {
        lock.lock(); _unreplicable = tables.sorted { $0.table < $1.table }; lock.unlock()
    }

    /// Tables in scope that cannot be replicated, each with the reason and the fix.
    public var unreplicable: [UnreplicableTable] { lock.lock(); defer { lock.unlock() }; return _unreplicable }
}
