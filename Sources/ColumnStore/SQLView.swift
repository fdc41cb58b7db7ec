import Foundation

/// SQL engines `freshet sql` writes for.
public enum SQLDialect: String, Sendable, CaseIterable { case duckdb, clickhouse }

/// Builds one SELECT over a manifest's part files (absolute paths) that returns what the FINAL reader returns:
/// per key the newest row unless it is a tombstone, each column taken from the newest row that does not mark it
/// unchanged (`_unchanged` holds `,col,` markers), NULLs kept (DuckDB `arg_max_null`; ClickHouse `argMax` over a
/// tuple, which is never NULL).
public enum SQLView {
    /// The SELECT for `manifest`'s table in `directory` (the table directory); `view` wraps it in CREATE VIEW.
    public static func select(_ m: Manifest, tableDirectory: URL, dialect: SQLDialect, view: String? = nil) -> String {
        let columns = m.readerColumns
        let present = presentColumns(m)
        let keys = m.keyColumns.map(quote)
        let paths = m.parts.map { tableDirectory.appendingPathComponent($0.path).standardizedFileURL.path }
        var select = [String]()
        for c in columns {
            let q = quote(c.name)
            if m.keyColumns.contains(c.name) { select.append(q); continue }
            guard present.contains(c.name) else {
                select.append("CAST(NULL AS \(sqlType(c.type, dialect))) AS \(q)")
                continue
            }
            let marker = literal("," + c.name + ",")
            switch dialect {
            case .duckdb:
                let filter = "FILTER (WHERE \"_unchanged\" IS NULL OR position(\(marker) IN \"_unchanged\") = 0)"
                if c.type == .float32 {
                    // DuckDB's arg_max of a FLOAT turns -0.0 into 0.0 (1.x, 2.0); through DOUBLE the sign is kept.
                    select.append("CAST(arg_max_null(CAST(\(q) AS DOUBLE), \"_version\") \(filter) AS FLOAT) AS \(q)")
                } else {
                    select.append("arg_max_null(\(q), \"_version\") \(filter) AS \(q)")
                }
            case .clickhouse:
                select.append("argMaxIf(tuple(\(q)), \"_version\", \"_unchanged\" IS NULL OR position(\"_unchanged\", \(marker)) = 0).1 AS \(q)")
            }
        }
        var sql: String
        if paths.isEmpty {
            let nulls = columns.map { "CAST(NULL AS \(sqlType($0.type, dialect))) AS \(quote($0.name))" }
            sql = "SELECT \(nulls.joined(separator: ", ")) WHERE false"
        } else {
            let source: String
            switch dialect {
            case .duckdb:
                source = "read_parquet([\(paths.map(literal).joined(separator: ", "))], union_by_name = true)"
            case .clickhouse:
                source = paths.count == 1 ? "file(\(literal(paths[0])), 'Parquet')"
                    : "file(\(literal("{" + paths.joined(separator: ",") + "}")), 'Parquet')"
            }
            let deleted = dialect == .duckdb ? "NOT arg_max(\"_deleted\", \"_version\")" : "argMax(\"_deleted\", \"_version\") = 0"
            sql = "SELECT \(select.joined(separator: ", ")) FROM \(source) GROUP BY \(keys.joined(separator: ", ")) HAVING \(deleted)"
        }
        if let view { sql = "CREATE VIEW \(quote(view)) AS " + sql }
        return sql
    }

    /// Columns that at least one part file holds: a level-0 part has its schema version's columns; a merged part has
    /// the union of all versions up to its own.
    static func presentColumns(_ m: Manifest) -> Set<String> {
        var out = Set<String>()
        for p in m.parts {
            for v in m.schemaVersions where v.version == p.schemaVersion || (p.level > 0 && v.version <= p.schemaVersion) {
                out.formUnion(v.columns.map(\.name))
            }
        }
        return out
    }

    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    static func sqlType(_ t: ColumnType, _ d: SQLDialect) -> String {
        switch (t, d) {
        case (.bool, .duckdb): return "BOOLEAN"
        case (.bool, .clickhouse): return "Nullable(Bool)"
        case (.int16, .duckdb): return "SMALLINT"
        case (.int16, .clickhouse): return "Nullable(Int16)"
        case (.int32, .duckdb): return "INTEGER"
        case (.int32, .clickhouse): return "Nullable(Int32)"
        case (.int64, .duckdb): return "BIGINT"
        case (.int64, .clickhouse): return "Nullable(Int64)"
        case (.float32, .duckdb): return "FLOAT"
        case (.float32, .clickhouse): return "Nullable(Float32)"
        case (.float64, .duckdb): return "DOUBLE"
        case (.float64, .clickhouse): return "Nullable(Float64)"
        case let (.decimal(p, s), .duckdb): return "DECIMAL(\(p),\(s))"
        case let (.decimal(p, s), .clickhouse): return "Nullable(Decimal(\(p),\(s)))"
        case (.string, .duckdb): return "VARCHAR"
        case (.string, .clickhouse), (.bytes, .clickhouse): return "Nullable(String)"
        case (.bytes, .duckdb): return "BLOB"
        case (.date, .duckdb): return "DATE"
        case (.date, .clickhouse): return "Nullable(Date32)"
        case (.timestamp, .duckdb): return "TIMESTAMP"
        case (.timestamp, .clickhouse): return "Nullable(DateTime64(6))"
        case (.timestamptz, .duckdb): return "TIMESTAMPTZ"
        case (.timestamptz, .clickhouse): return "Nullable(DateTime64(6, 'UTC'))"
        }
    }
}

extension Store {
    /// `SQLView.select` for `table`'s current manifest.
    public func sql(_ table: String, dialect: SQLDialect, view: String? = nil) throws -> String {
        SQLView.select(try manifest(table), tableDirectory: tableDirectory(table), dialect: dialect, view: view)
    }
}
