import Foundation

/// The ClickHouse sink's configuration (`"clickhouse": {...}` in the config file, or `--clickhouse URL`).
public struct ClickHouseSettings: Sendable, Equatable {
    /// `http://[user[:password]@]host:port/[?database=NAME]`. Contains the password: print `redactedURL` instead.
    public var url: String
    /// The database the tables go to; overrides the URL's `database=`; default `default`.
    public var database: String?
    /// Create tables `ON CLUSTER` with Replicated engines.
    public var cluster: String?
    /// Rows of a table are sent once this many are pending, or once the oldest waited `batchAge` seconds.
    public var batchRows: Int = 1000
    public var batchAge: Double = 1
    /// Concurrent inserts (each a connection and a ClickHouse thread) for a shipment of at least 100,000 rows, the
    /// rows split by key. 1 (the default) sends one insert at a time: on a machine whose cores Freshet and ClickHouse
    /// share, two were not faster (docs/tuning.md, section 9).
    public var insertStreams: Int = 1
    /// `/healthz` answers 503 when the ClickHouse lag exceeds this, seconds.
    public var healthMaxLagSeconds: Double = 60
    /// With `cluster`: how long an `ON CLUSTER` statement waits for every host of the cluster (ClickHouse's
    /// `distributed_ddl_task_timeout`), seconds. Hosts that are down by then run it from the queue when they are back.
    public var ddlTimeoutSeconds: Int = 50

    public init(url: String, database: String? = nil, cluster: String? = nil) {
        self.url = url
        self.database = database
        self.cluster = cluster
    }

    /// The URL with its password hidden.
    public var redactedURL: String { ConfigRedaction.redact(url) }
}
