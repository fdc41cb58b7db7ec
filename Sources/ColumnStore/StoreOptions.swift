import Foundation

/// Tuning of a store; the defaults suit the replicator.
public struct StoreOptions: Sendable {
    /// Open without writing anything (no orphan cleanup, no commits): for `scan`, `sql`, `verify`.
    public var readOnly = false
    /// Rows per row group in part files.
    public var rowGroupRows = 65_536
    /// How long replaced part files stay on disk for readers holding an older manifest.
    public var gracePeriod: TimeInterval = 60
    /// Files not referenced by a manifest and last modified before this moment are removed on open.
    /// Defaults to the start of this process, so parts staged by this process are never touched.
    public var orphanCutoff: Date = StoreOptions.processStart
    /// Check every part's checksum when reading it (size is always checked).
    public var verifyChecksums = true
    /// A merge starts when a partition has this many parts of one level…
    public var mergeFanIn = 4
    /// …and takes at most this many parts.
    public var mergeMaxParts = 16

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
