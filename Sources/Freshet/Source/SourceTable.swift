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

    /// `schema.table`, the name used in the store and in the config.
    public var qualifiedName: String { "\(schema).\(name)" }
    /// `"schema"."table"` for SQL.
    public var quotedName: String { SQLQuoting.qualified(schema: schema, name: name) }
}

/// A column of a source table.
public struct SourceColumn: Sendable, Equatable {
    public var name: String
    public var typeOID: UInt32
    public var typeModifier: Int32
    public var notNull: Bool
    /// The type's output function (`pg_type.typoutput`) as a quoted qualified name, e.g. `"pg_catalog"."inet_out"`:
    /// the snapshot calls it to get exactly the text pgoutput sends. Nil for an output function outside `pg_catalog`
    /// (an extension's: calling it would need USAGE on its schema); the snapshot then selects `format('%s', col)`,
    /// which calls the same function.
    public var outputFunction: String?

    public init(name: String, typeOID: UInt32, typeModifier: Int32, notNull: Bool, outputFunction: String? = nil) {
        self.name = name; self.typeOID = typeOID; self.typeModifier = typeModifier; self.notNull = notNull
        self.outputFunction = outputFunction
    }
}
