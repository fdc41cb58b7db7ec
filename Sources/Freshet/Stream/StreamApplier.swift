import ColumnStore
import Foundation
import PostgresReplication

/// How a newly seen source table is replicated (decided by the replicator from the config and the catalog).
struct TableSetup {
    var keyColumns: [String]
    var partitioning: PartitionSpec
}

/// Applies the decoded replication stream to the store: rows go into per-table batches; at transaction boundaries
/// the batches are staged and committed (`CommitPolicy` says when); then the commit's LSN is confirmed.
///
/// The apply thread owns it. Store commits run on a `StoreCommitter` thread, in order, while the apply thread goes on
/// applying and staging the next batch; a commit is prepared (its first fsync round) while the one before it is
/// finished (`StoreCommitter.Overlap`). `confirm` is called (on the finisher thread) only after the commit's
/// checkpoint is durable, i.e. after every part, manifest and directory entry up to that LSN is fsynced, and never
/// before the commits before it (invariant 1).
final class StreamApplier {
    let store: Store
    let limits: Config.BatchLimits
    let logger: Logger
    let stats: ReplicatorStats
    /// Decides whether (and how) a table seen in a Relation message is replicated; nil = ignore it.
    let resolve: (RelationMessage) throws -> TableSetup?
    /// Sends the flush LSN to Postgres (thread-safe).
    let confirm: @Sendable (LSN) -> Void
    /// Receives resync requests that arrive through the WAL.
    let resyncRequested: (ResyncRequest) throws -> Void
    /// Told about every Relation message of a table the store knows, with the columns that left and joined its layout
    /// (the replicator asks the catalog whether a column was renamed, retyped, dropped and added again, or added with
    /// a default that existing rows take without a WAL record).
    let schemaChanged: (_ table: String, _ relation: RelationMessage, _ removed: [String], _ added: [String]) throws -> Void

    private var decoder: PgOutputDecoder
    /// Streamed in-progress transactions (protocol ≥ 2 with `streaming 'on'`), spooled until they commit; nil with
    /// protocol 1, where stream messages are a protocol error.
    private let streamed: StreamedTransactions?
    private var writers = TableWriters()
    private var ignoredOIDs: Set<UInt32> = []
    /// Relation messages of tables without a writer yet: the writer is made at the table's first change.
    private var deferredRelations: [UInt32: RelationMessage] = [:]

    private var inTransaction = false
    private var transactionFinalLSN: UInt64 = 0
    /// Chunks of the open transaction staged before its Commit (each gets its own version: `nextChunkVersion`).
    private var chunksStaged = 0
    /// Versions `finalLSN + 1 ... finalLSN + chunkVersions` lie strictly between the commit record's start and its end
    /// LSN (a commit record is at least 32 bytes long), so they order the chunks of one transaction below its
    /// in-memory rows (end LSN) and above everything earlier.
    static let chunkVersions = 30
    /// The chunk of the open transaction being staged on its own thread (`ChunkStaging`), if any.
    private var chunkInFlight: ChunkStaging?
    /// `pendingSize` when the open transaction began (zero once a chunk of it is staged): what is above it is the
    /// transaction's own.
    private var pendingBeforeTransaction = (rows: 0, bytes: 0)
    /// End LSN of the last transaction applied to the batches.
    private(set) var appliedUpTo: UInt64
    /// The store checkpoint: everything up to it is durable (and confirmed).
    private(set) var committedUpTo: UInt64
    /// The checkpoint of the last commit handed to the committer (>= `committedUpTo`).
    private var submittedUpTo: UInt64
    /// Runs the store commits; `stop()` ends its thread.
    private let committer: StoreCommitter
    private var pendingSince: Date?
    /// How long a caught-up batch waits before it is committed, from the commits just finished.
    private var pacer: CommitPacer
    /// Rows applied since the stats were last told (at each Commit, and at each staged chunk of a large transaction).
    private var applied = AppliedCounts()
    /// When the events being applied were received from the socket (set by the caller per chunk); a batch's age
    /// counts from the receipt of its first transaction.
    var receivedAt = Date()
    private var rowsSinceCheck = 0
    /// Rows in the tables' batches (not yet staged).
    private var pendingRows: Int { writers.all.reduce(0) { $0 + $1.pendingRows } }
    /// Source commit times (µs since 2000) of the transactions whose rows wait for the next store commit; each is
    /// observed in the commit-to-visible histogram when that commit is durable. At most one per pending row.
    private var pendingCommitMicros: [Int64] = []
    /// When the last checkpoint-only commit (no rows) was made: those are limited to one a second, so a source busy
    /// with tables that are not replicated does not cost a commit per batch age. The first one is immediate.
    private var lastIdleCheckpoint = Date.distantPast
    /// Holds the store's settles while the stream is behind (`BacklogSignal`).
    private var backlog = BacklogSignal()
    /// The open streamed transactions and spooled bytes last written to `stats`.
    private var reportedSpool = (0, 0)
    /// Makes staging and commits wait for space when the store's disk is full (nil: such errors are thrown).
    let diskFull: DiskFullWait?

