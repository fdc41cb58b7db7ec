import Foundation

extension Manifest {
    /// Sets each part's `settled` and `clean` flags, which the DuckDB view reads instead of working them out per query
    /// (docs/store-format.md, "Query-time views"). Per merge domain (a partition of a key-derived partitioning, else
    /// the whole table), the settled part is `Store.settledPart(of:)`: unique keys, versions below every other part's.
    /// It is clean when it is the domain's only part and holds no tombstone and no unchanged marker (counted when the
    /// part was written; unknown counts as some). The flags describe `parts` exactly as listed, so a view uses them
    /// only when its transaction started at or after `commitMicros`.
    mutating func classifyForViews() {
        let keyDerived = partitioning.isDerivedFromKey(keyColumns)
        let domains = Dictionary(grouping: parts.indices, by: { keyDerived ? parts[$0].partition : "" })
        for indexes in domains.values {
            let domain = indexes.map { parts[$0] }
            let settled = Store.settledPart(of: domain)?.path
            for i in indexes {
                let s = parts[i].path == settled
                parts[i].settled = s ? true : nil
                parts[i].clean = s && indexes.count == 1 && parts[i].tombstones == 0 && parts[i].unchangedRows == 0 ? true : nil
            }
        }
    }
}
