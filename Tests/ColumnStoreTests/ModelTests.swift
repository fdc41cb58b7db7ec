import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// Randomised: upserts, deletes, unchanged-TOAST updates, truncates, schema changes, merges and simulated crashes
/// against two tables (key-hash and a non-key value partitioning, where rows move between partitions); after every
/// step the FINAL reader must equal an in-memory model.
final class ModelTests: XCTestCase {
    struct Table {
        let name: String
        var columns: [ColumnDefinition]
        var model: [Int64: ModelRow] = [:]
        let partitioning: PartitionSpec
    }

    func testRandomisedAgainstModel() throws {
        try runModel(seed: 1, commits: 120, partitionings: [.keyHash(buckets: 4), .value(column: "region")])
    }

    /// More seeds on demand: `FRESHET_MODEL_SEEDS=2,3,4 swift test --filter ModelTests`.
    func testRandomisedExtraSeeds() throws {
        let seeds = (ProcessInfo.processInfo.environment["FRESHET_MODEL_SEEDS"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        if seeds.isEmpty { throw XCTSkip("set FRESHET_MODEL_SEEDS to run more seeds") }
        for seed in seeds {
            try runModel(seed: seed, commits: 120, partitionings: [.keyHash(buckets: 3), .value(column: "region"),
                                                                   .time(column: "ts", bucket: .year)])
        }
    }

    func testRandomisedTimeAndNoPartitioning() throws {
        try runModel(seed: 7, commits: 100, partitionings: [.time(column: "ts", bucket: .month), .none])
    }

    func runModel(seed: UInt64, commits: Int, partitionings: [PartitionSpec]) throws {
        var rng = SeededRandom(seed: seed)
        let dir = try makeTempDirectory(self)
        var options = StoreOptions()
        options.gracePeriod = 0
        options.rowGroupRows = 50
        options.mergeFanIn = 3
        var store = try Store.open(at: dir, identity: testIdentity, options: options)
        var tables = partitionings.enumerated().map { i, p in
            Table(name: "public.t\(i)", columns: ModelSchema.base, partitioning: p)
        }
        for t in tables { try store.defineTable(t.name, schema: ModelSchema.schema(t.columns), partitioning: t.partitioning) }
        var lsn: UInt64 = 100
        var checkpoint: UInt64 = 0
        var stats = (ops: 0, crashes: 0, merges: 0, truncates: 0, unchanged: 0, deletes: 0)
        let regions = ["eu", "us", "ap", "n/a é"]

        func randomRow(_ rng: inout SeededRandom, _ t: Table) -> ModelRow {
            var r = ModelRow()
            r.name = Int.random(in: 0..<8, using: &rng) == 0 ? nil : "n\(Int.random(in: 0..<1000, using: &rng))"
            r.amount = Int.random(in: 0..<6, using: &rng) == 0 ? nil : Int64.random(in: -99_999_99...99_999_99, using: &rng)
            r.big = Int.random(in: 0..<10, using: &rng) == 0 ? nil
                : String(repeating: "x\(Int.random(in: 0..<100, using: &rng))", count: Int.random(in: 1...40, using: &rng))
            r.region = Int.random(in: 0..<10, using: &rng) == 0 ? nil : regions[Int.random(in: 0..<regions.count, using: &rng)]
            r.ts = Int.random(in: 0..<10, using: &rng) == 0 ? nil : Int64.random(in: 1_600_000_000_000_000...1_700_000_000_000_000, using: &rng)
            if t.columns.contains(where: { $0.name == "flag" }) {
                r.flag = Int.random(in: 0..<5, using: &rng) == 0 ? nil : Bool.random(using: &rng)
            }
            if t.columns.contains(where: { $0.name == "note" }) {
                r.note = Bool.random(using: &rng) ? nil : "note\(Int.random(in: 0..<50, using: &rng))"
            }
            return r
        }

        for step in 0..<commits {
            // Schema changes of table 0: add `note`, later drop `flag`.
            if step == commits / 3 {
                tables[0].columns.append(.init("note", .string))
                XCTAssertEqual(try store.defineTable(tables[0].name, schema: ModelSchema.schema(tables[0].columns),
                                                     partitioning: tables[0].partitioning), 2)
            }
            if step == 2 * commits / 3 {
                tables[0].columns.removeAll { $0.name == "flag" }
                XCTAssertEqual(try store.defineTable(tables[0].name, schema: ModelSchema.schema(tables[0].columns),
                                                     partitioning: tables[0].partitioning), 3)
                // Readers still see the dropped column (union); existing rows keep their values.
            }

            var commit = StoreCommit(upTo: 0)
            var next = tables
            for ti in tables.indices where Int.random(in: 0..<4, using: &rng) != 0 {
                if Int.random(in: 0..<40, using: &rng) == 0 {
                    commit.truncate(tables[ti].name)
                    next[ti].model.removeAll()
                    stats.truncates += 1
                }
                // One to three transactions, each touching distinct keys.
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    lsn += UInt64.random(in: 1...50, using: &rng)
                    var batch = RowBatch(columns: tables[ti].columns)
                    var touched = Set<Int64>()
                    for _ in 0..<Int.random(in: 1...25, using: &rng) {
                        let id = Int64.random(in: 0..<300, using: &rng)
                        guard touched.insert(id).inserted else { continue }
                        stats.ops += 1
                        let existing = next[ti].model[id]
                        let dice = Int.random(in: 0..<10, using: &rng)
                        if dice < 2 {
                            ModelSchema.appendDelete(&batch, id: id, version: lsn)
                            next[ti].model[id] = nil
                            stats.deletes += 1
                        } else if dice < 5, var old = existing {
                            // UPDATE leaving the TOASTed `big` unchanged.
                            let fresh = randomRow(&rng, next[ti])
                            let big = old.big
                            old = fresh
                            old.big = big
                            ModelSchema.append(&batch, id: id, old, version: lsn, unchangedBig: true)
                            next[ti].model[id] = old
                            stats.unchanged += 1
                        } else {
                            let row = randomRow(&rng, next[ti])
                            ModelSchema.append(&batch, id: id, row, version: lsn)
                            next[ti].model[id] = row
                        }
                    }
                    commit.add(try store.stage(batch, table: tables[ti].name))
                }
            }
            lsn += 1
            commit.upTo = lsn

            // Maybe crash half-way through this commit.
            let crashDice = Int.random(in: 0..<8, using: &rng)
            let committedTables: Set<String>
            let sortedNames = commit.tables.keys.sorted()
            switch crashDice {
            case 0 where !sortedNames.isEmpty:
                // One table's temp manifest written, not renamed; the commit's other tables are written in parallel
                // and are new: a partial commit (no checkpoint).
                let victim = sortedNames[Int.random(in: 0..<sortedNames.count, using: &rng)]
                store.crashHook = { if case let .beforeManifestRename(t) = $0, t == victim { throw SimulatedCrash() } }
                committedTables = Set(sortedNames).subtracting([victim])
            case 1 where !sortedNames.isEmpty: // every manifest durable, crash before the checkpoint is written
                let victim = sortedNames[0]
                store.crashHook = { if case let .afterManifest(t) = $0, t == victim { throw SimulatedCrash() } }
                committedTables = Set(sortedNames)
            case 2: // all manifests, no checkpoint
                store.crashHook = { if case .beforeCheckpoint = $0 { throw SimulatedCrash() } }
                committedTables = Set(sortedNames)
            case 3: // staged parts written, commit never called
                committedTables = []
                store.crashHook = nil
            default:
                store.crashHook = nil
                committedTables = Set(sortedNames)
            }
            let crashed = crashDice <= 3 && !(crashDice < 2 && sortedNames.isEmpty)
            if crashDice == 3 {
                // Abandon: no commit at all.
            } else {
                do {
                    try store.commit(commit)
                    XCTAssertFalse(crashed, "commit should have crashed")
                } catch is SimulatedCrash {
                    XCTAssertTrue(crashed)
                }
            }
            for ti in tables.indices where committedTables.contains(tables[ti].name) || !crashed && commit.tables[tables[ti].name] != nil {
                tables[ti].model = next[ti].model
            }
            if !crashed { checkpoint = lsn }
            if crashed {
                stats.crashes += 1
                store.crashHook = nil
                var o = options
                o.orphanCutoff = Date()
                store.close()
                store = try Store.open(at: dir, identity: testIdentity, options: o)
                for t in tables {
                    // Orphans (staged parts, temp manifests) are gone; every listed part exists.
                    let listed = Set(try store.manifest(t.name).parts.map(\.path))
                    XCTAssertEqual(ModelSchema.partFiles(store, t.name), listed, "step \(step) \(t.name)")
                    if committedTables.contains(t.name) { XCTAssertEqual(try store.committedLSN(t.name), lsn) }
                }
                XCTAssertEqual(store.checkpointLSN, checkpoint, "step \(step)")
            } else {
                XCTAssertEqual(store.checkpointLSN, lsn)
                for t in tables { XCTAssertGreaterThanOrEqual(try store.committedLSN(t.name), lsn) }
            }

            // Merges in between.
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1:
                for t in tables { stats.merges += try store.mergeDue(t.name).merges }
            case 2:
                let t = tables[Int.random(in: 0..<tables.count, using: &rng)]
                stats.merges += try store.compact(t.name).merges
                let m = try store.manifest(t.name)
                XCTAssertEqual(Set(m.parts.map(\.partition)).count, m.parts.count, "one part per partition after compact")
                XCTAssertEqual(m.parts.reduce(0) { $0 + $1.tombstones }, 0, "compact drops tombstones")
            default: break
            }

            for t in tables {
                let got = try ModelSchema.readAll(store, t.name)
                if got != t.model {
                    let diff = Set(got.keys).symmetricDifference(t.model.keys).sorted().prefix(5)
                    let changed = t.model.keys.filter { got[$0] != nil && got[$0] != t.model[$0] }.sorted().prefix(3)
                    XCTFail("step \(step) \(t.name): \(got.count) rows vs model \(t.model.count); keys differ \(Array(diff)); values differ \(changed.map { "\($0): \(got[$0]!) vs \(t.model[$0]!)" })")
                    return
                }
                // Any order (partition by partition, on two threads): the same rows.
                if step % 3 == 0 {
                    XCTAssertEqual(try ModelSchema.readAll(store, t.name, order: .any, threads: 2), t.model, "step \(step) \(t.name), any order")
                }
                // Pushed-down predicates (key range: partitions / row groups pruned; region: filtered after dedup).
                if step % 2 == 1 { continue }
                let lo = Int64.random(in: 0..<300, using: &rng)
                let region = regions[Int.random(in: 0..<regions.count, using: &rng)]
                let predicates = [ColumnPredicate(column: "id", op: .ge, literal: String(lo)), ColumnPredicate(column: "region", op: .eq, literal: region)]
                let expected = t.model.filter { $0.key >= lo && $0.value.region == region }
                XCTAssertEqual(try ModelSchema.readAll(store, t.name, where: predicates), expected, "step \(step) \(t.name)")
                if step % 4 == 0 {
                    XCTAssertEqual(try ModelSchema.readAll(store, t.name, where: predicates, order: .any, threads: 2), expected,
                                   "step \(step) \(t.name), any order")
                }
            }
        }
        // Everything merged away still reads the same after a final compact and reopen.
        for t in tables { try store.compact(t.name) }
        store.close()
        store = try Store.open(at: dir, options: options)
        for t in tables {
            XCTAssertEqual(try ModelSchema.readAll(store, t.name), t.model)
            XCTAssertEqual(try ModelSchema.readAll(store, t.name, order: .any, threads: 2), t.model)
        }
        XCTAssertEqual(store.verify(), [])
        XCTAssertGreaterThan(stats.ops, 2000)
        XCTAssertGreaterThan(stats.crashes, 10)
        XCTAssertGreaterThan(stats.merges, 10)
        XCTAssertGreaterThan(stats.unchanged, 200)
        print("model test seed \(seed): \(stats)")
    }
}
