import ColumnStore
import Foundation

/// The ClickHouse table for one store table: its columns, engine, partitioning and ordering, and the statements that
/// create it, follow its column changes, and swap a new copy in.
struct ClickHouseTableDDL: Sendable {
    let database: String
    let name: String
    let cluster: String?
    let server: ClickHouseServer
    /// The table's current columns (the newest schema version, with the reader's widened types).
    let columns: [ClickHouseColumn]
    let keyColumns: [String]
    let partitioning: PartitionSpec

    /// From a manifest: the newest schema version's columns (dropped columns go), typed as readers see them; the
    /// `uuid` columns named in `uuidAsText` stay String (see `ClickHouseColumn`).
    init(manifest m: Manifest, database: String, name: String, cluster: String?, server: ClickHouseServer,
         uuidAsText: Set<String> = []) {
        let current = Set(m.currentSchema.columns.map(\.name))
        let keys = Set(m.keyColumns)
        columns = m.readerColumns.filter { current.contains($0.name) }
            .map { ClickHouseColumn($0, isKey: keys.contains($0.name), server: server, uuidAsText: uuidAsText.contains($0.name)) }
        keyColumns = m.keyColumns
        partitioning = m.partitioning
        self.database = database
        self.name = name
        self.cluster = cluster
        self.server = server
    }

    /// The name a new copy is built under before it is swapped in.
    var shadowName: String { name + "__freshet_new" }
    /// The name the old copy gets during a two-rename swap.
    var retiredName: String { name + "__freshet_old" }

    /// A new copy's part of its ZooKeeper path: the store generation and the time in milliseconds, e.g.
    /// `g3-1764521600123` (one copy is created at a time per table; a retry comes at least 0.5 s later).
    static func copyID(generation: UInt64, at date: Date = Date()) -> String {
        "g\(generation)-\(UInt64(max(0, date.timeIntervalSince1970) * 1000))"
    }

    /// `DROP TABLE IF EXISTS` for `table` (on every host of the cluster).
    func drop(_ table: String) -> String { "DROP TABLE IF EXISTS \(ClickHouseSQL.table(database, table))\(onCluster)" }

    private var onCluster: String { cluster.map { " ON CLUSTER " + ClickHouseSQL.identifier($0) } ?? "" }

    /// `CREATE TABLE IF NOT EXISTS` for `table` (the table's name or its shadow's).
    ///
    /// With a cluster the engine is `ReplicatedReplacingMergeTree` at the ZooKeeper path
    /// `/clickhouse/tables/{shard}/DB/NAME/COPY`: every copy (first run, TRUNCATE, resync) gets a path of its own
    /// (`copy`, see `copyID`), because a table keeps its path when it is renamed: the live table holds the path its
    /// shadow was created with, and a second shadow at the same path would meet the live table's replicas there (18.16
    /// refuses it: "Table structure in ZooKeeper is too different", or "Replica already exists"). 18.16 removes a
    /// path when the last replica of its table is dropped.
    func create(_ table: String, copy: String = "") -> String {
        let q = ClickHouseSQL.identifier
        var cols = columns.map { "    \(q($0.name)) \($0.type)" }
        cols.append("    `_version` UInt64")
        cols.append("    `_deleted` UInt8")
        let params = server.hasDeletedParameter ? "`_version`, `_deleted`" : "`_version`"
        let engine: String
        if cluster != nil {
            let path = ClickHouseSQL.literal("/clickhouse/tables/{shard}/\(database)/\(name)" + (copy.isEmpty ? "" : "/" + copy))
            engine = "ReplicatedReplacingMergeTree(\(path), '{replica}', \(params))"
        } else {
            engine = "ReplacingMergeTree(\(params))"
        }
        var sql = "CREATE TABLE IF NOT EXISTS \(ClickHouseSQL.table(database, table))\(onCluster)\n(\n"
        sql += cols.joined(separator: ",\n") + "\n)\nENGINE = \(engine)\n"
        if let p = partitionExpression { sql += "PARTITION BY \(p)\n" }
        sql += "ORDER BY (\(keyColumns.map(q).joined(separator: ", ")))"
        return sql
    }

    /// `PARTITION BY` from the store's partition spec: a tenant-like column's value, or a time bucket of a date or
    /// timestamp column; nil for hash and none (ClickHouse sorts by key anyway) or a Nullable column.
    var partitionExpression: String? {
        func column(_ name: String) -> ClickHouseColumn? { columns.first { $0.name == name && !$0.nullable } }
        switch partitioning {
        case .none, .keyHash: return nil
        case let .value(name):
            return column(name).map { ClickHouseSQL.identifier($0.name) }
        case let .time(name, bucket):
            guard let c = column(name) else { return nil }
            let q = ClickHouseSQL.identifier(c.name)
            let time: String
            switch c.storeType {
            case .timestamp, .timestamptz: time = server.hasDateTime64 ? q : "toDateTime(intDiv(\(q), 1000000))"
            case .date: time = server.hasDate32 ? q : "toDateTime(\(q) * 86400)"
            default: return nil
            }
            switch bucket {
            case .day: return "toYYYYMMDD(\(time))"
            case .month: return "toYYYYMM(\(time))"
            case .year: return "toYear(\(time))"
            }
        }
    }

    /// `ALTER TABLE` statements that turn `existing` (name → type, from `system.columns`) into this table's columns:
    /// ADD for new columns (after their predecessor), DROP for columns gone, MODIFY for changed types.
    func alterations(existing: [String: String]) -> [String] {
        let t = ClickHouseSQL.table(database, name) + onCluster
        let q = ClickHouseSQL.identifier
        var out: [String] = []
        var previous: String? = nil
        for c in columns {
            if let type = existing[c.name] {
                if !ClickHouseColumn.sameType(type, c.type) { out.append("ALTER TABLE \(t) MODIFY COLUMN \(q(c.name)) \(c.type)") }
            } else {
                out.append("ALTER TABLE \(t) ADD COLUMN \(q(c.name)) \(c.type)" + (previous.map { " AFTER \(q($0))" } ?? " FIRST"))
            }
            previous = c.name
        }
        let wanted = Set(columns.map(\.name)).union(["_version", "_deleted"])
        for name in existing.keys.sorted() where !wanted.contains(name) {
            out.append("ALTER TABLE \(t) DROP COLUMN \(q(name))")
        }
        return out
    }

    /// Statements that replace the table with its shadow: `EXCHANGE TABLES` where it exists, else two renames
    /// (readers may see no table for a moment), then the old copy is dropped.
    func swap(tableExists: Bool) -> [String] {
        let live = ClickHouseSQL.table(database, name), shadow = ClickHouseSQL.table(database, shadowName)
        let retired = ClickHouseSQL.table(database, retiredName)
        guard tableExists else { return ["RENAME TABLE \(shadow) TO \(live)\(onCluster)"] }
        if server.hasExchange {
            return ["EXCHANGE TABLES \(live) AND \(shadow)\(onCluster)", drop(shadowName)]
        }
        return [drop(retiredName), "RENAME TABLE \(live) TO \(retired), \(shadow) TO \(live)\(onCluster)", drop(retiredName)]
    }

    /// Column names in insert order (the table's, then `_version`, `_deleted`).
    var insertColumns: [String] { columns.map(\.name) + ["_version", "_deleted"] }
}
