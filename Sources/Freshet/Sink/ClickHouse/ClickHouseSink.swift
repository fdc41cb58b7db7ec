import ColumnStore
import Foundation

/// Ships the store's committed rows to ClickHouse, table by table, on a thread of its own.
///
/// The store stays the durable buffer: the source's slot is confirmed by store commits alone, so ClickHouse being
/// down never holds WAL. For each table the shipper reads the keys changed above its cursor (`Store.changes`,
/// unchanged TOAST columns resolved from older versions, deletes as tombstones), sends them in RowBinary inserts of
/// at most `maxInsertRows`, and moves the cursor (`clickhouse.json`) only after ClickHouse acknowledged. A table is
/// sent once `batchRows` rows are pending or its oldest pending commit waited `batchAge`. Merges keep tombstones
/// above each cursor (`Store.setMergeFloor`). A new store generation (TRUNCATE, resync) or a first run goes into a
/// shadow table that is then swapped in. Errors are logged with the statement's first line and retried with backoff.
public final class ClickHouseSink: @unchecked Sendable {
    public let settings: ClickHouseSettings
    public let endpoint: ClickHouseEndpoint
    public let stats: ClickHouseStats
    let client: ClickHouseClient
    /// Runs the DDL (ON CLUSTER statements that only hosts that are down have not run count as done).
    let runner: ClickHouseDDLRunner
    let naming: ClickHouseNaming
    private let logger: Logger
    private(set) var server: ClickHouseServer
    /// Rows per INSERT at most (ClickHouse keeps inserts of up to 1,048,576 rows all or nothing); a read batch (a
    /// part's row group) larger than this goes alone.
    var maxInsertRows = 1_000_000
    /// Bytes per INSERT at most. An insert is streamed (`ClickHouseInsert`): only one read batch is in memory here;
    /// ClickHouse itself buffers up to a block (1,048,576 rows) of it.
    var maxInsertBytes = 512 << 20
    /// A shipment of at least this many rows goes in `settings.insertStreams` concurrent inserts (each its own HTTP
    /// connection and ClickHouse thread), the rows split by key, so every version of a key goes through one insert in
    /// order.
    var parallelMinRows = 100_000
    /// For tests: the insert stream whose inserts the server refuses (3 stray bytes at their end).
    var corruptStream: Int?
    /// Seconds between looks at the store's manifests.
    var pollInterval = 0.05

    private let condition = NSCondition()
    private var stopRequested = false
    private var thread: Thread?
    private var finished = true
    private var store: Store?
    private var cursor: ClickHouseCursor
    /// Per table: the existing ClickHouse columns were checked against this schema version count.
    private var schemaChecked: [String: Int] = [:]
    /// Per table: `uuid` columns whose existing ClickHouse column is String (made by an earlier Freshet); they are
    /// sent as text until the table is copied afresh.
    private var uuidAsText: [String: Set<String>] = [:]