    init(store: Store, limits: Config.BatchLimits, logger: Logger, stats: ReplicatorStats,
         resolve: @escaping (RelationMessage) throws -> TableSetup?, confirm: @escaping @Sendable (LSN) -> Void,
         schemaChanged: @escaping (String, RelationMessage, [String], [String]) throws -> Void = { _, _, _, _ in },
         resyncRequested: @escaping (ResyncRequest) throws -> Void = { _ in }, diskFull: DiskFullWait? = nil,
         streamedSpool: StreamedTransactions? = nil) {
        self.store = store
        self.streamed = streamedSpool
        self.decoder = PgOutputDecoder(protocolVersion: streamedSpool == nil ? 1 : StreamApplier.streamingProtocolVersion)
        self.diskFull = diskFull
        self.limits = limits
        self.logger = logger
        self.stats = stats
        self.resolve = resolve
        self.confirm = confirm
        self.schemaChanged = schemaChanged
        self.resyncRequested = resyncRequested
        self.committedUpTo = store.checkpointLSN
        self.submittedUpTo = store.checkpointLSN
        self.appliedUpTo = store.checkpointLSN
        self.pacer = CommitPacer(limits: limits)
        store.holdSettles(false)   // a hold an earlier applier of this store left (a lost connection) ends here
        stats.settlesHeld = false
        stats.streamOpen = 0   // the spool starts empty (`StreamedTransactions` removes what was left)
        stats.streamSpoolBytes = 0
        let overlap = StoreCommitter.Overlap(
            begin: { store.beginCommits() }, end: { store.endCommits() }, awaited: { store.commitsAwaited },
            prepare: { job, previous in
                if job.rows > 0 { TestHooks.delayFirstRowCommit() }
                return try store.prepareCommit(job.commit, after: previous)
            },
            finish: { [stats] job, prepared in
                try store.finishCommit(prepared)
                StreamApplier.committed(job, stats: stats, confirm: confirm)
            },
            abandon: { store.abandon($0) })
        committer = StoreCommitter(overlap: overlap) { [store, stats] job in
            try StreamApplier.perform(job, store: store, stats: stats, diskFull: diskFull, confirm: confirm)
        }
    }

    /// Called on the committer thread when a commit is done, so the apply thread ticks at once (the replicator wakes
    /// its queue wait). Set before the first event is handled.
    var wake: @Sendable () -> Void {
        get { committer.wake }
        set { committer.wake = newValue }
    }

    /// The pgoutput `proto_version` requested with `streaming 'on'` (PostgreSQL 14+).
    static let streamingProtocolVersion = 2

    /// True while a transaction is open, rows wait for a commit, or a commit is in flight.
    var hasPendingWork: Bool {
        inTransaction || pendingRows > 0 || chunkInFlight != nil || writers.all.contains { $0.hasWork } || committer.hasWork
    }

