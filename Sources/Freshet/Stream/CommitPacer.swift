import Foundation

/// The minimum age a caught-up batch reaches before it is committed (`CommitPolicy`'s `spacing`), chosen from the
/// commits just finished so that commit-to-visible stays within `Config.BatchLimits.maxAge`.
///
/// Group commit alone commits as fast as the disk allows (about 50 commits a second on the development VM at
/// 2,000 tx/s). Every commit costs a part per table, a manifest per table, a checkpoint and, later, merges of the
/// small parts, so CPU grows with the commit rate. A batch that waits `spacing` seconds (counted from the receipt of
/// its oldest transaction) makes fewer, larger commits while the lag has room to spare.
///
/// For each finished commit that carried transactions the pacer records its *overhead*: from the moment the apply
/// thread started it (staging; the committer was free by then, or it would not have started) to the moment its
/// checkpoint was durable. The spacing is `goal − overhead`, where the overhead is a high one of the recent commits
/// (the second largest of the last `window`, about their 95th percentile), bounded by `0 ... maxSpacing`; `goal` is
/// 70% of `maxAge`, leaving the rest for PostgreSQL's own delay.
///
/// What that bounds: a batch's commit starts at `max(spacing, committer free)` after its first receipt, so its oldest
/// row is visible after `max(spacing, free) + own` ≤ `max(spacing + own, free + own)`. The second term is plain group
/// commit's lag; the first is `goal + (own − high)`, above the goal only for the slowest few commits. The wait for the
/// commit in flight is left out of the overhead: counted in, it kept the spacing at 0 whenever commits ran back to back,
/// which is exactly when pacing saves most. The median instead of the high one was tried: on the shared VM (commit
/// p99 100–170 ms against a 10–30 ms median) it added the spacing to the tail, lag p99 115 → 222 ms. When the commits
/// themselves are slow (a busy disk: the high overhead ≥ goal), the spacing is 0: plain group commit.
struct CommitPacer: Sendable {
    /// The receipt-to-visible time the pacing aims at for the slower commits.
    let goal: Double
    /// The largest spacing ever used.
    let maxSpacing: Double
    /// How many recent commits the overhead is taken from.
    static let window = 32
    private var overheads: [Double] = []
    private var next = 0
    /// The current spacing in seconds (0 until a commit has finished).
    private(set) var spacing: Double = 0

    /// A pacer for a stream whose lag target is `limits.maxAge`: goal 70% of it, spacing at most 40% of it and
    /// at most 50 ms (a quiet table's row never waits longer for pacing, whatever the configured age).
    init(limits: Config.BatchLimits) {
        goal = 0.7 * limits.maxAge
        maxSpacing = min(0.4 * limits.maxAge, 0.05)
    }

    /// Records one finished commit: `overhead` seconds from its start to its durable checkpoint.
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

    /// The second largest recent overhead (the largest when there is only one).
    var high: Double {
        var first = 0.0, second = 0.0
        for v in overheads {
            if v > first { second = first; first = v } else if v > second { second = v }
        }
        return overheads.count < 2 ? first : second
    }
}
