/// When the stream applier starts a store commit of the rows it holds (group commit).
///
/// Checked at transaction boundaries, after each received chunk, and when the commit in flight finishes:
/// - a batch at its row or byte limit is committed at once (`StreamApplier`, after the commit in flight);
/// - otherwise, while the committer is busy (a commit waits to be taken, or is in its first fsync round), rows wait:
///   they go into the next commit, together with everything that arrives meanwhile, whichever table they belong to.
///   While a commit is only being finished (manifest and checkpoint renames) the committer is free: the next commit
///   is staged and prepared on top of it (`StoreCommitter`);
/// - when no commit is in flight and nothing more is queued (caught up), the rows are committed once the batch is
///   `spacing` old (`CommitPacer`: 0 while commits are slow, up to 50 ms while the lag has room): a row of a rarely
///   written table never waits for a busy table's batch to age, and commit-to-visible is about the spacing plus one or
///   two store commits;
/// - when events are still queued (catching up on a backlog), the batch keeps growing until `behindAge`, so a backlog
///   drains in large commits rather than one per chunk.
enum CommitPolicy {
    /// True when a batch whose oldest transaction was received `age` seconds ago is committed now; `spacing` is the
    /// age a caught-up batch waits for (`CommitPacer.spacing`).
    static func commitsNow(age: Double, caughtUp: Bool, committerBusy: Bool, limits: Config.BatchLimits,
                           spacing: Double = 0) -> Bool {
        if committerBusy { return false }
        return caughtUp ? age >= spacing : age >= behindAge(limits)
    }

    /// The age at which a batch is committed even though more events are queued: `max(1 s, 4 × batch.maxAge)`.
    static func behindAge(_ limits: Config.BatchLimits) -> Double { max(1, 4 * limits.maxAge) }
}
