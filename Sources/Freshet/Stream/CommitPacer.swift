import Foundation

/// The minimum age a caught-up batch reaches before it is committed (`CommitPolicy`'s `spacing`), chosen from the
/// commits just finished so that commit-to-visible stays within `Config.BatchLimits.maxAge`.
///
/// Group commit alone commits as fast as the disk allows (about 50 commits a second on the development VM at
/// 2,000 tx/s). Every commit costs a part per table, a manifest per table, a checkpoint and, later, merges of the
/// small parts, so CPU grows with the commit rate. A batch that waits `spacing` seconds (counted from the receipt of
/// its oldest transaction) makes fewer, larger commits while the lag has room to spare.
///
/// For each finished commit the pacer records its *overhead*: from the moment the batch was due (its oldest receipt
/// plus the spacing it waited for) to the moment its checkpoint was durable — the wait for the commit in flight, the
/// staging and both halves of the commit. A row then waits at most `spacing + overhead` after its receipt. The spacing
/// is `goal − overhead`, where the overhead is a high one of the recent commits (the second largest of the last
/// `window`), bounded by `0 ... maxSpacing`: when commits are slow (a busy disk) the spacing drops to 0, which is plain
/// group commit. `goal` is half of `maxAge`, leaving the other half for PostgreSQL's own delay and the tail.
struct CommitPacer: Sendable {
    /// The receipt-to-visible time the pacing aims at for its high quantile.
    let goal: Double
    /// The largest spacing ever used.
    let maxSpacing: Double
    /// How many recent commits the overhead is taken from.
    static let window = 32
    private var overheads: [Double] = []
    private var next = 0
    /// The current spacing in seconds (0 until a commit has finished).
    private(set) var spacing: Double = 0

    /// A pacer for a stream whose lag target is `limits.maxAge`: goal half of it, spacing at most 40% of it and
    /// at most 50 ms (a quiet table's row never waits longer for pacing, whatever the configured age).
    init(limits: Config.BatchLimits) {
        goal = limits.maxAge / 2
        maxSpacing = min(0.4 * limits.maxAge, 0.05)
    }

    /// Records one finished commit: `overhead` seconds from when its batch was due to when it was durable.
    mutating func record(overhead: Double) {
        let value = max(0, overhead)
        if overheads.count < Self.window {
            overheads.append(value)
        } else {
            overheads[next] = value
            next = (next + 1) % Self.window
        }
        spacing = min(maxSpacing, max(0, goal - high))
    }

    /// The second largest recent overhead (the largest when there is one): about the 95th percentile of 32.
    var high: Double {
        var first = 0.0, second = 0.0
        for v in overheads {
            if v > first { second = first; first = v } else if v > second { second = v }
        }
        return overheads.count < 2 ? first : second
    }
}
