import ColumnStore
import Foundation
import PostgresReplication

/// How one source table is kept in the store: its columns' mappings, key and partitioning.
struct TablePlan: Sendable {
    var source: SourceTable
    var mappings: [ColumnMapping]
    var keyColumns: [String]
    var partitioning: PartitionSpec

    /// The store table's name (`schema.table`).
    var name: String { source.qualifiedName }
    /// The store schema: every column nullable (see `TablePlanner.mappings`).
    var schema: TableSchema { TableSchema(columns: mappings.map(\.definition), keyColumns: keyColumns) }
}

/// Why a source table cannot be replicated, with the fix. Such a table is left out of the publication (so it can
/// never make the source's writes fail) and reported in the log, `/metrics` and `/status`.
public struct UnreplicableTable: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public var table: String
    public var reason: String
    public var fix: String
    public var description: String { "table \(table) cannot be replicated: \(reason). Fix: \(fix)" }
}

/// The one policy that turns a source table into a store table, for the snapshot, the stream and resync alike:
/// which tables can be replicated, their key, their partitioning and their columns' mappings.
struct TablePlanner: Sendable {
    let config: Config

    /// The plan for `table`; for a table the store already holds, its recorded key and partitioning are kept.
    /// Throws `UnreplicableTable` when the table has no usable key or a column name the store cannot hold.
    func plan(_ table: SourceTable, store: Store) throws -> TablePlan {
        let name = table.qualifiedName
        let keys = try check(table)
        let known = store.tableNames.contains(name) ? try store.manifest(name) : nil
        if let stored = known?.keyColumns, stored != keys {
            // The store keeps the key it was created with. The WAL's DELETEs and key changes carry the replica
            // identity's columns: without every stored key column among them, the store could not tell which row went.
            let identity = table.replicaIdentity == "f" ? table.columns.map(\.name)
                         : table.replicaIdentity == "i" ? table.replicaIdentityColumns : table.primaryKey
            if let missing = stored.first(where: { !identity.contains($0) }) {
                let list = stored.map { SQLQuoting.identifier($0) }.joined(separator: ", ")
                throw UnreplicableTable(table: name,
                                        reason: "its key changed: the store keys it by (\(list)), and its DELETEs and key changes no longer carry \(SQLQuoting.identifier(missing))",
                                        fix: "ALTER TABLE \(table.quotedName) REPLICA IDENTITY FULL (the store keeps its key), then `freshet resync \(name)`; or make (\(list)) the primary key again")
            }
        }
        return TablePlan(source: table, mappings: Self.mappings(table.columns.map { ($0.name, $0.typeOID, $0.typeModifier) }),
                         keyColumns: known?.keyColumns ?? keys,
                         partitioning: known?.partitioning ?? partitioning(name, pages: table.pages))
    }

    /// Checks that `table` can be replicated and returns its key columns; throws `UnreplicableTable` with the fix.
    @discardableResult
    func check(_ table: SourceTable) throws -> [String] {
        if table.unlogged {
            throw UnreplicableTable(table: table.qualifiedName,
                                    reason: "it is UNLOGGED: its changes are not in the WAL, and PostgreSQL refuses it in a publication",
                                    fix: "ALTER TABLE \(table.quotedName) SET LOGGED, or exclude it")
        }
        let keys = try keyColumns(table)
        // With REPLICA IDENTITY USING INDEX, DELETEs and key-changing UPDATEs carry only the index's columns: without
        // every key column among them, the store could not tell which row went.
        if table.replicaIdentity == "i", let missing = keys.first(where: { !table.replicaIdentityColumns.contains($0) }) {
            throw UnreplicableTable(table: table.qualifiedName,
                                    reason: "its REPLICA IDENTITY is an index without the key column \(SQLQuoting.identifier(missing)): its DELETEs and key changes would not say which row they change",
                                    fix: "ALTER TABLE \(table.quotedName) REPLICA IDENTITY DEFAULT (or FULL), or exclude it")
        }
        for c in table.columns {
            if let why = TableSchema.unstorableColumnName(c.name) {
                throw UnreplicableTable(table: table.qualifiedName, reason: "column \(SQLQuoting.identifier(c.name)) \(why)",
                                        fix: "rename the column, or exclude the table (--exclude \(table.qualifiedName))")
            }
        }
        return keys
    }