    /// Waits for the commit in flight and ends the committer thread (call once the applier is no longer used).
    func stop() { committer.stop() }

    // MARK: events

    func handle(_ event: ReplicationEvent) throws {
        switch event {
        case let .data(x):
            // A change inside a streamed block is spooled as it came (decoded once, at replay).
            if let streamed, decoder.isInsideStreamedBlock, let kind = x.payload.first, StreamApplier.isSpooledUndecoded(kind) {
                try streamed.append(x.payload)
                return
            }
            let message: PgOutputMessage
            do { message = try decoder.decode(x.payload) } catch {
                throw ReplicatorError.protocolState("undecodable pgoutput message at \(x.startLSN): \(error)")
            }
            if let streamed, decoder.isInsideStreamedBlock {
                try spool(message, payload: x.payload, to: streamed)
            } else {
                try apply(message)
            }
        case let .keepalive(k):
            stats.serverWALEnd = k.walEnd.value
            // Idle: nothing is pending before the server's position, so the checkpoint can move there. Done when the
            // server asks for a reply (a shutting-down walsender waits until the client's flush reaches what it sent)
            // and otherwise every 10 s, so idle databases do not keep WAL on the slot.
            // While streamed transactions are open only a requested reply moves it: as with protocol 1 (where the
            // server holds an open transaction back), an open transaction commits above the confirmed LSN, and the
            // server streams it again from its start after a restart (the slot's restart LSN stays before it).
            if !hasPendingWork, k.walEnd.value > committedUpTo,
               k.replyRequested || (streamed?.openCount ?? 0 == 0 && Date().timeIntervalSince(lastIdleCheckpoint) > 10) {
                lastIdleCheckpoint = Date()
                try commit(upTo: k.walEnd.value)
                // A shutting-down walsender waits for this flush position: make it durable and confirmed now.
                if k.replyRequested { try finishCommits() }
            }
        }
    }

    /// Called regularly (after each chunk of messages, when none arrive, and when a commit finished): starts a commit
    /// of what is pending when `CommitPolicy` says so — also while messages keep coming without a Commit (e.g. a
    /// shutting-down server's keepalives). `caughtUp` says nothing more is queued.
    func tick(caughtUp: Bool) throws {
        try collectCommitted()
        let now = Date()
        let spooled = streamed?.spooledBytes ?? 0
        if let behind = backlog.update(caughtUp: caughtUp, spooledBytes: spooled, spoolLimit: limits.maxBytes,
                                       stagingLargeTransaction: inTransaction && chunksStaged > 0, now: now) {
            store.holdSettles(behind)
            stats.settlesHeld = behind
            logger.info("stream.backlog", ["settles": behind ? "held" : "resumed"])
        }
        if let streamed, (streamed.openCount, spooled) != reportedSpool {
            reportedSpool = (streamed.openCount, spooled)
            stats.streamOpen = streamed.openCount
            stats.streamSpoolBytes = spooled
        }
        guard !inTransaction else { return }
        let busy = committer.isBusy
        if let since = pendingSince {
            if CommitPolicy.commitsNow(age: now.timeIntervalSince(since), caughtUp: caughtUp, committerBusy: busy, limits: limits,
                                       spacing: pacer.spacing) {
                try commit(upTo: appliedUpTo)
            }
        } else if appliedUpTo > submittedUpTo, caughtUp, !busy, now.timeIntervalSince(lastIdleCheckpoint) >= 1 {
            // Transactions that touched no replicated table (heartbeats, markers, other tables) still move the
            // checkpoint, so the slot does not retain their WAL.
            lastIdleCheckpoint = now
            try commit(upTo: appliedUpTo)
        }
    }

    /// Seconds until the pending batch reaches the commit spacing (the apply loop's longest wait for the next `tick`),
    /// at least 1 ms; nil when no batch waits for it (nothing pending, a transaction open, or a commit in flight, whose
    /// end wakes the loop).
    var nextTickIn: Double? {
        guard let since = pendingSince, !inTransaction, !committer.isBusy else { return nil }
        return max(0.001, pacer.spacing - Date().timeIntervalSince(since))
    }

