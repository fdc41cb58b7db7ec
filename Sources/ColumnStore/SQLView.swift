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
                select.append("arg_max_null(\(q), \"_version\") FILTER (WHERE \"_unchanged\" IS NULL OR position(\(marker) IN \"_unchanged\") = 0) AS \(q)")
            case .clickhouse:
                select.append("argMaxIf(tuple(\(q)), \"_version\", \"_unchanged\" IS NULL OR position(\"_unchanged\", \(marker)) = 0).1 AS \(q)")
            }
        }
        // A gone marker that passed the manifest filter (a part replaced while a query still needed it) has NULL keys:
        // its group fails the query. Checked per group, after the filter, so markers the filter drops cost nothing.
        let gone = literal("freshet: a part this query needs was deleted after the grace period (the query ran too long); run it again")
        let deleted = dialect == .duckdb
            ? "CASE WHEN \(keys[0]) IS NULL THEN error(\(gone)) ELSE NOT arg_max(\"_deleted\", \"_version\") END"
            : "argMax(\"_deleted\", \"_version\") = 0"
        let group = "GROUP BY \(keys.joined(separator: ", ")) HAVING \(deleted)"
        var sql: String
        switch dialect {
        case .duckdb:
            guard !dir.contains(where: { "*?[".contains($0) }) else { throw UnsafePath(path: dir) }
            sql = "SELECT \(select.joined(separator: ", ")) FROM \(duckdbSource(dir)) \(group)"
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

    /// The rows of the parts committed at the query's transaction start: every file under `parts/` by glob
    /// (the reader-schema file guarantees a match and every column), kept when the manifest — read once, by the same
    /// query — lists it as live at `now()`. A transaction older than the manifest's retained history, or a live part
    /// already replaced by the gone marker, fails the query instead of reading too little.
    static func duckdbSource(_ dir: String) -> String {
        let glob = literal(dir + "/parts/*/*." + PartFormat.fileExtension)
        let manifest = literal(dir + "/manifest.json")
        let entry = "STRUCT(path VARCHAR, \"addedMicros\" BIGINT, \"removedMicros\" BIGINT)[]"
        let columns = "{parts: \(literal(entry)), removed: \(literal(entry)), historySinceMicros: 'BIGINT'}"
        let asOf = "CASE WHEN epoch_us(now()) < coalesce(historySinceMicros, 0) THEN error(\(literal("freshet: this transaction started before the oldest part list the manifest at \(dir) still describes (grace period); start a new transaction"))) ELSE epoch_us(now()) END"
        let live = "SELECT \(literal(dir + "/")) || e.path FROM (SELECT unnest(list_concat(parts, coalesce(removed, []))) AS e, \(asOf) AS t "
            + "FROM read_json(\(manifest), format = 'auto', columns = \(columns))) "
            + "WHERE coalesce(e.\"addedMicros\", 0) <= t AND coalesce(e.\"removedMicros\", 9223372036854775807) > t"
        return "read_parquet(\(glob), filename = true, union_by_name = true, hive_partitioning = false) WHERE filename IN (\(live))"
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
    /// `SQLView.select` for `table`'s current manifest (DuckDB: a query-time view that follows later commits).
    public func sql(_ table: String, dialect: SQLDialect, view: String? = nil) throws -> String {
        let m = try manifest(table)
        if dialect == .duckdb, DurableFile.fileInfo(readerSchemaURL(table, m)) == nil {
            throw StoreError.corruptManifest(table: table, path: readerSchemaURL(table, m).path, reason:
                "reader-schema file missing (a store written by an older freshet gets it at the next `freshet run` or `freshet compact`)")
        }
        return try SQLView.select(m, tableDirectory: tableDirectory(table), dialect: dialect, view: view)
    }
}
