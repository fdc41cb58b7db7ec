import ColumnStore
import PostgresReplication

/// The replicator's state for one source table: how its columns map to the store, the rows not yet staged
/// (a `RowBatch`), the parts staged but not yet committed, and a pending TRUNCATE.
///
/// Versions: rows of the open transaction are appended with a placeholder and get their version when the
/// transaction's Commit arrives (the commit's end LSN). When a transaction outgrows the batch limits before its
/// Commit, its rows so far are staged with version = commit record LSN + 1 (`Begin.finalLSN + 1`, known at Begin):
/// still above every earlier transaction's end LSN and the snapshot's consistent point, and at or below this
/// transaction's end LSN, so the order of versions stays the order of commits (see docs/replication.md).
final class TableWriter {
    /// `schema.table`: the store's table name.
    let name: String
    let keyColumns: [String]
    private(set) var relationOID: UInt32
    private(set) var mappings: [ColumnMapping]
    /// Indexes (in relation column order) of the key columns.
    private(set) var keyIndexes: [Int]
    private(set) var batch: RowBatch
    /// Parts written for this table and not yet committed.
    private(set) var staged: StagedParts?
    /// A TRUNCATE waits for the next commit (rows after it are kept in `batch`).
    private(set) var truncatePending = false
    /// First row of `batch` that belongs to the open transaction.
    private var openTransactionStart = 0
    /// Changes of transactions whose commit record is below this were committed before: skip them (replays).
    var committedLSN: UInt64
    /// A column switched to its text fallback (`TextFallback`) and the store has no schema version for it yet:
    /// `stage` defines it first.
    private var schemaPending = false
    /// Called with the column's name when a column switches to its text fallback.
    var onTextFallback: ((String) -> Void)?
    /// Called with the count of unchanged (TOASTed) columns of a key-changing update whose old value was found
    /// nowhere: those columns stay marked unchanged under the new key (staged parts of a transaction larger than the
    /// batch limits are not searched, and a key the store type cannot hold cannot be looked up).
    var onUnresolvedKeyMove: ((Int) -> Void)?

    /// The store the table's parts are staged in.
    let store: Store

    init(name: String, store: Store, relationOID: UInt32, mappings: [ColumnMapping], keyColumns: [String],
         committedLSN: UInt64) throws {
        self.name = name
        self.store = store
        self.relationOID = relationOID
        self.mappings = mappings
        self.keyColumns = keyColumns
        self.keyIndexes = try TableWriter.keyIndexes(keyColumns, in: mappings, table: name)
        self.batch = RowBatch(columns: mappings.map(\.definition))
        self.committedLSN = committedLSN
    }

    var schema: TableSchema { TableSchema(columns: mappings.map(\.definition), keyColumns: keyColumns) }
    var pendingRows: Int { batch.count }
    var pendingBytes: Int { batch.approximateBytes }
    var hasWork: Bool { batch.count > 0 || staged != nil || truncatePending }

    static func keyIndexes(_ keys: [String], in mappings: [ColumnMapping], table: String) throws -> [Int] {
        try keys.map { key in
            guard let i = mappings.firstIndex(where: { $0.name == key }) else {
                throw SetupError.keyColumnMissing(table: table, column: key)
            }
            return i
        }
    }

    /// A new Relation layout: returns true when the columns changed (the caller stages the old batch first).
    func layoutDiffers(_ newMappings: [ColumnMapping]) -> Bool {
        newMappings.map(\.definition) != mappings.map(\.definition)
    }

    /// Switches to a new column layout; the batch must be empty (staged) before.
    func adopt(relationOID: UInt32, mappings: [ColumnMapping]) throws {
        precondition(batch.count == 0, "stage the batch before changing the layout")
        self.relationOID = relationOID
        self.keyIndexes = try TableWriter.keyIndexes(keyColumns, in: mappings, table: name)
        self.mappings = mappings
        self.batch = RowBatch(columns: mappings.map(\.definition))
        openTransactionStart = 0
        schemaPending = false
    }

