import Foundation

/// SQL engines `freshet sql` writes for.
public enum SQLDialect: String, Sendable, CaseIterable { case duckdb, clickhouse }

/// Builds one SELECT over a table's part files that returns what the FINAL reader returns: per key the newest row
/// unless it is a tombstone, each column taken from the newest row that does not mark it unchanged (`_unchanged`
/// holds `,col,` markers), NULLs kept (DuckDB `arg_max_null`; ClickHouse `argMax` over a tuple, which is never NULL).
///
/// DuckDB: a *query-time* view. The part files are found by a glob over `parts/*/*.parquet` and kept only when the
/// manifest, read by the same query, lists them as committed at the query's transaction start (`now()`): parts added
/// at or before it, and parts removed after it (still on disk, listed under `removed`). So a view created once
/// follows every later commit, merge, truncate and resync, and never reads staged or superseded rows
/// (docs/store-format.md, "Query-time views").
///
/// ClickHouse: a snapshot of the current part list (`file()` over a glob of the part names), to be regenerated after
/// commits.
public enum SQLView {
    /// Thrown when a path cannot be written as a glob.
    public struct UnsafePath: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "path \(path) contains a glob character; the SQL cannot name it" }
    }

    /// Thrown for DuckDB when two columns' names differ only in case: DuckDB matches names case-insensitively (it
    /// reads a part's `A` as `A_1` next to `a`), so the view would show one column's values under the other's name.
    public struct CaseCollision: Error, CustomStringConvertible {
        public let table: String
        public let names: [String]
        public var description: String {
            "table \(table): columns \(names.map { "\"\($0)\"" }.joined(separator: " and ")) differ only in case, which DuckDB cannot tell apart; read it with `freshet scan` or `--dialect clickhouse`, or rename one of them"
        }
    }

    /// The SELECT for `manifest`'s table in `tableDirectory`; `view` wraps it in CREATE VIEW.
    public static func select(_ m: Manifest, tableDirectory: URL, dialect: SQLDialect, view: String? = nil) throws -> String {
        let columns = m.readerColumns
        let keys = m.keyColumns.map(quote)
        let dir = tableDirectory.standardizedFileURL.path
        var select = [String]()
        for c in columns {
            let q = quote(c.name)
            if m.keyColumns.contains(c.name) { select.append(q); continue }
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
        let deleted = dialect == .duckdb ? "NOT arg_max(\"_deleted\", \"_version\")" : "argMax(\"_deleted\", \"_version\") = 0"
        let group = "GROUP BY \(keys.joined(separator: ", ")) HAVING \(deleted)"
        var sql: String
        switch dialect {
        case .duckdb:
            guard !dir.contains(where: { "*?[".contains($0) }) else { throw UnsafePath(path: dir) }
            var seen: [String: String] = [:]
            for name in columns.map(\.name) + ["_version", "_deleted", "_unchanged"] {
                if let other = seen.updateValue(name, forKey: name.lowercased()) {
                    throw CaseCollision(table: m.table, names: [other, name])
                }
            }
            // A row that is the only version of its key: each column as stored, NULL where it is marked unchanged
            // (no older value exists to carry forward), which is what the dedup makes of it.
            let plain = columns.map { c in
                m.keyColumns.contains(c.name) ? quote(c.name)
                    : "CASE WHEN \"_unchanged\" IS NULL OR position(\(literal("," + c.name + ",")) IN \"_unchanged\") = 0 THEN \(quote(c.name)) END AS \(quote(c.name))"
            }
            sql = DuckDBView.select(dir: dir, dedup: select, plain: plain, stored: columns.map { quote($0.name) },
                                    keys: keys, having: deleted)
        case .clickhouse:
            let names = m.parts.map { ($0.path as NSString).lastPathComponent }
            if names.isEmpty {
                let nulls = columns.map { "CAST(NULL AS \(sqlType($0.type, dialect))) AS \(quote($0.name))" }
                sql = "SELECT \(nulls.joined(separator: ", ")) WHERE false"
            } else {
                for n in names + [dir] where n.contains(where: { "*?[]{},".contains($0) }) { throw UnsafePath(path: n) }
                // Brace alternatives may not contain `/` (ClickHouse 26 finds no file then); part names are unique
                // across partitions, so one glob over the partition directories names exactly these parts.
                let stems = names.map { String($0.dropLast(PartFormat.fileExtension.count + 1)) }
                let pattern = dir + "/parts/*/" + (stems.count == 1 ? stems[0] : "{" + stems.joined(separator: ",") + "}")
                    + "." + PartFormat.fileExtension
                let structure = (columns.map { "\(quote($0.name)) \(sqlType($0.type, dialect))" }
                    + ["\"_version\" Int64", "\"_deleted\" Bool", "\"_unchanged\" Nullable(String)"]).joined(separator: ", ")
                sql = "SELECT \(select.joined(separator: ", ")) FROM file(\(literal(pattern)), 'Parquet', \(literal(structure))) \(group)"
            }
        }
        if let view { sql = "CREATE VIEW \(quote(view)) AS " + sql }
        return sql
    }

    /// A DuckDB SELECT of every row of the manifest's parts as stored, without dedup (all versions, tombstones,
    /// unchanged markers): a raw scan, to measure what read-time dedup costs.
    public static func rawSelect(_ m: Manifest, tableDirectory: URL) -> String {
        let paths = m.parts.map { literal(tableDirectory.appendingPathComponent($0.path).standardizedFileURL.path) }
        guard !paths.isEmpty else { return "SELECT NULL WHERE false" }
        return "SELECT * FROM read_parquet([\(paths.joined(separator: ", "))], union_by_name = true)"
    }

    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    static func sqlType(_ t: StoreType, _ d: SQLDialect) -> String {
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
    /// `SQLView.select` for `table`'s current manifest (DuckDB: a query-time view that follows later commits).
    public func sql(_ table: String, dialect: SQLDialect, view: String? = nil) throws -> String {
        let m = try manifest(table)
        if dialect == .duckdb, StoreFile.fileInfo(readerSchemaURL(table, m)) == nil {
            throw StoreError.corruptManifest(table: table, path: readerSchemaURL(table, m).path, reason:
                "reader-schema file missing (a store written by an older freshet gets it at the next `freshet run` or `freshet compact`)")
        }
        return try SQLView.select(m, tableDirectory: tableDirectory(table), dialect: dialect, view: view)
    }

    /// `SQLView.rawSelect` for `table`'s current manifest.
    public func rawSQL(_ table: String) throws -> String {
        SQLView.rawSelect(try manifest(table), tableDirectory: tableDirectory(table))
    }
}
