import Foundation

/// The order of a FINAL read's rows.
public enum ReadOrder: Sendable, Hashable {
    /// Ascending key order across the whole table (one k-way merge over every part).
    case key
    /// Any order: when the partitioning is derived from the key (partitions hold disjoint keys), partition by
    /// partition, each merged alone (or read in place when it is one part with unique keys), on several cores when
    /// there are several partitions; rows are in key order within a partition only. Other partitionings read as `key`.
    case any
}

/// Reads a table as `SELECT … FINAL` would: the latest non-deleted version of every key, with unchanged (TOAST)
/// columns carried forward from older versions, merged on the fly from a manifest snapshot's parts.
///
/// Streaming: one row group per part in memory. Predicates filter the deduplicated rows; those on a key-derived
/// partition column also skip whole partitions. A set of parts read together whose only part has unique keys (a
/// compacted or settled partition) is filtered in place, without the key merge (`FinalStream`). With `ReadOrder.key`
/// every part is one set; with `.any` and a key-derived partitioning each partition is one, and the partitions are
/// read on up to `threads` worker threads (`FinalPump`). (A predicate on a column that is not part of the key cannot
/// prune parts: an older version that matches would survive while the newer one that does not was skipped.)
public struct FinalReader {
    /// The output columns, in the order asked for.
    public let columns: [ColumnDefinition]
    /// The manifest snapshot being read.
    public let manifest: Manifest
    /// The streams read on the caller's thread, in order (none when `pump` reads them).
    private var streams: [FinalStream]
    private var current = 0
    /// The worker threads reading the streams of an unordered read of several partitions.
    private let pump: FinalPumpOwner?
    private let readColumns: [ColumnDefinition]
    private let projection: [Int]
    private let batchRows: Int
    /// Row groups skipped by their key-column statistics so far.
    public var skippedRowGroups: Int {
        streams.reduce(pump?.pump.counts.skippedRowGroups ?? 0) { $0 + $1.skippedRowGroups }
    }
    /// Parts the reader opens after partition pruning.
    public let partsRead: Int
    /// Streams (sets of parts resolved alone) the read is split into: 1 in key order, else the partitions read.
    public let streamCount: Int
    /// Rows whose unchanged column had no older value in the store (shown as NULL; should never happen).
    /// (Counted for returned rows only: a row filtered out may miss older versions that pruning skipped. An unordered
    /// read on worker threads counts a partition once it has been read.)
    public var unresolvedUnchanged: Int {
        streams.reduce(pump?.pump.counts.unresolvedUnchanged ?? 0) { $0 + $1.unresolvedUnchanged }
    }

    init(store: Store, table: String, columns wanted: [String]?, predicates: [ColumnPredicate], batchRows: Int,
         order: ReadOrder = .key, threads: Int = 1) throws {
        let m = try store.manifest(table)
        manifest = m
        let all = m.readerColumns
        let names = wanted ?? all.map(\.name)
        for n in names where !all.contains(where: { $0.name == n }) { throw StoreError.unknownColumn(table: table, column: n) }
        let needed = Set(names).union(m.keyColumns).union(predicates.map(\.column))
        let readColumns = all.filter { needed.contains($0.name) }
        self.readColumns = readColumns
        columns = names.compactMap { n in all.first { $0.name == n } }
        projection = names.compactMap { n in readColumns.firstIndex { $0.name == n } }
        let bound = try predicates.map { try BoundPredicate($0, columns: readColumns, table: table) }
        self.batchRows = batchRows
        let keys = TableSchema(columns: readColumns, keyColumns: m.keyColumns).keyIndexes
        var parts = m.parts
        let disjoint = m.partitioning.isDerivedFromKey(m.keyColumns)
        if disjoint {
            let cols = readColumns
            parts = parts.filter { p in bound.allSatisfy { $0.mayMatch(partition: p.partition, spec: m.partitioning, keyIndexes: keys, columns: cols) } }
        }
        let dir = store.tableDirectory(table)
        let partOrder = m.partOrder
        let target = readColumns
        // Row-group statistics may prune only by key columns: every version of a key shares their values.
        let prune = bound.filter { m.keyColumns.contains($0.predicate.column) }
        let cursors = try parts.map {
            try PartCursor(table: table, tableDirectory: dir, entry: $0, order: partOrder[$0.path] ?? 0,
                           target: target, verifyChecksum: store.options.verifyChecksums, prune: prune)
        }
        partsRead = cursors.count
        let sets: [[PartCursor]]
        if order == .any && disjoint {
            sets = Dictionary(grouping: cursors, by: \.entry.partition).sorted { $0.key < $1.key }.map(\.value)
        } else {
            sets = [cursors]
        }
        let made = try sets.map { try FinalStream(cursors: $0, keys: keys, columns: readColumns, predicates: bound) }
        streamCount = made.count
        let workers = min(threads, made.count)
        if workers > 1 {
            pump = FinalPumpOwner(FinalPump(streams: made, threads: workers, batchRows: batchRows))
            streams = []
        } else {
            pump = nil
            streams = made
        }
    }

    /// The next rows (at most the batch size, never empty), or nil at the end.
    public mutating func next() throws -> RowBatch? {
        if let pump { return try pump.pump.take().map(project) }
        while current < streams.count {
            if let batch = try streams[current].next(batchRows: batchRows) { return project(batch) }
            current += 1
        }
        return nil
    }

    /// `batch` (the read columns) reduced to the columns asked for, in their order.
    private func project(_ batch: RowBatch) -> RowBatch {
        if projection == Array(readColumns.indices) { return batch }
        return RowBatch(columns: columns, buffers: projection.map { batch.buffers[$0] },
                        versions: batch.versions, deleted: batch.deleted)
    }
}

extension Store {
    /// A FINAL reader over the table's current manifest. `columns` nil = all reader columns (the union of schema
    /// versions); rows come in key order unless `order` is `.any` (see `ReadOrder`), which reads the partitions on up
    /// to `threads` threads (nil = the machine's active cores).
    public func read(_ table: String, columns: [String]? = nil, where predicates: [ColumnPredicate] = [],
                     batchRows: Int = 8192, order: ReadOrder = .key, threads: Int? = nil) throws -> FinalReader {
        try FinalReader(store: self, table: table, columns: columns, predicates: predicates, batchRows: batchRows,
                        order: order, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}
