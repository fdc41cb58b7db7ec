import ColumnStore
import Foundation

/// One column of a ClickHouse table as the sink creates it from a store column: its ClickHouse type, and how its
/// values are written in RowBinary.
struct ClickHouseColumn: Sendable, Equatable {
    /// How a value goes into RowBinary.
    typealias Encoding = RowBinaryColumn.Field

    let name: String
    let storeType: StoreType
    /// The ClickHouse type without `Nullable(...)`.
    let baseType: String
    let nullable: Bool
    let encoding: Encoding

    /// The type as written in DDL.
    var type: String { nullable ? "Nullable(\(baseType))" : baseType }

    /// Maps a store column. Key columns are never Nullable (ClickHouse refuses Nullable in ORDER BY). A `uuid`
    /// column is `UUID` unless `uuidAsText` (a table an earlier Freshet created with a String column there: 18.16
    /// cannot MODIFY String to UUID, so that column stays String until the table is copied afresh).
    init(_ c: ColumnDefinition, isKey: Bool, server: ClickHouseServer, uuidAsText: Bool = false) {
        name = c.name
        storeType = c.type
        nullable = c.nullable && !isKey
        switch c.type {
        case .bool: baseType = "UInt8"; encoding = .int(bytes: 1)
        case .int16: baseType = "Int16"; encoding = .int(bytes: 2)
        case .int32: baseType = "Int32"; encoding = .int(bytes: 4)
        case .int64: baseType = "Int64"; encoding = .int(bytes: 8)
        case .float32: baseType = "Float32"; encoding = .float32
        case .float64: baseType = "Float64"; encoding = .float64
        case let .decimal(p, s):
            baseType = "Decimal(\(p), \(s))"
            encoding = p <= 9 ? .int(bytes: 4) : (p <= 18 ? .int(bytes: 8) : .int128)
        case .string where c.annotation == .uuid && !uuidAsText: baseType = "UUID"; encoding = .uuid
        case .string, .bytes: baseType = "String"; encoding = .string
        case .date:
            baseType = server.hasDate32 ? "Date32" : "Int32"
            encoding = .int(bytes: 4)
        case .timestamp:
            baseType = server.hasDateTime64 ? "DateTime64(6)" : "Int64"
            encoding = .int(bytes: 8)
        case .timestamptz:
            baseType = server.hasDateTime64 ? "DateTime64(6, 'UTC')" : "Int64"
            encoding = .int(bytes: 8)
        }
    }

    /// True when `existing` (a type from `system.columns`) is ClickHouse's String, Nullable or not.
    static func isText(_ existing: String) -> Bool { existing == "String" || existing == "Nullable(String)" }

    /// Types as ClickHouse prints them compared without spaces and quotes' style (`Decimal(12, 2)` = `Decimal(12,2)`).
    static func sameType(_ a: String, _ b: String) -> Bool {
        a.filter { $0 != " " } == b.filter { $0 != " " }
    }
}
