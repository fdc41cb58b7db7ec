import ColumnStore
import Foundation

/// A store write that found the disk full (`ENOSPC`, or `EDQUOT` for a used-up quota) waits for space instead of
/// stopping Freshet, as production CDC tools do: the first failure of an episode is logged once (`store.disk_full`,
/// with the path, the errno's text, the free space and what the write needs), the replicator's state becomes
/// `disk_full` (`/healthz` answers 503, `freshet_store_disk_full` is 1, `freshet_errors_total{kind="disk_full"}` counts
/// the episode), and the same write is retried with capped exponential backoff until it succeeds
/// (`store.disk_space_back`) or a stop is requested (then the error is thrown: nothing was confirmed).
///
/// What makes a retry safe: a failed `Store.stage` removes its partial part file and keeps the batch (the rows stay in
/// memory until a stage succeeds); a failed `Store.commit` changes no manifest when it failed before renaming one
/// (`commit(_:to:)` checks that, and throws otherwise), and the checkpoint, so nothing is confirmed to PostgreSQL
/// before the retried commit is durable. A failed fsync is never retried (after one, Linux may drop the dirty pages
/// and report the next fsync as successful): the error is thrown, and the stream restarts from the checkpoint.
///
/// Thread-safe: the snapshot's workers share one.
final class DiskFullWait: @unchecked Sendable {
    let storePath: String
    let logger: Logger
    let stats: ReplicatorStats
    /// True once the replicator was asked to stop: the wait ends and the error is thrown.
    let isStopping: @Sendable () -> Bool
    /// Seconds before the first retry, doubled after each failure up to `maximumDelay`.
    let initialDelay: Double
    let maximumDelay: Double

    private let lock = NSLock()
    /// Since when the store's disk is known to be full (nil: not full), and the state to restore afterwards.
    private var fullSince: Date?
    private var stateBefore: (state: ReplicatorState, reason: String)?

    init(storePath: String, logger: Logger, stats: ReplicatorStats, initialDelay: Double = 0.5, maximumDelay: Double = 15,
         isStopping: @escaping @Sendable () -> Bool) {
        self.storePath = storePath
        self.logger = logger
        self.stats = stats
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.isStopping = isStopping
    }

    /// True while a write waits for space.
    var isFull: Bool { lock.withLock { fullSince != nil } }

    /// Runs `write` until it does not fail for a full disk. `needed`: bytes the write is about to put on disk, when
    /// known (for the log line). Other errors, and a disk-full one once a stop was requested, are thrown.
    func retrying<T>(_ what: String, needed: Int? = nil, _ write: () throws -> T) throws -> T {
        var delay = initialDelay
        while true {
            do {
                let result = try write()
                spaceBack()
                return result
            } catch let error as StoreError where DiskFullWait.mayRetry(error) && !isStopping() {
                full(error, what: what, needed: needed)
                sleep(delay)
                delay = min(delay * 2, maximumDelay)
            }
        }
    }

    /// Commits `commit`, retrying it while the disk is full and no manifest of it was renamed into place (a commit that
    /// failed part-way is not made twice: its error is thrown, and the stream restarts from the checkpoint).
    func commit(_ commit: StoreCommit, to store: Store) throws {
        let generations = Dictionary(uniqueKeysWithValues: commit.tables.keys.map { ($0, (try? store.manifest($0))?.generation) })
        try retrying("commit") {
            do { try store.commit(commit) } catch let error as StoreError where error.isDiskFull {
                if DiskFullWait.partlyApplied(commit, in: store, generations: generations) { throw CommitPartlyApplied(error) }
                throw error
            }
        }
    }

    /// Records a disk-full failure found outside `retrying` (the replicator restarts its stream after it), and waits
    /// `seconds` unless a stop is requested.
    func failedElsewhere(_ error: StoreError, what: String, wait seconds: Double) {
        full(error, what: what, needed: nil)
        sleep(seconds)
    }

