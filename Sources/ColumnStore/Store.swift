import Foundation
import Parquet

/// A local ReplacingMergeTree: tables of immutable Parquet parts listed by atomically replaced manifests.
///
/// ```
/// STORE/store.json
/// STORE/tables/<schema>.<table>/manifest.json
/// STORE/tables/<schema>.<table>/parts/<partition>/<part>.parquet
/// ```
/// Tables are named by `TableName.qualifiedName`; `<schema>.<table>` is `TableName.directoryName`.
/// One process writes a store; any number read it (`StoreOptions.readOnly`). Thread-safe.
public final class Store: @unchecked Sendable {
    /// The store directory.
    public let url: URL
    public let options: StoreOptions

    enum TableState { case ready(Manifest), broken(StoreError) }

    /// Guards the in-memory state (`tables`, `identityValue`, retired parts): held only briefly, never across I/O, so
    /// readers (`manifest`, `tableNames`, `checkpointLSN` — the HTTP and resync threads) never wait for an fsync.
    let lock = NSLock()
    /// Per table: which columns' staged parts dropped their dictionary (under `lock`).
    private var dictionaryMemories: [String: DictionaryMemory] = [:]
    /// Serialises the writers of manifests and `store.json` (commits, merges' installs, table definitions, generation
    /// switches): a writer reads the current manifests, writes and fsyncs without `lock`, and installs its result
    /// under `lock`, knowing no other writer changed them meanwhile. Always taken before `lock`, never inside it.
    let manifestWriters = WriterToken()
    private var identityValue: StoreIdentity
    private var tables: [String: TableState] = [:]
    private var retired: [(table: String, path: String, since: Date)] = []
    /// When `collectGarbage` last deleted files.
    private var lastSweep = Date.distantPast
    var crashHook: (@Sendable (CrashPoint) throws -> Void)?
    var mergerBox = MergerBox()
    /// Versions merges must keep tombstones of (`enableMergeFloors`, the ClickHouse sink).
    let mergeFloors = MergeFloors()
    /// Set while the replicator catches up on a backlog (`holdSettles`).
    let settleHold = SettleHold()

    private init(url: URL, identity: StoreIdentity, options: StoreOptions) {
        self.url = url
        self.identityValue = identity
        self.options = options
    }

    /// The descriptor holding the writer lock (`.writer.lock`, flock) of a writable store.
    private var lockFD: Int32 = -1

    deinit {
        stopMerger()
        if lockFD >= 0 { Glibc.close(lockFD) }
    }

    /// Stops the merger and releases the writer lock; the object must not be used afterwards.
    /// (Nothing needs flushing: every commit is durable when it returns.)
    public func close() {
        stopMerger()
        lock.withLock {
            if lockFD >= 0 { Glibc.close(lockFD); lockFD = -1 }
        }
    }

    /// Takes the store's writer lock so two processes never commit to one store.
    private func lockForWriting() throws {
        let path = url.appendingPathComponent(".writer.lock").path
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, StoreFile.fileMode)
        if fd < 0 { throw StoreError.io(path: path, operation: "open", errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            Glibc.close(fd)
            throw StoreError.locked(path: url.path)
        }
        lockFD = fd
    }

    /// Directories of tables an older Freshet wrote under a name `TableName.directoryName` now encodes differently
    /// (e.g. `public.a%b`, today `public.a%25b`), by table. Filled while opening, read-only afterwards.
    private var legacyDirectories: [String: String] = [:]

    var storeFile: URL { url.appendingPathComponent("store.json") }
    var tablesDirectory: URL { url.appendingPathComponent("tables") }
    /// The directory of `table` (a `TableName.qualifiedName`, or the directory name of a table whose name is unknown).
    func tableDirectory(_ table: String) -> URL {
        tablesDirectory.appendingPathComponent(legacyDirectories[table] ?? Self.directoryName(of: table))
    }

    static func directoryName(of table: String) -> String {
        if let name = try? TableName(parsing: table) { return name.directoryName }
        // Not a table name: a directory listed by `loadTables` whose manifest names no table it could hold.
        return table.replacingOccurrences(of: "/", with: "%2F")
    }
    func manifestURL(_ table: String) -> URL { tableDirectory(table).appendingPathComponent("manifest.json") }

    // MARK: opening