    func setRelationOID(_ oid: UInt32) { relationOID = oid }

    // MARK: rows

    /// Appends a full row from a tuple (insert, or the new row of an update). `carried` (one row, same columns) supplies
    /// values for columns the tuple sends as unchanged TOAST when the key changed (the previous version lives under
    /// the old key, where no reader would look for it).
    func appendRow(_ tuple: TupleData, carried: RowBatch? = nil) throws {
        guard tuple.count == mappings.count else {
            throw ReplicatorError.tupleMismatch(table: name, expected: mappings.count, got: tuple.count)
        }
        for i in 0..<mappings.count {
            if let carried, tuple.kind(at: i) == .unchangedToast, !carried.isUnchanged(0, i) {
                batch.appendValue(from: carried, row: 0, column: i, to: i)
            } else {
                try appendValue(tuple, i)
            }
        }
        batch.finishRow(version: 0)
    }

    /// For an UPDATE that changes the key and leaves TOASTed columns unchanged: the current values of those columns
    /// under the old key — from this writer's pending rows, else from the store (a FINAL read of the old key).
    /// Returns nil when no column needs it; columns not found stay marked unchanged (and are counted).
    func valuesForKeyChange(oldKey: TupleData, newTuple: TupleData) throws -> RowBatch? {
        let unchanged = (0..<mappings.count).filter { newTuple.kind(at: $0) == .unchangedToast }
        guard !unchanged.isEmpty, oldKey.count == mappings.count else { return nil }
        let definitions = mappings.map(\.definition)
        var probe = RowBatch(columns: definitions)
        for i in keyIndexes {
            let held = try oldKey.withBytes(at: i) { raw in try mappings[i].converter.append(raw, binary: oldKey.kind(at: i) == .binary, to: &probe, column: i) }
            // A key value the store type cannot hold (see `TextFallback`) cannot be looked up: the columns stay unchanged.
            if held == false { onUnresolvedKeyMove?(unchanged.count); return nil }
        }
        probe.finishTombstone(version: 0)
        var found: [Int: (RowBatch, Int, Int)] = [:]
        for r in batch.rows(withKeyOf: probe, row: 0, keys: keyIndexes) {
            if batch.isDeleted(r) { break }
            for c in unchanged where found[c] == nil && !batch.isUnchanged(r, c) { found[c] = (batch, r, c) }
            if found.count == unchanged.count { break }
        }
        if found.count < unchanged.count, store.tableNames.contains(name) {
            let predicates = keyIndexes.compactMap { i in oldKey.string(at: i).map { ColumnPredicate(column: mappings[i].name, op: .eq, literal: $0) } }
            var reader = try store.read(name, where: predicates)
            if let rows = try reader.next(), rows.count > 0 {
                for c in unchanged where found[c] == nil {
                    if let j = reader.columns.firstIndex(where: { $0.name == mappings[c].name && $0.type == mappings[c].storeType }),
                       !rows.isUnchanged(0, j) {
                        found[c] = (rows, 0, j)
                    }
                }
            }
        }
        var carried = RowBatch(columns: definitions)
        for c in 0..<mappings.count {
            if let (b, r, j) = found[c] { carried.appendValue(from: b, row: r, column: j, to: c) } else { carried.appendUnchanged(column: c) }
        }
        carried.finishRow(version: 0)
        if found.count < unchanged.count { onUnresolvedKeyMove?(unchanged.count - found.count) }
        return carried
    }

    /// Appends a tombstone for the key held in `tuple` (a K or O old tuple, or a new tuple).
    func appendTombstone(keyFrom tuple: TupleData) throws {
        guard tuple.count == mappings.count else {
            throw ReplicatorError.tupleMismatch(table: name, expected: mappings.count, got: tuple.count)
        }
        for i in keyIndexes { try appendValue(tuple, i) }
        batch.finishTombstone(version: 0)
    }

