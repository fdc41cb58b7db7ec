import ColumnStore
import PostgresReplication

/// A table of the source database as the catalog describes it.
public struct SourceTable: Sendable, Equatable {
    public var oid: UInt32
    public var schema: String
    public var name: String
    public var columns: [SourceColumn]
    /// Primary key column names in key order (empty when the table has none).
    public var primaryKey: [String]
    /// `relreplident`: d default, n nothing, f full, i index.
    public var replicaIdentity: Character
    /// The columns of the replica identity index (`indisreplident`), with `replicaIdentity` "i"; else empty.
    public var replicaIdentityColumns: [String] = []
    /// Estimated rows (`reltuples`, -1 when never analysed) and pages, for progress and parallel ranges. For a
    /// partitioned table: the sums over its leaf partitions.
    public var estimatedRows: Int64
    public var pages: Int64
    /// The leaf partitions of a partitioned table (`relkind` 'p'), empty for an ordinary table. The store keeps a
    /// partitioned table as one table; the snapshot copies it leaf by leaf.
    public var partitions: [SourcePartition] = []
    /// True for a partitioned table.
    public var isPartitioned = false
    /// True for an `UNLOGGED` table (`relpersistence` 'u'): its changes are not in the WAL, and no publication takes it.
    public var unlogged = false

    /// The table's name, as the store, the config and the CLI spell it (`TableName`).
    public var tableName: TableName { TableName(schema: schema, table: name) }
    /// `schema.table` (a part in double quotes when it holds `.` or `"`), the name used in the store and in the config.
    public var qualifiedName: String { tableName.qualifiedName }
    /// `"schema"."table"` for SQL.
    public var quotedName: String { SQLQuoting.qualified(schema: schema, name: name) }
}

/// A leaf partition of a partitioned source table.
public struct SourcePartition: Sendable, Equatable, Codable {
    public var oid: UInt32
    public var schema: String
    public var name: String
    public var pages: Int64
    public var estimatedRows: Int64
    /// `pg_class.relfilenode`: a new one means the partition was truncated or rewritten (nil where not read).
    public var fileNode: UInt32? = nil

    /// `"schema"."table"` for SQL.
    public var quotedName: String { SQLQuoting.qualified(schema: schema, name: name) }
}

/// A column of a source table.
public struct SourceColumn: Sendable, Equatable {
    public var name: String
    public var typeOID: UInt32
    public var typeModifier: Int32
    public var notNull: Bool
    /// `pg_attribute.attnum`: the column's identity across renames.
    public var attnum: Int16 = 0
    /// True when `ALTER TABLE ... ADD COLUMN ... DEFAULT` gave existing rows a value without writing them
    /// (`atthasmissing`): the WAL never carries it for those rows.
    public var hasMissingValue = false
    /// True when the column has a default expression or is an identity column (`atthasdef`, `attidentity`): added to a
    /// table with rows, a volatile default or an identity rewrites the table to fill them, without a WAL record per row.
    public var hasDefault = false
    /// The type's output function (`pg_type.typoutput`) as a quoted qualified name, e.g. `"pg_catalog"."inet_out"`:
    /// the snapshot calls it to get exactly the text pgoutput sends. Nil for an output function outside `pg_catalog`
    /// (an extension's: calling it would need USAGE on its schema); the snapshot then selects `format('%s', col)`,
    /// which calls the same function.
    public var outputFunction: String? = nil

    /// The column's type as the ledger records it (`typeOID:typmod`), to see `ALTER COLUMN ... TYPE`.
    public var typeTag: String { "\(typeOID):\(typeModifier)" }
}