    /// The current commit spacing in seconds (`CommitPacer`).
    var commitSpacing: Double { pacer.spacing }

    /// Deletes parts staged for a transaction that will not be committed here (it is replayed after a restart),
    /// after the commit in flight (if any) ended.
    func abandonStaged() {
        try? committer.waitIdle()
        if let chunk = chunkInFlight {
            chunkInFlight = nil
            for outcome in chunk.finish() { if case let .success(parts) = outcome.result { store.discard(parts) } }
        }
        for w in writers.all { w.abandonStaged() }
        streamed?.removeAll()
    }

    /// Commits everything applied so far and waits until it is durable and confirmed (call on shutdown).
    func flush() throws {
        guard !inTransaction else { return }
        try commit(upTo: appliedUpTo)
        try finishCommits()
    }

    /// Waits for the commit in flight and takes its result.
    private func finishCommits() throws {
        try committer.waitIdle()
        try collectCommitted()
    }

    private func apply(_ message: PgOutputMessage) throws {
        switch message {
        case .insert, .update, .delete, .logicalMessage, .origin, .type:
            break
        default:
            // Commits, schema changes and TRUNCATE act on the staged parts: the chunk in flight is among them first.
            try finishChunk()
        }
        switch message {
        case let .begin(b):
            beginTransaction(finalLSN: b.finalLSN.value)
        case let .commit(c):
            guard inTransaction else { throw ReplicatorError.protocolState("Commit without Begin at \(c.endLSN)") }
            try commitTransaction(end: c.endLSN.value, timestamp: c.commitTimestamp)
        case let .streamStart(s):
            guard let streamed, !inTransaction else { throw ReplicatorError.protocolState("unexpected \(message)") }
            try streamed.startBlock(xid: s.xid, firstSegment: s.isFirstSegment)
        case .streamStop:
            guard let streamed else { throw ReplicatorError.protocolState("unexpected \(message)") }
            try streamed.endBlock()
        case let .streamAbort(a):
            guard let streamed, !inTransaction else { throw ReplicatorError.protocolState("unexpected \(message)") }
            if a.xid == a.subtransactionXid {
                logger.info("stream.streamed_abort", ["xid": a.xid, "spooled_bytes": streamed.spooledBytes(a.xid)])
                stats.addStreamed(committed: false)
            }
            try streamed.abort(xid: a.xid, subxid: a.subtransactionXid)
        case let .streamCommit(c):
            guard let streamed, !inTransaction else { throw ReplicatorError.protocolState("unexpected \(message)") }
            try applyStreamed(c, from: streamed)
        case let .relation(r):
            try relationChanged(r)
        case let .insert(i):
            guard let w = try writer(i.relationOID) else { return }
            try w.appendRow(i.newTuple)
            applied.count(w.name, .insert)
            try rowAdded()
        case let .update(u):
            guard let w = try writer(u.relationOID) else { return }
            var carried: RowBatch?
            if let old = u.oldTuple?.tuple, w.keyDiffers(old, u.newTuple) {
                // The key changed: the old key's row is gone, and TOASTed columns the UPDATE left unchanged take their
                // values from the old key's latest version.
                carried = try w.valuesForKeyChange(oldKey: old, newTuple: u.newTuple)
                try w.appendTombstone(keyFrom: old)
                try rowAdded()
            }
            try w.appendRow(u.newTuple, carried: carried)
            applied.count(w.name, .update)
            try rowAdded()
        case let .delete(d):
            guard let w = try writer(d.relationOID) else { return }
            try w.appendTombstone(keyFrom: d.oldTuple.tuple)
            applied.count(w.name, .delete)
            try rowAdded()
        case let .truncate(t):
            for oid in t.relationOIDs {
                guard let w = try writer(oid) else { continue }
                w.truncate()
                applied.count(w.name, .truncate)
                logger.info("stream.truncate", ["table": w.name])
            }
        case let .logicalMessage(m):
            if m.prefix == Heartbeat.prefix {
                if let sent = Heartbeat.parse(m.content) {
                    stats.lastHeartbeatSentMicros = sent
                } else if let request = ResyncRequest.parse(m.content) {
                    try resyncRequested(request)   // recorded durably before the checkpoint can pass this message
                }
            }
        case .origin, .type:
            break
        case .beginPrepare, .prepare, .commitPrepared, .rollbackPrepared, .streamPrepare:
            throw ReplicatorError.protocolState("message not expected without two-phase decoding: \(message)")
        }
    }

