import ColumnStore
import Foundation

/// `freshet scan TABLE`: the table's current rows (FINAL) as CSV or JSON lines: partition by partition on every core,
/// in no particular order across partitions (`ReadOrder.any`), or in key order with `--key-order`.
enum Scan: FreshetCommand {
    static let name = "scan"
    static let summary = "print a table's current rows (deduplicated)"
    static let usage = "freshet scan TABLE --store DIR [--columns a,b] [--where 'col=v' ...] [--limit N] [--format csv|jsonl] [--key-order]"
    static let options: Set<String> = ["store", "columns", "where", "limit", "format"]
    static let flags: Set<String> = ["key-order"]

    static func run(_ args: Arguments) throws {
        let table = try args.singleTable()
        let format = try args.value("format").map {
            guard let f = RowFormat(rawValue: $0) else { throw Arguments.UsageError(description: "--format csv|jsonl") }
            return f
        } ?? .csv
        let store = try Store.open(at: try args.storeURL(), options: readOnlyOptions())
        let columns = args.value("columns").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        var reader = try store.read(table, columns: columns, where: try args.all("where").map(ColumnPredicate.init(parsing:)),
                                    order: args.flag("key-order") ? .key : .any)
        var remaining = try args.integer("limit") ?? Int.max
        let out = FileHandle.standardOutput
        if let h = format.header(reader.columns) { out.write(Data((h + "\n").utf8)) }
        while remaining > 0, var batch = try reader.next() {
            if batch.count > remaining { batch = batch.prefix(remaining) }
            remaining -= batch.count
            var text = ""
            format.render(batch, into: &text)
            out.write(Data(text.utf8))
        }
    }
}

/// Options of the read-only commands.
func readOnlyOptions() -> StoreOptions {
    var o = StoreOptions()
    o.readOnly = true
    return o
}
