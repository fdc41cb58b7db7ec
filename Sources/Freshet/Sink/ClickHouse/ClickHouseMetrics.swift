import Foundation

/// The ClickHouse sink's `/metrics` families and `/status` section.
public enum ClickHouseMetrics {
    static func families(_ r: ClickHouseStats.Reading) -> [MetricFamily] {
        [
            .single("freshet_clickhouse_lag_seconds", .gauge,
                    help: "Seconds from the source commit of the oldest change not yet acknowledged by ClickHouse (0 when everything is shipped).",
                    r.lagSeconds),
            .single("freshet_clickhouse_rows_shipped_total", .counter,
                    help: "Rows (tombstones included) ClickHouse acknowledged, replays and new copies included.", Double(r.rowsShipped)),
            .single("freshet_clickhouse_backlog_rows", .gauge,
                    help: "Row versions in store parts above the shipped versions (an upper bound of what is left to send).",
                    Double(r.backlogRows)),
            .single("freshet_clickhouse_errors_total", .counter,
                    help: "ClickHouse statements or inserts that failed (each retried with backoff; nothing is lost).", Double(r.errors)),
        ]
    }

    /// The `/status` section.
    public struct Status: Codable, Sendable, Equatable {
        public var destination: String
        public var serverVersion: String
        public var lagSeconds: Double
        public var rowsShipped: Int
        public var backlogRows: Int
        public var errors: Int
        public var lastError: String?
        public var lastShipped: String?
        /// `/healthz` fails while `lagSeconds` is above this (nil in reports from older versions).
        public var healthMaxLagSeconds: Double?

        init(_ r: ClickHouseStats.Reading) {
            destination = r.destination
            serverVersion = r.serverVersion
            lagSeconds = r.lagSeconds
            rowsShipped = r.rowsShipped
            backlogRows = r.backlogRows
            errors = r.errors
            lastError = r.lastError
            lastShipped = r.lastShipped.map(Logger.timestamp)
            healthMaxLagSeconds = r.healthMaxLag
        }
    }
}