    /// A transaction opens (Begin, or the replay of a streamed one) whose commit record is at `finalLSN`.
    private func beginTransaction(finalLSN: UInt64) {
        inTransaction = true
        transactionFinalLSN = finalLSN
        chunksStaged = 0
        pendingBeforeTransaction = pendingSize
    }

    /// The open transaction committed with end LSN `end`: its rows get that version (Commit, Stream Commit).
    private func commitTransaction(end: UInt64, timestamp: Int64) throws {
        try finishChunk()
        inTransaction = false
        var hasWork = false   // one pass over the writers per commit
        for w in writers.all {
            w.commitTransaction(version: end)
            hasWork = hasWork || w.hasWork
        }
        if end > appliedUpTo { appliedUpTo = end }
        if hasWork {
            if pendingSince == nil { pendingSince = min(receivedAt, Date()) }
            pendingCommitMicros.append(timestamp)
        }
        stats.recordApplied(applied, commitMicros: timestamp + PostgresValue.unixEpochOffsetMicros)
        applied.removeAll()
        if overLimits(pendingSize) { try commit(upTo: appliedUpTo) }   // the rest of the policy is `tick`'s, once the chunk is applied
    }

    // MARK: streamed transactions

    /// Message kinds that go to the spool undecoded inside a streamed block: Insert, Update, Delete, Truncate, Relation,
    /// Type, Origin (none of them changes the decoder's state). Others (Message, Stream Stop) are decoded first.
    private static func isSpooledUndecoded(_ kind: UInt8) -> Bool {
        switch kind {
        case UInt8(ascii: "I"), UInt8(ascii: "U"), UInt8(ascii: "D"), UInt8(ascii: "T"), UInt8(ascii: "R"), UInt8(ascii: "Y"),
             UInt8(ascii: "O"): return true
        default: return false
        }
    }

    /// A message inside a streamed block goes to its transaction's spool; a non-transactional logical message (sent
    /// at once, whatever transaction it came from) is applied now.
    private func spool(_ message: PgOutputMessage, payload: [UInt8], to streamed: StreamedTransactions) throws {
        switch message {
        case .streamStart, .streamStop:
            try apply(message)
        case let .logicalMessage(m) where !m.isTransactional:
            try apply(message)
        case .origin:
            break
        default:
            try streamed.append(payload)
        }
    }

    /// Stream Commit: the spooled transaction is applied as if it had arrived whole between Begin and Commit (with
    /// protocol 1 it would have: same versions, large-transaction staging, replay skipping), without the changes of
    /// its aborted subtransactions. Relation and Type messages are always applied (PostgreSQL sends a relation's
    /// description once per streamed transaction, whichever subtransaction used it first).
    private func applyStreamed(_ c: PgOutputMessage.StreamCommit, from streamed: StreamedTransactions) throws {
        beginTransaction(finalLSN: c.commitLSN.value)
        logger.info("stream.streamed_commit", ["xid": c.xid, "end_lsn": c.endLSN.description,
                                               "spooled_bytes": streamed.spooledBytes(c.xid)])
        stats.addStreamed(committed: true)
        var replayDecoder = PgOutputDecoder(protocolVersion: decoder.protocolVersion, insideStreamedBlock: true)
        try streamed.replay(xid: c.xid) { payload, aborted in
            let message: PgOutputMessage
            do { message = try replayDecoder.decode(payload) } catch {
                throw ReplicatorError.protocolState("undecodable spooled message of streamed transaction \(c.xid): \(error)")
            }
            if !aborted.isEmpty, let xid = message.changeXid, aborted.contains(xid) { return }
            try apply(message)
        }
        try commitTransaction(end: c.endLSN.value, timestamp: c.commitTimestamp)
    }

