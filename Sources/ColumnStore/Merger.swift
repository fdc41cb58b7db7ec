import Foundation

/// One merge: parts of one partition (or of the whole table) into new parts.
struct MergePlan: Sendable {
    let table: String
    let inputs: [PartEntry]
    /// Tombstones may go: the merge covers every part of a key-derived partition, or every part of the table.
    let dropTombstones: Bool
    /// Outputs are routed by each row's partition (whole-table merges of non-key-derived partitionings).
    let routeByPartition: Bool
}

/// The result of running merges.
public struct MergeReport: Sendable, Equatable {
    public var merges = 0
    public var inputParts = 0
    public var outputParts = 0
    public var inputBytes = 0
    public var outputBytes = 0
    public var outputRows = 0

    public init() {}
}

/// Shared state of the background merger thread.
final class MergerBox: @unchecked Sendable {
    let condition = NSCondition()
    var stopRequested = false
    var thread: Thread?
    var finished = true
    var lastError: StoreError?
}

extension Store {
    // MARK: planning

    /// Size-tiered plans: in each partition, parts of one merge level merge once there are `mergeFanIn` of them.
    func planMerges(_ m: Manifest) -> [MergePlan] {
        let keyDerived = m.partitioning.isDerivedFromKey(m.keyColumns)
        var plans = [MergePlan]()
        let byPartition = Dictionary(grouping: m.parts, by: \.partition)
        for (_, parts) in byPartition.sorted(by: { $0.key < $1.key }) {
            let byLevel = Dictionary(grouping: parts, by: \.level)
            for level in byLevel.keys.sorted() {
                guard let same = byLevel[level], same.count >= options.mergeFanIn else { continue }
                let inputs = Array(same.prefix(options.mergeMaxParts))
                plans.append(MergePlan(table: m.table, inputs: inputs,
                                       dropTombstones: keyDerived && inputs.count == parts.count
                                           || inputs.count == m.parts.count,
                                       routeByPartition: false))
                break
            }
        }
        return plans
    }

    /// Plans that leave one part per partition, without tombstones.
    func planCompaction(_ m: Manifest) -> [MergePlan] {
        if !m.partitioning.isDerivedFromKey(m.keyColumns) {
            let needed = m.parts.count > 1 || m.parts.contains { $0.tombstones > 0 }
            return needed ? [MergePlan(table: m.table, inputs: m.parts, dropTombstones: true, routeByPartition: true)] : []
        }
        return Dictionary(grouping: m.parts, by: \.partition).sorted(by: { $0.key < $1.key }).compactMap { _, parts in
            guard parts.count > 1 || parts.contains(where: { $0.tombstones > 0 }) else { return nil }
            return MergePlan(table: m.table, inputs: parts, dropTombstones: true, routeByPartition: false)
        }
    }

    // MARK: running

    /// Streams the plan's inputs through a k-way merge into new part files (one row group per input in memory),
    /// then swaps them into the latest manifest. Returns the outputs, or nil if the swap was refused.
    func run(_ plan: MergePlan, snapshot m: Manifest) throws -> [PartEntry]? {
        do {
            return try runUnchecked(plan, snapshot: m)
        } catch {
            // Inputs dropped meanwhile (truncate, resync) make the merge moot, not the table corrupt.
            let live = Set(try manifest(plan.table).parts.map(\.path))
            if !plan.inputs.allSatisfy({ live.contains($0.path) }) { return nil }
            throw error
        }
    }

