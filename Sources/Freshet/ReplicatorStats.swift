import ColumnStore
import Foundation

/// Counters and gauges of a running replicator, read by the metrics endpoint and `freshet status`.
/// Written by the apply thread, read from others: every access goes through a lock.
public final class ReplicatorStats: @unchecked Sendable {
    public enum Operation: String, CaseIterable, Sendable { case insert, update, delete, truncate, snapshot }

    private let lock = NSLock()
    private var _rowsByTable: [String: [Operation: Int]] = [:]
    /// The scalar counters and gauges, typed (LSNs exact as UInt64).
    private struct Values {
        var rowsApplied = 0, transactions = 0, spills = 0, commits = 0, rowsCommitted = 0, reconnects = 0
        var storeCommits = 0, lagSamplesTotal = 0, heartbeats = 0, unresolvedKeyMoves = 0
        var streamedCommitted = 0, streamedAborted = 0, streamOpen = 0, streamSpoolBytes = 0
        var settlesHeld = false
        var committedLSN: UInt64 = 0, serverWALEnd: UInt64 = 0
        var lastCommitMicros: Int64 = 0, heartbeatSentMicros: Int64 = 0
        var lastStoreCommit = Date(timeIntervalSince1970: 0), stateSince = Date()
        var lastLag = 0.0, heartbeatLag = 0.0
        var lastLagAt: Date?, heartbeatArrival: Date?
    }
    private var v = Values()
    private var _lagSamples: [Double] = []
    private var _lagHistogram = HistogramCounts(bounds: ReplicatorStats.lagBuckets)
    private var _storeCommitHistogram = HistogramCounts(bounds: ReplicatorStats.storeCommitBuckets)
    private var _state = ReplicatorState.starting
    private var _stateReason = ""
    private var _errors: [String: Int] = [:]
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

    /// Counts rows copied by a snapshot or resync.
    func countSnapshot(table: String, rows: Int) {
        lock.lock(); _rowsByTable[table, default: [:]][.snapshot, default: 0] += rows; lock.unlock()
    }

    /// Counts streamed rows per table and operation (the apply thread adds what it gathered, per transaction or
    /// per staged chunk). With `commitMicros`, a source transaction committed at that time (µs since the Unix epoch):
    /// it is counted and stamps the tables it changed.
    func recordApplied(_ counts: AppliedCounts, commitMicros: Int64?) {
        lock.lock()
        for (table, ops) in counts.byTable {
            for (op, n) in ops { _rowsByTable[table, default: [:]][op, default: 0] += n }
            if let commitMicros { _tableCommitMicros[table] = commitMicros }
        }
        v.rowsApplied += counts.rows
        if let commitMicros {
            v.transactions += 1
            v.lastCommitMicros = commitMicros
        }
        lock.unlock()
    }

    /// Rows applied per table and operation.
    public var rowsByTable: [String: [Operation: Int]] { lock.lock(); defer { lock.unlock() }; return _rowsByTable }

    private func read<T>(_ key: KeyPath<Values, T>) -> T { lock.lock(); defer { lock.unlock() }; return v[keyPath: key] }
    private func write<T>(_ key: WritableKeyPath<Values, T>, _ value: T) { lock.lock(); v[keyPath: key] = value; lock.unlock() }
    private func add(_ key: WritableKeyPath<Values, Int>, _ n: Int) { lock.lock(); v[keyPath: key] += n; lock.unlock() }

    public var rowsApplied: Int { read(\.rowsApplied) }
    public var transactions: Int { read(\.transactions) }
    public var spills: Int { read(\.spills) }
    public var commits: Int { read(\.commits) }
    public var rowsCommitted: Int { read(\.rowsCommitted) }
    public var reconnects: Int { read(\.reconnects) }
    public var committedLSN: UInt64 { get { read(\.committedLSN) } set { write(\.committedLSN, newValue) } }
    public var serverWALEnd: UInt64 { get { read(\.serverWALEnd) } set { write(\.serverWALEnd, newValue) } }

