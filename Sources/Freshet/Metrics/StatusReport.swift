import Foundation
import PostgresReplication

/// The `/status` JSON document, also decoded by `freshet status`. Times are ISO 8601 UTC; lags in seconds.
public struct StatusReport: Codable, Sendable, Equatable {
    public struct Table: Codable, Sendable, Equatable {
        public var name: String
        /// Row versions (tombstones included) in the committed parts.
        public var storedRows: Int
        public var parts: Int
        public var bytes: Int
        public var bytesCommitted: Int
        public var pendingMerges: Int
        /// Rows applied since start, by operation.
        public var applied: [String: Int]
        /// Source commit time of the last applied transaction that changed the table (nil when none since start).
        public var lastCommit: String?
        /// Snapshot progress: rows copied and the planner's estimate (nil when no snapshot ran since start).
        public var snapshotRows: Int?
        public var snapshotExpectedRows: Int64?
        /// The table's resync in progress, e.g. `copying 1200 of ~5000 rows (24%)` or `queued` (nil when none).
        public var resync: String?
    }

    /// A resync request and its progress, from the store's `resync.json`.
    public struct Resync: Codable, Sendable, Equatable {
        public var id: String
        /// `schema.table` names, or `["*"]` for every table.
        public var tables: [String]
        public var state: String
        public var rowsCopied: Int
        public var estimatedRows: Int
        public var message: String?
        public var updated: String

        /// The ledger entry as `/status` shows it.
        public init(_ e: ResyncLedger.Entry) {
            id = e.request.id
            tables = e.request.all ? ["*"] : e.request.tables
            state = e.state.rawValue
            rowsCopied = e.rowsCopied
            estimatedRows = e.estimatedRows
            message = e.message
            updated = Logger.timestamp(e.updated)
        }

        /// `copying 1200 of ~5000 rows (24%)`, `queued`, `done`, `failed: …`.
        public var progress: String {
            switch state {
            case "copying":
                let pct = estimatedRows > 0 ? " (\(min(100, rowsCopied * 100 / estimatedRows))%)" : ""
                return "copying \(rowsCopied) of ~\(estimatedRows) rows\(pct)"
            case "pending": return "queued"
            case "failed": return "failed: \(message ?? "")"
            default: return state
            }
        }
    }

    public struct Slot: Codable, Sendable, Equatable {
        public var name: String
        public var exists: Bool
        public var active: Bool?
        public var walStatus: String?
        public var retainedBytes: Int64?
        public var warning: Bool
        public var warnBytes: Int64
        public var checkedAt: String?
    }

    public var time: String
    /// `time` as seconds since the Unix epoch (nil from a server that predates it).
    public var unixTime: Double?
    public var state: String
    public var stateReason: String
    public var healthy: Bool
    public var health: String
    /// Current end-to-end lag (newer of commit lag and heartbeat round trip); nil before the first measurement.
    public var lagSeconds: Double?
    public var commitLagSeconds: Double
    public var heartbeatLagSeconds: Double
    public var lastCommit: String?
    public var lastStoreCommit: String?
    public var committedLSN: String
    public var walBehindBytes: UInt64
    public var transactions: Int
    public var commits: Int
    public var reconnects: Int
    /// Unchanged TOASTed columns of key-changing updates whose old value was found nowhere (nil from a server that
    /// predates it).
    public var unresolvedKeyMoves: Int?
    public var publication: String
    public var slot: Slot
    public var tables: [Table]
    /// Tables in scope that cannot be replicated, each with the reason and the fix.
    public var unreplicableTables: [UnreplicableTable]
    /// Source changes that changed what the copy holds, by kind.
    public var sourceChanges: [String: Int]
    /// Commit-to-visible lag per 10 s over the last 15 minutes, oldest first (nil from a server that predates it).
    public var lagHistory: [LagHistory.Point]?
    /// `/healthz` turns 503 above this lag, seconds (nil from a server that predates it).
    public var healthMaxLagSeconds: Double?
    /// The recent resync requests, oldest first (nil from a server that predates it).
    public var resyncs: [Resync]?
    /// The ClickHouse sink (nil when none runs).
    public var clickhouse: ClickHouseMetrics.Status?

    public init(_ s: OperationsSnapshot) {
        let health = HealthCheck.evaluate(s)
        func iso(_ d: Date?) -> String? { d.map(Logger.timestamp) }
        time = Logger.timestamp(s.now)
        unixTime = s.now.timeIntervalSince1970
        state = s.state.rawValue
        stateReason = s.stateReason
        healthy = health.healthy
        self.health = health.reason
        lagSeconds = s.currentLag
        commitLagSeconds = s.lastCommitLag
        heartbeatLagSeconds = s.heartbeatLag
        lastCommit = iso(s.lastCommit)
        lastStoreCommit = iso(s.lastStoreCommit)
        committedLSN = LSN(s.committedLSN).description
        walBehindBytes = s.walBehindBytes
        transactions = s.transactions
        commits = s.commits
        reconnects = s.reconnects
        unresolvedKeyMoves = s.unresolvedKeyMoves
        publication = s.publication
        slot = Slot(name: s.slotName, exists: s.slot != nil, active: s.slot?.active, walStatus: s.slot?.walStatus,
                    retainedBytes: s.slot?.retainedBytes, warning: s.slotWarning, warnBytes: s.slotWarnBytes,
                    checkedAt: iso(s.slotCheckedAt))
        let resyncs = s.resyncs.map(Resync.init)
        self.resyncs = resyncs
        lagHistory = s.lagHistory
        healthMaxLagSeconds = s.healthMaxLag
        let active = resyncs.filter { $0.state == "pending" || $0.state == "copying" }
        tables = s.tables.map { t in
            Table(name: t.name, storedRows: t.storedRows, parts: t.parts, bytes: t.bytes, bytesCommitted: t.bytesCommitted, pendingMerges: t.pendingMerges,
                  applied: t.applied, lastCommit: iso(t.lastCommit),
                  snapshotRows: t.snapshotExpectedRows == nil ? nil : (t.applied["snapshot"] ?? 0),
                  snapshotExpectedRows: t.snapshotExpectedRows,
                  resync: active.first { $0.tables.contains(t.name) || $0.tables == ["*"] }?.progress)
        }
        unreplicableTables = s.unreplicable
        sourceChanges = s.sourceChanges
        clickhouse = s.clickhouse.map(ClickHouseMetrics.Status.init)
    }

    /// Pretty, key-sorted JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
