import ColumnStore
import Foundation
import PostgresReplication

/// Copies tables under an exported snapshot with binary COPY into staged store parts, with `_version` = the
/// snapshot's LSN. A partitioned table is copied leaf partition by leaf partition into its one store table. Large
/// tables (or leaves) are split into ranges of heap blocks (`ctid`), copied by several connections in
/// parallel, all importing the same snapshot. The batch limits are shared by the workers (each batches a share of them),
/// so the snapshot's memory does not grow with the number of workers.
final class Snapshotter: @unchecked Sendable {
    let settings: ConnectionSettings
    let store: Store
    let logger: Logger
    let stats: ReplicatorStats
    let workers: Int
    let batchRows: Int
    let batchBytes: Int
    /// Tables with more heap pages than this are copied in block ranges.
    let rangePages: Int64
    /// Connections opened ahead (`connectAhead`), taken by the workers before they open their own.
    private var prefetch: ConnectionPrefetch?
    /// Called (from worker threads, one at a time) with each staged batch's table and row count.
    var onRows: (@Sendable (String, Int) -> Void)?
    /// Makes staging wait for space when the store's disk is full (nil: the error fails the snapshot).
    var diskFull: DiskFullWait?
    private let rowsLock = NSLock()

    init(settings: ConnectionSettings, store: Store, logger: Logger, stats: ReplicatorStats, workers: Int,
         batchRows: Int, batchBytes: Int, rangePages: Int64 = 2048) {
        self.settings = settings; self.store = store; self.logger = logger; self.stats = stats
        // The batch limits bound all workers together: each worker's batch gets an equal share.
        self.workers = max(1, workers)
        self.batchRows = max(1, batchRows / self.workers)
        self.batchBytes = max(1, batchBytes / self.workers)
        self.rangePages = rangePages
    }

    /// One unit of work: a relation of a table (the table itself, or one of its leaf partitions), or a range of the
    /// relation's heap blocks.
    struct Task { var table: Int; var relation: String; var blocks: Range<Int64>?; var pages: Int64 = 0 }

    /// Starts opening the workers' connections now (e.g. while the slot that exports the snapshot is being created);
    /// `copy` uses them, and `lent` (an idle connection of the caller, left open and outside any transaction) as one
    /// of them. Call `closeUnused` if `copy` is not reached.
    func connectAhead(lending lent: Connection? = nil) {
        prefetch = ConnectionPrefetch(settings: settings, count: workers, lent: lent)
    }

    /// Closes the connections opened ahead that no worker took.
    func closeUnused() {
        prefetch?.closeRemaining()
    }

    /// Runs `body` on a connection in a read-only transaction that imported the snapshot `snapshotName` (one of the
    /// connections opened ahead, handed back for the copy afterwards).
    func inSnapshot<T>(_ snapshotName: String, _ body: (Connection) throws -> T) throws -> T {
        let conn = try prefetch?.take() ?? Connection(settings: settings, applicationName: "freshet-snapshot-0")
        var healthy = false
        defer {
            if healthy, let prefetch { prefetch.giveBack(conn) } else if let prefetch { prefetch.release(conn) } else { conn.close() }
        }
        try Self.beginTransaction(conn, importing: snapshotName)
        let result = try body(conn)
        try conn.execute("COMMIT")
        healthy = true
        return result
    }

    /// Begins a read-only repeatable-read transaction on `conn` that sees the exported snapshot `snapshotName`.
    private static func beginTransaction(_ conn: Connection, importing snapshotName: String) throws {
        try conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try conn.execute("SET TRANSACTION SNAPSHOT \(SQLQuoting.literal(snapshotName))")
    }

