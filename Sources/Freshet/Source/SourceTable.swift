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
    /// Estimated rows (`reltuples`, -1 when never analysed) and pages, for progress and parallel ranges.
    public var estimatedRows: Int64
    public var pages: Int64

    /// The table's name, as the store, the config and the CLI spell it (`TableName`).
    public var tableName: TableName { TableName(schema: schema, table: name) }
    /// `schema.table` (a part in double quotes when it holds `.` or `"`), the name used in the store and in the config.
    public var qualifiedName: String { tableName.qualifiedName }
    /// `"schema"."table"` for SQL.
    public var quotedName: String { SQLQuoting.qualified(schema: schema, name: name) }
}

/// A column of a source table.
public struct SourceColumn: Sendable, Equatable {
    public var name: String
    public var typeOID: UInt32
    public var typeModifier: Int32
    public var notNull: Bool
}
