/// Column changes that give existing rows new values without a WAL record per row, found by comparing a table's
/// columns now with the ledger's record of them (`SourceLedger.TableRecord.columns` and `types`). Each calls for a
/// fresh copy of the table (automatic resync). Used for every Relation message of a known table and by the catalog
/// watcher, which also sees changes no Relation message follows (DDL without later writes to the table).
enum ColumnChanges {
    /// The changes, each with its kind and a detail for the log.
    /// - Parameters:
    ///   - before: column name → attnum as recorded (empty when unknown: then only `added` columns with a default count).
    ///   - types: column name → type tag as recorded (`SourceColumn.typeTag`; a column without one is not compared).
    ///   - now: the catalog's columns now (attnums, defaults).
    ///   - nowTypes: column name → type tag now (from the Relation message in stream order, or from the catalog).
    ///   - added: columns that joined the layout (used when `before` is empty).
    static func detect(before: [String: Int16], types: [String: String], now: [SourceColumn],
                       nowTypes: [String: String], added: [String] = []) -> [(kind: SourceChangeKind, detail: String)] {
        var changes: [(kind: SourceChangeKind, detail: String)] = []
        for c in now where before[c.name] == nil {
            if let old = before.first(where: { $0.value == c.attnum })?.key {
                changes.append((.columnRenamed, "column \(old) renamed to \(c.name)"))
            }
        }
        let recreated = now.filter { c in before[c.name].map { $0 != c.attnum } ?? false }.map(\.name)
        if !recreated.isEmpty {
            changes.append((.columnRecreated, "columns \(recreated.joined(separator: ",")) dropped and added again"))
        }
        let retyped = now.filter { c in
            before[c.name] == c.attnum && types[c.name].map { old in nowTypes[c.name].map { $0 != old } ?? false } ?? false
        }.map(\.name)
        if !retyped.isEmpty {
            changes.append((.columnRetyped, "columns \(retyped.joined(separator: ",")) changed type (ALTER COLUMN ... TYPE rewrites the rows without a WAL record each)"))
        }
        let newColumns = before.isEmpty ? now.filter { added.contains($0.name) }
                                        : now.filter { before[$0.name] == nil && !before.values.contains($0.attnum) }
        let defaults = newColumns.filter { $0.hasMissingValue || $0.hasDefault }.map(\.name)
        if !defaults.isEmpty {
            changes.append((.addedColumnDefault, "columns \(defaults.joined(separator: ",")) added with a default or identity that existing rows take without a WAL record"))
        }
        return changes
    }
}
