import Foundation

/// When the background merger *settles* a merge domain: merges all of its parts into one part with unique keys, so
/// that query-time views read it at scan speed (docs/store-format.md, "Settled parts").
///
/// Within a domain (a partition of a key-derived partitioning, else the whole table) the *settled* part is the one with
/// unique keys that is older than every other part; the others are *recent*. A DuckDB view returns settled rows
/// without deduplicating them, but must anti-join them against the recent keys: with updates spread over the key range
/// that join touches every settled row. Settling moves that work off the read path into one background merge (a
/// copy-on-write merge-on-write): it costs a rewrite of the domain, so it runs only when the recent rows are a
/// noticeable share of the domain, and either the domain has been quiet for a while or the share is large.
public struct SettlePolicy: Sendable, Equatable {
    /// Never settle while the recent rows are fewer than this share of the domain's rows (bounds the rewrite per
    /// recent row to 1 / `minimumShare`).
    public var minimumShare = 0.01
    /// Settle once no part of the domain was added for this long (the write burst is over)…
    public var quietSeconds: TimeInterval = 2
    /// …or at once when the recent rows reach this share of the domain's rows.
    public var share = 0.1

    public init() {}
}

/// Whether settles wait (`Store.holdSettles`): set by the replicator while it catches up on a backlog.
final class SettleHold: @unchecked Sendable {
    private let lock = NSLock()
    private var held = false

    var isHeld: Bool { lock.withLock { held } }

    /// Sets the hold; returns true when it changed.
    func set(_ hold: Bool) -> Bool { lock.withLock { defer { held = hold }; return held != hold } }
}

extension Store {
    /// While `hold` is true the merger settles nothing (size-tiered merges go on): a catch-up on a backlog keeps both
    /// cores for the stream instead of rewriting domains that the next commits make recent again. When the hold ends
    /// the merger is woken, so the domains settle once the store has caught up.
    public func holdSettles(_ hold: Bool) {
        if settleHold.set(hold), !hold { wakeMerger() }
    }

    /// The domains `options.settle` wants settled now, as plans merging each whole domain (tombstones dropped when the
    /// merge floors allow); none while `holdSettles` holds them. `now` is wall-clock microseconds.
    ///
    /// A domain that wants settling but has more parts than one merge may hold (`fitsMemory`) is first shrunk by a
    /// compaction round (`planCompactionRound`: at most `mergeMaxParts` parts consecutive in manifest order). The
    /// size-tiered merges never take such parts when they share one version — the snapshot's parts of a large table
    /// (one per ctid range, all at the slot's consistent point) and the chunks of one large transaction — so without
    /// the rounds such a domain was never settled and every DuckDB query kept deduplicating all of it.
    func planSettles(_ m: Manifest, now: Int64 = Manifest.nowMicros()) -> [MergePlan] {
        guard let policy = options.settle, !settleHold.isHeld else { return [] }
        let route = !m.partitioning.isDerivedFromKey(m.keyColumns)
        var tooLarge = false
        let plans: [MergePlan] = mergeDomains(m).compactMap { parts in
            guard parts.count > Set(parts.map(\.partition)).count else { return nil }
            let total = parts.reduce(0) { $0 + $1.rows }
            let settled = Self.settledPart(of: parts)
            let recent = total - (settled?.rows ?? 0)
            guard total > 0, Double(recent) >= policy.minimumShare * Double(total) else { return nil }
            let newest = parts.compactMap(\.addedMicros).max() ?? 0
            let quiet = now - newest >= Int64(policy.quietSeconds * 1_000_000)
            guard quiet || Double(recent) >= policy.share * Double(total) else { return nil }
            guard fitsMemory(parts) else { tooLarge = true; return nil }
            return MergePlan(table: m.table, inputs: parts, dropTombstones: mergeFloors.mayDropTombstones(m.table, parts),
                             routeByPartition: route)
        }
        if plans.isEmpty, tooLarge, let round = planCompactionRound(m) { return [round] }
        return plans
    }

    /// A merge holds one decoded row group of each input (at most `rowGroupBytes`; a small part's is about its file
    /// size times its compression, taken as 4): a settle waits, while the size-tiered merges shrink the domain, until
    /// that is no more than a size-tiered merge of `mergeMaxParts` parts may hold.
    func fitsMemory(_ inputs: [PartEntry]) -> Bool {
        let held = inputs.reduce(0) { $0 + ($1.bytes >= options.rowGroupBytes / 4 ? options.rowGroupBytes : max(0, $1.bytes) * 4) }
        return held <= options.mergeMaxParts * options.rowGroupBytes
    }

    /// The part of `domain` with unique keys whose versions are all below every other part's (what the DuckDB view
    /// reads without grouping), if any.
    /// Only the part with the lowest `minVersion` can be below every other (linear: every manifest commit asks it).
    static func settledPart(of domain: [PartEntry]) -> PartEntry? {
        guard let p = domain.min(by: { $0.minVersion < $1.minVersion }), p.uniqueKeys == true else { return nil }
        return domain.allSatisfy { $0.path == p.path || p.maxVersion < $0.minVersion } ? p : nil
    }
}