    // MARK: tables

    /// The writer for a relation's changes, or nil when the table is not replicated (or the change is a replay).
    private func writer(_ oid: UInt32) throws -> TableWriter? {
        if ignoredOIDs.contains(oid) { return nil }
        if writers.byOID[oid] == nil, let r = deferredRelations.removeValue(forKey: oid) { try startTable(r) }
        if ignoredOIDs.contains(oid) { return nil }
        guard let w = writers.byOID[oid] else { throw ReplicatorError.unknownRelation(oid: oid) }
        // A transaction whose commit record lies below the table's committed LSN was applied before a crash.
        if transactionFinalLSN < w.committedLSN { return nil }
        return w
    }

    private func relationChanged(_ r: RelationMessage) throws {
        let name = r.tableName.qualifiedName
        let mappings = TablePlanner.mappings(r)
        if let w = writers.byName[name] {
            if w.relationOID != r.oid {
                // The table was dropped and created again under the same name. The catalog watcher saw it (the new
                // table joins the publication only through it) and copies it afresh; the copy's generation switch
                // drops the old table's rows. The writer just follows the new relation.
                logger.info("stream.table_relation_changed", ["table": name, "oid": r.oid])
                writers.rebind(w, to: r.oid)
            }
            if w.layoutDiffers(mappings) {
                let oldOrder = w.mappings.map(\.name)
                let oldNames = Set(oldOrder)
                // Schema change: the rows so far keep the old schema version.
                try w.stage(openVersion: inTransaction ? nextChunkVersion() : nil)
                let version = try store.defineTable(name, schema: TableSchema(columns: mappings.map(\.definition), keyColumns: w.keyColumns),
                                                    partitioning: try store.manifest(name).partitioning)
                try w.adopt(relationOID: r.oid, mappings: mappings)
                logger.info("stream.schema_change", ["table": name, "schema_version": version,
                                                     "columns": mappings.map(\.name).joined(separator: ",")])
                let newNames = Set(mappings.map(\.name))
                let added = mappings.map(\.name).filter { n in !oldNames.contains(n) }
                let removed = oldOrder.filter { n in !newNames.contains(n) }
                try schemaChanged(name, r, removed, added)
            } else {
                // The same layout can hide a column dropped and added again, or retyped to a type stored alike.
                try schemaChanged(name, r, [], [])
            }
            return
        }
        // A table not seen before in this process starts at its first change: pgoutput also describes relations that
        // never carry changes of their own (the leaf partitions of a table published via its root).
        ignoredOIDs.remove(r.oid)
        deferredRelations[r.oid] = r
    }

    /// Starts replicating a table at its first change: resolves it (or ignores it), defines it in the store and makes
    /// its writer.
    private func startTable(_ r: RelationMessage) throws {
        let name = r.tableName.qualifiedName
        let mappings = TablePlanner.mappings(r)
        guard let setup = try resolve(r) else {
            ignoredOIDs.insert(r.oid)
            return
        }
        let schema = TableSchema(columns: mappings.map(\.definition), keyColumns: setup.keyColumns)
        let known = store.tableNames.contains(name)
        // The columns the store last had: the first Relation message of a table in this process may already show a
        // rename or an added column (made while Freshet was stopped, or before the table's first change since).
        let previous = known ? try store.manifest(name).schemaVersions.last?.columns.map(\.name) ?? [] : []
        try store.defineTable(name, schema: schema, partitioning: known ? try store.manifest(name).partitioning : setup.partitioning)
        let w = try TableWriter(name: name, store: store, relationOID: r.oid, mappings: mappings, keyColumns: setup.keyColumns,
                                committedLSN: known ? try store.committedLSN(name) : 0)
        w.onTextFallback = { [logger] column in logger.warn("stream.column_as_text", ["table": name, "column": column, "note": TextFallback.note]) }
        w.onUnresolvedKeyMove = { [logger, stats] columns in
            stats.addUnresolvedKeyMoves(columns)
            logger.warn("stream.key_move_unresolved", ["table": name, "columns": "\(columns)"])
        }
        writers.add(w)
        if !known { logger.info("stream.new_table", ["table": name, "key": setup.keyColumns.joined(separator: ",")]) }
        let names = mappings.map(\.name)
        let added = names.filter { !previous.contains($0) }
        if known {
            if !added.isEmpty { logger.info("stream.schema_change", ["table": name, "columns": names.joined(separator: ",")]) }
            try schemaChanged(name, r, previous.filter { !names.contains($0) }, added)
        }
    }

