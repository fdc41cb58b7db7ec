import ColumnStore
import Foundation

/// `freshet sql TABLE`: one SELECT over the current part files that deduplicates at read time.
enum SQL: FreshetCommand {
    static let name = "sql"
    static let summary = "print a DuckDB or ClickHouse query (or view) over a table's part files"
    static let usage = "freshet sql TABLE --store DIR --dialect duckdb|clickhouse [--view NAME] [--raw]"
    static let options: Set<String> = ["store", "dialect", "view"]
    static let flags: Set<String> = ["raw"]

    static func run(_ args: Arguments) throws {
        let table = try args.singleTable()
        guard let d = args.value("dialect"), let dialect = SQLDialect(rawValue: d) else {
            throw Arguments.UsageError(description: "--dialect duckdb|clickhouse is required")
        }
        let store = try Store.open(at: try args.storeURL(), options: readOnlyOptions())
        if args.flag("raw") {
            // Every stored row of the current parts, no dedup: what a scan costs without it (Tools/bench).
            guard dialect == .duckdb else { throw Arguments.UsageError(description: "--raw is for --dialect duckdb") }
            print(try store.rawSQL(table))
            return
        }
        let view = args.value("view")
        if dialect == .duckdb, view != nil { print(metadataCacheSetting) }
        print(try store.sql(table, dialect: dialect, view: view))
    }

    /// Printed before a DuckDB view: each query of the view binds its part glob several times, and every binding
    /// reads the footer of each file the glob matches; with the cache DuckDB parses each (immutable, uniquely
    /// named) part's footer once per session. It is a session setting: DuckDB does not store it with the view.
    static let metadataCacheSetting = "SET parquet_metadata_cache = true;  -- footers parsed once per session (docs/store-format.md)"
}
