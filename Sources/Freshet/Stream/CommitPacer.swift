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
/// checkpoint was durable. The spacing is `goal − overhead`, where the overhead is the median of the last `window`
/// commits, bounded by `0 ... maxSpacing`; `goal` is half of `maxAge`, leaving the other half for PostgreSQL's own
/// delay and the commits slower than the median.
///
/// What that bounds: a batch's commit starts at `max(spacing, committer free)` after its first receipt, so its oldest
/// row is visible after `max(spacing, free) + own` ≤ `max(spacing + own, free + own)`. The second term is plain group
/// commit's lag; the first is `goal + (own − median)`. So a row waits longer than with group commit only up to the goal
/// plus how much its commit was slower than the median (on the quiet VM the own time is about 10–15 ms at the median
/// and 30 ms at the p99: 50 + 20 ms from receipt). The wait for the commit in flight is left out of the overhead:
/// counted in, it kept the spacing at 0 whenever commits ran back to back, which is exactly when pacing saves most.
/// When the commits themselves are slow (a busy disk: median ≥ goal), the spacing is 0: plain group commit.
struct CommitPacer: Sendable {
    /// The receipt-to-visible time the pacing aims at for a commit of median duration.
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

    /// Records one finished commit: `overhead` seconds from its start to its durable checkpoint.
    mutating func record(overhead: Double) {
        let value = max(0, overhead)
        if overheads.count < Self.window {
            overheads.append(value)
        } else {
            overheads[next] = value
            next = (next + 1) % Self.window
        }
        spacing = min(maxSpacing, max(0, goal - median))
    }

    /// The median of the recent overheads (the upper one of an even count).
    var median: Double {
        overheads.isEmpty ? 0 : overheads.sorted()[overheads.count / 2]
    }
}