    // MARK: batching

    /// The version of the open transaction's next staged chunk: later chunks get higher versions, so two changes of one
    /// key in different chunks never tie (DuckDB and ClickHouse pick the highest version). Past `chunkVersions`
    /// chunks the last version repeats; the store's own reader and merges then order them by part.
    private func nextChunkVersion() -> UInt64 {
        defer { chunksStaged += 1 }
        return transactionFinalLSN + 1 + UInt64(min(chunksStaged, StreamApplier.chunkVersions - 1))
    }

    private func rowAdded() throws {
        rowsSinceCheck += 1
        if inTransaction && rowsSinceCheck >= 1024 {
            rowsSinceCheck = 0
            let size = pendingSize
            if overLimits(size)
                || size.rows - pendingBeforeTransaction.rows >= limits.maxRows / 2
                || size.bytes - pendingBeforeTransaction.bytes >= limits.maxBytes / 2 {
                // A transaction larger than the batch limits: stage what we have so memory stays bounded, on a
                // thread of its own while the next chunk is decoded (after the previous chunk is staged). A chunk
                // is staged once the transaction's own rows reach half the batch limits: with one in flight and
                // one filling, memory holds what one batch did. (Rows of earlier transactions count only
                // against the whole limits: a run of mid-sized transactions is committed at a Commit, as always.)
                try finishChunk()
                let version = nextChunkVersion()
                var jobs: [ChunkStaging.Job] = []
                for w in writers.all { if let batch = try w.takeBatch(openVersion: version) { jobs.append(.init(writer: w, batch: batch)) } }
                if !jobs.isEmpty { chunkInFlight = ChunkStaging(jobs: jobs, store: store) }
                pendingBeforeTransaction = (0, 0)
                stats.addSpill()
                stats.recordApplied(applied, commitMicros: nil)   // progress of a large transaction
                applied.resetCounts()
            }
        }
    }

    /// True when `size` (the pending rows and bytes) reaches the batch limits.
    private func overLimits(_ size: (rows: Int, bytes: Int)) -> Bool {
        size.rows >= limits.maxRows || size.bytes >= limits.maxBytes
    }

    /// Rows and bytes in the tables' batches (not yet staged).
    private var pendingSize: (rows: Int, bytes: Int) {
        writers.all.reduce((0, 0)) { ($0.0 + $1.pendingRows, $0.1 + $1.pendingBytes) }
    }

    /// Runs a store write, waiting for space while the disk is full (`diskFull`); `stageAll` and `Store.commit` may be
    /// retried as they are (a failed stage keeps its batch and removes its partial file).
    private func untilStored(_ what: String, _ write: () throws -> Void) throws {
        guard let diskFull else { return try write() }
        try diskFull.retrying(what, needed: pendingSize.bytes, write)
    }

    /// Waits for the chunk in flight and gives its parts to their writers. A job that failed (a full disk) is staged
    /// again here, waiting for space like every store write.
    private func finishChunk() throws {
        guard let chunk = chunkInFlight else { return }
        chunkInFlight = nil
        var failed: Error?
        for outcome in chunk.finish() {
            let w = outcome.job.writer
            switch outcome.result {
            case let .success(parts):
                w.addStaged(parts)
            case .failure:
                guard failed == nil else { continue }
                do {
                    try untilStored("stage_chunk") { w.addStaged(try store.stage(outcome.job.batch, table: w.name, deferFsync: true)) }
                } catch {
                    failed = error
                }
            }
        }
        if let failed { throw failed }
    }

