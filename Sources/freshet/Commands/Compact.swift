import ColumnStore
import Foundation
import Freshet

/// `freshet compact TABLE`: merges the table to one part per partition (tombstones dropped, except those the
/// ClickHouse sink has not shipped yet).
enum Compact: FreshetCommand {
    static let name = "compact"
    static let summary = "merge a table down to one part per partition"
    static let usage = "freshet compact TABLE --store DIR"
    static let options: Set<String> = ["store"]

    static func run(_ args: Arguments) throws {
        let table = try args.singleTable()
        var options = StoreOptions()
        options.gracePeriod = 0
        let store = try Store.open(at: try args.storeURL(), options: options)
        ClickHouseSink.protectUnshipped(store)
        let r = try store.compact(table)
        store.collectGarbage(force: true)
        print("compacted \(table): \(r.merges) merges, \(r.inputParts) → \(r.outputParts) parts, \(r.outputRows) rows, \(r.inputBytes) → \(r.outputBytes) bytes")
    }
}