    /// Checks the server before anything is created on the source: reachable, the credentials accepted, the database
    /// created when missing, and the user allowed to create tables and insert (a probe table, dropped again).
    public static func connect(settings: ClickHouseSettings, tableSettings: [String: Config.TableSettings],
                               logger: Logger) throws -> ClickHouseSink {
        let endpoint = try ClickHouseEndpoint(settings)
        var client = ClickHouseClient(endpoint: endpoint)
        if settings.cluster != nil {
            // An ON CLUSTER statement answers once every host ran it, or after this many seconds: sooner than the
            // client gives up on the answer.
            client.settings = [("distributed_ddl_task_timeout", String(settings.ddlTimeoutSeconds))]
            client.timeout = max(client.timeout, Double(settings.ddlTimeoutSeconds) + 30)
        }
        let version = try client.execute("SELECT version()", inDatabase: false).trimmingCharacters(in: .whitespacesAndNewlines)
        var server = ClickHouseServer(version: version)
        let db = ClickHouseSQL.identifier(endpoint.database)
        var runner = ClickHouseDDLRunner(client: client, cluster: settings.cluster, logger: logger)
        let onCluster = settings.cluster.map { " ON CLUSTER " + ClickHouseSQL.identifier($0) } ?? ""
        if let cluster = settings.cluster {
            let known = try client.execute("SELECT count() FROM system.clusters WHERE cluster = \(ClickHouseSQL.literal(cluster))",
                                           inDatabase: false)
            guard Int(known.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0 else {
                throw ClickHouseError.cluster(name: cluster, reason: "not in system.clusters (remote_servers of the server's config)")
            }
            // The Replicated engine's path and replica name use the macros {shard} and {replica}.
            let macros = try client.execute("SELECT count() FROM system.macros WHERE macro IN ('shard', 'replica')", inDatabase: false)
            guard Int(macros.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 == 2 else {
                throw ClickHouseError.cluster(name: cluster, reason: "the server's config lacks the macros shard and replica (<macros><shard>..</shard><replica>..</replica></macros>) that the Replicated tables' path and replica name use")
            }
            try runner.findLocalHosts()
        }
        do {
            try runner.run("CREATE DATABASE IF NOT EXISTS \(db)\(onCluster)", inDatabase: false)
        } catch let ClickHouseError.server(_, _, message) where settings.cluster != nil && message.contains("DDL background thread is not initialized") {
            // 18.16 without <zookeeper> in its config: distributed DDL (and Replicated engines) need ZooKeeper.
            throw ClickHouseError.cluster(name: settings.cluster ?? "", reason: "the server runs no distributed DDL: ON CLUSTER and Replicated engines need ZooKeeper in its config (\(message))")
        }
        server.databaseEngine = try client.execute(
            "SELECT engine FROM system.databases WHERE name = \(ClickHouseSQL.literal(endpoint.database))", inDatabase: false)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let probe = ClickHouseSQL.table(endpoint.database, "_freshet_probe")
        try client.execute("CREATE TABLE IF NOT EXISTS \(probe) (x UInt8) ENGINE = Memory")
        try client.insertRowBinary(table: "_freshet_probe", columns: ["x"], rows: [1])
        try client.execute("DROP TABLE IF EXISTS \(probe)")
        let sink = ClickHouseSink(settings: settings, endpoint: endpoint, client: client, runner: runner, server: server,
                                  naming: ClickHouseNaming(tableSettings: tableSettings), logger: logger)
        logger.info("clickhouse.connected", ["url": settings.redactedURL, "database": endpoint.database, "version": version,
                                             "timestamps": server.hasDateTime64 ? "DateTime64(6)" : "Int64 microseconds",
                                             "swap": server.hasExchange ? "EXCHANGE TABLES" : "RENAME"])
        return sink
    }

    init(settings: ClickHouseSettings, endpoint: ClickHouseEndpoint, client: ClickHouseClient, runner: ClickHouseDDLRunner? = nil,
         server: ClickHouseServer,
         naming: ClickHouseNaming, logger: Logger) {
        self.settings = settings
        self.endpoint = endpoint
        self.client = client
        self.server = server
        self.naming = naming
        self.logger = logger
        self.runner = runner ?? ClickHouseDDLRunner(client: client, cluster: settings.cluster, logger: logger)
        stats = ClickHouseStats(destination: "\(endpoint.base)/\(endpoint.database)", healthMaxLag: settings.healthMaxLagSeconds)
        stats.setServer(server.version)
        cursor = ClickHouseCursor(destination: "")
    }

    private var destination: String { "\(endpoint.base)/\(endpoint.database)" }

    /// Makes the store keep what is not shipped yet (call before the store's merger starts).
    public func protect(_ store: Store) {
        cursor = ClickHouseCursor.load(store, destination: destination)
        store.enableMergeFloors()
        for (table, c) in cursor.tables { store.setMergeFloor(table, version: c.version) }
    }

    /// For commands that merge a store while `freshet run` is stopped (`freshet compact`): when the store has a
    /// ClickHouse cursor, merges keep the tombstones it has not shipped yet.
    public static func protectUnshipped(_ store: Store) {
        guard let data = store.readSidecar(ClickHouseCursor.sidecarName),
              let cursor = try? JSONDecoder().decode(ClickHouseCursor.self, from: data) else { return }
        store.enableMergeFloors()
        for (table, c) in cursor.tables { store.setMergeFloor(table, version: c.version) }
    }

    /// Starts the shipper thread over `store` (`protect` must have been called).
    public func start(_ store: Store) {
        condition.lock()
        defer { condition.unlock() }
        guard thread == nil else { return }
        self.store = store
        stopRequested = false
        finished = false
        let t = Thread { [self] in
            loop(store)
            condition.lock(); finished = true; condition.broadcast(); condition.unlock()
        }
        t.name = "freshet-clickhouse"
        thread = t
        t.start()
    }

    /// Stops the shipper after its current insert (what is not acknowledged is sent again next time).
    public func stop() {
        condition.lock()
        stopRequested = true
        condition.broadcast()
        while thread != nil && !finished { condition.wait() }
        thread = nil
        condition.unlock()
    }

    private var stopping: Bool { condition.lock(); defer { condition.unlock() }; return stopRequested }

    private func sleep(_ seconds: Double) {
        condition.lock()
        if !stopRequested { _ = condition.wait(until: Date().addingTimeInterval(seconds)) }
        condition.unlock()
    }

    // MARK: the loop

    private func loop(_ store: Store) {
        var backoff = 0.5
        var firstSeen: [String: Date] = [:]
        while !stopping {
            do {
                try cycle(store, firstSeen: &firstSeen)
                backoff = 0.5
                sleep(pollInterval)
            } catch {
                if stopping { break }
                let message = (error as? ClickHouseError)?.description ?? "\(error)"
                stats.failed(message)
                logger.warn("clickhouse.error", ["error": message, "retry_in_s": backoff,
                                                 "note": "nothing is lost: the store keeps what is not acknowledged"])
                sleep(backoff)
                backoff = min(backoff * 2, 30)
            }
        }
    }

    /// One pass over the store's tables: each table due is brought up to date. A table that fails does not hold the
    /// others back: the pass goes on and then throws the first failure (logged by the loop, retried with backoff).
    func cycle(_ store: Store, firstSeen: inout [String: Date]) throws {
        let names = store.tableNames
        for gone in Set(cursor.tables.keys).subtracting(names) { stats.forget(gone) }
        var failure: Error?
        for table in names {
            if stopping { return }
            do {
                try bringUpToDate(table, store: store, firstSeen: &firstSeen)
            } catch {
                if failure == nil { failure = error } else {
                    stats.failed("\(error)")
                    logger.warn("clickhouse.error", ["table": table, "error": (error as? ClickHouseError)?.description ?? "\(error)"])
                }
            }
        }
        if let failure { throw failure }
    }

    /// Ships `table` when it is due: a new copy when its generation or name changed, else its changes above the cursor.
    private func bringUpToDate(_ table: String, store: Store, firstSeen: inout [String: Date]) throws {
        let m = try store.manifest(table)
        let shipped = cursor.tables[table]
        let newest = m.parts.map(\.maxVersion).max() ?? 0
        guard let shipped, shipped.generation == m.generation, shipped.clickhouseTable == naming.name(of: table) else {
            stats.observe(table, newest: max(newest, 1), shipped: 0, backlogRows: m.parts.reduce(0) { $0 + $1.rows })
            try rebuild(table, store: store)
            firstSeen[table] = nil
            return
        }
        let after = shipped.version
        let pending = m.parts.filter { $0.maxVersion > after }.reduce(0) { $0 + $1.rows }
        stats.observe(table, newest: newest, shipped: after, backlogRows: pending)
        try followSchema(table, m)
        guard newest > after else { firstSeen[table] = nil; return }
        let since = firstSeen[table] ?? Date()
        firstSeen[table] = since
        guard pending >= settings.batchRows || Date().timeIntervalSince(since) >= settings.batchAge || stopping else { return }
        let done = try ship(table, store: store, after: after, into: naming.name(of: table), skipDeleted: false)
        try advance(table, store: store, generation: done.generation, version: done.version)
        firstSeen[table] = nil
    }

    /// Sends what changed above `after` into `target`; returns the generation read and the version reached.
    ///
    /// First every row version above `after` as the parts hold them (`Store.versions`: no merge of keys; ClickHouse
    /// keeps the highest version per key, tombstones included). When that scan meets an unchanged (TOAST) marker,
    /// everything above `after` is read again through `Store.changes`, which resolves it from older versions (rows
    /// sent twice are harmless: same version). `skipDeleted` (a new copy) drops tombstones only when the scan sent nothing: once older versions of a
    /// key went out, its tombstone must follow (the torture run with a resync of a TOASTed table found this).
    private func ship(_ table: String, store: Store, after: UInt64, into target: String,
                      skipDeleted: Bool) throws -> (generation: UInt64, version: UInt64) {
        var scan = try store.versions(table, after: after)
        let ddl = self.ddl(scan.manifest, table: table)
        var encoder = RowBinaryEncoder()
        let started = Date()
        let columns = ddl.insertColumns
        let client = self.client
        let stats = self.stats
        // Large shipments go in concurrent inserts, the rows split by key; small ones (steady streaming) in one, so
        // ClickHouse gets no more parts than before.
        let streams = scan.pendingRows >= parallelMinRows ? max(1, settings.insertStreams) : 1
        let inserts = ClickHouseParallelInsert(streams: streams, maxRows: maxInsertRows, maxBytes: maxInsertBytes,
                                               corruptStream: corruptStream,
                                               begin: { try client.beginInsert(table: target, columns: columns) },
                                               acknowledged: { stats.shipped($0) })
        func send(_ batch: RowBatch, sources: [Int?], keys: [Int], skipDeleted: Bool) throws {
            if stopping { throw CancellationError() }   // sent again after the restart
            let routing = streams > 1 ? RowBinaryRouting(keyColumns: keys, streams: streams) : nil
            encoder.append(batch, columns: ddl.columns, sources: sources, skipDeleted: skipDeleted, routing: routing)
            guard encoder.rows > 0, let pieces = encoder.pieces.first else { encoder.reset(); return }
            let bytes = encoder.take()   // the streams send it while the next row group is read and encoded
            for (stream, piece) in pieces.enumerated() { try inserts.send(stream, bytes, piece.bytes, rows: piece.rows) }
        }
        /// The batch columns of the key (every version of a key goes to the same insert stream).
        func keyIndexes(_ batchColumns: [ColumnDefinition]) -> [Int] {
            scan.manifest.keyColumns.compactMap { k in batchColumns.firstIndex { $0.name == k } }
        }
        var resolvedFrom: ChangeReader?
        let sent: Int
        do {
            let sources = ddl.columns.map { c in scan.columns.firstIndex { $0.name == c.name } }
            let keys = keyIndexes(scan.columns)
            var scanned = 0
            while let batch = try scan.next() {
                scanned += batch.count
                try send(batch, sources: sources, keys: keys, skipDeleted: false)
            }
            if scan.sawUnchanged {
                var reader = try store.changes(table, after: after, batchRows: 8192)
                let sources = ddl.columns.map { c in reader.columns.firstIndex { $0.name == c.name } }
                let keys = keyIndexes(reader.columns)
                // Once the scan sent older versions of a key, its delete must follow, or that version would stay.
                let skip = skipDeleted && scanned == 0
                while let batch = try reader.next() { try send(batch, sources: sources, keys: keys, skipDeleted: skip) }
                resolvedFrom = reader
            }
            sent = try inserts.finish()
        } catch {
            inserts.cancel()   // closes the connections: ClickHouse drops the unfinished inserts
            throw error
        }
        if sent >= 100_000 {
            let seconds = Date().timeIntervalSince(started)
            logger.info("clickhouse.shipped", ["table": table, "clickhouse_table": target, "rows": sent,
                                               "seconds": seconds, "rows_per_s": Int(Double(sent) / max(seconds, 1e-6)),
                                               "inserts_in_parallel": streams,
                                               "read": resolvedFrom == nil ? "versions" : "versions+changes"])
        }
        if let reader = resolvedFrom, reader.unresolvedUnchanged > 0 {
            logger.warn("clickhouse.unresolved_unchanged", ["table": table, "values": reader.unresolvedUnchanged,
                                                            "note": "unchanged TOAST values with no older version in the store were sent as NULL"])
        }
        let invalidUUIDs = encoder.invalidUUIDs
        if invalidUUIDs > 0 {
            logger.warn("clickhouse.invalid_uuid", ["table": table, "values": invalidUUIDs,
                                                    "note": "values of a uuid column that were not UUID text were sent as the zero UUID"])
        }
        // The changes reader read a manifest at least as new as the scan's: the scan's is the one both cover.
        return (scan.manifest.generation, max(scan.upToVersion, after))
    }

    /// ClickHouse holds `table` of `generation` up to `version`: moves the durable cursor and the merge floor.
    private func advance(_ table: String, store: Store, generation: UInt64, version: UInt64) throws {
        cursor.tables[table] = ClickHouseCursor.Table(generation: generation, version: version,
                                                      clickhouseTable: naming.name(of: table))
        cursor.destination = destination
        try cursor.save(store)
        store.setMergeFloor(table, version: version)
        stats.acknowledged(table, upTo: version)
    }

    /// Ships the whole table into a shadow table and swaps it in (first run, TRUNCATE, resync, a renamed target).
    private func rebuild(_ table: String, store: Store) throws {
        let m = try store.manifest(table)
        uuidAsText[table] = nil   // the new copy gets every column's own type
        let ddl = self.ddl(m, table: table)
        let started = Date()
        try runner.run(ddl.drop(ddl.shadowName))
        try runner.run(ddl.create(ddl.shadowName, copy: ClickHouseTableDDL.copyID(generation: m.generation)))
        let done = try ship(table, store: store, after: 0, into: ddl.shadowName, skipDeleted: true)
        let exists = try !existingColumns(ddl.name).isEmpty
        for sql in ddl.swap(tableExists: exists) { try runner.run(sql) }
        try advance(table, store: store, generation: done.generation, version: done.version)
        schemaChecked[table] = m.schemaVersions.count
        logger.info("clickhouse.table_copied", ["table": table, "clickhouse_table": ddl.name, "generation": m.generation,
                                                "version": done.version, "seconds": Date().timeIntervalSince(started)])
    }

    /// Follows ADD / DROP / type changes of columns with ALTER TABLE (checked when the schema versions change).
    private func followSchema(_ table: String, _ m: Manifest) throws {
        guard schemaChecked[table] != m.schemaVersions.count else { return }
        let existing = try existingColumns(naming.name(of: table))
        uuidAsText[table] = Set(m.readerColumns.filter { c in
            c.annotation == .uuid && existing[c.name].map(ClickHouseColumn.isText) == true
        }.map(\.name))
        let ddl = self.ddl(m, table: table)
        if existing.isEmpty {
            try runner.run(ddl.create(ddl.name, copy: ClickHouseTableDDL.copyID(generation: m.generation)))
        } else {
            for sql in ddl.alterations(existing: existing) {
                try runner.run(sql)
                logger.info("clickhouse.altered", ["table": table, "statement": ClickHouseSQL.firstLine(sql)])
            }
        }
        schemaChecked[table] = m.schemaVersions.count
    }

    private func ddl(_ m: Manifest, table: String) -> ClickHouseTableDDL {
        ClickHouseTableDDL(manifest: m, database: endpoint.database, name: naming.name(of: table), cluster: settings.cluster,
                           server: server, uuidAsText: uuidAsText[table] ?? [])
    }

    /// Columns of a ClickHouse table (name → type); empty when the table does not exist.
    private func existingColumns(_ name: String) throws -> [String: String] {
        let text = try client.execute("SELECT name, type FROM system.columns WHERE database = \(ClickHouseSQL.literal(endpoint.database)) AND table = \(ClickHouseSQL.literal(name)) FORMAT TabSeparated")
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if f.count == 2 { out[Self.unescapeTSV(f[0])] = Self.unescapeTSV(f[1]) }
        }
        return out
    }

    static func unescapeTSV(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = "", escaped = false
        for ch in s {
            if escaped {
                switch ch { case "t": out.append("\t"); case "n": out.append("\n"); case "0": out.append("\0"); default: out.append(ch) }
                escaped = false
            } else if ch == "\\" { escaped = true } else { out.append(ch) }
        }
        return out
    }
}
