import Foundation

/// Freshet's configuration: a JSON file (schema: `Schemas/config.schema.json`) plus flags and environment
/// variables for the common cases. Every field has a default except the source.
public struct Config: Sendable, Equatable {
    /// The source database URL or key/value string. Contains the password: print `redactedSource` instead.
    public var source: String
    /// The local store directory.
    public var store: String
    /// Replication slot and publication names (created when missing).
    public var slot: String
    public var publication: String
    /// Replicate every table of these schemas (default `["public"]`), unless `tables` lists tables explicitly.
    public var schemas: [String]
    /// Explicit tables (`schema.table`); when non-empty only these are replicated.
    public var tables: [String]
    /// Tables (`schema.table`) never replicated.
    public var exclude: [String]
    /// Per-table settings: partitioning and key override.
    public var tableSettings: [String: TableSettings]
    /// Batching limits: a batch is committed when any is reached.
    public var batch: BatchLimits
    /// Address of the HTTP endpoint with /metrics, /healthz and /status; nil disables it.
    public var metricsAddress: String?
    /// `/healthz` answers 503 when the replication lag (or the silence since the last heartbeat) exceeds this, seconds.
    public var healthMaxLagSeconds: Double
    /// Warn (log `slot.retained_wal` and metric `freshet_slot_retained_warning`) when the slot retains more WAL, bytes.
    public var slotWarnBytes: Int64
    /// Seconds between heartbeat messages (0 disables).
    public var heartbeatInterval: Double
    /// Log format: human text or one JSON object per line.
    public var logFormat: LogFormat
    /// The ClickHouse sink, when configured (docs/clickhouse.md).
    public var clickhouse: ClickHouseSettings?
    /// Ask PostgreSQL to stream large in-progress transactions (pgoutput protocol 2, `streaming 'on'`) instead of
    /// spilling them to disk on the server until they commit; Freshet spools them until their commit
    /// (docs/replication.md, "Streamed in-progress transactions"). On by default since it measured faster on a big
    /// transaction's catch-up, with less CPU in the walsender and no spill on the server (docs/tuning.md §17).
    public var streamInProgress: Bool

    public init(source: String, store: String) {
        self.source = source; self.store = store
        slot = "freshet"; publication = "freshet"; schemas = ["public"]; tables = []; exclude = []
        tableSettings = [:]; batch = BatchLimits(); metricsAddress = "127.0.0.1:9187"
        heartbeatInterval = 5; logFormat = .text
        healthMaxLagSeconds = 30; slotWarnBytes = 1 << 30
        streamInProgress = true
    }

    /// Per-table settings.
    public struct TableSettings: Sendable, Equatable {
        /// How the table's parts are partitioned (default: hash of the key into one bucket per ~1 GiB of table,
        /// 1…64, chosen when the table is first defined; `hash` alone is 8 buckets).
        public var partition: PartitionSetting?
        /// Key columns for a table without a primary key (it then needs REPLICA IDENTITY FULL).
        public var key: [String]?
        /// The table's name in ClickHouse (default: `T` for `public.T`, else `<schema>_<table>`).
        public var clickhouseTable: String?
        public init(partition: PartitionSetting? = nil, key: [String]? = nil, clickhouseTable: String? = nil) {
            self.partition = partition; self.key = key; self.clickhouseTable = clickhouseTable
        }
    }

    /// A table's partitioning as written in the config.
    public enum PartitionSetting: Sendable, Equatable {
        case none
        case hash(buckets: Int)
        case column(String)
        case time(column: String, bucket: TimeBucket)
    }

    public enum TimeBucket: String, Sendable, Equatable, CaseIterable { case day, month, year }

    public enum LogFormat: String, Sendable, Equatable { case text, json }

    /// When a batch is committed to the store.
    public struct BatchLimits: Sendable, Equatable {
        public var maxRows: Int = 200_000
        /// Bytes of values pending across tables (`RowBatch.approximateBytes`). Staging a batch holds it plus one
        /// row group gathered in key order at a time (docs/replication.md "Memory").
        public var maxBytes: Int = 32 << 20
        /// Sets how long a batch may grow while events are still queued (catching up): it is committed once its oldest
        /// change was received `max(1 s, 4 × maxAge)` seconds ago (`CommitPolicy`). A caught-up stream does not wait for
        /// it: rows are committed as soon as no store commit is in flight (group commit), after the pacing's spacing
        /// (`CommitPacer`: aims at `0.7 × maxAge` from receipt to visible, waits at most `min(0.4 × maxAge, 50 ms)`).
        public var maxAge: Double = 0.1
        public init() {}
    }

    /// The source with its password hidden.
    public var redactedSource: String { ConfigRedaction.redact(source) }
}

/// A configuration problem: names the field and says what is wrong. Never contains the password.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var field: String
    public var problem: String
    public init(field: String, problem: String) { self.field = field; self.problem = problem }
    public var description: String { "config: \(field): \(problem)" }
}

enum ConfigRedaction {
    /// Hides the password in a URL (`user:secret@` → `user:***@`) or key/value string (`password=...`). In a URL the
    /// user info ends at the *last* `@` before the query, so a password with an unencoded `@` is hidden whole.
    static func redact(_ source: String) -> String {
        var s = source
        if let scheme = s.range(of: "://"),
           let at = s[scheme.upperBound...].prefix(while: { $0 != "?" }).lastIndex(of: "@") {
            let userInfo = s[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                s.replaceSubrange(s.index(after: colon)..<at, with: "***")
            }
        }
        if let r = s.range(of: "password=") {
            var end = r.upperBound
            if end < s.endIndex, s[end] == "'" {
                end = s.index(after: end)
                while end < s.endIndex, s[end] != "'" { end = s.index(after: end) }
                if end < s.endIndex { end = s.index(after: end) }
            } else {
                while end < s.endIndex, s[end] != " " { end = s.index(after: end) }
            }
            s.replaceSubrange(r.upperBound..<end, with: "***")
        }
        return s
    }
}