    /// Opens the store at `url`, creating it with `identity` when it does not exist. When it exists and `identity`
    /// is given, the source (system identifier, slot, publication) must match. A writable open removes orphans:
    /// temp files and parts no manifest lists, older than `options.orphanCutoff`.
    public static func open(at url: URL, identity: StoreIdentity? = nil, options: StoreOptions = StoreOptions()) throws -> Store {
        let file = url.appendingPathComponent("store.json")
        let current: StoreIdentity
        if FileManager.default.fileExists(atPath: file.path) {
            current = try StoreIdentity.decode(try StoreFile.read(file), path: file.path)
            if let want = identity, want.systemIdentifier != current.systemIdentifier || want.slot != current.slot
                || want.publication != current.publication {
                throw StoreError.identityMismatch(path: url.path, reason:
                    "store copies system \(current.systemIdentifier) slot \(current.slot) publication \(current.publication)")
            }
        } else {
            guard let want = identity else {
                throw StoreError.io(path: file.path, operation: "open store", errno: ENOENT)
            }
            if options.readOnly { throw StoreError.readOnly(path: url.path) }
            try StoreFile.makeDirectory(url.appendingPathComponent("tables"))
            try StoreFile.replace(file, with: try want.encoded())
            current = want
        }
        let store = Store(url: url, identity: current, options: options)
        if !options.readOnly { try store.lockForWriting() }
        try store.loadTables()
        if !options.readOnly { store.removeOrphans() }
        return store
    }

    private func loadTables() throws {
        let directories = (try? FileManager.default.contentsOfDirectory(atPath: tablesDirectory.path)) ?? []
        for directory in directories.sorted() where !directory.hasPrefix(".") {
            if isInterruptedDefinition(directory) {
                // `defineTable` was stopped before its first manifest: the table was never defined.
                if !options.readOnly { try? FileManager.default.removeItem(at: tablesDirectory.appendingPathComponent(directory)) }
                continue
            }
            let (key, state) = loadTable(directory: directory)
            if tables[key] != nil {
                tables[key] = .broken(.corruptManifest(table: key, path: tablesDirectory.appendingPathComponent(directory).path,
                                                       reason: "a second directory holds this table"))
                continue
            }
            tables[key] = state
            if Self.directoryName(of: key) != directory { legacyDirectories[key] = directory }
        }
    }