    private func runUnchecked(_ plan: MergePlan, snapshot m: Manifest) throws -> [PartEntry]? {
        let table = plan.table
        let columns = m.readerColumns
        let schema = TableSchema(columns: columns, keyColumns: m.keyColumns)
        let keys = schema.keyIndexes
        let dir = tableDirectory(table)
        let order = Dictionary(uniqueKeysWithValues: m.parts.enumerated().map { ($1.path, $0) })
        let cursors = try plan.inputs.map {
            try PartCursor(table: table, tableDirectory: dir, entry: $0, order: order[$0.path] ?? 0,
                           target: columns, verifyChecksum: options.verifyChecksums)
        }
        var merge = try KeyMerge(cursors: cursors, keys: keys)
        let level = (plan.inputs.map(\.level).max() ?? 0) + 1
        let version = m.schemaVersions.last?.version ?? 1
        let bounds = (plan.inputs.map(\.minVersion).min() ?? 0, plan.inputs.map(\.maxVersion).max() ?? 0)
        var writers = [String: PartWriter]()
        func writer(_ partition: String) throws -> PartWriter {
            if let w = writers[partition] { return w }
            return try PartWriter(table: table, tableDirectory: dir, partition: partition, columns: columns,
                                  schemaVersion: version, level: level, rowGroupRows: options.rowGroupRows,
                                  versionBounds: bounds)
        }
        do {
            if plan.routeByPartition {
                let pcol = m.partitioning.column.flatMap { schema.index(of: $0) }
                var one = RowBatch(columns: columns)
                while try merge.nextKey() {
                    guard merge.resolve(into: &one, keepTombstones: !plan.dropTombstones, keepMarkers: !plan.dropTombstones) else { continue }
                    let p = m.partitioning.partition(of: one, row: 0, columnIndex: pcol, keyIndexes: keys)
                    var w = try writer(p)
                    try w.append(from: one, row: 0)
                    writers[p] = w
                    one.removeAll()
                }
            } else {
                let partition = plan.inputs.first?.partition ?? "all"
                var w = try writer(partition)
                while try merge.nextKey() {
                    try w.appendBuilt { pending in
                        _ = merge.resolve(into: &pending, keepTombstones: !plan.dropTombstones,
                                          keepMarkers: !plan.dropTombstones)
                    }
                }
                writers[partition] = w
            }
            var outputs = [PartEntry]()
            for p in writers.keys.sorted() {
                var w = writers[p]!
                if let e = try w.finish() { outputs.append(e) }
            }
            return try commitMerge(table: table, inputs: plan.inputs, outputs: outputs) ? outputs : nil
        } catch {
            for w in writers.values { w.abandon() }
            throw error
        }
    }

    /// Runs every merge the size-tiered policy wants for `table` now, repeatedly, until none is due.
    @discardableResult
    public func mergeDue(_ table: String) throws -> MergeReport {
        try writable()
        var report = MergeReport()
        while true {
            let m = try manifest(table)
            guard let plan = planMerges(m).first else { return report }
            guard let outputs = try run(plan, snapshot: m) else { return report }
            report.add(plan, outputs)
        }
    }

    /// Merges `table` down to one part per partition, dropping tombstones (`freshet compact`).
    @discardableResult
    public func compact(_ table: String) throws -> MergeReport {
        try writable()
        let m = try manifest(table)
        var report = MergeReport()
        for plan in planCompaction(m) {
            if let outputs = try run(plan, snapshot: try manifest(table)) { report.add(plan, outputs) }
        }
        return report
    }

    // MARK: background

    /// Starts the background merger: every `interval` seconds (and after each `wakeMerger`) it runs due merges of
    /// every table and deletes replaced files whose grace period passed. Merges never block commits.
    public func startMerger(interval: TimeInterval = 5) {
        let box = mergerBox
        box.condition.lock()
        defer { box.condition.unlock() }
        guard box.thread == nil else { return }
        box.stopRequested = false
        box.finished = false
        let t = Thread { [weak self] in
            while true {
                box.condition.lock()
                let stop = box.stopRequested
                box.condition.unlock()
                if stop { break }
                guard let store = self else { break }
                for table in store.tableNames {
                    do { try store.mergeDue(table) } catch let e as StoreError {
                        box.condition.lock(); box.lastError = e; box.condition.unlock()
                    } catch {}
                }
                store.collectGarbage()
                box.condition.lock()
                if !box.stopRequested { _ = box.condition.wait(until: Date().addingTimeInterval(interval)) }
                box.condition.unlock()
            }
            box.condition.lock()
            box.finished = true
            box.condition.broadcast()
            box.condition.unlock()
        }
        t.name = "freshet-merger"
        box.thread = t
        t.start()
    }

    /// Asks the merger to look for work now.
    public func wakeMerger() {
        mergerBox.condition.lock(); mergerBox.condition.broadcast(); mergerBox.condition.unlock()
    }

    /// Stops the background merger, waiting for a running merge to finish.
    public func stopMerger() {
        let box = mergerBox
        box.condition.lock()
        defer { box.condition.unlock() }
        guard box.thread != nil else { return }
        box.stopRequested = true
        box.condition.broadcast()
        while !box.finished { box.condition.wait() }
        box.thread = nil
    }

    /// The last error the background merger met (the merge is retried later).
    public var lastMergeError: StoreError? {
        mergerBox.condition.lock(); defer { mergerBox.condition.unlock() }
        return mergerBox.lastError
    }
}

extension MergeReport {
    mutating func add(_ plan: MergePlan, _ outputs: [PartEntry]) {
        merges += 1
        inputParts += plan.inputs.count
        inputBytes += plan.inputs.reduce(0) { $0 + $1.bytes }
        outputParts += outputs.count
        outputBytes += outputs.reduce(0) { $0 + $1.bytes }
        outputRows += outputs.reduce(0) { $0 + $1.rows }
    }
}
