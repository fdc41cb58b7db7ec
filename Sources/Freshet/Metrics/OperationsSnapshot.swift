import ColumnStore
import Foundation

/// Everything the operations endpoints show, read at one moment from the replicator's stats, the store's
/// manifests and the last slot reading. A value: rendering never touches live state.
public struct OperationsSnapshot: Sendable {
    /// One replicated table as the store and the stats see it.
    public struct Table: Sendable, Equatable {
        public var name: String
        /// Rows applied since start, by operation (`snapshot`, `insert`, `update`, `delete`, `truncate`).
        public var applied: [String: Int]
        /// Committed parts and the row versions (tombstones included) and bytes they hold.
        public var parts: Int
        public var storedRows: Int
        public var bytes: Int
        /// Part bytes committed since start (snapshot and streaming batches).
        public var bytesCommitted: Int
        public var pendingMerges: Int
        /// Source commit time of the last applied transaction that changed the table.
        public var lastCommit: Date?
        /// The planner's row estimate when the table's snapshot began (nil: no snapshot since start, or unknown).
        public var snapshotExpectedRows: Int64?
    }

    public var now: Date
    public var slotName: String
    public var publication: String
    public var state: ReplicatorState
    public var stateReason: String
    public var stateSince: Date
    public var tables: [Table]
    public var transactions: Int
    public var commits: Int
    /// Store commits including checkpoint-only ones.
    public var storeCommits: Int
    public var rowsCommitted: Int
    public var spills: Int
    public var reconnects: Int
    public var errors: [String: Int]
    public var lagHistogram: HistogramCounts
    /// Duration of store commits that carried rows (staging the batches, fsyncs, manifests, checkpoint).
    public var storeCommitHistogram: HistogramCounts
    /// Commit-to-visible lag of the last store commit that carried rows, and when it was measured.
    public var lastCommitLag: Double
    public var lastCommitLagAt: Date?
    public var heartbeats: Int
    public var heartbeatLag: Double
    public var heartbeatArrival: Date?
    public var heartbeatInterval: Double
    public var committedLSN: UInt64
    public var serverWALEnd: UInt64
    public var lastCommit: Date?
    public var lastStoreCommit: Date?
    public var slot: SlotInfo?
    public var slotCheckedAt: Date?
    public var slotWarning: Bool
    public var slotWarnBytes: Int64
    public var healthMaxLag: Double
    /// Commit-to-visible lag of the last 15 minutes per 10 s.
    public var lagHistory: [LagHistory.Point] = []
    /// The store's resync requests (`resync.json`), oldest first.
    public var resyncs: [ResyncLedger.Entry] = []
    /// Source changes that changed what the copy holds, by kind (see `ReplicatorStats.recordSourceChange`).
    public var sourceChanges: [String: Int] = [:]
    /// Tables in scope that cannot be replicated, with the fix.
    public var unreplicable: [UnreplicableTable] = []
    /// The ClickHouse sink, when one runs.
    public var clickhouse: ClickHouseStats.Reading? = nil
    /// Unchanged (TOASTed) columns of key-changing updates whose old value was found nowhere, since start.
    public var unresolvedKeyMoves = 0
    /// Streamed in-progress transactions: committed and aborted since start, open now, and their spool's bytes.
    public var streamedCommitted = 0, streamedAborted = 0, streamOpen = 0, streamSpoolBytes = 0
    /// True while settles wait for a catch-up to end.
    public var settlesHeld = false

    /// WAL between the server's end (from keepalives) and the confirmed LSN.
    public var walBehindBytes: UInt64 { serverWALEnd > committedLSN ? serverWALEnd - committedLSN : 0 }

    /// The current end-to-end lag: from whichever measurement is newer, the last data commit's commit-to-visible
    /// lag or the last heartbeat's round trip. An idle database is therefore near zero, not stuck at the last load.
    public var currentLag: Double? {
        switch (lastCommitLagAt, heartbeatArrival) {
        case let (c?, h?): return c >= h ? lastCommitLag : heartbeatLag
        case (_?, nil): return lastCommitLag
        case (nil, _?): return heartbeatLag
        case (nil, nil): return nil
        }
    }

