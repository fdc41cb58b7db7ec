import Foundation

extension Store {
    /// The next merge that brings a merge domain with more than `mergeMaxParts` parts closer to one part, so that
    /// `compact` never merges more parts at once than the background merger (each input holds one row group in
    /// memory: a compaction of every part at once grew with their number, 431 MB for the ~100 parts a 2M-row wide
    /// transaction leaves). Nil when no domain needs one, or none of its runs may merge alone (then `compact` merges
    /// the domain at once, as before). Only key-derived partitionings: a routed merge may not shrink the domain.
    ///
    /// A run here is parts consecutive in manifest order (the tie-break between equal versions) of which every part
    /// before it holds only versions at or below the run's lowest, and every part after it only versions at or above
    /// its highest: the merge's output takes the run's place in the order (`commitMerge`), so every key's versions
    /// keep their order against the parts outside, and unchanged columns are filled only from the versions just below.
    /// This takes the chunks of one large transaction, which share one version after the first
    /// `StreamApplier.chunkVersions` and which the background merger's version-adjacency test never merges.
    func planCompactionRound(_ m: Manifest) -> MergePlan? {
        guard m.partitioning.isDerivedFromKey(m.keyColumns) else { return nil }
        let maxParts = max(2, options.mergeMaxParts)
        let order = m.partOrder
        for domain in mergeDomains(m) where domain.count > maxParts {
            let parts = domain.sorted { (order[$0.path] ?? 0) < (order[$1.path] ?? 0) }
            for size in stride(from: maxParts, through: 2, by: -1) {
                // Of the runs that may merge, the one of the lowest levels: a round's output (one level up) is merged
                // again only at the end, so every row is rewritten about twice, not once per round.
                var best: (level: Int, run: ArraySlice<PartEntry>)?
                for start in 0...(parts.count - size) {
                    let end = start + size
                    let run = parts[start..<end]
                    let lo = run.map(\.minVersion).min() ?? 0, hi = run.map(\.maxVersion).max() ?? 0
                    let level = run.map(\.level).max() ?? 0
                    if best.map({ level < $0.level }) ?? true,
                       parts[..<start].allSatisfy({ $0.maxVersion <= lo }) && parts[end...].allSatisfy({ $0.minVersion >= hi }) {
                        best = (level, run)
                    }
                }
                if let best {
                    return MergePlan(table: m.table, inputs: Array(best.run), dropTombstones: false, routeByPartition: false)
                }
            }
        }
        return nil
    }
}