    /// Counts rows applied from the stream (the apply thread adds them per chunk of events, not per row).
    func addRowsApplied(_ n: Int) { add(\.rowsApplied, n) }
    /// Counts a transaction larger than the batch limits, staged before its commit.
    func addSpill() { add(\.spills, 1) }
    /// Counts a streamed in-progress transaction applied at its Stream Commit, or discarded at its Stream Abort.
    func addStreamed(committed: Bool) { add(committed ? \.streamedCommitted : \.streamedAborted, 1) }
    /// Streamed transactions committed / aborted since start.
    public var streamedCommitted: Int { read(\.streamedCommitted) }
    public var streamedAborted: Int { read(\.streamedAborted) }
    /// Streamed transactions open (spooled, neither committed nor aborted yet) and the bytes they spooled.
    public var streamOpen: Int { get { read(\.streamOpen) } set { write(\.streamOpen, newValue) } }
    public var streamSpoolBytes: Int { get { read(\.streamSpoolBytes) } set { write(\.streamSpoolBytes, newValue) } }
    /// True while the stream applier holds the store's settles (catching up on a backlog, `BacklogSignal`).
    public var settlesHeld: Bool { get { read(\.settlesHeld) } set { write(\.settlesHeld, newValue) } }
    /// Counts a lost replication connection.
    func addReconnect() { add(\.reconnects, 1) }
    /// Counts unchanged columns of key-changing updates whose old value was found nowhere (`TableWriter.onUnresolvedKeyMove`).
    func addUnresolvedKeyMoves(_ columns: Int) { add(\.unresolvedKeyMoves, columns) }
    /// Unchanged columns of key-changing updates left without their value since start.
    public var unresolvedKeyMoves: Int { read(\.unresolvedKeyMoves) }
    /// Commit time (µs since the Unix epoch) of the last transaction seen.
    public var lastCommitTimestampMicros: Int64 { read(\.lastCommitMicros) }
    /// Send time (µs since the Unix epoch) of the last heartbeat that arrived. Setting it records the arrival
    /// (now) and the heartbeat's round trip in `lastHeartbeatLagSeconds`.
    public var lastHeartbeatSentMicros: Int64 {
        get { read(\.heartbeatSentMicros) }
        set { recordHeartbeat(sentMicros: newValue, arrival: Date()) }
    }
    public var lastStoreCommit: Date {
        get { read(\.lastStoreCommit) }
        set { write(\.lastStoreCommit, newValue) }
    }
    /// Commit-to-visible lag of the last store commit (oldest transaction in it), seconds.
    public var lastLagSeconds: Double { read(\.lastLag) }

    /// Records a store commit that made `rows` visible, with the commit-to-visible lag of each source transaction in
    /// it (source commit time to store commit durable).
    func recordCommit(rows: Int, transactionLags: [Double], duration: Double) {
        let now = Date()
        lock.lock()
        _storeCommitHistogram.observe(duration)
        for lag in transactionLags { _lagHistogram.observe(lag) }
        _lagHistory.observe(transactionLags, at: now)
        v.lastLagAt = now
        v.commits += 1
        v.rowsCommitted += rows
        v.lastLag = transactionLags.max() ?? 0
        _lagSamples.append(contentsOf: transactionLags.suffix(10_000))
        if _lagSamples.count > 20_000 { _lagSamples.removeFirst(_lagSamples.count - 10_000) }
        v.lagSamplesTotal += transactionLags.count
        lock.unlock()
    }

    /// Transactions whose commit-to-visible lag was recorded since start.
    public var lagSamplesTotal: Int { read(\.lagSamplesTotal) }

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
        if state != _state { v.stateSince = Date() }
        _state = state
        // One short line: it ends up in /healthz.
        let line = reason.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        _stateReason = line.count > 200 ? String(line.prefix(200)) + "…" : line
        lock.unlock()
    }

    /// When the current state began.
    public var stateSince: Date { read(\.stateSince) }

    /// Upper bounds (seconds) of the store commit duration histogram buckets.
    public static let storeCommitBuckets: [Double] = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5]

    /// Bucket counts, sum and count of store commit durations.
    public var storeCommitHistogram: HistogramCounts { lock.lock(); defer { lock.unlock() }; return _storeCommitHistogram }

    /// Cumulative bucket counts, sum and count of the commit-to-visible lag.
    public var lagHistogram: HistogramCounts { lock.lock(); defer { lock.unlock() }; return _lagHistogram }

    /// When the last commit-to-visible lag was measured (nil before the first).
    public var lastLagAt: Date? { read(\.lastLagAt) }

    /// Send-to-arrival time of the last heartbeat, seconds.
    public var lastHeartbeatLagSeconds: Double { read(\.heartbeatLag) }

    /// When the last heartbeat arrived in the stream (nil before the first).
    public var lastHeartbeatArrival: Date? { read(\.heartbeatArrival) }

    /// Heartbeats received.
    public var heartbeats: Int { read(\.heartbeats) }

    func recordHeartbeat(sentMicros: Int64, arrival: Date) {
        lock.lock()
        v.heartbeatSentMicros = sentMicros
        v.heartbeatArrival = arrival
        v.heartbeatLag = max(0, arrival.timeIntervalSince1970 - Double(sentMicros) / 1e6)
        v.heartbeats += 1
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
        v.storeCommits += 1
        for (table, change) in commit.tables {
            _bytesCommitted[table, default: 0] += change.staged.reduce(0) { $0 + $1.parts.reduce(0) { $0 + $1.bytes } }
        }
        lock.unlock()
    }

    /// Store commits, checkpoint-only ones included.
    public var storeCommits: Int { read(\.storeCommits) }

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

/// Rows the apply thread applied since it last told the stats, by table and operation.
struct AppliedCounts {
    private(set) var byTable: [String: [ReplicatorStats.Operation: Int]] = [:]
    private(set) var rows = 0

    mutating func count(_ table: String, _ op: ReplicatorStats.Operation) {
        byTable[table, default: [:]][op, default: 0] += 1
        if op != .truncate { rows += 1 }
    }

    /// Forgets everything (after a Commit was recorded).
    mutating func removeAll() { byTable.removeAll(keepingCapacity: true); rows = 0 }

    /// Zeroes the counts but keeps the tables (after a staged chunk of a large transaction was recorded): its Commit
    /// still stamps every table the transaction changed.
    mutating func resetCounts() {
        for table in byTable.keys { byTable[table] = [:] }
        rows = 0
    }
}