    /// Copies `tables` and returns their staged parts (not yet committed), by table name.
    func copy(_ tables: [TablePlan], snapshotName: String, version: UInt64) throws -> [String: StagedParts] {
        var taskList: [Task] = []
        for (i, t) in tables.enumerated() {
            // The relations that hold the rows: a partitioned table's leaves, else the table itself.
            let relations = t.source.isPartitioned ? t.source.partitions.map { ($0.quotedName, $0.pages) }
                                                   : [(t.source.quotedName, t.source.pages)]
            for (relation, pages) in relations {
                if pages > rangePages && workers > 1 {
                    let step = max(rangePages / 2, (pages + Int64(workers * 4) - 1) / Int64(workers * 4))
                    var start: Int64 = 0
                    while start <= pages {
                        // The last range is open-ended: the relation may have grown since the estimate.
                        let end = start + step > pages ? Int64.max : start + step
                        taskList.append(Task(table: i, relation: relation, blocks: start..<end, pages: min(step, max(0, pages - start))))
                        start += step
                    }
                } else {
                    taskList.append(Task(table: i, relation: relation, blocks: nil, pages: pages))
                }
            }
        }
        // Largest first (stable for equal sizes): the workers end together instead of one copying the last big table
        // while the other has nothing left to do.
        let tasks = taskList.enumerated().sorted { a, b in
            a.element.pages != b.element.pages ? a.element.pages > b.element.pages : a.offset < b.offset
        }.map(\.element)
        let state = SnapshotState()
        let progress = ProgressReporter(logger: logger, tables: tables.map { ($0.source.qualifiedName, $0.source.estimatedRows) })
        let threadCount = min(workers, tasks.count)
        let group = DispatchGroup()
        for w in 0..<threadCount {
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                do {
                    let conn = try prefetch?.take() ?? Connection(settings: settings, applicationName: "freshet-snapshot-\(w)")
                    defer { if let prefetch { prefetch.release(conn) } else { conn.close() } }
                    try Self.beginTransaction(conn, importing: snapshotName)
                    let formats = try OutputText.sessionMatches(conn)
                    while let task = state.nextTask(tasks), !state.failed {
                        let staged = try copyTask(task, table: tables[task.table], connection: conn, formats: formats,
                                                  version: version, progress: progress)
                        state.add(staged, table: tables[task.table].source.qualifiedName)
                    }
                    try conn.execute("COMMIT")
                } catch {
                    state.fail(error)
                }
            }
        }
        group.wait()
        closeUnused()
        progress.finish()
        if let error = state.error {
            for s in state.staged.values { store.discard(s) }
            throw error
        }
        return state.staged
    }

    /// `formats`: the session prints values as `OutputText` does (otherwise the server's output functions are used).
    private func copyTask(_ task: Task, table: TablePlan, connection: Connection, formats: Bool, version: UInt64,
                          progress: ProgressReporter) throws -> StagedParts? {
        let name = table.source.qualifiedName
        // Per task: a column switches to its text fallback when a value its store type cannot hold arrives.
        var mappings = formats ? table.mappings : table.mappings.map(\.withoutClientFormatting)
        var sql = "COPY (SELECT " + zip(mappings, table.source.columns).map { mapping, column in
                mapping.copyExpression(outputFunction: column.outputFunction)
            }.joined(separator: ", ")
            + " FROM ONLY " + task.relation
        if let blocks = task.blocks {
            sql += " WHERE ctid >= '(\(blocks.lowerBound),0)'::tid"
            if blocks.upperBound != Int64.max { sql += " AND ctid < '(\(blocks.upperBound),0)'::tid" }
        }
        sql += ") TO STDOUT (FORMAT binary)"
        var reader = BinaryCopyReader()
        var batch = RowBatch(columns: table.mappings.map(\.definition))
        var staged: StagedParts?
        var rowsInBatch = 0
        let columnCount = table.mappings.count
        // No local function captures these variables: captured only by the non-escaping closures below they stay on
        // the stack with static exclusivity checks (a local function would box them, and every value appended would
        // pay a dynamic access check — a tenth of the snapshot's CPU in perf).
        try connection.copyOut(sql) { chunk in
            reader.feed(chunk)
            while try reader.nextRow() {
                guard reader.fieldCount == columnCount else {
                    throw ReplicatorError.snapshotFailed(table: name, reason: "COPY row has \(reader.fieldCount) fields, expected \(columnCount)")
                }
                try reader.forEachField { i, raw in
                    guard let raw else { batch.appendNull(column: i); return }
                    let held: Bool
                    do {
                        held = try mappings[i].converter.append(raw, binary: true, to: &batch, column: i)
                        if !held { try TextFallback.switchColumn(i, appending: raw, binary: true, mappings: &mappings, batch: &batch) }
                    } catch {
                        throw ReplicatorError.badValue(table: name, column: mappings[i].name, reason: "\(error)")
                    }
                    if !held {
                        try store.defineTable(name, schema: TableSchema(columns: mappings.map(\.definition), keyColumns: table.keyColumns),
                                              partitioning: table.partitioning)
                        logger.warn("snapshot.column_as_text", ["table": name, "column": mappings[i].name, "note": TextFallback.note])
                    }
                }
                batch.finishRow(version: version)
                rowsInBatch += 1
                if rowsInBatch >= batchRows || (rowsInBatch & 1023 == 0 && batch.approximateBytes >= batchBytes) {
                    try stage(&batch, into: &staged, table: name, progress: progress)
                    rowsInBatch = 0
                }
            }
        }
        try reader.finish()
        try stage(&batch, into: &staged, table: name, progress: progress)
        return staged
    }

    /// Stages `batch` as parts of `table`, adds them to `staged` and empties the batch.
    private func stage(_ batch: inout RowBatch, into staged: inout StagedParts?, table name: String,
                       progress: ProgressReporter) throws {
        guard batch.count > 0 else { return }
        let parts = try diskFull.map { wait in try wait.retrying("snapshot", needed: batch.approximateBytes) { try store.stage(batch, table: name) } }
            ?? store.stage(batch, table: name)
        if staged == nil { staged = parts } else { staged?.append(parts) }
        progress.add(table: name, rows: batch.count)
        if let onRows { rowsLock.lock(); onRows(name, batch.count); rowsLock.unlock() }
        stats.countSnapshot(table: name, rows: batch.count)
        batch.removeAllKeepingCapacity()
    }
}

/// Shared state of the snapshot workers.
private final class SnapshotState: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var staged: [String: StagedParts] = [:]
    var error: Error?

    var failed: Bool { lock.lock(); defer { lock.unlock() }; return error != nil }

    func nextTask(_ tasks: [Snapshotter.Task]) -> Snapshotter.Task? {
        lock.lock(); defer { lock.unlock() }
        guard next < tasks.count else { return nil }
        next += 1
        return tasks[next - 1]
    }
    func add(_ parts: StagedParts?, table: String) {
        guard let parts else { return }
        lock.lock(); defer { lock.unlock() }
        if staged[table] == nil { staged[table] = parts } else { staged[table]?.append(parts) }
    }
    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}
