import Foundation

/// One column of a table as the replicator declares it.
public struct ColumnDefinition: Sendable, Hashable, Codable {
    public var name: String
    public var type: StoreType
    public var nullable: Bool
    /// What the store type does not say about the source column (nil: nothing): a `uuid` column is stored as its
    /// canonical text, and a sink may send it as a native UUID.
    public var annotation: ColumnAnnotation?

    public init(_ name: String, _ type: StoreType, nullable: Bool = true, annotation: ColumnAnnotation? = nil) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.annotation = annotation
    }
}

/// The source type of a column where its store type loses it (recorded in the manifest's schema versions, never in
/// part files: Parquet readers such as Spark reject the UUID annotation).
public enum ColumnAnnotation: String, Sendable, Hashable, Codable {
    /// A PostgreSQL `uuid`, stored as `string` in canonical lower-case text.
    case uuid
}

/// A table's shape: ordered columns plus the names of the key columns (the dedup key, like ClickHouse's ORDER BY).
public struct TableSchema: Sendable, Hashable, Codable {
    public var columns: [ColumnDefinition]
    public var keyColumns: [String]

    public init(columns: [ColumnDefinition], keyColumns: [String]) {
        self.columns = columns
        self.keyColumns = keyColumns
    }

    /// Names the store reserves for its own columns in part files.
    public static let reservedNames: Set<String> = ["_version", "_deleted", "_unchanged"]

    /// Index of the column called `name`.
    public func index(of name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// Indexes of the key columns, in key order.
    var keyIndexes: [Int] { keyColumns.compactMap { index(of: $0) } }

    /// Why a column name cannot be stored, or nil: the internal columns' names are reserved, and the marker of
    /// TOAST-unchanged columns lists names separated by commas.
    public static func unstorableColumnName(_ name: String) -> String? {
        if reservedNames.contains(name) { return "is reserved for the store's own column \(name)" }
        if name.isEmpty { return "is empty" }
        if name.contains(",") { return "contains a comma" }
        return nil
    }

    /// Throws when the schema cannot be stored (no key, unknown key column, duplicate or reserved names).
    func validate(table: String) throws {
        var seen = Set<String>()
        for c in columns {
            if TableSchema.unstorableColumnName(c.name) != nil {
                throw StoreError.invalidSchema(table: table, reason: "column name '\(c.name)' is reserved or invalid")
            }
            if !seen.insert(c.name).inserted {
                throw StoreError.invalidSchema(table: table, reason: "duplicate column '\(c.name)'")
            }
        }
        if keyColumns.isEmpty { throw StoreError.invalidSchema(table: table, reason: "no key columns") }
        for k in keyColumns where index(of: k) == nil {
            throw StoreError.invalidSchema(table: table, reason: "key column '\(k)' is not a column")
        }
    }
}
