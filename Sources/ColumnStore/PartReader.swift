import Foundation

/// Reads one committed part row group by row group, converted to the reader's columns (schema union), after checking
/// the file's size and checksum against the manifest.
struct PartCursor: Sendable {
    let entry: PartEntry
    let order: Int
    private let reader: PartFileReader
    private let target: [ColumnDefinition]
    private let wanted: Set<String>
    private var group = -1
    /// Predicates on key columns: row groups their statistics exclude are skipped.
    private let prune: [BoundPredicate]
    /// Row groups skipped by statistics.
    private(set) var skippedRowGroups = 0
    private(set) var batch: RowBatch
    private(set) var row = 0
    /// Row groups loaded into `batch` so far.
    private(set) var loads = 0

    /// Opens `entry`; `order` breaks ties between equal (key, version) rows (higher = newer part).
    init(table: String, tableDirectory: URL, entry: PartEntry, order: Int, target: [ColumnDefinition],
         verifyChecksum: Bool, prune: [BoundPredicate] = []) throws {
        self.entry = entry
        self.prune = prune
        self.order = order
        self.target = target
        self.wanted = Set(target.map(\.name))
        let url = tableDirectory.appendingPathComponent(entry.path)
        try PartCursor.check(url, entry: entry, table: table, checksum: verifyChecksum)
        reader = try PartFileReader(url: url, table: table)
        batch = RowBatch(columns: target)
        self.table = table
        self.path = url.path
    }
    private let table: String
    private let path: String

    /// Throws `corruptPart` when the file is missing or its size (or checksum, when asked) differs from the manifest.
    static func check(_ url: URL, entry: PartEntry, table: String, checksum: Bool) throws {
        guard let info = StoreFile.fileInfo(url) else {
            throw StoreError.corruptPart(table: table, path: url.path, reason: "missing")
        }
        guard info.size == entry.bytes else {
            throw StoreError.corruptPart(table: table, path: url.path, reason: "size \(info.size), manifest says \(entry.bytes)")
        }
        if checksum {
            let sum: String
            do { sum = try PartFileWriter.checksum(of: url).checksum } catch {
                throw StoreError.corruptPart(table: table, path: url.path, reason: "cannot read: \(error)")
            }
            guard sum == entry.checksum else {
                throw StoreError.corruptPart(table: table, path: url.path, reason: "checksum \(sum), manifest says \(entry.checksum)")
            }
        }
    }

    /// Loads the next non-empty row group; false at the end of the part.
    mutating func loadNext() throws -> Bool {
        while group + 1 < reader.rowGroupCount {
            group += 1
            if !prune.allSatisfy({ reader.rowGroup(group, mayMatch: $0) }) {
                skippedRowGroups += 1
                continue
            }
            do {
                batch = try reader.readRowGroup(group, columns: wanted).conformed(to: target)
            } catch let StoreError.corruptPart(_, p, r) {
                throw StoreError.corruptPart(table: table, path: p, reason: r)
            } catch {
                throw StoreError.corruptPart(table: table, path: path, reason: "\(error)")
            }
            row = 0
            loads += 1
            if batch.count > 0 { return true }
        }
        return false
    }

    /// Moves to the next row; false at the end of the part.
    mutating func advance() throws -> Bool {
        row += 1
        if row < batch.count { return true }
        return try loadNext()
    }
}
