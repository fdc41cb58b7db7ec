import ColumnStore
import Foundation
import PostgresReplication

/// Keeps the replicated set of tables equal to what the source has, while streaming goes on. Every few seconds (and
/// once before streaming starts, for what changed while Freshet was stopped) it compares the source's catalog with
/// the publication and with `SourceLedger`'s record of each table, and acts:
///
/// | found | action |
/// |---|---|
/// | a table in scope that can be replicated and is not published | added to the publication, its rows copied (resync) |
/// | a published table that can no longer be replicated (key dropped, reserved column) | dropped from the publication, reported |
/// | a table in scope that cannot be replicated | left out, reported (log, `freshet_unreplicable_tables`, `/status`) |
/// | a recorded name whose relation OID changed (dropped and created again) | copied afresh |
/// | a recorded OID under a new name (`RENAME TO`) | copied under the new name, the old name emptied |
/// | a recorded table gone from the source | emptied |
/// | a partitioned table whose leaf partitions changed (ATTACH / DETACH), or one truncated (new `relfilenode`) | copied afresh |
/// | a column renamed, retyped, dropped and added again, or added with a default (`ColumnChanges`) | copied afresh |
///
/// Copies go through the resync worker (`ResyncRequest` with a `reason`), so one mechanism — a durable request,
/// a snapshot, one generation switch — serves the initial copy of late tables, attached partitions and resyncs.
/// Requests are recorded before the ledger, so a crash in between repeats a copy rather than losing one.
final class CatalogWatcher: @unchecked Sendable {
    private let config: Config
    private let planner: TablePlanner
    private let store: Store
    private let ledger: SourceLedgerBox
    private let stats: ReplicatorStats
    private let logger: Logger
    private let requestResync: (ResyncRequest) throws -> Void
    private var reported: Set<String> = []
    private let lock = NSLock()
    private var task: PeriodicSQLTask?

    init(config: Config, store: Store, ledger: SourceLedgerBox, stats: ReplicatorStats, logger: Logger,
         requestResync: @escaping (ResyncRequest) throws -> Void) {
        self.config = config
        self.planner = TablePlanner(config: config)
        self.store = store
        self.ledger = ledger
        self.stats = stats
        self.logger = logger
        self.requestResync = requestResync
    }

    /// Checks every `interval` seconds on its own connection until `stop`.
    func start(settings: ConnectionSettings, interval: Double) {
        let task = PeriodicSQLTask(settings: settings, applicationName: "freshet-catalog-watch", interval: interval)
        task.start({ [self] connection in try reconcile(connection) }, onError: { [stats, logger] error in
            stats.recordError("catalog")
            logger.warn("source.check_failed", ["error": "\(error)", "note": "retried"])
        })
        lock.lock(); self.task = task; lock.unlock()
    }

    func stop() {
        lock.lock(); let t = task; task = nil; lock.unlock()
        t?.stop()
    }

