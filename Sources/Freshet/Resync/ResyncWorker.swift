import ColumnStore
import Foundation
import PostgresReplication

/// Performs resync requests on its own thread while the stream goes on (DESIGN.md "Resync (online)"):
/// a temporary slot exports a snapshot at LSN C; the tables are copied under it with `_version = C` into staged parts;
/// then, per table, one manifest commit switches to a new generation made of the snapshot plus every committed row
/// above C (`Store.replaceGeneration`). Readers see the old generation until the switch. Requests and progress are
/// kept in `STORE/resync.json`; one interrupted by a crash starts over at the next start.
final class ResyncWorker: @unchecked Sendable {
    private let config: Config
    private let logger: Logger
    private let stats: ReplicatorStats
    private let store: Store
    private let settings: ConnectionSettings
    private let planner: TablePlanner
    private let condition = NSCondition()
    private var ledger: ResyncLedger
    private var stopping = false
    private var finished = DispatchSemaphore(value: 0)
    /// The wait before a resync that failed transiently runs again (used on the worker thread only).
    private var retryBackoff = ReconnectBackoff(initial: 1, maximum: 30)

    init(config: Config, logger: Logger, stats: ReplicatorStats, store: Store, settings: ConnectionSettings) {
        self.config = config
        self.logger = logger
        self.stats = stats
        self.store = store
        self.settings = settings
        self.planner = TablePlanner(config: config)
        var ledger = ResyncLedger.decode(store.readSidecar(ResyncLedger.fileName))
        for e in ledger.entries where e.state == .copying {
            ledger.update(e.request.id) { $0.state = .pending; $0.rowsCopied = 0; $0.message = "restarted after an interruption" }
        }
        self.ledger = ledger
    }

    /// Records a request durably (called by the apply thread before the checkpoint can pass its message).
    func enqueue(_ request: ResyncRequest) throws {
        if let slot = request.slot, slot != config.slot { return }   // meant for another replicator of this database
        condition.lock(); defer { condition.unlock() }
        guard ledger.add(request) else { return }   // a replayed message
        try persistLocked()
        logger.info("resync.requested", ["id": request.id, "tables": request.all ? "all" : request.tables.joined(separator: ","),
                                         "reason": request.reason ?? "freshet resync"])
        condition.broadcast()
    }

    func start() {
        Thread.detachNewThread { [self] in
            defer { finished.signal() }
            while let entry = nextPending() {
                perform(entry)
            }
        }
    }

    func stop() {
        condition.lock(); stopping = true; condition.broadcast(); condition.unlock()
        finished.wait()
    }

    /// Waits for a pending request; nil once stopping.
    private func nextPending() -> ResyncLedger.Entry? {
        condition.lock(); defer { condition.unlock() }
        while !stopping {
            if let e = ledger.entries.first(where: { $0.state == .pending }) { return e }
            condition.wait(until: Date().addingTimeInterval(1))
        }
        return nil
    }

    private var isStopping: Bool { condition.lock(); defer { condition.unlock() }; return stopping }

    private func update(_ id: String, persist: Bool = true, _ change: (inout ResyncLedger.Entry) -> Void) {
        condition.lock(); defer { condition.unlock() }
        ledger.update(id, change)
        if persist { try? persistLocked() }
    }

    private func persistLocked() throws {
        try store.writeSidecar(ResyncLedger.fileName, try ledger.encoded())
    }

    private func perform(_ entry: ResyncLedger.Entry) {
        let id = entry.request.id
        do {
            let result = try copyAndSwitch(entry.request)
            retryBackoff = ReconnectBackoff(initial: 1, maximum: 30)
            update(id) { $0.state = .done; $0.message = result }
            logger.info("resync.done", ["id": id, "result": result])
        } catch {
            if isStopping {
                update(id) { $0.state = .pending; $0.message = "interrupted by shutdown; restarts at the next start" }
                return
            }
            if ResyncWorker.isTransient(error) {
                // A lost connection or a full disk ends this attempt, not the request: it copies afresh later (an
                // automatic resync that failed for good would leave the table different from the source).
                let wait = retryBackoff.delay(afterRunning: 0)
                update(id) { $0.state = .pending; $0.rowsCopied = 0; $0.message = "retrying after: \(error)" }
                logger.warn("resync.retry", ["id": id, "error": "\(error)", "retry_in_s": wait])
                condition.lock()
                let until = Date().addingTimeInterval(wait)
                while !stopping && Date() < until { condition.wait(until: until) }
                condition.unlock()
                return
            }
            update(id) { $0.state = .failed; $0.message = "\(error)" }
            logger.error("resync.failed", ["id": id, "error": "\(error)"])
        }
    }

