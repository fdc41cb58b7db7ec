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
        print(try store.sql(table, dialect: dialect, view: args.value("view")))
    }
}
