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

/// Thrown out of a merge that `stopMerger` interrupted: its output files are deleted and the manifest is unchanged.
struct MergeInterrupted: Error {}

/// Shared state of the background merger thread.
final class MergerBox: @unchecked Sendable {
    let condition = NSCondition()
    var stopRequested = false
    var thread: Thread?
    var finished = true
    var lastError: StoreError?
    /// Set by `wakeMerger`, cleared when a pass starts: a wake during a pass or during the spacing after it is kept.
    var woken = false
}

extension Store {
    // MARK: planning

    /// The groups of parts that merge among themselves: each partition of a key-derived partitioning, else the whole
    /// table (a key's versions may sit in several partitions; outputs are then routed by partition).
    func mergeDomains(_ m: Manifest) -> [[PartEntry]] {
        guard m.partitioning.isDerivedFromKey(m.keyColumns) else { return m.parts.isEmpty ? [] : [m.parts] }
        return Dictionary(grouping: m.parts, by: \.partition).sorted(by: { $0.key < $1.key }).map(\.value)
    }

    /// Size-tiered plans over runs of version-adjacent parts: within a merge domain, parts sorted by version; a run of
    /// `mergeFanIn`…`mergeMaxParts` consecutive parts of one level merges into one part of the next level.
    ///
    /// Only adjacent runs may merge (as ClickHouse merges only adjacent parts): a merge keeps one version per key and
    /// fills unchanged columns from the older versions it holds, which is right only when no part outside the run holds
    /// a version of that key in between.
    func planMerges(_ m: Manifest) -> [MergePlan] {
        let keyDerived = m.partitioning.isDerivedFromKey(m.keyColumns)
        var plans = [MergePlan]()
        for domain in mergeDomains(m) {
            let parts = domain.enumerated().sorted { a, b in
                (a.element.minVersion, a.element.maxVersion, a.offset) < (b.element.minVersion, b.element.maxVersion, b.offset)
            }.map(\.element)
            var best: [PartEntry]? = nil
            var start = 0
            while start < parts.count {
                var end = start
                while end + 1 < parts.count, parts[end + 1].level == parts[start].level, end + 1 - start < options.mergeMaxParts { end += 1 }
                let run = Array(parts[start...end])
                // A routed merge writes one part per partition, so it must have more inputs than partitions.
                if run.count >= options.mergeFanIn, keyDerived || run.count > Set(run.map(\.partition)).count,
                   isAdjacent(run, within: parts),
                   best == nil || run[0].level < best![0].level {
                    best = run
                }
                start = end + 1
            }
            if let inputs = best {
                plans.append(MergePlan(table: m.table, inputs: inputs,
                                       dropTombstones: (keyDerived && inputs.count == domain.count || inputs.count == m.parts.count)
                                           && mergeFloors.mayDropTombstones(m.table, inputs),
                                       routeByPartition: !keyDerived))
            }
        }
        return plans
    }

    /// True when no part of `domain` outside `run` holds versions inside the run's version range.
    func isAdjacent(_ run: [PartEntry], within domain: [PartEntry]) -> Bool {
        guard let lo = run.map(\.minVersion).min(), let hi = run.map(\.maxVersion).max() else { return true }
        let inRun = Set(run.map(\.path))
        return !domain.contains { !inRun.contains($0.path) && $0.maxVersion >= lo && $0.minVersion <= hi }
    }

    /// Plans that leave one part per partition, without tombstones (each covers a whole merge domain).
    func planCompaction(_ m: Manifest) -> [MergePlan] {
        let route = !m.partitioning.isDerivedFromKey(m.keyColumns)
        return mergeDomains(m).compactMap { parts in
            let partitions = Set(parts.map(\.partition)).count
            let drop = mergeFloors.mayDropTombstones(m.table, parts)
            guard parts.count > partitions || drop && parts.contains(where: { $0.tombstones > 0 }) else { return nil }
            return MergePlan(table: m.table, inputs: parts, dropTombstones: drop, routeByPartition: route)
        }
    }

    // MARK: running

    /// Streams the plan's inputs through a k-way merge into new part files (one row group per input in memory),
    /// then swaps them into the latest manifest. Returns the outputs, or nil if the swap was refused.
    /// `shouldStop` is asked every 4,096 keys; when it says so the merge is given up (`MergeInterrupted`).
    func run(_ plan: MergePlan, snapshot m: Manifest, shouldStop: () -> Bool = { false }) throws -> [PartEntry]? {
        do {
            return try runUnchecked(plan, snapshot: m, shouldStop: shouldStop)
        } catch let interrupted as MergeInterrupted {
            throw interrupted
        } catch {
            // Inputs dropped meanwhile (truncate, resync) make the merge moot, not the table corrupt.
            let live = Set(try manifest(plan.table).parts.map(\.path))
            if !plan.inputs.allSatisfy({ live.contains($0.path) }) { return nil }
            throw error
        }
    }

