import Foundation

/// Whether the stream applier is catching up on a backlog, for `Store.holdSettles`: settles (whole-domain rewrites that
/// keep the query-time views at scan speed) wait until Freshet has caught up, so a catch-up keeps both cores for the
/// stream and does not rewrite domains that its next commits make recent again.
///
/// Behind means any of:
/// - events stayed queued at every tick for `queuedFor` seconds (a backlog of transactions);
/// - streamed in-progress transactions have spooled at least the batch byte limit (a large transaction, whose rows are
///   applied at its commit);
/// - a transaction larger than the batch limits is being applied (it is staged in chunks).
/// A steady load that the apply loop keeps up with empties the queue many times a second and holds nothing.
struct BacklogSignal {
    static let queuedFor: TimeInterval = 1

    private var lastCaughtUp = Date()
    private(set) var behind = false

    /// Updates the signal at a tick (`spoolLimit`: the batch byte limit); returns the new value when it changed.
    mutating func update(caughtUp: Bool, spooledBytes: Int, spoolLimit: Int, stagingLargeTransaction: Bool,
                         now: Date) -> Bool? {
        if caughtUp { lastCaughtUp = now }
        let isBehind = now.timeIntervalSince(lastCaughtUp) >= Self.queuedFor || spooledBytes >= spoolLimit
            || stagingLargeTransaction
        guard isBehind != behind else { return nil }
        behind = isBehind
        return isBehind
    }
}
