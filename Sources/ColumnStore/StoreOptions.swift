import Foundation

/// Tuning of a store; the defaults suit the replicator.
public struct StoreOptions: Sendable {
    /// Open without writing anything (no orphan cleanup, no commits): for `scan`, `sql`, `verify`.
    public var readOnly = false
    /// Rows per row group in part files.
    public var rowGroupRows = 65_536
    /// …and at most about this many bytes of values (`RowBatch.approximateBytes`): a row group is what a reader and
    /// each input of a merge hold decoded in memory, so wide rows must not make it large (a merge of
    /// `mergeMaxParts` parts holds one row group of each).
    public var rowGroupBytes = 4 << 20
    /// How long replaced part files stay on disk for readers holding an older manifest.
    public var gracePeriod: TimeInterval = 60
    /// How far back a query-time view can resolve the part list (`Manifest.removed`, capped by `gracePeriod`): a DuckDB
    /// transaction that started longer ago fails with an error once a part it needs was replaced. Every manifest
    /// commit carries the parts removed within this window, so it is kept short.
    public var viewHistory: TimeInterval = 10

    var viewHistoryMicros: Int64 { Int64((min(viewHistory, gracePeriod) * 1_000_000).rounded()) }
    /// Files not referenced by a manifest and last modified before this moment are removed on open.
    /// Defaults to the start of this process, so parts staged by this process are never touched.
    public var orphanCutoff: Date = StoreOptions.processStart
    /// Check every part's checksum when reading it (size is always checked).
    public var verifyChecksums = true
    /// A merge starts when a partition has this many parts of one level…
    public var mergeFanIn = 4
    /// …and takes at most this many parts. A merge holds one decoded row group of each input (up to `rowGroupBytes`
    /// each, plus its pages while decoding): 16 left `freshet run` at 278 MB of its 300 MB bound on a 400k-row
    /// transaction of 2.6 kB rows while merges ran beside the stream (WideTransactionMemoryTests); 8 measured 230 MB.
    public var mergeMaxParts = 8
    /// The background merger's passes are at least this many seconds apart (`startMerger`): at 50 commits a second a
    /// pass per commit merged runs of `mergeFanIn` small parts, each merge rewriting its rows and the table's
    /// manifest; a pass every 250 ms takes runs of up to `mergeMaxParts`.
    public var mergePassSpacing: TimeInterval = 0.25
    /// A staged part of at most this many rows starts at level 0; each `mergeFanIn`-fold more rows is one level up
    /// (see `level(forRows:)`).
    public var levelBaseRows = 1_024
    /// When the background merger folds a domain's recent parts into its settled part (`SettlePolicy`); nil = never
    /// (only size-tiered merges). The replicator sets it.
    public var settle: SettlePolicy? = nil

    /// The level of a newly staged part of `rows` rows: its size tier. Merges combine only parts of one level, so a
    /// snapshot's million-row part (level 5) is not rewritten by every merge of a few small streaming commits; it
    /// merges once streaming has built parts of its own size.
    public func level(forRows rows: Int) -> Int {
        var level = 0, tier = max(1, levelBaseRows)
        let fanIn = max(2, mergeFanIn)
        while rows > tier && level < 30 { level += 1; tier = tier.multipliedReportingOverflow(by: fanIn).overflow ? Int.max : tier * fanIn }
        return level
    }

    public init() {}

    /// Roughly when this process started (the first time the store module was used).
    public static let processStart = Date()
}

/// Places in the commit protocol where tests stop a commit half-way, as a crash would.
enum CrashPoint: Sendable, Equatable {
    case beforeManifestRename(String)
    case afterManifest(String)
    case beforeCheckpoint
}

/// What a simulated crash throws.
struct SimulatedCrash: Error {}