    /// True when the key columns of two tuples hold different bytes.
    func keyDiffers(_ a: TupleData, _ b: TupleData) -> Bool {
        keyIndexes.contains { a.kind(at: $0) != b.kind(at: $0) || a.bytes(at: $0) != b.bytes(at: $0) }
    }

    @inline(__always)
    private func appendValue(_ tuple: TupleData, _ i: Int) throws {
        switch tuple.kind(at: i) {
        case .null:
            batch.appendNull(column: i)
        case .unchangedToast:
            batch.appendUnchanged(column: i)
        case .text, .binary:
            let binary = tuple.kind(at: i) == .binary
            let held: Bool? = try tuple.withBytes(at: i) { raw in
                do {
                    if try mappings[i].converter.append(raw, binary: binary, to: &batch, column: i) { return true }
                    try TextFallback.switchColumn(i, appending: raw, binary: binary, mappings: &mappings, batch: &batch)
                    return false
                } catch {
                    throw ReplicatorError.badValue(table: name, column: mappings[i].name, reason: "\(error)")
                }
            }
            if held == false {
                schemaPending = true
                onTextFallback?(mappings[i].name)
            }
        }
    }

    // MARK: transactions

    /// The open transaction committed with `version`: its rows get that version.
    func commitTransaction(version: UInt64) {
        if openTransactionStart < batch.count { batch.setVersions(version, from: openTransactionStart) }
        openTransactionStart = batch.count
    }

    /// TRUNCATE: rows and staged parts so far are dropped (the truncate supersedes them); the next commit
    /// drops every committed part of the table.
    func truncate() {
        batch.removeAll()
        openTransactionStart = 0
        if let staged { store.discard(staged) }
        staged = nil
        truncatePending = true
    }

    /// Writes the batch as staged parts. Rows of the open transaction get `openVersion` (nil: there are none).
    func stage(openVersion: UInt64?) throws {
        if schemaPending {
            try store.defineTable(name, schema: schema, partitioning: try store.manifest(name).partitioning)
            schemaPending = false
        }
        guard batch.count > 0 else { return }
        if openTransactionStart < batch.count {
            guard let openVersion else { preconditionFailure("open-transaction rows without a version") }
            batch.setVersions(openVersion, from: openTransactionStart)
        }
        addStaged(try store.stage(batch, table: name, deferFsync: true))   // `Store.commit` fsyncs the parts
        batch.removeAll()
        openTransactionStart = 0
    }

    /// Hands the batch over to be staged on another thread (a chunk of a large transaction, `ChunkStaging`): rows of
    /// the open transaction get `openVersion`, and the writer goes on with an empty batch. nil when the batch is empty.
    /// The parts come back through `addStaged`.
    func takeBatch(openVersion: UInt64) throws -> RowBatch? {
        if schemaPending {
            try store.defineTable(name, schema: schema, partitioning: try store.manifest(name).partitioning)
            schemaPending = false
        }
        guard batch.count > 0 else { return nil }
        if openTransactionStart < batch.count { batch.setVersions(openVersion, from: openTransactionStart) }
        var taken = RowBatch(columns: mappings.map(\.definition))
        taken.reserveCapacity(batch.count)
        swap(&taken, &batch)
        openTransactionStart = 0
        return taken
    }

    /// Adds parts staged from a batch this writer handed over (`takeBatch`).
    func addStaged(_ parts: StagedParts) {
        if staged == nil { staged = parts } else { staged?.append(parts) }
    }

    /// Forgets uncommitted work (after a lost connection the transaction is streamed again).
    func abandonStaged() {
        if let staged { store.discard(staged) }
        staged = nil
        batch.removeAll()
        openTransactionStart = 0
        truncatePending = false
    }

    /// Hands the staged parts and truncate flag to a commit and forgets them.
    func takeChange() -> (staged: StagedParts?, truncate: Bool) {
        defer { staged = nil; truncatePending = false }
        return (staged, truncatePending)
    }
}