    /// Whether a resync that failed with `error` runs again: a connection that was lost or refused, a server shutting
    /// down, starting up or out of resources (SQLSTATE classes 08, 57, 53), a full disk. Anything else (a table
    /// neither side has, a partition named instead of its root, …) fails the request for good.
    static func isTransient(_ error: Error) -> Bool {
        switch error {
        case let e as PostgresError:
            switch e {
            case .connectionFailed, .connectionLost: return true
            case let .server(s): return ["08", "57", "53"].contains(String(s.sqlState.prefix(2)))
            default: return false
            }
        case let e as StoreError:
            return e.isDiskFull
        default:
            return false
        }
    }

    private func copyAndSwitch(_ request: ResyncRequest) throws -> String {
        let sql = try Connection(settings: settings, applicationName: "freshet-resync")
        defer { sql.close() }
        let catalog = SourceCatalog(connection: sql)
        // Another replicator of this database receives the same request: each copies only the tables it replicates.
        let names = request.all ? store.tableNames : request.tables.filter { name in
            if store.tableNames.contains(name) { return true }
            guard let parsed = try? TableName(parsing: name) else { return false }
            return planner.inScope(schema: parsed.schema, name: parsed.table)
        }
        guard !names.isEmpty else { return "no table of this replicator's (\(config.slot)) scope" }
        let found = try catalog.tables(schemas: [], tables: names, exclude: [])
        // A name the source no longer has (dropped, or renamed away) is emptied in the store: the copy equals the
        // source. A name neither has is a mistake; a partition is named by its partitioned table.
        var gone: [String] = []
        for name in Set(names).subtracting(found.map(\.qualifiedName)).sorted() {
            if store.tableNames.contains(name) { gone.append(name); continue }
            if let parsed = try? TableName(parsing: name), let root = try catalog.partitionRoot(of: parsed) {
                throw ReplicatorError.snapshotFailed(table: name, reason: "it is a partition of \(root.qualifiedName), which Freshet replicates as one table: resync \(root.qualifiedName)")
            }
            throw ReplicatorError.snapshotFailed(table: name, reason: "no such table in the source or the store")
        }
        // Define (or extend) every table first, then note its generation: a TRUNCATE after this point makes the
        // table's resync moot (the stream rebuilds it from the truncate on).
        var tables: [TablePlan] = []
        var generations: [String: UInt64] = [:]
        for t in found {
            let plan = try planner.plan(t, store: store)
            try store.defineTable(plan.name, schema: plan.schema, partitioning: plan.partitioning)
            generations[plan.name] = try store.manifest(plan.name).generation
            tables.append(plan)
        }
        for name in gone { generations[name] = try store.manifest(name).generation }
        let repl = try ReplicationConnection(settings: settings, applicationName: "freshet-resync")
        defer { repl.connection.close() }   // drops the temporary slot
        // Unique per replicator: several replicators of one database may perform the same request.
        let slotName = String(config.slot.prefix(40)) + "_resync_" + String(request.id.filter(\.isHexDigit).prefix(12))
        let slot = try repl.createSlot(slotName, temporary: true, snapshot: .export)
        guard let snapshotName = slot.snapshotName else { throw ReplicatorError.protocolState("resync slot exported no snapshot") }
        let estimate = found.reduce(0) { $0 + max(0, Int($1.estimatedRows)) }
        update(request.id) { $0.state = .copying; $0.snapshotLSN = slot.consistentPoint.description; $0.estimatedRows = estimate }
        logger.info("resync.copy", ["id": request.id, "snapshot": slot.consistentPoint.description,
                                    "tables": found.map(\.qualifiedName).joined(separator: ","),
                                    "emptied": gone.joined(separator: ",")])
        let copied = Counter()
        let snapshotter = Snapshotter(settings: settings, store: store, logger: logger, stats: stats,
                                      workers: max(1, ProcessInfo.processInfo.activeProcessorCount / 2),
                                      batchRows: config.batch.maxRows, batchBytes: config.batch.maxBytes)
        snapshotter.onRows = { [self] _, n in
            let total = copied.add(n)
            update(request.id, persist: false) { $0.rowsCopied = total }
        }
        let staged = try snapshotter.copy(tables, snapshotName: snapshotName, version: slot.consistentPoint.value)
        var switched: [String] = [], moot: [String] = []
        for name in tables.map(\.name) + gone {
            if try store.replaceGeneration(name, snapshot: staged[name], keepingVersionsAbove: slot.consistentPoint.value,
                                           expectedGeneration: generations[name] ?? 0) {
                switched.append(name)
            } else {
                moot.append(name)
            }
        }
        let total = copied.value
        update(request.id) { $0.rowsCopied = total }
        return "switched \(switched.joined(separator: ","))" + (moot.isEmpty ? "" : "; truncated meanwhile, left as streamed: \(moot.joined(separator: ","))")
            + " at \(slot.consistentPoint) (\(total) rows)"
    }
}

/// A thread-safe running total.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ n: Int) -> Int { lock.lock(); defer { lock.unlock() }; total += n; return total }
    var value: Int { lock.lock(); defer { lock.unlock() }; return total }
}
