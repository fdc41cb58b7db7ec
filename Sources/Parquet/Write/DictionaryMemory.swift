import Foundation

/// Which columns dropped their dictionary as not paying (mostly distinct values), remembered across the chunks of one
/// file and, when the caller shares one instance, across files of the same table: the snapshot writes a table as many
/// part files, and each chunk of a column such as an e-mail address or a JSON document would otherwise hash and copy
/// its first 256 kB into a dictionary only to drop it again. After a drop, the column's next `retryChunks` chunks start
/// without a dictionary; the one after tries again (the data may have changed). Thread-safe: the snapshot's workers
/// share one per table.
public final class DictionaryMemory: @unchecked Sendable {
    /// Chunks that skip the dictionary after a drop.
    public static let retryChunks = 7

    private let lock = NSLock()
    private var skips: [String: Int] = [:]

    public init() {}

    /// Whether a new chunk of `column` tries a dictionary (false while the column skips it after a drop).
    func startChunk(_ column: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let n = skips[column], n > 0 else { return true }
        skips[column] = n - 1
        return false
    }

    /// Notes that a chunk of `column` dropped its dictionary as not paying.
    func dropped(_ column: String) {
        lock.lock(); defer { lock.unlock() }
        skips[column] = Self.retryChunks
    }
}
