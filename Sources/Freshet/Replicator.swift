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
    private var resyncWorker: ResyncWorker?

    /// Seconds between `stream.progress` log lines.
    public var progressInterval: Double = 10

    public init(config: Config, logger: Logger) throws {
        self.config = config
        self.logger = logger
        self.settings = try ConnectionSettings(config.source)
    }

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
        let setup = try prepare()
        operations.attach(store: setup.store)
        // Background merges keep the number of parts per partition small; they never block commits.
        setup.store.startMerger { [logger] table, error in
            logger.warn("store.merge_failed", ["table": table, "error": error.description, "note": "retried on the next pass; `freshet verify` checks the store"])
        }
        defer { setup.store.stopMerger() }
        let resync = ResyncWorker(replicator: self, store: setup.store, settings: settings)
        resync.start()
        defer { resync.stop() }
        resyncWorker = resync
        var backoff = 0.5
        var first = true
        while !stopRequested.isSet {
            do {
                try stream(setup, snapshotIfNeeded: first)
                return
            } catch let error as PostgresError {
                if case .server(let e) = error, e.sqlState == "55006" { throw SetupError.slotInUse(slot: config.slot) }
                stats.reconnects += 1
                stats.recordError("stream")
                stats.setState(.reconnecting, reason: "connection lost: \(error)")
                logger.warn("stream.disconnected", ["error": "\(error)", "retry_in_s": backoff])
                sleepUnlessStopped(backoff)
                backoff = min(backoff * 2, 30)
            }
            first = false
        }
    }

    // MARK: setup

    struct Setup {
        var store: Store
        var tables: [SourceTable]
        var keys: [String: [String]]
    }

    /// Checks the source and the store, creates the publication. Throws `SetupError` with the fix in the message.
    func prepare() throws -> Setup {
        let sql = try Connection(settings: settings, applicationName: "freshet-setup")
        defer { sql.close() }
        let catalog = SourceCatalog(connection: sql)
        try catalog.checkReplicationPrerequisites()
        let tables = try catalog.tables(schemas: config.schemas, tables: config.tables, exclude: config.exclude)
        guard !tables.isEmpty else {
            throw SetupError.noTables(scope: config.tables.isEmpty ? "schemas \(config.schemas.joined(separator: ", "))"
                                                                    : "tables \(config.tables.joined(separator: ", "))")
        }
        var keys: [String: [String]] = [:]
        for t in tables { keys[t.qualifiedName] = try keyColumns(t) }
        let systemID = try catalog.systemIdentifier()
        let store = try openStore(systemID: systemID)
        try ensurePublication(sql, catalog: catalog, tables: tables)
        return Setup(store: store, tables: tables, keys: keys)
    }

    func keyColumns(_ t: SourceTable) throws -> [String] {
        if let key = config.tableSettings[t.qualifiedName]?.key {
            for k in key where !t.columns.contains(where: { $0.name == k }) {
                throw SetupError.keyColumnMissing(table: t.qualifiedName, column: k)
            }
            if t.primaryKey.isEmpty && t.replicaIdentity != "f" { throw SetupError.tableWithoutKey(table: t.qualifiedName) }
            return key
        }
        guard !t.primaryKey.isEmpty else { throw SetupError.tableWithoutKey(table: t.qualifiedName) }
        return t.primaryKey
    }

    /// The configured partitioning, else a hash of the key into one bucket per ~1 GiB of table (1…64): small tables
    /// get one partition, so a commit writes one part per table rather than many tiny ones.
    func partitioning(_ table: String, pages: Int64 = 0) -> PartitionSpec {
        switch config.tableSettings[table]?.partition {
        case nil: return .keyHash(buckets: Int(min(64, max(1, pages * 8192 / (1 << 30)))))
        case .none?: return PartitionSpec.none
        case let .hash(n)?: return .keyHash(buckets: n)
        case let .column(c)?: return .value(column: c)
        case let .time(c, b)?: return .time(column: c, bucket: TimeBucket(rawValue: b.rawValue) ?? .day)
        }
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
            return try Store.open(at: url, identity: identity)
        } catch let error as StoreError {
            if case .identityMismatch = error {
                throw SetupError.storeBelongsToAnotherSource(
                    expected: "system \(systemID) slot \(config.slot) publication \(config.publication)", found: "\(error)")
            }
            throw SetupError.storeUnusable(path: url.path, reason: "\(error)")
        }
    }

    private func ensurePublication(_ sql: Connection, catalog: SourceCatalog, tables: [SourceTable]) throws {
        let pub = SQLQuoting.identifier(config.publication)
        let explicit = !config.tables.isEmpty || !config.exclude.isEmpty
        if let published = try catalog.publicationTables(config.publication) {
            let missing = tables.filter { !published.contains($0.qualifiedName) }
            if !missing.isEmpty {
                try sql.execute("ALTER PUBLICATION \(pub) ADD TABLE " + missing.map(\.quotedName).joined(separator: ", "))
                logger.info("setup.publication_extended", ["publication": config.publication,
                                                           "tables": missing.map(\.qualifiedName).joined(separator: ",")])
            }
            return
        }
        if explicit {
            try sql.execute("CREATE PUBLICATION \(pub) FOR TABLE " + tables.map(\.quotedName).joined(separator: ", "))
        } else {
            // Whole schemas: tables created later are published too.
            try sql.execute("CREATE PUBLICATION \(pub) FOR TABLES IN SCHEMA "
                            + config.schemas.map(SQLQuoting.identifier).joined(separator: ", "))
        }
        logger.info("setup.publication_created", ["publication": config.publication])
    }

    // MARK: streaming

    private func stream(_ setup: Setup, snapshotIfNeeded: Bool) throws {
        let store = setup.store
        let sql = try Connection(settings: settings, applicationName: "freshet-catalog")
        defer { sql.close() }
        let catalog = SourceCatalog(connection: sql)
        let repl = try ReplicationConnection(settings: settings, applicationName: "freshet")
        defer { repl.connection.close() }

        if store.checkpointLSN == 0 {
            try snapshot(setup, repl: repl, catalog: catalog)
        } else {
            try checkSlotForResume(catalog: catalog, repl: repl)
        }
        let start = LSN(store.checkpointLSN)
        let stream = try repl.startReplication(slot: config.slot, from: start, options: ReplicationOptions(
            protocolVersion: 1, publications: [config.publication], messages: true, statusInterval: 10))
        logger.info("stream.started", ["slot": config.slot, "from": start.description])
        stats.setState(.streaming)

        let applier = StreamApplier(
            store: store, limits: config.batch, logger: logger, stats: stats,
            resolve: { [self] r in try resolveTable(r, setup: setup, catalog: catalog) },
            confirm: { stream.confirm($0) },
            schemaChanged: { [self] table, oid, added in try warnAboutDefaults(table, oid: oid, added: added, catalog: catalog) },
            resyncRequested: { [self] request in try resyncWorker?.enqueue(request) })
        // Events travel in chunks (whatever libpq has buffered, up to 1,024): one lock hand-off per chunk, not per message.
        // Each chunk carries when it was received: a batch's age counts from there, so time spent queued behind a
        // store commit counts towards `batch.maxAge` (commit-to-visible stays ≈ maxAge + one commit).
        let queue = BoundedQueue<(events: [ReplicationEvent], receivedAt: Date)>(budget: MemoryBudget.queueBytes)
        let readerError = ErrorBox()
        let readerDone = DispatchSemaphore(value: 0)
        let readerStop = AtomicFlag()
        // The socket is read on its own thread so decoding and fsync overlap with receiving; keepalives are
        // answered there at once.
        Thread.detachNewThread { [stopRequested] in
            defer { queue.close(); readerDone.signal() }
            do {
                var chunk: [ReplicationEvent] = []
                var cost = 0
                while !stopRequested.isSet && !readerStop.isSet {
                    // Take what is already buffered without waiting; wait only when the chunk is empty.
                    if let event = try stream.next(timeout: chunk.isEmpty ? 0.2 : 0) {
                        if case let .data(x) = event { cost += x.payload.count + MemoryBudget.queuedMessageOverhead } else { cost += MemoryBudget.queuedMessageOverhead }
                        chunk.append(event)
                        if chunk.count < 1024 { continue }
                    }
                    if !chunk.isEmpty {
                        if !queue.push((chunk, Date()), cost: cost) { return }
                        chunk = []
                        chunk.reserveCapacity(64)
                        cost = 0
                    }
                }
            } catch {
                readerError.set(error)
            }
        }
        let heartbeat = config.heartbeatInterval > 0 ? HeartbeatEmitter(settings: settings, interval: config.heartbeatInterval,
                                                                         logger: logger) : nil
        heartbeat?.start()
        defer { heartbeat?.stop() }

        var applyError: Error?
        var lastProgress = Date()
        var lastTransactions = stats.transactions
        var lastLagSamples = stats.lagSamplesTotal
        loop: while true {
            if Date().timeIntervalSince(lastProgress) >= progressInterval {
                let tx = stats.transactions
                let behind = stats.serverWALEnd > stats.committedLSN ? stats.serverWALEnd - stats.committedLSN : 0
                let samplesSince = stats.lagSamplesTotal - lastLagSamples
                let p50 = stats.lagQuantile(0.5, lastSamples: samplesSince).map { Int($0 * 1000) } ?? -1
                let p99 = stats.lagQuantile(0.99, lastSamples: samplesSince).map { Int($0 * 1000) } ?? -1
                logger.info("stream.progress", ["tx_per_s": Int(Double(tx - lastTransactions) / Date().timeIntervalSince(lastProgress)),
                                                 "rows": stats.rowsApplied, "commits": stats.commits,
                                                 "lag_p50_ms": p50, "lag_p99_ms": p99, "wal_behind_bytes": behind,
                                                 "committed": LSN(stats.committedLSN).description])
                lastLagSamples = stats.lagSamplesTotal
                lastProgress = Date()
                lastTransactions = tx
            }
            switch queue.pop(timeout: min(0.1, config.batch.maxAge / 2)) {
            case let .element(chunk):
                do {
                    applier.receivedAt = chunk.receivedAt
                    for event in chunk.events { try applier.handle(event) }
                    try applier.tick(caughtUp: queue.isEmpty)
                } catch { applyError = error; break loop }
                if stopRequested.isSet { break loop }
            case .timedOut:
                do { try applier.tick(caughtUp: true) } catch { applyError = error; break loop }
                if stopRequested.isSet { break loop }
            case .closed:
                break loop
            }
        }
        // Stop the reader, then flush what is complete and confirm it.
        readerStop.set()
        queue.close()
        readerDone.wait()
        // Apply what was already received (complete transactions only get committed).
        if applyError == nil {
            drain: while case let .element(chunk) = queue.pop(timeout: 0) {
                do { for event in chunk.events { try applier.handle(event) } } catch { applyError = error; break drain }
            }
        }
        if applyError == nil { try applier.flush() }
        applier.abandonStaged()
        if let applyError { throw applyError }
        if let error = readerError.error, !stopRequested.isSet {
            throw error   // lost connection: `run` reconnects and resumes from the store's checkpoint
        }
        try? stream.stop()   // sends the final flush position
        logger.info("stream.stopped", ["committed": LSN(store.checkpointLSN).description])
    }

    private func resolveTable(_ r: RelationMessage, setup: Setup, catalog: SourceCatalog) throws -> TableSetup? {
        let name = r.tableName.qualifiedName
        if config.exclude.contains(name) { return nil }
        if !config.tables.isEmpty && !config.tables.contains(name) { return nil }
        if config.tables.isEmpty && !config.schemas.contains(r.namespace) { return nil }
        let keys: [String]
        if let k = setup.keys[name] {
            keys = k
        } else {
            // A table that appeared after start-up (published through its schema).
            let t = try catalog.describe(oid: r.oid, schema: r.namespace, name: r.name,
                                         replicaIdentity: Character(UnicodeScalar(r.replicaIdentity.rawValue)),
                                         estimatedRows: 0, pages: 0)
            keys = try keyColumns(t)
            logger.warn("stream.table_added", ["table": name, "note": "rows that existed before it was published need `freshet resync \(name)`"])
        }
        return TableSetup(keyColumns: keys, partitioning: partitioning(name))
    }

    /// `ALTER TABLE ... ADD COLUMN ... DEFAULT x` gives existing rows a value without writing them to the WAL:
    /// the store cannot see it. Say so, with the fix.
    private func warnAboutDefaults(_ table: String, oid: UInt32, added: [String], catalog: SourceCatalog) throws {
        let withDefaults = try catalog.connection.query(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::oid AND atthasmissing AND attname = ANY($2::text[])",
            [String(oid), SourceCatalog.arrayLiteral(added)]).rows.compactMap { $0[0] }
        if !withDefaults.isEmpty {
            logger.warn("stream.added_column_default", ["table": table, "columns": withDefaults.joined(separator: ","),
                "note": "rows that existed before the ALTER TABLE show NULL there in the store; run `freshet resync \(table)`"])
        }
    }

    private func checkSlotForResume(catalog: SourceCatalog, repl: ReplicationConnection) throws {
        guard let slot = try catalog.slot(config.slot) else {
            logger.error("setup.slot_missing", ["slot": config.slot,
                "note": "changes since the store's checkpoint may be missing: creating a new slot; run `freshet resync --all` to repair"])
            _ = try repl.createSlot(config.slot, snapshot: .nothing)
            return
        }
        if slot.plugin != "pgoutput" { throw SetupError.slotWrongPlugin(slot: config.slot, plugin: slot.plugin) }
        if slot.walStatus == "lost" { throw SetupError.slotLost(slot: config.slot) }
    }

    private func snapshot(_ setup: Setup, repl: ReplicationConnection, catalog: SourceCatalog) throws {
        let store = setup.store
        // A snapshot that did not finish restarts from scratch with a new slot.
        if let existing = try catalog.slot(config.slot) {
            if existing.active { throw SetupError.slotInUse(slot: config.slot) }
            try repl.dropSlot(config.slot)
            logger.info("snapshot.restart", ["slot": config.slot, "note": "dropped the slot of an unfinished snapshot"])
        }
        let slot = try repl.createSlot(config.slot, snapshot: .export)
        stats.setState(.snapshot)
        guard let snapshotName = slot.snapshotName else { throw ReplicatorError.protocolState("slot exported no snapshot") }
        logger.info("snapshot.start", ["slot": config.slot, "consistent_point": slot.consistentPoint.description,
                                       "tables": setup.tables.count])
        var tables: [SnapshotTable] = []
        for t in setup.tables {
            stats.expectSnapshot(table: t.qualifiedName, rows: t.estimatedRows)
            // Every column is nullable in the store: the stream's Relation messages carry no NOT NULL, and the same
            // column must map identically from both paths (or each restart would start a new schema version).
            let mappings = t.columns.map { ColumnMapping(name: $0.name, typeOID: $0.typeOID, typeModifier: $0.typeModifier) }
            let keys = setup.keys[t.qualifiedName] ?? []
            // A table kept from an earlier (interrupted) snapshot keeps its partitioning.
            let spec = store.tableNames.contains(t.qualifiedName) ? try store.manifest(t.qualifiedName).partitioning
                                                                  : partitioning(t.qualifiedName, pages: t.pages)
            try store.defineTable(t.qualifiedName, schema: TableSchema(columns: mappings.map(\.definition), keyColumns: keys), partitioning: spec)
            tables.append(SnapshotTable(source: t, mappings: mappings, keyColumns: keys, partitioning: spec))
        }
        let snapshotter = Snapshotter(settings: settings, store: store, logger: logger, stats: stats,
                                      workers: max(1, ProcessInfo.processInfo.activeProcessorCount),
                                      batchRows: config.batch.maxRows, batchBytes: config.batch.maxBytes)
        let staged = try snapshotter.copy(tables, snapshotName: snapshotName, version: slot.consistentPoint.value)
        // One commit replaces every table's content (truncate + snapshot parts) and sets the checkpoint.
        var commit = StoreCommit(upTo: slot.consistentPoint.value)
        for t in tables {
            commit.truncate(t.source.qualifiedName)
            if let s = staged[t.source.qualifiedName] { commit.add(s) }
        }
        try store.commit(commit)
        stats.recordStoreCommit(commit)
        logger.info("snapshot.committed", ["consistent_point": slot.consistentPoint.description])
    }

    private func sleepUnlessStopped(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && !stopRequested.isSet { usleep(50_000) }
    }
}

/// A flag set from one thread and read from others.
final class AtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    func clear() { lock.lock(); value = false; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Error?
    func set(_ e: Error) { lock.lock(); if value == nil { value = e }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return value }
}