    /// Column mappings from (name, type OID, type modifier). Every column is nullable in the store: Relation messages
    /// carry no NOT NULL, and the same column must map identically from the catalog and from the stream (or each
    /// restart would start a new schema version).
    static func mappings(_ columns: [(name: String, typeOID: UInt32, typeModifier: Int32)]) -> [ColumnMapping] {
        columns.map { ColumnMapping(name: $0.name, typeOID: $0.typeOID, typeModifier: $0.typeModifier) }
    }

    /// The mappings of a Relation message's columns (the same as from the catalog).
    static func mappings(_ r: RelationMessage) -> [ColumnMapping] {
        mappings(r.columns.map { ($0.name, $0.typeOID, $0.typeModifier) })
    }

    /// The key: configured key columns (with REPLICA IDENTITY FULL), else the primary key, else the columns of the
    /// replica identity index (`REPLICA IDENTITY USING INDEX`: a unique index on NOT NULL columns, which every DELETE
    /// and key change carries). A table whose replica identity is NOTHING has none.
    func keyColumns(_ t: SourceTable) throws -> [String] {
        let name = t.qualifiedName
        // Published, a table without a replica identity makes PostgreSQL refuse its UPDATEs and DELETEs on the source.
        if t.replicaIdentity == "n" {
            throw UnreplicableTable(table: name, reason: "its REPLICA IDENTITY is NOTHING: published, its UPDATEs and DELETEs would fail on the source",
                                    fix: "ALTER TABLE \(t.quotedName) REPLICA IDENTITY DEFAULT (with a primary key) or FULL, or exclude it")
        }
        // The config key as JSON writes it (a name may hold quotes).
        let jsonKey = "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        if let key = config.tableSettings[name]?.key {
            for k in key where !t.columns.contains(where: { $0.name == k }) {
                throw UnreplicableTable(table: name, reason: "configured key column \(k) does not exist",
                                        fix: "correct tableSettings.\(jsonKey).key")
            }
            if t.primaryKey.isEmpty && t.replicaIdentity != "f" {
                throw UnreplicableTable(table: name, reason: "it has no primary key and its replica identity is not FULL",
                                        fix: "ALTER TABLE \(t.quotedName) REPLICA IDENTITY FULL, or add a primary key")
            }
            return key
        }
        guard !t.primaryKey.isEmpty else {
            if t.replicaIdentity == "i", !t.replicaIdentityColumns.isEmpty { return t.replicaIdentityColumns }
            throw UnreplicableTable(table: name, reason: "it has no primary key, so its updates and deletes cannot be keyed",
                                    fix: "add a primary key; or make a unique index on NOT NULL columns its replica identity (ALTER TABLE \(t.quotedName) REPLICA IDENTITY USING INDEX ...), which becomes the key; or set REPLICA IDENTITY FULL and give its key columns in the config (tableSettings.\(jsonKey).key); or exclude it")
        }
        return t.primaryKey
    }

    /// The configured partitioning, else a hash of the key into one bucket per ~1 GiB of table (1…64): small tables
    /// get one partition, so a commit writes one part per table rather than many tiny ones.
    func partitioning(_ table: String, pages: Int64 = 0) -> PartitionSpec {
        switch config.tableSettings[table]?.partition {
        case nil: return .keyHash(buckets: Int(min(64, max(1, pages * 8192 / (1 << 30)))))
        case .none?: return PartitionSpec.none
        case let .hash(n)?: return .keyHash(buckets: n)
        case let .column(c)?: return .value(column: c)
        case let .time(c, b)?: return .time(column: c, bucket: TimeBucket(rawValue: b.rawValue) ?? .day)
        }
    }

    /// Whether `name` (`schema.table`) is in the configured scope (schemas or tables, minus exclusions).
    func inScope(schema: String, name: String) -> Bool {
        let qualified = TableName(schema: schema, table: name).qualifiedName
        if config.exclude.contains(qualified) { return false }
        if !config.tables.isEmpty { return config.tables.contains(qualified) }
        return config.schemas.contains(schema)
    }
}