    /// True when `tables/<directory>` is what a `defineTable` stopped before its first manifest leaves: no
    /// `manifest.json`, and nothing but empty directories and temporary files (`StoreFile.isTemporary`) inside.
    private func isInterruptedDefinition(_ directory: String) -> Bool {
        let dir = tablesDirectory.appendingPathComponent(directory)
        guard StoreFile.fileInfo(dir.appendingPathComponent("manifest.json")) == nil,
              let walk = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isDirectoryKey]) else { return false }
        for case let item as URL in walk {
            let isDirectory = (try? item.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) ?? false
            if !isDirectory && !StoreFile.isTemporary(item.lastPathComponent) { return false }
        }
        return true
    }

    /// Reads the manifest in `tables/<directory>` and checks that it belongs there and that its parts exist with the
    /// recorded sizes. Returns the table's name (`TableName.qualifiedName`; the directory name when the manifest names
    /// no table the directory can hold) and its state.
    ///
    /// A manifest names its directory's table when `TableName.directoryName` of its `table` is the directory, or (a
    /// store written by an older Freshet, which named directories `schema.table` as they were) when its `table` is the
    /// directory name and holds exactly one dot. `public.dotted.name`, where older versions put both
    /// `"public.dotted".name` and `public."dotted.name"`, is neither: that table is refused as ambiguous.
    func loadTable(directory: String) -> (String, TableState) {
        let dir = tablesDirectory.appendingPathComponent(directory)
        let manifestURL = dir.appendingPathComponent("manifest.json")
        var key = TableName(directoryName: directory)?.qualifiedName ?? directory
        do {
            var m = try Manifest.decode(try StoreFile.read(manifestURL), path: manifestURL.path)
            if let n = try? TableName(parsing: m.table), n.directoryName == directory {
                key = n.qualifiedName
            } else if m.table == directory {
                let parts = directory.split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    return (key, .broken(.corruptManifest(table: key, path: manifestURL.path, reason:
                        "ambiguous table name \(m.table) (written by an older Freshet, which gave \"a.b\".c and a.\"b.c\" this one directory): move the directory away and resync those tables")))
                }
                key = TableName(schema: String(parts[0]), table: String(parts[1])).qualifiedName
            } else {
                return (key, .broken(.corruptManifest(table: key, path: manifestURL.path,
                                                      reason: "manifest is for table \(m.table), not for directory \(directory)")))
            }
            m.table = key
            for p in m.parts {
                let u = dir.appendingPathComponent(p.path)
                guard let st = StoreFile.fileInfo(u) else {
                    return (key, .broken(.corruptPart(table: key, path: u.path, reason: "missing")))
                }
                if st.size != p.bytes {
                    return (key, .broken(.corruptPart(table: key, path: u.path, reason: "size \(st.size), manifest says \(p.bytes)")))
                }
            }
            return (key, .ready(m))
        } catch let e as StoreError {
            if case .io(_, _, ENOENT) = e {
                return (key, .broken(.corruptManifest(table: key, path: manifestURL.path, reason: "missing")))
            }
            if case let .corruptManifest(_, path, reason) = e { return (key, .broken(.corruptManifest(table: key, path: path, reason: reason))) }
            return (key, .broken(.corruptManifest(table: key, path: manifestURL.path, reason: e.description)))
        } catch {
            return (key, .broken(.corruptManifest(table: key, path: manifestURL.path, reason: "\(error)")))
        }
    }

    /// Deletes temp files and unreferenced parts older than the orphan cutoff (what an abandoned stage or a crash
    /// leaves). Tables whose manifest cannot be read are left alone.
    private func removeOrphans() {
        let cutoff = options.orphanCutoff
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] where StoreFile.isTemporary(name) {
            removeIfOlder(url.appendingPathComponent(name), cutoff)
        }
        for name in tables.keys {
            let dir = tableDirectory(name)
            // Files a previous process removed from the manifest are orphans now: the manifest stops offering them
            // to query-time views before they are deleted.
            manifestWriters.withLock { lock.withLock {
                guard case var .ready(m)? = tables[name], let r = m.removed, !r.isEmpty else { return }
                m.forget(Set(r.map(\.path)))
                m.sequence += 1
                try? writeManifest(m)
            } }
            if case .ready? = tables[name] { try? writeReaderSchema(name) }
            for f in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where StoreFile.isTemporary(f) {
                removeIfOlder(dir.appendingPathComponent(f), cutoff)
            }
            guard case let .ready(m)? = tables[name] else { continue }
            let live = Set(m.parts.map(\.path))
            let partsDir = dir.appendingPathComponent("parts")
            for partition in (try? fm.contentsOfDirectory(atPath: partsDir.path)) ?? [] where partition != ReaderSchema.directory {
                let pdir = partsDir.appendingPathComponent(partition)
                for f in (try? fm.contentsOfDirectory(atPath: pdir.path)) ?? [] where !live.contains("parts/\(partition)/\(f)") {
                    removeIfOlder(pdir.appendingPathComponent(f), cutoff)
                }
            }
        }
    }

    private func removeIfOlder(_ u: URL, _ cutoff: Date) {
        if let st = StoreFile.fileInfo(u), st.modified < cutoff { StoreFile.remove(u) }
    }

    // MARK: state

    /// The store's identity and checkpoint as last committed.
    public var identity: StoreIdentity { lock.withLock { identityValue } }

    /// The LSN to confirm to Postgres and to resume streaming from.
    public var checkpointLSN: UInt64 { identity.checkpointLSN }

    /// Names of the tables (`TableName.qualifiedName`, e.g. `public.orders`, `"public.dotted".name`), sorted.
    public var tableNames: [String] { lock.withLock { tables.keys.sorted() } }

    /// The table's committed manifest (a snapshot: later commits do not change it).
    /// Throws when the table is unknown or its manifest or parts are damaged.
    public func manifest(_ table: String) throws -> Manifest {
        try lock.withLock { try readyManifest(table) }
    }

    func readyManifest(_ table: String) throws -> Manifest {
        switch tables[table] {
        case nil: throw StoreError.unknownTable(table)
        case let .broken(e)?: throw e
        case let .ready(m)?: return m
        }
    }

    /// Changes to `table` at or below this LSN are already stored (skip them on replay).
    public func committedLSN(_ table: String) throws -> UInt64 {
        try lock.withLock { max(try readyManifest(table).committedLSN, identityValue.checkpointLSN) }
    }

    // MARK: tables and schema versions

    /// Creates `table`, or starts a new schema version when `schema`'s columns differ from its current ones.
    /// Key columns and partitioning of an existing table cannot change (that takes a resync into a new table).
    /// Returns the schema version batches must now use.
    @discardableResult
    public func defineTable(_ table: String, schema: TableSchema, partitioning: PartitionSpec = .default) throws -> Int {
        try writable()
        guard let name = try? TableName(parsing: table), name.qualifiedName == table else {
            throw StoreError.invalidSchema(table: table, reason: "bad table name (expected TableName.qualifiedName)")
        }
        try schema.validate(table: table)
        try partitioning.validate(schema, table: table)
        return try manifestWriters.withLock { try lock.withLock {
            if tables[table] == nil {
                // An older Freshet's directory for another table may be spelled like this table's today.
                if let other = legacyDirectories.first(where: { $0.value == name.directoryName })?.key {
                    throw StoreError.invalidSchema(table: table, reason: "its directory \(name.directoryName) holds table \(other) (written by an older Freshet)")
                }
                let m = Manifest(formatVersion: Manifest.currentFormatVersion, table: table, sequence: 1, generation: 1,
                                 committedLSN: 0, keyColumns: schema.keyColumns, partitioning: partitioning,
                                 schemaVersions: [SchemaVersion(version: 1, columns: schema.columns)], parts: [])
                try StoreFile.makeDirectory(tableDirectory(table).appendingPathComponent("parts"))
                try writeManifest(m)
                try writeReaderSchemaLocked(table)
                return 1
            }
            var m = try readyManifest(table)
            guard m.keyColumns == schema.keyColumns else {
                throw StoreError.invalidSchema(table: table, reason: "key columns cannot change (\(m.keyColumns) → \(schema.keyColumns))")
            }
            guard m.partitioning == partitioning else {
                throw StoreError.invalidSchema(table: table, reason: "partitioning cannot change (\(m.partitioning) → \(partitioning))")
            }
            guard let current = m.schemaVersions.last else {
                throw StoreError.corruptManifest(table: table, path: manifestURL(table).path, reason: "no schema version")
            }
            if current.columns == schema.columns { return current.version }
            m.schemaVersions.append(SchemaVersion(version: current.version + 1, columns: schema.columns))
            m.sequence += 1
            try writeManifest(m)
            try writeReaderSchemaLocked(table)
            return current.version + 1
        } }
    }

    /// Writes a manifest durably and makes it the table's current state, stamped with its commit time against the
    /// current one (`Manifest.stamp`). Caller holds `manifestWriters` and `lock` (table definitions,
    func writeManifest(_ m: Manifest) throws {
        var m = m
        if case let .ready(previous)? = tables[m.table] {
            m.stamp(replacing: previous, now: Manifest.nowMicros(), history: options.viewHistoryMicros)
        } else {
            m.commitMicros = Manifest.nowMicros()
        }
        try StoreFile.replace(manifestURL(m.table), with: try m.encoded()) { [crashHook] in
            try crashHook?(.beforeManifestRename(m.table))
        }
        tables[m.table] = .ready(m)
    }

    func writable() throws {
        if options.readOnly { throw StoreError.readOnly(path: url.path) }
    }

    // MARK: staging and commits

    /// Writes `batch` (columns of the table's current schema version) as durable part files, one per partition,
    /// sorted by (key, _version). Nothing is visible until the parts are committed.
    /// With `deferFsync` the part files are written and renamed into place but neither they nor their directory
    /// entries are fsynced: `commit` fsyncs every part it commits and their directories, in parallel with writing the
    /// manifests, so a streaming commit waits for one round of fsyncs less. Parts staged so must go through `commit`.
    public func stage(_ batch: RowBatch, table: String, deferFsync: Bool = false) throws -> StagedParts {
        try writable()
        let m = try manifest(table)
        // Usually the latest schema version; an earlier one when another writer (a resync) defined a newer version
        // while this batch was being built with the columns the stream still has.
        guard let current = m.schemaVersions.last(where: { $0.columns == batch.columns }) else {
            throw StoreError.invalidBatch(table: table, reason: "batch columns match no schema version (latest \(m.schemaVersions.last?.version ?? 0))")
        }
        let schema = TableSchema(columns: current.columns, keyColumns: m.keyColumns)
        let keys = schema.keyIndexes
        let pcol = m.partitioning.column.flatMap { schema.index(of: $0) }
        // A partitioning not derived from the key can put two changes of one key in one transaction (one version) into
        // two partitions: collapse them across the batch first, so only the last change is written (readers could
        // not tell the two apart by version).
        let batch = m.partitioning.isDerivedFromKey(m.keyColumns) ? batch : batch.sorted(keys: keys).collapsingEqualVersions(keys: keys)
        let byPartition = m.partitioning.rowsByPartition(batch, columnIndex: pcol, keyIndexes: keys)
        var staged = StagedParts(table: table, parts: [])
        for (partition, rows) in byPartition.sorted(by: { $0.key < $1.key }) {
            // The partition's rows in (key, _version) order, as indexes: the part writer gathers them a row group at a
            // time. Two changes of one key with one version (a transaction changed the row twice) are collapsed into
            // one row first, on a sorted copy of the partition's rows.
            let order = batch.keyOrder(of: rows, keys: keys)
            let collapsed = batch.hasEqualVersions(in: order, keys: keys)
                ? batch.gathered(order).collapsingEqualVersions(keys: keys) : nil
            let rowCount = collapsed?.count ?? order.count
            var minVersion = UInt64.max, maxVersion = UInt64.min
            for r in order {
                minVersion = min(minVersion, batch.versions[r])
                maxVersion = max(maxVersion, batch.versions[r])
            }
            var w = try PartWriter(table: table, tableDirectory: tableDirectory(table), partition: partition,
                                   columns: current.columns, schemaVersion: current.version, level: options.level(forRows: rowCount),
                                   rowGroupRows: options.rowGroupRows, rowGroupBytes: options.rowGroupBytes,
                                   versionBounds: order.isEmpty ? (0, 0) : (minVersion, maxVersion), durable: !deferFsync,
                                   staged: true, dictionaryMemory: dictionaryMemory(table))
            do {
                if let collapsed { try w.append(sorted: collapsed) } else { try w.append(batch, order: order) }
                if var e = try w.finish() {
                    e.uniqueKeys = collapsed.map { c in
                        c.count < 2 || (1..<c.count).allSatisfy { RowBatch.compareKeys(c, $0 - 1, c, $0, keys) != 0 }
                    } ?? (order.count < 2 || (1..<order.count).allSatisfy {
                        RowBatch.compareKeys(batch, order[$0 - 1], batch, order[$0], keys) != 0
                    })
                    staged.parts.append(e)
                }
            } catch {
                w.abandon()
                discard(staged)
                throw error
            }
        }
        return staged
    }

    /// The table's `DictionaryMemory`, shared by every part `stage` writes for it in this process.
    func dictionaryMemory(_ table: String) -> DictionaryMemory {
        lock.lock(); defer { lock.unlock() }
        if let m = dictionaryMemories[table] { return m }
        let m = DictionaryMemory()
        dictionaryMemories[table] = m
        return m
    }

    /// Deletes staged parts that will not be committed.
    public func discard(_ staged: StagedParts) {
        for p in staged.parts { StoreFile.remove(tableDirectory(staged.table).appendingPathComponent(p.path)) }
    }

    /// Renames staged part files to their committed names (`<part>.parquet`, which query-time views glob) just before
    /// the manifest commit that lists them; the commit's first round fsyncs their directories. A part already renamed
    /// (a retried commit) is taken as it is. A crash after the rename leaves an unlisted file: an orphan.
    func publish(_ staged: StagedParts) throws -> StagedParts {
        var out = staged
        for i in out.parts.indices where out.parts[i].path.hasSuffix(StagedParts.suffix) {
            let from = tableDirectory(staged.table).appendingPathComponent(out.parts[i].path)
            let path = String(out.parts[i].path.dropLast(StagedParts.suffix.count))
            let to = tableDirectory(staged.table).appendingPathComponent(path)
            if rename(from.path, to.path) != 0 {
                let e = errno
                guard e == ENOENT, StoreFile.fileInfo(to) != nil else { throw StoreError.io(path: from.path, operation: "rename staged part", errno: e) }
            }
            out.parts[i].path = path
        }
        return out
    }

    /// Commits: for each table, one manifest replace (truncate first, then the staged parts, committed LSN = `upTo`),
    /// then the store checkpoint. Returns when everything is durable; then `upTo` may be confirmed to Postgres.
    /// A crash part-way leaves every manifest either old or new; the checkpoint moves only after all of them.
    public func commit(_ commit: StoreCommit) throws {
        try writable()
        try manifestWriters.withLock {
            let prepared = try prepareCommitHoldingWriters(commit, after: nil)
            try finishCommitHoldingWriters(prepared)
        }
        collectGarbage()
        // New parts may complete a run to merge: frequent small commits must not pile up parts until the merger's
        // next timed pass (each part makes every later manifest write and every read slower).
        if !commit.tables.isEmpty { wakeMerger() }
    }

    // MARK: overlapping commits

    /// Takes the manifest-writer token for a run of overlapping commits (`prepareCommit` / `finishCommit`); no
    /// merge install, table definition or other commit changes a manifest until `endCommits`.
    public func beginCommits() { manifestWriters.acquire() }

    /// Gives the token back (after the last `finishCommit` of the run, or an `abandon`), then deletes parts whose
    /// grace period passed, as `commit` does after each commit.
    public func endCommits() {
        manifestWriters.release()
        collectGarbage()
    }

    /// True when another manifest writer waits for the token: the run should end soon (no further overlap).
    public var commitsAwaited: Bool { manifestWriters.waiting }

    /// The first half of a commit (between `beginCommits` and `endCommits`): publishes the staged parts, builds the
    /// new manifests and checkpoint from `previous` (a prepared commit not finished yet) or else the current ones, and
    /// runs the first round of fsyncs (the parts and their directories; the manifests and the checkpoint as temp
    /// files). Nothing becomes visible: a crash or an error leaves the store as it was (plus orphan files).
    /// May run on another thread while `previous` is being finished.
    public func prepareCommit(_ commit: StoreCommit, after previous: PreparedCommit?) throws -> PreparedCommit {
        try writable()
        return try prepareCommitHoldingWriters(commit, after: previous)
    }

    /// The second half: renames the manifests into place, then the checkpoint (each round fsyncs the directories).
    /// Prepared commits must be finished one at a time and in the order they were prepared; after an error, the
    /// later ones must be `abandon`ed.
    public func finishCommit(_ prepared: PreparedCommit) throws {
        try finishCommitHoldingWriters(prepared)
        // As after `commit`: the new parts may complete a run to merge (the merge installs once the run of commits
        // ends, or lets it end by waiting for the token).
        if prepared.hasTables { wakeMerger() }
    }

    /// Removes the temp files of a prepared commit that will not be finished.
    public func abandon(_ prepared: PreparedCommit) {
        for t in prepared.temps { StoreFile.remove(t) }
        if let c = prepared.checkpoint { StoreFile.remove(c.temp) }
    }

    private func prepareCommitHoldingWriters(_ commit: StoreCommit, after previous: PreparedCommit?) throws -> PreparedCommit {
        // Staged part files take their committed names first (query-time views glob those names; the manifest below
        // is what makes them visible).
        var commit = commit
        for (table, change) in commit.tables { commit.tables[table]?.staged = try change.staged.map(publish) }
        // The new manifests, from the current ones (or those `previous` installs): no other manifest writer runs
        // until this one is done.
        let (next, truncated, identity): ([Manifest], [(table: String, parts: [PartEntry])], StoreIdentity) = try lock.withLock {
            var next = [Manifest](), truncated = [(table: String, parts: [PartEntry])]()
            let now = Manifest.nowMicros()
            for (table, change) in commit.tables.sorted(by: { $0.key < $1.key }) {
                let previous = try previous?.next.first(where: { $0.table == table }) ?? readyManifest(table)
                var m = previous
                if change.truncate {
                    truncated.append((table, m.parts))
                    m.parts.removeAll()
                    m.generation += 1
                }
                for s in change.staged {
                    guard s.table == table else { throw StoreError.invalidCommit(reason: "parts of \(s.table) listed under \(table)") }
                    for var p in s.parts {
                        p.generation = m.generation
                        m.parts.append(p)
                    }
                }
                m.committedLSN = max(m.committedLSN, commit.upTo)
                m.sequence += 1
                m.stamp(replacing: previous, now: now, history: options.viewHistoryMicros)
                next.append(m)
            }
            return (next, truncated, previous?.identityAfter ?? identityValue)
        }
        // Three rounds of fsyncs, each round in parallel (the tables' manifests are independent), none under `lock`:
        //  1. the new parts and their directories (a no-op for parts staged durably), and the new manifests and
        //     the checkpoint as temp files (here);
        //  2. each manifest renamed into place and its directory fsynced — a crash part-way leaves each table old
        //     or new, and the checkpoint not moved (`finishCommit`);
        //  3. the checkpoint renamed into place and the store directory fsynced (`finishCommit`).
        let urls = next.map { manifestURL($0.table) }
        let temps = urls.map { StoreFile.temporaryURL(for: $0) }
        var files = try zip(temps, next).map { ($0, try $1.encoded()) }
        var checkpoint: (identity: StoreIdentity, temp: URL)?
        if commit.upTo > identity.checkpointLSN {
            var id = identity
            id.checkpointLSN = commit.upTo
            let temp = StoreFile.temporaryURL(for: storeFile)
            checkpoint = (id, temp)
            files.append((temp, try id.encoded()))
        }
        let partFiles = commit.tables.flatMap { table, change in
            change.staged.flatMap { $0.parts.map { self.tableDirectory(table).appendingPathComponent($0.path) } }
        }
        let partDirectories = Set(partFiles.map { $0.deletingLastPathComponent() }).sorted { $0.path < $1.path }
        let writes = files
        let round1Jobs: [@Sendable () throws -> Void] =
            partFiles.map { u in { @Sendable in try StoreFile.syncFile(u) } }
            + partDirectories.map { u in { @Sendable in try StoreFile.syncDirectory(u) } }
            + writes.map { f in { @Sendable in try StoreFile.writeNew(f.1, to: f.0) } }
        if let e = Parallel.forEachWaiting(round1Jobs.count, { try round1Jobs[$0]() }).compactMap({ $0 }).first {
            for f in writes { StoreFile.remove(f.0) }
            throw e
        }
        return PreparedCommit(upTo: commit.upTo, hasTables: !commit.tables.isEmpty, next: next, truncated: truncated,
                              urls: urls, temps: temps, checkpoint: checkpoint, identityAfter: checkpoint?.identity ?? identity)
    }

    private func finishCommitHoldingWriters(_ p: PreparedCommit) throws {
        let names = p.next.map(\.table), temps = p.temps, urls = p.urls
        let round2 = Parallel.forEachWaiting(p.next.count) { [crashHook] i in
            try crashHook?(.beforeManifestRename(names[i]))
            try StoreFile.rename(temps[i], to: urls[i])
            try StoreFile.syncDirectory(urls[i].deletingLastPathComponent())
        }
        lock.withLock {
            for (m, e) in zip(p.next, round2) where e == nil {
                tables[m.table] = .ready(m)
                // A truncated table's old parts go (after the grace period) only once its new manifest is in place.
                for t in p.truncated where t.table == m.table { retireLocked(t.parts, table: t.table) }
            }
        }
        if let e = round2.compactMap({ $0 }).first {
            if let c = p.checkpoint { StoreFile.remove(c.temp) }
            throw e
        }
        for m in p.next { try crashHook?(.afterManifest(m.table)) }
        try crashHook?(.beforeCheckpoint)
        if let checkpoint = p.checkpoint {
            try StoreFile.rename(checkpoint.temp, to: storeFile)
            try StoreFile.syncDirectory(url)
            lock.withLock { identityValue = checkpoint.identity }
        }
    }

    /// Swaps a merge's inputs for its outputs in the latest manifest (commits made meanwhile are kept).
    /// Returns false (and removes the outputs) when an input is gone, e.g. after a truncate.
    ///
    /// The new manifest is written and fsynced outside the store's locks, and only renamed into place under them when no
    /// commit changed the table meanwhile (else it is rebuilt from the newer manifest): the apply thread's stage and
    /// commit never wait for a merge's fsyncs, which take tens of milliseconds while the disk is busy.
    func commitMerge(table: String, inputs: [PartEntry], outputs: [PartEntry]) throws -> Bool {
        let gone = Set(inputs.map(\.path))
        while true {
            let base = try manifest(table)
            guard gone.isSubset(of: Set(base.parts.map(\.path))) else {
                for o in outputs { StoreFile.remove(tableDirectory(table).appendingPathComponent(o.path)) }
                return false
            }
            var next = Self.replacing(gone, by: outputs, in: base)
            next.stamp(replacing: base, now: Manifest.nowMicros(), history: options.viewHistoryMicros)
            let url = manifestURL(table)
            let tmp = StoreFile.temporaryURL(for: url)
            try StoreFile.writeNew(try next.encoded(), to: tmp)
            let installed: Bool = try manifestWriters.withLock { try lock.withLock {
                guard case let .ready(current)? = tables[table], current.sequence == base.sequence else { return false }
                try crashHook?(.beforeManifestRename(table))
                try StoreFile.rename(tmp, to: url)
                tables[table] = .ready(next)
                return true
            } }
            guard installed else { StoreFile.remove(tmp); continue }
            // The rename is durable once the directory is; the inputs are only retired (deleted after the grace
            // period) after that, so a crash before it finds the old manifest with all of its parts.
            try StoreFile.syncDirectory(url.deletingLastPathComponent())
            lock.withLock { retireLocked(inputs, table: table) }
            return true
        }
    }

    /// `m` with the parts in `gone` replaced by `outputs` at the place of the first of them (part order, newest last,
    /// stays meaningful); the outputs keep the inputs' generation.
    private static func replacing(_ gone: Set<String>, by outputs: [PartEntry], in m: Manifest) -> Manifest {
        var m = m
        let generation = m.parts.first(where: { gone.contains($0.path) })?.generation ?? m.generation
        var kept = [PartEntry](), inserted = false
        for p in m.parts {
            if gone.contains(p.path) {
                if !inserted {
                    kept += outputs.map { var o = $0; o.generation = generation; return o }
                    inserted = true
                }
            } else { kept.append(p) }
        }
        m.parts = kept
        m.sequence += 1
        return m
    }

    // MARK: garbage

    func retireLocked(_ parts: [PartEntry], table: String) {
        let now = Date()
        for p in parts { retired.append((table, p.path, now)) }
    }

    /// Deletes replaced part files whose grace period has passed (all of them when `force`). Each table's manifest
    /// first stops offering them to query-time views (`Manifest.forget`, one manifest commit per table), then the
    /// files go. Deletions happen in sweeps at most once per grace period (unless `force`): a DuckDB query binding a
    /// glob opens every matching file, so a file vanishing between the glob and that open fails the query, and
    /// sweeps keep such moments rare. Returns how many files were deleted.
    @discardableResult
    public func collectGarbage(force: Bool = false) -> Int {
        let now = Date()
        // It may rewrite manifests (to forget the files it deletes), so it is a manifest writer.
        let due: [URL] = manifestWriters.withLock { lock.withLock {
            guard force || now.timeIntervalSince(lastSweep) >= options.gracePeriod else { return [] }
            let (old, keep) = retired.reduce(into: ([(table: String, path: String, since: Date)](), [(table: String, path: String, since: Date)]())) { acc, r in
                if force || now.timeIntervalSince(r.since) >= options.gracePeriod { acc.0.append(r) } else { acc.1.append(r) }
            }
            guard !old.isEmpty else { return [] }
            lastSweep = now
            var deletable = [URL]()
            var kept = keep
            for (table, entries) in Dictionary(grouping: old, by: \.table) {
                let paths = Set(entries.map(\.path))
                if case var .ready(m)? = tables[table], let r = m.removed, r.contains(where: { paths.contains($0.path) }) {
                    m.forget(paths)
                    m.sequence += 1
                    do { try writeManifest(m) } catch { kept += entries; continue }
                }
                deletable += entries.map { tableDirectory(table).appendingPathComponent($0.path) }
            }
            retired = kept
            return deletable
        } }
        for u in due { StoreFile.remove(u) }
        return due.count
    }

    // MARK: verification

    /// Re-reads every manifest and every part and returns the problems found (empty = ok):
    /// - a manifest that cannot be read, lists a part twice, or names a table its directory cannot hold;
    /// - two directories holding one table, or one part file listed by two tables;
    /// - a part that is missing, or whose size, checksum or Parquet footer is wrong, or whose footer's row count differs
    ///   from the manifest's.
    /// Every part is checked (not only up to a table's first problem).
    public func verify() -> [StoreError] {
        var problems = [StoreError]()
        var owners = [String: String]()   // resolved part file path → table
        var seen = Set<String>()
        let directories = (try? FileManager.default.contentsOfDirectory(atPath: tablesDirectory.path)) ?? []
        for directory in directories.sorted() where !directory.hasPrefix(".") {
            let (name, state) = loadTable(directory: directory)
            let dir = tablesDirectory.appendingPathComponent(directory)
            if !seen.insert(name).inserted {
                problems.append(.corruptManifest(table: name, path: dir.path, reason: "a second directory holds this table"))
            }
            let manifest: Manifest
            switch state {
            case let .ready(m): manifest = m
            case let .broken(e):
                // A broken part is reported below with the others; a manifest that cannot be read ends the table here.
                guard case .corruptPart = e,
                      let m = try? Manifest.decode(try StoreFile.read(dir.appendingPathComponent("manifest.json")), path: "") else {
                    problems.append(e)
                    continue
                }
                manifest = m
            }
            for p in manifest.parts {
                let u = dir.appendingPathComponent(p.path)
                let resolved = u.resolvingSymlinksInPath().path
                if let other = owners.updateValue(name, forKey: resolved) {
                    problems.append(.corruptPart(table: name, path: u.path, reason: "also listed by table \(other)"))
                }
                do {
                    try PartCursor.check(u, entry: p, table: name, checksum: true)
                    let rows = try PartFileReader(url: u, table: name).rowCount
                    if rows != p.rows {
                        problems.append(.corruptPart(table: name, path: u.path, reason: "holds \(rows) rows, manifest says \(p.rows)"))
                    }
                } catch let StoreError.corruptPart(_, path, reason) {
                    problems.append(.corruptPart(table: name, path: path, reason: reason))
                } catch {
                    problems.append(.corruptPart(table: name, path: u.path, reason: "\(error)"))
                }
            }
        }
        return problems
    }
}
