import ColumnStore
import Foundation
import PostgresReplication

/// `freshet run`: checks the source, creates the publication and slot when missing, takes the initial snapshot,
/// then streams changes into the store until stopped — reconnecting with capped exponential backoff when the
/// connection breaks, and resuming from the store's checkpoint.
public final class Replicator: @unchecked Sendable {
    public let config: Config
    public let logger: Logger
    public let stats = ReplicatorStats()
    private let stopRequested = AtomicFlag()
    private let settings: ConnectionSettings
    private let planner: TablePlanner
    private var resyncWorker: ResyncWorker?
    /// `prepare`'s connection, handed to the first `stream` as its catalog connection.
    private let setupConnection = HandOver<Connection>()
    /// Store writes wait for space on a full disk (see `DiskFullWait`).
    private lazy var diskFull = DiskFullWait(storePath: config.store, logger: logger, stats: stats) { [stopRequested] in
        stopRequested.isSet
    }

    /// Seconds between `stream.progress` log lines.
    public var progressInterval: Double = 10
    /// Seconds between checks of the source's catalog for tables added, dropped, renamed or re-partitioned.
    public var catalogCheckInterval: Double = 5

    public init(config: Config, logger: Logger) throws {
        self.config = config
        self.logger = logger
        self.settings = try ConnectionSettings(config.source)
        self.planner = TablePlanner(config: config)
    }

    deinit { setupConnection.take()?.close() }

    /// Asks `run` to flush what is pending, confirm it and return (safe from a signal handler thread).
    public func requestStop() { stopRequested.set(); stats.setState(.stopping) }

    /// True once `requestStop` was called.
    public var isStopping: Bool { stopRequested.isSet }

    /// Runs until `requestStop`. Setup problems (bad config, source not ready, foreign store) throw at once;
    /// connection losses while streaming are retried.
    public func run() throws {
        MemoryBudget.limitMallocArenas()
        // Bound before setup: an address in use fails before anything is created on the source.
        let operations = try OperationsEndpoint.start(config: config, settings: settings, stats: stats, logger: logger)
        defer { operations.stop() }
        // The ClickHouse sink is checked (reachable, credentials, privileges) before anything is created on the source.
        let sink = try config.clickhouse.map {
            try ClickHouseSink.connect(settings: $0, tableSettings: config.tableSettings, logger: logger)
        }
        stats.clickhouse = sink?.stats
        sink?.stats.measureFromSource { [stats] in stats.lastLagSeconds }
        let setup = try prepare()
        operations.attach(store: setup.store)
        // Merges keep what the sink has not shipped; the shipper reads committed rows on its own thread.
        sink?.protect(setup.store)
        sink?.start(setup.store)
        defer { sink?.stop() }
        // Background merges keep the number of parts per partition small; they never block commits.
        setup.store.startMerger { [logger, stats] table, error in
            stats.recordError("merge")
            logger.warn("store.merge_failed", ["table": table, "error": error.description, "note": "retried on the next pass; `freshet verify` checks the store"])
        }
        defer { setup.store.stopMerger() }
        let resync = ResyncWorker(config: config, logger: logger, stats: stats, store: setup.store, settings: settings)
        resync.start()
        defer { resync.stop() }
        resyncWorker = resync
        let watcher = CatalogWatcher(config: config, store: setup.store, ledger: setup.ledger, stats: stats, logger: logger,
                                     requestResync: { try resync.enqueue($0) })
        defer { watcher.stop() }
        var backoff = ReconnectBackoff()
        var first = true
        while !stopRequested.isSet {
            let attempt = Date()
            do {
                try stream(setup, watcher: watcher, startWatcher: first)
                return
            } catch let error as PostgresError {
                if case .server(let e) = error, e.sqlState == "55006" { throw SetupError.slotInUse(slot: config.slot) }
                stats.addReconnect()
                stats.recordError("stream")
                stats.setState(.reconnecting, reason: "connection lost: \(error)")
                let wait = backoff.delay(afterRunning: Date().timeIntervalSince(attempt))
                logger.warn("stream.disconnected", ["error": "\(error)", "retry_in_s": wait])
                sleepUnlessStopped(wait)
            } catch {
                // A store write outside the waiting ones (a manifest for a new table or schema version, a commit that
                // failed part-way) found the disk full: as after a lost connection, the stream restarts from the
                // checkpoint, once the wait is over. Anything else stops the replicator.
                guard let full = DiskFullWait.storeError(error), !stopRequested.isSet else { throw error }
                diskFull.failedElsewhere(full, what: "stream", wait: backoff.delay(afterRunning: Date().timeIntervalSince(attempt)))
            }
            first = false
        }
    }