    /// One comparison of catalog, publication and ledger, and the actions it calls for (one thread at a time).
    func reconcile(_ connection: Connection) throws {
        lock.lock(); defer { lock.unlock() }
        let catalog = SourceCatalog(connection: connection)
        // One consistent view of the catalog: a table dropped and created again between two reads must not look like
        // a table without a key. The publication changes commit with it.
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        var committed = false
        defer { if !committed { _ = try? connection.execute("ROLLBACK") } }
        let candidates = try catalog.tables(schemas: config.schemas, tables: config.tables, exclude: config.exclude)
        var tables: [SourceTable] = []
        var problems: [UnreplicableTable] = []
        for t in candidates {
            do { _ = try planner.plan(t, store: store); tables.append(t) } catch let u as UnreplicableTable { problems.append(u) }
        }
        report(problems)

        // The publication lists exactly the tables that can be replicated.
        let publication = PublicationManager(connection: connection, publication: config.publication)
        let listed = try catalog.publicationRelations(config.publication)
        let replicable = Set(tables.map(\.oid))
        let leaving = listed.keys.filter { !replicable.contains($0) }.sorted()
        if !leaving.isEmpty {
            try publication.drop(oids: leaving)
            logger.warn("source.table_unpublished", ["tables": leaving.compactMap { listed[$0] }.joined(separator: ","),
                                                     "note": "no longer replicable or in scope: left out of the publication so the source's writes never fail"])
        }
        let joining = tables.filter { listed[$0.oid] == nil }
        if !joining.isEmpty { try publication.add(joining) }
        try connection.execute("COMMIT")
        committed = true

        // What changed against the ledger.
        let recorded = ledger.value.tables
        let currentByOID = Dictionary(candidates.map { ($0.oid, $0) }, uniquingKeysWith: { a, _ in a })
        var copies: [(table: String, kind: SourceChangeKind, detail: String)] = []
        var next: [String: SourceLedger.TableRecord] = [:]
        var columnsSeen: Set<String> = []   // tables whose recorded columns this check replaced
        let labels = try catalog.enumLabels(of: tables.map(\.oid))
        for t in tables {
            let name = t.qualifiedName
            let leaves = t.partitions.sorted { $0.oid < $1.oid }
            let partitions = leaves.map(\.oid)
            let same = recorded[name]?.oid == t.oid
            var record = SourceLedger.TableRecord(t, enumLabels: labels[t.oid] ?? [])
            if same {   // columns and types are the apply thread's to record, in stream order
                if let columns = recorded[name]?.columns { record.columns = columns }
                if let types = recorded[name]?.types { record.types = types }
            }
            next[name] = record
            // A label gone (renamed: enum values cannot be dropped) changed the text of every value that had it.
            if same, let before = recorded[name]?.enumLabels,
               let gone = before.first(where: { !(labels[t.oid] ?? []).contains($0) }) {
                copies.append((name, .enumValueRenamed, "enum label \(gone.split(separator: ":", maxSplits: 1).last ?? "") renamed"))
            }
            // Column changes no Relation message shows yet (none comes before the table's next write).
            if same, let before = recorded[name]?.columns {
                let found = ColumnChanges.detect(before: before, types: recorded[name]?.types ?? [:], now: t.columns,
                                                 nowTypes: SourceLedger.typeTags(t.columns))
                if !found.isEmpty {
                    copies += found.map { (name, $0.kind, $0.detail) }
                    next[name]?.columns = SourceLedger.attnums(t.columns)
                    next[name]?.types = SourceLedger.typeTags(t.columns)
                    columnsSeen.insert(name)
                }
            }
            if let record = recorded[name] {
                if record.oid != t.oid {
                    if let old = recorded.first(where: { $0.value.oid == t.oid })?.key {
                        copies.append((name, .tableRenamed, "renamed from \(old)"))
                    } else {
                        copies.append((name, .tableRecreated, "dropped and created again (relation \(record.oid) → \(t.oid))"))
                    }
                } else if record.partitions != partitions {
                    copies.append((name, .partitionsChanged, "leaf partitions \(record.partitions.count) → \(partitions.count)"))
                } else if let before = record.partitionFiles, before.count == leaves.count,
                          let leaf = zip(leaves, before).first(where: { pair in pair.0.fileNode.map { $0 != pair.1 } ?? false })?.0 {
                    // TRUNCATE of a partition never reaches the stream (pgoutput publishes only the root's changes).
                    copies.append((name, .partitionsChanged, "partition \(leaf.schema).\(leaf.name) truncated or rewritten"))
                }
            } else if let old = recorded.first(where: { $0.value.oid == t.oid })?.key {
                copies.append((name, .tableRenamed, "renamed from \(old)"))
            } else {
                copies.append((name, .tableAdded, "joined the publication"))
            }
        }
        for (name, record) in recorded where next[name] == nil {
            if problems.contains(where: { $0.table == name }) {
                next[name] = record   // unreplicable for now (reported): kept, to compare when it can be replicated again
                continue
            }
            if let now = currentByOID[record.oid] {
                if now.qualifiedName != name && next[now.qualifiedName] != nil {
                    copies.append((name, .tableRenamed, "renamed to \(now.qualifiedName): emptied"))
                }
                // Otherwise it is still there but cannot be replicated now (reported above): its rows stay as they were.
            } else if !candidates.contains(where: { $0.qualifiedName == name }) {
                if try catalog.relationExists(oid: record.oid) {
                    continue   // out of scope now (configuration changed, or moved to another schema): left as it was
                }
                copies.append((name, .tableDropped, "dropped from the source: emptied"))
            }
        }
        // An empty ledger is a store from before it existed, or a fresh one: adopt what is there, copy nothing.
        if recorded.isEmpty { copies = [] }
        if !copies.isEmpty {
            let names = Array(Set(copies.map(\.table))).sorted()
            let reason = copies.map { "\($0.table): \($0.detail)" }.joined(separator: "; ")
            try requestResync(ResyncRequest(tables: names, all: false, reason: reason))
            for c in copies {
                stats.recordSourceChange(c.kind)
                logger.warn("source.\(c.kind.rawValue)", ["table": c.table, "detail": c.detail,
                                                          "action": "copying the table afresh online (automatic resync)"])
            }
        }
        // Column attnums of known tables are the apply thread's to record (in stream order): keep what it wrote.
        try ledger.update { l in
            var merged = next
            for (name, record) in next where l.tables[name]?.oid == record.oid && l.tables[name]?.columns != nil
                && !columnsSeen.contains(name) {
                merged[name]?.columns = l.tables[name]?.columns
                if let types = l.tables[name]?.types { merged[name]?.types = types }
            }
            l.tables = merged
        }
    }

    /// Logs each newly unreplicable table once, with the fix, and publishes the list.
    private func report(_ problems: [UnreplicableTable]) {
        stats.setUnreplicable(problems)
        let names = Set(problems.map(\.table))
        for p in problems where !reported.contains(p.table) {
            stats.recordSourceChange(.unreplicableTable)
            logger.warn("source.unreplicable_table", ["table": p.table, "reason": p.reason, "fix": p.fix,
                                                      "note": "left out of the publication; the rest is replicated"])
        }
        reported = names
    }
}