    /// Writes every table's pending batch as staged parts, the tables in parallel (each writer is touched by one
    /// thread only; `Store.stage` is thread-safe): encoding uses the cores and the fsyncs overlap.
    private func stageAll(openVersion: UInt64?) throws {
        // Each writer goes to exactly one thread, and the applier waits for all of them.
        nonisolated(unsafe) let pending = writers.all.filter { $0.pendingRows > 0 }
        let errors = Parallel.forEach(pending.count) { i in try pending[i].stage(openVersion: openVersion) }
        if let error = errors.compactMap({ $0 }).first { throw error }
    }

    /// Stages every batch and hands a commit of all staged parts and truncates with checkpoint `upTo` to the committer
    /// (after the commit in flight, if any, is done). It is confirmed once durable (`perform`).
    private func commit(upTo: UInt64) throws {
        try finishChunk()
        let started = Date()
        var commit = StoreCommit(upTo: upTo)
        var rows = 0
        // Staging (encoding, unsynced writes) overlaps with the commit in flight.
        try untilStored("stage") { try stageAll(openVersion: nil) }
        for w in writers.all.sorted(by: { $0.name < $1.name }) where w.hasWork {
            let change = w.takeChange()
            if change.truncate { commit.truncate(w.name) }
            if let staged = change.staged { rows += staged.rows; commit.add(staged) }
        }
        guard upTo > submittedUpTo || !commit.tables.isEmpty else { return }
        try committer.submit(StoreCommitter.Job(commit: commit, rows: rows, transactionMicros: pendingCommitMicros, started: started))
        submittedUpTo = max(submittedUpTo, upTo)
        pendingSince = nil
        pendingCommitMicros.removeAll(keepingCapacity: pendingCommitMicros.count < 65_536)
        if commit.tables.isEmpty { lastIdleCheckpoint = Date() }
    }

    /// One whole commit, on the committer thread (when its overlapped `prepare` failed): durable first, then
    /// confirmed, then counted.
    private static func perform(_ job: StoreCommitter.Job, store: Store, stats: ReplicatorStats, diskFull: DiskFullWait?,
                                confirm: (LSN) -> Void) throws {
        if job.rows > 0 { TestHooks.delayFirstRowCommit() }
        if let diskFull { try diskFull.commit(job.commit, to: store) } else { try store.commit(job.commit) }
        committed(job, stats: stats, confirm: confirm)
    }

    /// After a commit is durable: confirms its LSN, then counts it.
    private static func committed(_ job: StoreCommitter.Job, stats: ReplicatorStats, confirm: (LSN) -> Void) {
        stats.recordStoreCommit(job.commit)
        confirm(LSN(job.commit.upTo))
        let now = Date()
        if !job.transactionMicros.isEmpty {
            let nowMicros = Int64(now.timeIntervalSince1970 * 1e6) - PostgresValue.unixEpochOffsetMicros
            stats.recordCommit(rows: job.rows, transactionLags: job.transactionMicros.map { Double(nowMicros - $0) / 1e6 },
                               duration: now.timeIntervalSince(job.started))
        }
        stats.committedLSN = max(stats.committedLSN, job.commit.upTo)
        stats.lastStoreCommit = now
    }

    /// Takes the finished commits' results: the writers skip replays below their table's committed LSN.
    private func collectCommitted() throws {
        for job in try committer.completed() {
            if !job.transactionMicros.isEmpty, let finished = job.finished { pacer.record(overhead: finished.timeIntervalSince(job.started)) }
            let upTo = job.commit.upTo
            for w in writers.all where upTo > w.committedLSN { w.committedLSN = upTo }
            committedUpTo = max(committedUpTo, upTo)
        }
    }
}
