import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// Settled domains (`StoreOptions.settle`): the merger folds recent parts into one part with unique keys per domain,
/// and a DuckDB view created before any of it keeps equal to the FINAL reader and to the model.
final class SettleTests: XCTestCase {
    static let table = "public.s"
    static let columns = QueryViewTests.columns

    /// The view's rows as `id:amount:big`, by id.
    static func viewRows(_ view: String) throws -> String {
        try Subprocess.python("""
import sys, duckdb
con = duckdb.connect()
con.execute(sys.argv[1])
print(con.execute("SELECT coalesce(string_agg(id || ':' || coalesce(amount::VARCHAR, 'null') || ':' || coalesce(big, 'null'), ',' ORDER BY id), '') FROM v").fetchone()[0])
""", [view]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Updates spread over the whole key range (some leaving `big` unchanged), deletes, re-inserts and new keys, each
    /// followed by the merger's pass: every domain ends as one settled part, and the view created before the first
    /// change equals the model and the FINAL reader after each step.
    /// A store that settles as soon as the share allows (no quiet wait), with the test table defined; DuckDB required.
    private func makeSettlingStore(partitioning: PartitionSpec, _ adjust: (inout StoreOptions) -> Void = { _ in }) throws -> Store {
        _ = try TestEnvironment.python()
        var options = StoreOptions()
        var policy = SettlePolicy()
        policy.quietSeconds = 0
        options.settle = policy
        adjust(&options)
        let store = try Store.open(at: try makeTempDirectory(self).appendingPathComponent("store"), identity: testIdentity, options: options)
        try store.defineTable(Self.table, schema: TableSchema(columns: Self.columns, keyColumns: ["id"]), partitioning: partitioning)
        return store
    }

    func testSettledDomainsStayExact() throws {
        let store = try makeSettlingStore(partitioning: .keyHash(buckets: 3))
        var model = [Int: (amount: Int64, big: String)]()
        var version: UInt64 = 10
        func commit(_ fill: (inout RowBatch) -> Void) throws {
            version += 10
            try store.commitBatch(Self.table, columns: Self.columns, version: version, fill)
        }
        try commit { b in
            for id in 1...3000 {
                model[id] = (Int64(id), "big \(id)")
                b.append(Int64(id), column: 0); b.append(Int64(id), column: 1); b.append("big \(id)", column: 2); b.finishRow(version: version)
            }
        }
        let view = try store.sql(Self.table, dialect: .duckdb, view: "v")
        func check(_ step: String) throws {
            let expected = model.keys.sorted().map { "\($0):\(model[$0]!.amount):\(model[$0]!.big)" }.joined(separator: ",")
            XCTAssertEqual(try Self.viewRows(view), expected, step)
            let final = try ModelSchema.readAll(store, Self.table)
            XCTAssertEqual(final.count, model.count, step)
            for (id, m) in final { XCTAssertEqual(m.amount, model[Int(id)]?.amount, step); XCTAssertEqual(m.big, model[Int(id)]?.big, step) }
        }
        for step in 0..<6 {
            try commit { b in
                for id in stride(from: 1 + step, through: 3000, by: 7) where model[id] != nil {
                    let unchanged = id % 2 == 0
                    model[id]!.amount += 1000
                    if !unchanged { model[id]!.big = "big \(id) v\(step)" }
                    b.append(Int64(id), column: 0); b.append(model[id]!.amount, column: 1)
                    if unchanged { b.appendUnchanged(column: 2) } else { b.append(model[id]!.big, column: 2) }
                    b.finishRow(version: version)
                }
            }
            // Unsettled: recent parts overlap the settled ones.
            try check("step \(step) before the settle")
            try commit { b in
                for id in stride(from: 3 + step, through: 3000, by: 11) where model[id] != nil {
                    model[id] = nil
                    b.append(Int64(id), column: 0); b.finishTombstone(version: version)
                }
                for id in stride(from: 5 + step, through: 3000, by: 13) where model[id] == nil {
                    model[id] = (-Int64(id), "back \(id)")
                    b.append(Int64(id), column: 0); b.append(-Int64(id), column: 1); b.append("back \(id)", column: 2); b.finishRow(version: version)
                }
                let id = 3000 + step + 1
                model[id] = (1, "new")
                b.append(Int64(id), column: 0); b.append(Int64(1), column: 1); b.append("new", column: 2); b.finishRow(version: version)
            }
            XCTAssertGreaterThan(try store.mergeDue(Self.table).merges, 0, "step \(step)")
            let m = try store.manifest(Self.table)
            XCTAssertEqual(m.parts.count, Set(m.parts.map(\.partition)).count, "one part per partition after the settle")
            XCTAssertTrue(m.parts.allSatisfy { $0.uniqueKeys == true && $0.tombstones == 0 })
            XCTAssertTrue(store.planSettles(m).isEmpty)
            try check("step \(step) settled")
        }
    }

    /// The policy: no settle below `minimumShare`, none within `quietSeconds` of the last commit unless the recent rows
    /// reach `share`; never without `StoreOptions.settle`.
    func testSettlePolicy() throws {
        let dir = try makeTempDirectory(self).appendingPathComponent("store")
        let open = { (policy: SettlePolicy?) throws -> Store in
            var options = StoreOptions()
            options.settle = policy
            return try Store.open(at: dir, identity: testIdentity, options: options)
        }
        var store: Store? = try open(nil)
        try store!.defineTable(Self.table, schema: TableSchema(columns: Self.columns, keyColumns: ["id"]), partitioning: .none)
        func commit(_ ids: ClosedRange<Int>, version: UInt64) throws {
            var b = RowBatch(columns: Self.columns)
            for id in ids { b.append(Int64(id), column: 0); b.append(Int64(1), column: 1); b.append("b", column: 2); b.finishRow(version: version) }
            var c = StoreCommit(upTo: version)
            c.add(try store!.stage(b, table: Self.table))
            try store!.commit(c)
        }
        try commit(1...1000, version: 10)
        try commit(1...5, version: 20)          // 0.5 % recent
        let m = try store!.manifest(Self.table)
        let now = m.commitMicros ?? 0
        XCTAssertTrue(store!.planSettles(m, now: now + 10_000_000).isEmpty, "no policy")
        store = nil
        var policy = SettlePolicy()
        store = try open(policy)
        XCTAssertTrue(store!.planSettles(m, now: now + 10_000_000).isEmpty, "below the minimum share")
        try commit(6...60, version: 30)         // 6 % recent
        let m2 = try store!.manifest(Self.table)
        let now2 = m2.commitMicros ?? 0
        XCTAssertTrue(store!.planSettles(m2, now: now2).isEmpty, "not quiet, below the share")
        XCTAssertEqual(store!.planSettles(m2, now: now2 + 3_000_000).map(\.inputs.count), [3], "quiet")
        policy.share = 0.05
        store = nil
        store = try open(policy)
        XCTAssertEqual(store!.planSettles(m2, now: now2).map(\.inputs.count), [3], "share reached")
        // The replicator holds settles while it catches up on a backlog.
        store!.holdSettles(true)
        XCTAssertTrue(store!.planSettles(m2, now: now2 + 3_000_000).isEmpty, "held")
        XCTAssertEqual(try store!.pendingMerges(Self.table), 0, "held")
        store!.holdSettles(false)
        XCTAssertEqual(store!.planSettles(m2, now: now2).map(\.inputs.count), [3], "resumed")
        // A settle holds one row group per input, like a merge: it waits while that exceeds what a merge of
        // `mergeMaxParts` parts may hold.
        store = nil
        var options = StoreOptions()
        options.settle = policy
        options.mergeMaxParts = 2
        options.rowGroupBytes = 1024
        store = try Store.open(at: dir, identity: testIdentity, options: options)
        XCTAssertTrue(m2.parts.allSatisfy { $0.bytes >= 256 })
        // Three inputs of a full row group each, room for two: a compaction round of two consecutive parts first.
        XCTAssertEqual(store!.planSettles(m2, now: now2).map(\.inputs.count), [2], "a round of two, not the whole domain")
    }

    /// A domain of more parts than one merge may hold, most of them sharing one version (the snapshot's parts of a
    /// large table, one per ctid range), plus recent updates: the size-tiered merges never take the shared-version
    /// parts, so the merger settles the domain in compaction rounds of at most `mergeMaxParts` parts, and the view
    /// created before equals the model.
    func testADomainLargerThanOneMergeIsSettledInRounds() throws {
        let store = try makeSettlingStore(partitioning: .none) { $0.mergeMaxParts = 4; $0.rowGroupBytes = 1024 }
        let view = try store.sql(Self.table, dialect: .duckdb, view: "v")
        var model = [Int: (amount: Int64, big: String)]()
        // The snapshot: ten parts at one version, of alternating sizes as ctid ranges make them.
        var snapshot = StoreCommit(upTo: 10)
        for i in 0..<10 {
            var b = RowBatch(columns: Self.columns)
            for id in (i * 100 + 1)...(i * 100 + (i % 2 == 0 ? 100 : 60)) {
                model[id] = (1, "s\(id)")
                b.append(Int64(id), column: 0); b.append(Int64(1), column: 1); b.append("s\(id)", column: 2); b.finishRow(version: 10)
            }
            snapshot.add(try store.stage(b, table: Self.table))
        }
        try store.commit(snapshot)
        // Updates spread over the key range, half of them leaving `big` unchanged.
        for (first, version) in [(3, UInt64(20)), (7, UInt64(30))] {
            try store.commitBatch(Self.table, columns: Self.columns, version: version) { b in
                for id in stride(from: first, through: 1000, by: 11) where model[id] != nil {
                    model[id]!.amount = Int64(version)
                    b.append(Int64(id), column: 0); b.append(Int64(version), column: 1)
                    if id % 2 == 0 { b.appendUnchanged(column: 2) } else { model[id]!.big = "u\(id)"; b.append("u\(id)", column: 2) }
                    b.finishRow(version: version)
                }
            }
        }
        XCTAssertTrue(store.planMerges(try store.manifest(Self.table)).isEmpty, "no size-tiered merge takes these parts")
        // The metrics' pending merges count what the merger wants, settles and their compaction rounds included.
        XCTAssertEqual(try store.pendingMerges(Self.table), 1, "a compaction round is pending")
        let report = try store.mergeDue(Self.table)
        XCTAssertEqual(try store.pendingMerges(Self.table), 0, "steady state")
        XCTAssertGreaterThan(report.merges, 1, "rounds, then the settle")
        let m = try store.manifest(Self.table)
        XCTAssertEqual(m.parts.count, 1, "settled: \(m.parts.map(\.rows))")
        XCTAssertEqual(m.parts.first?.settled, true)
        let expected = model.keys.sorted().map { "\($0):\(model[$0]!.amount):\(model[$0]!.big)" }.joined(separator: ",")
        XCTAssertEqual(try Self.viewRows(view), expected)
        let final = try ModelSchema.readAll(store, Self.table)
        XCTAssertEqual(final.count, model.count)
        for (id, r) in final { XCTAssertEqual(r.amount, model[Int(id)]?.amount); XCTAssertEqual(r.big, model[Int(id)]?.big) }
    }
}
