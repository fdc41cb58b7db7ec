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
    public var publication: String
    public var slot: Slot
    public var tables: [Table]
    /// Tables in scope that cannot be replicated, each with the reason and the fix.
    public var unreplicableTables: [UnreplicableTable]
    /// Source changes that changed what the copy holds, by kind.
    public var sourceChanges: [String: Int]
    /// The ClickHouse sink (nil when none runs).
    public var clickhouse: ClickHouseMetrics.Status?

    public init(_ s: OperationsSnapshot) {
        let health = HealthCheck.evaluate(s)
        func iso(_ d: Date?) -> String? { d.map(Logger.timestamp) }
        time = Logger.timestamp(s.now)
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
        publication = s.publication
        slot = Slot(name: s.slotName, exists: s.slot != nil, active: s.slot?.active, walStatus: s.slot?.walStatus,
                    retainedBytes: s.slot?.retainedBytes, warning: s.slotWarning, warnBytes: s.slotWarnBytes,
                    checkedAt: iso(s.slotCheckedAt))
        tables = s.tables.map {
            Table(name: $0.name, storedRows: $0.storedRows, parts: $0.parts, bytes: $0.bytes, bytesCommitted: $0.bytesCommitted, pendingMerges: $0.pendingMerges,
                  applied: $0.applied, lastCommit: iso($0.lastCommit),
                  snapshotRows: $0.snapshotExpectedRows == nil ? nil : ($0.applied["snapshot"] ?? 0),
                  snapshotExpectedRows: $0.snapshotExpectedRows)
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
