import ColumnStore
import Foundation

/// `freshet scan TABLE`: the table's current rows (FINAL) as CSV or JSON lines: partition by partition on every core,
/// in no particular order (`ReadOrder.any`), each batch rendered on one of the cores too unless `--limit` is given; or
/// in key order, rendered on the calling thread, with `--key-order` (and always for a table of one partition).
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
        let keyOrder = args.flag("key-order")
        var reader = try store.read(table, columns: columns, where: try args.all("where").map(ColumnPredicate.init(parsing:)),
                                    order: keyOrder ? .key : .any)
        let limit = try args.integer("limit")
        let out = FileHandle.standardOutput
        if let h = format.header(reader.columns) { out.write(Data((h + "\n").utf8)) }
        if limit == nil && reader.streamCount > 1 {   // several partitions read in any order: render in any order too
            try ConcurrentRender(reader, format: format).run(threads: ProcessInfo.processInfo.activeProcessorCount)
            return
        }
        var remaining = limit ?? Int.max
        while remaining > 0, var batch = try reader.next() {
            if batch.count > remaining { batch = batch.prefix(remaining) }
            remaining -= batch.count
            var text = ""
            format.render(batch, into: &text)
            out.write(Data(text.utf8))
        }
    }
}

/// Renders an unordered read's batches on several threads: each takes the next batch from the reader, renders it and
/// writes its text to standard output whole (batches never interleave; their order is free).
private final class ConcurrentRender: @unchecked Sendable {
    private let readLock = NSLock(), writeLock = NSLock()
    private var reader: FinalReader
    private let format: RowFormat
    private let out = FileHandle.standardOutput

    init(_ reader: FinalReader, format: RowFormat) {
        self.reader = reader
        self.format = format
    }

    /// Renders every batch on `threads` threads; throws the first read error.
    func run(threads: Int) throws {
        let errors = Parallel.forEach(max(1, threads)) { _ in
            while let batch = try self.readLock.withLock({ try self.reader.next() }) {
                var text = ""
                self.format.render(batch, into: &text)
                let data = Data(text.utf8)
                self.writeLock.withLock { self.out.write(data) }
            }
        }
        if let error = errors.compactMap({ $0 }).first { throw error }
    }
}

/// Options of the read-only commands.
func readOnlyOptions() -> StoreOptions {
    var o = StoreOptions()
    o.readOnly = true
    return o
}