    /// Seconds since the newest sign of progress (a heartbeat arrival or a store commit), or since streaming began.
    public var silence: Double {
        let newest = [heartbeatArrival, lastStoreCommit, state == .streaming ? stateSince : nil].compactMap { $0 }.max()
        return newest.map { max(0, now.timeIntervalSince($0)) } ?? 0
    }
}

extension OperationsSnapshot {
    /// Reads the stats, the store's manifests and the slot monitor's reading.
    static func capture(config: Config, stats: ReplicatorStats, store: Store?, slotMonitor: SlotMonitor?) -> OperationsSnapshot {
        let (state, reason) = stats.state
        let applied = stats.rowsByTable
        let commitTimes = stats.tableCommitMicros
        let expected = stats.snapshotExpectedRows
        let committedBytes = stats.bytesCommitted
        var tables: [Table] = []
        for name in Set(store?.tableNames ?? []).union(applied.keys).sorted() {
            let manifest = try? store?.manifest(name)
            let parts = manifest?.parts ?? []
            tables.append(Table(
                name: name,
                applied: Dictionary(uniqueKeysWithValues: (applied[name] ?? [:]).map { ($0.key.rawValue, $0.value) }),
                parts: parts.count, storedRows: parts.reduce(0) { $0 + $1.rows }, bytes: parts.reduce(0) { $0 + $1.bytes },
                bytesCommitted: committedBytes[name] ?? 0,
                pendingMerges: (try? store?.pendingMerges(name)) ?? 0,
                lastCommit: commitTimes[name].map { Date(timeIntervalSince1970: Double($0) / 1e6) },
                snapshotExpectedRows: expected[name].flatMap { $0 >= 0 ? $0 : nil }))
        }
        let slot = slotMonitor?.reading
        let lastCommitMicros = stats.lastCommitTimestampMicros
        let lastStoreCommit = stats.lastStoreCommit
        let now = Date()
        var snapshot = OperationsSnapshot(
            now: now, slotName: config.slot, publication: config.publication,
            state: state, stateReason: reason, stateSince: stats.stateSince, tables: tables,
            transactions: stats.transactions, commits: stats.commits, storeCommits: stats.storeCommits, rowsCommitted: stats.rowsCommitted, spills: stats.spills,
            reconnects: stats.reconnects, errors: stats.errors, lagHistogram: stats.lagHistogram,
            storeCommitHistogram: stats.storeCommitHistogram,
            lastCommitLag: stats.lastLagSeconds, lastCommitLagAt: stats.lastLagAt,
            heartbeats: stats.heartbeats, heartbeatLag: stats.lastHeartbeatLagSeconds, heartbeatArrival: stats.lastHeartbeatArrival,
            heartbeatInterval: config.heartbeatInterval,
            committedLSN: stats.committedLSN, serverWALEnd: stats.serverWALEnd,
            lastCommit: lastCommitMicros > 0 ? Date(timeIntervalSince1970: Double(lastCommitMicros) / 1e6) : nil,
            lastStoreCommit: lastStoreCommit.timeIntervalSince1970 > 0 ? lastStoreCommit : nil,
            slot: slot?.slot, slotCheckedAt: slot?.checkedAt, slotWarning: slot?.warning ?? false,
            slotWarnBytes: config.slotWarnBytes, healthMaxLag: config.healthMaxLagSeconds,
            sourceChanges: stats.sourceChanges, unreplicable: stats.unreplicable)
        snapshot.lagHistory = stats.lagHistory(now: now)
        snapshot.resyncs = ResyncLedger.decode(store?.readSidecar(ResyncLedger.fileName)).entries
        snapshot.clickhouse = stats.clickhouse?.reading
        snapshot.unresolvedKeyMoves = stats.unresolvedKeyMoves
        snapshot.streamedCommitted = stats.streamedCommitted
        snapshot.streamedAborted = stats.streamedAborted
        snapshot.streamOpen = stats.streamOpen
        snapshot.streamSpoolBytes = stats.streamSpoolBytes
        snapshot.settlesHeld = stats.settlesHeld
        return snapshot
    }
}