    private func runUnchecked(_ plan: MergePlan, snapshot m: Manifest, shouldStop: () -> Bool) throws -> [PartEntry]? {
        let table = plan.table
        let columns = m.readerColumns
        let schema = TableSchema(columns: columns, keyColumns: m.keyColumns)
        let keys = schema.keyIndexes
        let dir = tableDirectory(table)
        let order = m.partOrder
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
                                  schemaVersion: version, level: level, rowGroupRows: options.rowGroupRows, rowGroupBytes: options.rowGroupBytes,
                                  versionBounds: bounds)
        }
        var keysSeen = 0
        func checkStop() throws {
            keysSeen &+= 1
            if keysSeen & 4095 == 0, shouldStop() { throw MergeInterrupted() }
        }
        do {
            if plan.routeByPartition {
                let pcol = m.partitioning.column.flatMap { schema.index(of: $0) }
                var one = RowBatch(columns: columns)
                while try merge.nextKey() {
                    try checkStop()
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
                do {
                    while try merge.nextKey() {
                        try checkStop()
                        try w.appendBuilt { pending in
                            _ = merge.resolve(into: &pending, keepTombstones: !plan.dropTombstones,
                                              keepMarkers: !plan.dropTombstones)
                        }
                    }
                } catch {
                    w.abandon()   // not yet in `writers`
                    throw error
                }
                writers[partition] = w
            }
            var outputs = [PartEntry]()
            for p in writers.keys.sorted() {
                var w = writers[p]!
                // A merge keeps one row per key.
                if var e = try w.finish() { e.uniqueKeys = true; outputs.append(e) }
            }
            return try commitMerge(table: table, inputs: plan.inputs, outputs: outputs) ? outputs : nil
        } catch {
            for w in writers.values { w.abandon() }
            throw error
        }
    }

    /// Runs every merge the size-tiered policy wants for `table` now, repeatedly, until none is due; then the settles
    /// `options.settle` wants.
    @discardableResult
    public func mergeDue(_ table: String) throws -> MergeReport {
        try mergeDue(table, shouldStop: { false })
    }

    /// `mergeDue`, giving up a running merge when `shouldStop` says so (`MergeInterrupted`).
    func mergeDue(_ table: String, shouldStop: () -> Bool) throws -> MergeReport {
        try writable()
        var report = MergeReport()
        while true {
            if shouldStop() { throw MergeInterrupted() }
            let m = try manifest(table)
            // Size-tiered merges first; a domain is settled once they are done.
            guard let plan = planMerges(m).first ?? planSettles(m).first else { return report }
            guard let outputs = try run(plan, snapshot: m, shouldStop: shouldStop) else { return report }
            report.add(plan, outputs)
            if outputs.count >= plan.inputs.count { return report }
        }
    }

    /// Merges `table` down to one part per partition, dropping tombstones (`freshet compact`).
    @discardableResult
    public func compact(_ table: String) throws -> MergeReport {
        try writable()
        var report = MergeReport()
        // Domains of more parts than one merge takes are first merged run by run (`planCompactionRound`).
        while let plan = planCompactionRound(try manifest(table)) {
            guard let outputs = try run(plan, snapshot: try manifest(table)) else { break }
            report.add(plan, outputs)
        }
        let m = try manifest(table)
        for plan in planCompaction(m) {
            if let outputs = try run(plan, snapshot: try manifest(table)) { report.add(plan, outputs) }
        }
        return report
    }

    // MARK: background

    /// Starts the background merger: every `interval` seconds (and after each `wakeMerger`) it runs due merges of
    /// every table and deletes replaced files whose grace period passed. Merges never block commits.
    /// Passes are at least `options.mergePassSpacing` apart: the wakes of the commits in between are taken together,
    /// so a pass finds the parts of several commits and merges longer runs (up to `mergeMaxParts`) in fewer merges.
    /// A failed merge (a damaged part or manifest, a full disk) never stops the process: the error is kept as
    /// `lastMergeError`, passed to `onError` when it differs from that table's previous one, and the merge is
    /// tried again on the next pass.
    public func startMerger(interval: TimeInterval = 5, onError: (@Sendable (_ table: String, _ error: StoreError) -> Void)? = nil) {
        let box = mergerBox
        box.condition.lock()
        defer { box.condition.unlock() }
        guard box.thread == nil else { return }
        box.stopRequested = false
        box.finished = false
        let t = Thread { [weak self] in
            var reported = [String: StoreError]()
            let stopping = { () -> Bool in
                box.condition.lock(); defer { box.condition.unlock() }
                return box.stopRequested
            }
            while true {
                box.condition.lock()
                let stop = box.stopRequested
                box.woken = false
                box.condition.unlock()
                if stop { break }
                guard let store = self else { break }
                let spacing = store.options.mergePassSpacing
                for table in store.tableNames {
                    do {
                        try store.mergeDue(table, shouldStop: stopping)
                        reported[table] = nil
                    } catch is MergeInterrupted {
                        break
                    } catch {
                        let e = error as? StoreError ?? .mergeFailed(table: table, reason: "\(error)")
                        box.condition.lock(); box.lastError = e; box.condition.unlock()
                        if reported.updateValue(e, forKey: table) != e { onError?(table, e) }
                    }
                }
                store.collectGarbage()
                let passEnded = Date()
                box.condition.lock()
                let earliest = passEnded.addingTimeInterval(spacing), latest = passEnded.addingTimeInterval(interval)
                while !box.stopRequested && Date() < earliest { _ = box.condition.wait(until: earliest) }
                while !box.stopRequested && !box.woken && Date() < latest { _ = box.condition.wait(until: latest) }
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
        mergerBox.condition.lock(); mergerBox.woken = true; mergerBox.condition.broadcast(); mergerBox.condition.unlock()
    }

    /// Stops the background merger: a running merge is given up within 4,096 keys (its output files deleted, the
    /// manifest unchanged), so a SIGTERM does not wait for a large merge.
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
