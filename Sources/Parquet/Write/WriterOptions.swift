/// Page compression.
public enum Compression: Sendable, Hashable {
    /// No compression (codec 0): readable by every Parquet reader.
    case none
    /// LZ4_RAW (codec 7): plain LZ4 blocks.
    case lz4Raw
}

/// Writer settings. The defaults suit Freshet parts.
public struct WriterOptions: Sendable {
    /// Page compression (default LZ4_RAW).
    public var compression: Compression = .lz4Raw
    /// Target uncompressed size of one data page in bytes.
    public var pageSizeBytes: Int = 1 << 20
    /// Maximum rows in one data page.
    public var pageRowLimit: Int = 20_000
    /// A row group is flushed when it reaches this many rows...
    public var rowGroupRows: Int = 1_000_000
    /// ...or when its buffered (compressed) pages reach this many bytes. This bounds writer memory.
    public var rowGroupBytes: Int = 128 << 20
    /// Use dictionary encoding where it pays (falls back to PLAIN per chunk otherwise).
    public var dictionary: Bool = true
    /// INT32 and INT64 pages without a dictionary are DELTA_BINARY_PACKED instead of PLAIN when that is smaller (which
    /// it is unless the deltas need nearly every bit): sequential keys and timestamps shrink to a few bits per value,
    /// and readers decode them faster than they decompress PLAIN values.
    public var deltaIntegers: Bool = true
    /// Largest dictionary (PLAIN-encoded bytes) before the chunk falls back to PLAIN for its remaining pages.
    public var dictionaryPageSizeLimit: Int = 1 << 20
    /// Remembers, across files that share it, which columns dropped their dictionary (see `DictionaryMemory`); nil:
    /// remembered within the file only.
    public var dictionaryMemory: DictionaryMemory?
    /// Write chunk min/max statistics (null_count is always written).
    public var statistics: Bool = true
    /// Key/value metadata stored in the footer (pyarrow shows it as schema metadata).
    public var keyValueMetadata: [(key: String, value: String)] = []
    /// The footer's `created_by`.
    public var createdBy: String = "freshet version 0.1.0 (build dev)"
    /// Permission bits of the written file (store files must not be world-readable).
    public var fileMode: UInt32 = 0o640
    /// fsync the file and its directory on close. Off when the caller makes the file durable later itself (the store's
    /// streaming parts are fsynced by the commit that lists them), and in tests and benchmarks.
    public var durable: Bool = true

    public init() {}
}