    // MARK: setup

    struct Setup {
        var store: Store
        /// The tables replicated at start-up, by store name.
        var plans: [String: TablePlan]
        var ledger: SourceLedgerBox
        var database: (name: String, oid: UInt32)
    }

    /// Checks the source and the store, and makes the publication list the tables that can be replicated. Throws
    /// `SetupError` with the fix in the message, before anything is created on the source.
    ///
    /// A table in scope that cannot be replicated (no key, a column name the store reserves) is reported and left out;
    /// it is refused only when the config names it in `tables`, or when nothing else is left to replicate.
    func prepare() throws -> Setup {
        let sql = try Connection(settings: settings, applicationName: "freshet-setup")
        var kept = false
        defer { if !kept { sql.close() } }
        let catalog = SourceCatalog(connection: sql)
        try catalog.checkReplicationPrerequisites()
        let candidates = try catalog.tables(schemas: config.schemas, tables: config.tables, exclude: config.exclude,
                                            plannerEstimates: true)
        guard !candidates.isEmpty else {
            throw SetupError.noTables(scope: config.tables.isEmpty ? "schemas \(config.schemas.joined(separator: ", "))"
                                                                    : "tables \(config.tables.joined(separator: ", "))")
        }
        var replicable: [SourceTable] = [], problems: [UnreplicableTable] = []
        for t in candidates {
            do { try planner.check(t); replicable.append(t) } catch let u as UnreplicableTable {
                if config.tables.contains(t.qualifiedName) { throw SetupError.unreplicable(u) }
                problems.append(u)
            }
        }
        if replicable.isEmpty, let first = problems.first { throw SetupError.unreplicable(first) }
        let database = try catalog.currentDatabase()
        let store = try openStore(systemID: try catalog.systemIdentifier())
        let ledger = try SourceLedgerBox(store: store)
        try ledger.update { l in
            if let known = l.database, known != database.name || (l.databaseOID.map { $0 != database.oid } ?? false) {
                throw SetupError.storeForAnotherDatabase(store: known, database: database.name)
            }
            l.database = database.name
            l.databaseOID = database.oid
        }
        var plans: [String: TablePlan] = [:]
        for t in replicable { plans[t.qualifiedName] = try planner.plan(t, store: store) }
        stats.setUnreplicable(problems)
        for p in problems {
            stats.recordSourceChange(.unreplicableTable)
            logger.warn("source.unreplicable_table", ["table": p.table, "reason": p.reason, "fix": p.fix,
                                                      "note": "left out of the publication; the rest is replicated"])
        }
        let added = try PublicationManager(connection: sql, publication: config.publication).ensure(replicable)
        if !added.isEmpty {
            logger.info("setup.publication", ["publication": config.publication, "added": added.map(\.qualifiedName).joined(separator: ",")])
        }
        // Kept as the first stream's catalog connection: one connection (and SCRAM exchange) fewer at start-up.
        setupConnection.set(sql)
        kept = true
        return Setup(store: store, plans: plans, ledger: ledger, database: database)
    }