    // MARK: episode

    private func full(_ error: StoreError, what: String, needed: Int?) {
        let first: Bool = lock.withLock {
            guard fullSince == nil else { return false }
            fullSince = Date()
            stateBefore = stats.state
            return true
        }
        // Again after a restarted stream set its own state.
        if stats.state.state != .diskFull {
            stats.setState(.diskFull, reason: "store disk full at \(storePath): \(DiskFullWait.errnoText(error))")
        }
        guard first else { return }
        stats.recordError("disk_full")
        logger.error("store.disk_full", [
            "path": storePath, "error": error.description, "during": what,
            "free_mb": DiskFullWait.freeBytes(storePath).map { "\(Self.megabytes($0))" } ?? "unknown",
            "needed_mb": needed.map { "\(Self.megabytes($0))" } ?? "unknown",
            "note": "waiting for space: the write is retried (every \(Int(maximumDelay)) s at most); nothing is confirmed to PostgreSQL meanwhile",
        ])
    }

    private func spaceBack() {
        let episode: (since: Date, state: (state: ReplicatorState, reason: String)?)? = lock.withLock {
            guard let since = fullSince else { return nil }
            defer { fullSince = nil; stateBefore = nil }
            return (since, stateBefore)
        }
        guard let episode else { return }
        if stats.state.state == .diskFull, let before = episode.state { stats.setState(before.state, reason: before.reason) }
        logger.info("store.disk_space_back", ["path": storePath, "waited_s": (Date().timeIntervalSince(episode.since) * 10).rounded() / 10])
    }

    private func sleep(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && !isStopping() { usleep(50_000) }
    }

    // MARK: checks

    /// A disk-full error of a write that may be made again. Not an fsync's (see the type's comment), and not a commit
    /// that already renamed a manifest into place.
    static func mayRetry(_ error: StoreError) -> Bool {
        guard error.isDiskFull, case let .io(_, operation, _) = error else { return false }
        return !operation.contains("fsync")
    }

    /// True when a table of `commit` already shows it: a staged part of it listed in its manifest, or (a truncate) its
    /// generation moved since `generations` was read.
    static func partlyApplied(_ commit: StoreCommit, in store: Store, generations: [String: UInt64?]) -> Bool {
        commit.tables.contains { table, change in
            guard let m = try? store.manifest(table) else { return false }
            let listed = Set(m.parts.map(\.path))
            if change.staged.contains(where: { s in s.parts.contains { listed.contains(publishedPath($0.path)) } }) { return true }
            return change.truncate && generations[table].flatMap { $0 } != m.generation
        }
    }

    /// A staged part's committed path (`Store.publish` drops the `.staged` suffix).
    static func publishedPath(_ path: String) -> String {
        path.hasSuffix(".staged") ? String(path.dropLast(".staged".count)) : path
    }

    /// The disk-full store error `error` is or carries, if any.
    static func storeError(_ error: Error) -> StoreError? {
        if let e = error as? StoreError, e.isDiskFull { return e }
        if let e = error as? CommitPartlyApplied { return e.underlying }
        return nil
    }

    static func errnoText(_ error: StoreError) -> String {
        if case let .io(_, _, code) = error, code != 0 { return String(cString: strerror(code)) }
        return error.description
    }

    /// Bytes available to this user on the file system holding `path`.
    static func freeBytes(_ path: String) -> Int? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    private static func megabytes(_ bytes: Int) -> Double { (Double(bytes) / 104_857.6).rounded() / 10 }
}

/// A commit that found the disk full after it renamed a table's manifest into place: it is not retried.
struct CommitPartlyApplied: Error, CustomStringConvertible {
    let underlying: StoreError
    init(_ underlying: StoreError) { self.underlying = underlying }
    var description: String { "\(underlying) (after part of the commit was in place: the stream restarts from the checkpoint)" }
}