    private func openStore(systemID: String) throws -> Store {
        let url = URL(fileURLWithPath: config.store)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw SetupError.storeUnusable(path: url.path, reason: "not a directory") }
            guard fm.isWritableFile(atPath: url.path), fm.isReadableFile(atPath: url.path) else {
                throw SetupError.storeUnusable(path: url.path, reason: "not readable and writable by this user")
            }
        }
        let identity = StoreIdentity(systemIdentifier: systemID, slot: config.slot, publication: config.publication)
        do {
            // Settled domains keep query-time views at scan speed (docs/store-format.md, "Settled parts").
            var options = StoreOptions()
            options.settle = SettlePolicy()
            return try Store.open(at: url, identity: identity, options: options)
        } catch let error as StoreError {
            if case .identityMismatch = error {
                throw SetupError.storeBelongsToAnotherSource(
                    expected: "system \(systemID) slot \(config.slot) publication \(config.publication)", found: "\(error)")
            }
            throw SetupError.storeUnusable(path: url.path, reason: "\(error)")
        }
    }

    // MARK: streaming

    private func stream(_ setup: Setup, watcher: CatalogWatcher, startWatcher: Bool) throws {
        let store = setup.store
        let sql = try setupConnection.take() ?? Connection(settings: settings, applicationName: "freshet-catalog")
        defer { sql.close() }
        let catalog = SourceCatalog(connection: sql)
        let repl = try ReplicationConnection(settings: settings, applicationName: "freshet")
        defer { repl.connection.close() }

        if store.checkpointLSN == 0 {
            try snapshot(setup, repl: repl, catalog: catalog)
        } else {
            try checkSlotForResume(setup, catalog: catalog, repl: repl)
        }
        if startWatcher {
            // What changed while Freshet was stopped (or during the snapshot) is handled before streaming starts.
            TestHooks.pauseIfAskedBeforeFirstCatalogCheck()
            try watcher.reconcile(sql)
            watcher.start(settings: settings, interval: catalogCheckInterval)
        }
        let start = LSN(store.checkpointLSN)
        // Streamed in-progress transactions are spooled next to the store (not durable: replayed by the server).
        let spool = config.streamInProgress
            ? try StreamedTransactions(directory: URL(fileURLWithPath: config.store).appendingPathComponent("stream-spool")) : nil
        let stream = try repl.startReplication(slot: config.slot, from: start, options: ReplicationOptions(
            protocolVersion: spool == nil ? 1 : StreamApplier.streamingProtocolVersion, publications: [config.publication],
            messages: true, streaming: spool != nil, statusInterval: 10))
        logger.info("stream.started", ["slot": config.slot, "from": start.description])
        stats.setState(.streaming)

        let applier = StreamApplier(
            store: store, limits: config.batch, logger: logger, stats: stats,
            resolve: { [self] r in try resolveTable(r, setup: setup, catalog: catalog) },
            confirm: { stream.confirm($0) },
            schemaChanged: { [self] table, relation, removed, added in
                try columnsChanged(table, relation: relation, removed: removed, added: added, setup: setup, catalog: catalog) },
            resyncRequested: { [self] request in try resyncWorker?.enqueue(request) }, diskFull: diskFull,
            streamedSpool: spool)
        // Events travel in chunks (whatever libpq has buffered, up to 1,024): one lock hand-off per chunk, not per message.
        // Each chunk carries when it was received: a batch's age (`CommitPolicy.behindAge`) counts from there.
        let reader = StreamReader(stream: stream, budgetBytes: MemoryBudget.queueBytes, stopRequested: stopRequested,
                                  logger: logger)
        let queue = reader.queue
        // A finished store commit wakes the apply loop (an empty chunk), so waiting rows go into the next commit at once.
        applier.wake = { _ = queue.push(([], Date()), cost: 0, timeout: 0) }
        defer { applier.stop() }
        reader.start()
        let heartbeat = config.heartbeatInterval > 0 ? HeartbeatEmitter(settings: settings, interval: config.heartbeatInterval,
                                                                         logger: logger) : nil
        heartbeat?.start()
        defer { heartbeat?.stop() }

        var applyError = applyUntilStopped(applier, queue: queue)
        // Stop the reader, then apply what was already received (complete transactions only get committed).
        reader.stop()
        if applyError == nil { applyError = drain(applier, queue: queue) }
        if applyError == nil { try applier.flush() }
        applier.abandonStaged()
        if let applyError { throw applyError }
        if let error = reader.error, !stopRequested.isSet {
            throw error   // lost connection: `run` reconnects and resumes from the store's checkpoint
        }
        try? stream.stop()   // sends the final flush position
        logger.info("stream.stopped", ["committed": LSN(store.checkpointLSN).description])
    }

    /// Applies received chunks until a stop is requested, the reader closes the queue, or applying fails (returned).
    private func applyUntilStopped(_ applier: StreamApplier, queue: BoundedQueue<StreamReader.Chunk>) -> Error? {
        var progress = StreamProgress(stats: stats)
        while true {
            progress.logIfDue(every: progressInterval, logger: logger, spacing: applier.commitSpacing)
            switch queue.pop(timeout: min(0.1, config.batch.maxAge / 2, applier.nextTickIn ?? .infinity)) {
            case let .element(chunk):
                do {
                    applier.receivedAt = chunk.receivedAt
                    for event in chunk.events { try applier.handle(event) }
                    try applier.tick(caughtUp: queue.isEmpty)
                } catch { return error }
            case .timedOut:
                do { try applier.tick(caughtUp: true) } catch { return error }
            case .closed:
                return nil
            }
            if stopRequested.isSet { return nil }
        }
    }

    /// Applies what the stopped reader left in the queue.
    private func drain(_ applier: StreamApplier, queue: BoundedQueue<StreamReader.Chunk>) -> Error? {
        while case let .element(chunk) = queue.pop(timeout: 0) {
            do { for event in chunk.events { try applier.handle(event) } } catch { return error }
        }
        return nil
    }

    /// How a table seen in a Relation message is replicated; nil when it is not (out of scope, or unreplicable).
    private func resolveTable(_ r: RelationMessage, setup: Setup, catalog: SourceCatalog) throws -> TableSetup? {
        guard planner.inScope(schema: r.namespace, name: r.name) else { return nil }
        let name = r.tableName.qualifiedName
        let plan: TablePlan
        if let known = setup.plans[name], known.source.oid == r.oid {
            plan = known
        } else {
            // A table that joined later (published by the catalog watcher, which also copies its existing rows).
            let t = try catalog.describe(oid: r.oid, schema: r.namespace, name: r.name,
                                         replicaIdentity: Character(UnicodeScalar(r.replicaIdentity.rawValue)),
                                         estimatedRows: 0, pages: 0)
            do { plan = try planner.plan(t, store: setup.store) } catch let u as UnreplicableTable {
                logger.warn("source.unreplicable_table", ["table": u.table, "reason": u.reason, "fix": u.fix])
                return nil
            }
        }
        return TableSetup(keyColumns: plan.keyColumns, partitioning: plan.partitioning)
    }

    /// A Relation message arrived for a table the store knows. The WAL does not say what changed, so the catalog is
    /// asked, against the ledger's record of the table's columns (`ColumnChanges`): a renamed column, one added with
    /// a default or identity, one dropped and added again, or a retyped one make the table be copied afresh.
    /// Types come from the Relation message (stream order: a column added and retyped in one transaction is seen);
    /// attnums and defaults from the catalog now.
    private func columnsChanged(_ table: String, relation: RelationMessage, removed: [String], added: [String], setup: Setup,
                                catalog: SourceCatalog) throws {
        let oid = relation.oid
        let relationTypes = Dictionary(relation.columns.map { ($0.name, "\($0.typeOID):\($0.typeModifier)") },
                                       uniquingKeysWith: { a, _ in a })
        // The record of another relation (dropped and created again: the catalog watcher copies it) says nothing.
        let record = setup.ledger.value.tables[table].flatMap { $0.oid == oid ? $0 : nil }
        let before = record?.columns ?? [:]
        let types = record?.types ?? [:]
        let now = try catalog.describe(oid: oid, schema: "", name: "", replicaIdentity: "d", estimatedRows: 0, pages: 0).columns
        let changes = ColumnChanges.detect(before: before, types: types, now: now, nowTypes: relationTypes, added: added)
        if !changes.isEmpty {
            // The request is durable before the ledger forgets the old columns: a crash in between repeats the
            // detection (the Relation message is replayed), never loses the copy.
            try resyncWorker?.enqueue(ResyncRequest(tables: [table], all: false,
                                                    reason: changes.map { "\(table): \($0.1)" }.joined(separator: "; ")))
            for (kind, detail) in changes {
                stats.recordSourceChange(kind)
                logger.warn("source.\(kind.rawValue)", ["table": table, "detail": detail,
                                                         "action": "copying the table afresh online (automatic resync)"])
            }
        }
        try recordColumns(table, oid: oid, columns: now, types: relationTypes, setup: setup)
    }

    /// Records a table's columns' attnums (from the catalog now) and `types` (from the Relation message) in its
    /// ledger record (the catalog watcher creates the record).
    private func recordColumns(_ table: String, oid: UInt32, columns: [SourceColumn], types: [String: String], setup: Setup) throws {
        try setup.ledger.update { l in
            if l.tables[table]?.oid == oid {
                l.tables[table]?.columns = SourceLedger.attnums(columns)
                l.tables[table]?.types = types
            }
        }
    }

    private func checkSlotForResume(_ setup: Setup, catalog: SourceCatalog, repl: ReplicationConnection) throws {
        let ownership = SlotOwnership(slotName: config.slot, database: setup.database.name)
        guard let slot = try catalog.slot(config.slot) else {
            logger.error("setup.slot_missing", ["slot": config.slot,
                "note": "changes since the store's checkpoint may be missing: creating a new slot; run `freshet resync --all` to repair"])
            try createSlot(repl, setup: setup, snapshot: .nothing)
            return
        }
        try ownership.checkForResume(slot, checkpoint: setup.store.checkpointLSN, ledger: setup.ledger.value)
        if slot.walStatus == "lost" { throw SetupError.slotLost(slot: config.slot) }
        if ownership.isInterruptedCreation(slot, ledger: setup.ledger.value) {
            // Stopped while replacing a missing slot: the slot is the one asked for; its position is its consistent point.
            try setup.ledger.update {
                $0.slot = SourceLedger.SlotRecord(name: config.slot, state: .created, consistentPoint: slot.confirmedFlush.value)
            }
        } else if setup.ledger.value.slot?.name != config.slot {
            // A store from before the ledger: its slot passed the checks above; record it as this store's.
            try setup.ledger.update { $0.slot = SourceLedger.SlotRecord(name: config.slot, state: .created, consistentPoint: nil) }
        }
    }

    /// Creates the slot, recorded in the ledger before (as `creating`, with the server's WAL position) and after (with
    /// its consistent point).
    @discardableResult
    private func createSlot(_ repl: ReplicationConnection, setup: Setup, snapshot: SlotSnapshotAction) throws -> CreatedSlot {
        let before = try repl.identifySystem().walFlushPosition.value
        try setup.ledger.update {
            $0.slot = SourceLedger.SlotRecord(name: config.slot, state: .creating, consistentPoint: nil, walBefore: before)
        }
        let slot = try repl.createSlot(config.slot, snapshot: snapshot)
        TestHooks.exitIfAskedAfterSlotCreation()
        try setup.ledger.update {
            $0.slot = SourceLedger.SlotRecord(name: config.slot, state: .created, consistentPoint: slot.consistentPoint.value)
        }
        return slot
    }

    private func snapshot(_ setup: Setup, repl: ReplicationConnection, catalog: SourceCatalog) throws {
        let store = setup.store
        // A snapshot that did not finish restarts from scratch with a new slot, if the slot is provably this store's.
        let existing = try catalog.slot(config.slot)
        if try SlotOwnership(slotName: config.slot, database: setup.database.name).mayDropForSnapshot(existing, ledger: setup.ledger.value) {
            try repl.dropSlot(config.slot)
            logger.info("snapshot.restart", ["slot": config.slot, "note": "dropped the slot of this store's unfinished snapshot"])
        }
        let planned = setup.plans.values.sorted { $0.name < $1.name }
        try recordSnapshotTables(planned, ledger: setup.ledger)
        let snapshotter = Snapshotter(settings: settings, store: store, logger: logger, stats: stats,
                                      workers: max(1, ProcessInfo.processInfo.activeProcessorCount),
                                      batchRows: config.batch.maxRows, batchBytes: config.batch.maxBytes)
        snapshotter.diskFull = diskFull
        // The workers' connections open while the slot is created (which waits for running transactions to end); the
        // catalog connection, idle until the snapshot is committed, serves as one of them.
        snapshotter.connectAhead(lending: catalog.connection)
        defer { snapshotter.closeUnused() }
        TestHooks.pauseIfAskedBeforeSlotCreation()
        let slot = try createSlot(repl, setup: setup, snapshot: .export)
        stats.setState(.snapshot)
        guard let snapshotName = slot.snapshotName else { throw ReplicatorError.protocolState("slot exported no snapshot") }
        // The plans were made before the slot existed: the snapshot copies the tables as its own catalog has them.
        let (tables, changes, records) = try snapshotter.inSnapshot(snapshotName) { conn in
            let catalog = SourceCatalog(connection: conn)
            let (plans, changes) = try SnapshotReplan.plans(planned, catalog: catalog, planner: planner, store: store)
            return (plans, changes, try SnapshotReplan.records(plans, catalog: catalog))
        }
        for c in changes {
            logger.warn("snapshot.table_changed", ["table": c.table, "detail": c.detail, "action": "copied as the snapshot has it"])
        }
        try setup.ledger.update { $0.tables = records }
        logger.info("snapshot.start", ["slot": config.slot, "consistent_point": slot.consistentPoint.description,
                                       "tables": tables.count])
        for t in tables {
            stats.expectSnapshot(table: t.name, rows: t.source.estimatedRows)
            try store.defineTable(t.name, schema: t.schema, partitioning: t.partitioning)
        }
        let staged = try snapshotter.copy(tables, snapshotName: snapshotName, version: slot.consistentPoint.value)
        // One commit replaces every table's content (truncate + snapshot parts) and sets the checkpoint.
        var commit = StoreCommit(upTo: slot.consistentPoint.value)
        for t in tables {
            commit.truncate(t.name)
            if let s = staged[t.name] { commit.add(s) }
        }
        try diskFull.commit(commit, to: store)
        stats.recordStoreCommit(commit)
        logger.info("snapshot.committed", ["consistent_point": slot.consistentPoint.description])
    }

    /// Records the snapshot's tables (OIDs, leaf partitions, column attnums) as the ledger's table records.
    private func recordSnapshotTables(_ tables: [TablePlan], ledger: SourceLedgerBox) throws {
        try ledger.update { l in
            l.tables = Dictionary(tables.map { p in
                (p.name, SourceLedger.TableRecord(oid: p.source.oid, partitions: p.source.partitions.map(\.oid).sorted(),
                                                  columns: SourceLedger.attnums(p.source.columns)))
            }, uniquingKeysWith: { first, _ in first })
        }
    }

    private func sleepUnlessStopped(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && !stopRequested.isSet { usleep(50_000) }
    }
}
