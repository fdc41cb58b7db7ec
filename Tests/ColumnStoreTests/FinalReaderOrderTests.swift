import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// `ReadOrder.any`: partition by partition (each merged alone, or read in place when one part with unique keys), on
/// one or two threads; the same multiset of rows as the key-ordered read, with updates, deletes and unchanged-TOAST
/// rows, before and after compaction and with a mix of merged and in-place partitions.
final class FinalReaderOrderTests: XCTestCase {
    static let table = "public.o"

    /// Every row of the reader as `id:name:amount:big` text, in the order read, and the reader's unresolved count.
    private func rows(_ store: Store, order: ReadOrder, threads: Int, batchRows: Int = 37,
                      where predicates: [ColumnPredicate] = []) throws -> (rows: [String], reader: FinalReader) {
        var reader = try store.read(Self.table, columns: ["id", "name", "amount", "big"], where: predicates,
                                    batchRows: batchRows, order: order, threads: threads)
        var out = [String]()
        while let b = try reader.next() {
            XCTAssertGreaterThan(b.count, 0)
            XCTAssertLessThanOrEqual(b.count, batchRows)
            for r in 0..<b.count {
                XCTAssertFalse(b.isDeleted(r))
                out.append((0..<4).map { c in
                    b.isNull(r, c) ? "null" : b.columns[c].type == .string ? b.string(r, c) ?? "?" : String(b.int64(r, c))
                }.joined(separator: ":"))
            }
        }
        return (out, reader)
    }

    /// A key-hash table of 4 partitions: 600 inserts, then updates (some with `big` unchanged), deletes and
    /// re-inserts over the whole key range, in several commits. Returns the expected rows (`id:name:amount:big`).
    private func makeStore(_ options: StoreOptions = StoreOptions()) throws -> (Store, [Int64: String]) {
        var options = options
        options.rowGroupRows = 40
        options.gracePeriod = 0
        let store = try Store.open(at: try makeTempDirectory(self).appendingPathComponent("store"), identity: testIdentity, options: options)
        try store.defineTable(Self.table, schema: ModelSchema.schema(ModelSchema.base), partitioning: .keyHash(buckets: 4))
        var model = [Int64: (name: String, amount: Int64, big: String)]()
        func commit(_ version: UInt64, _ ids: [Int64], delete: (Int64) -> Bool = { _ in false }, unchanged: (Int64) -> Bool = { _ in false }) throws {
            try store.commitBatch(Self.table, columns: ModelSchema.base, version: version) { b in
                for id in ids {
                    if delete(id) { ModelSchema.appendDelete(&b, id: id, version: version); model[id] = nil; continue }
                    let keep = unchanged(id) && model[id] != nil
                    let big = keep ? model[id]!.big : "big \(id) v\(version)"
                    ModelSchema.append(&b, id: id, ModelRow(name: "n\(id) v\(version)", amount: id * 100 + Int64(version), big: big),
                                       version: version, unchangedBig: keep)
                    model[id] = ("n\(id) v\(version)", id * 100 + Int64(version), big)
                }
            }
        }
        try commit(10, Array(0..<300))
        try commit(20, Array(300..<600))
        try commit(30, Array(stride(from: 0, to: 600, by: 3)), unchanged: { $0 % 2 == 0 })   // TOAST-unchanged updates
        try commit(40, Array(stride(from: 1, to: 600, by: 7)), delete: { _ in true })
        try commit(50, Array(stride(from: 0, to: 600, by: 5)), delete: { $0 % 4 == 0 }, unchanged: { _ in true })
        try commit(60, [8, 15, 29, 700], unchanged: { _ in true })                                // re-inserted after a delete
        return (store, model.mapValues { "\($0.name):\($0.amount):\($0.big)" }.reduce(into: [:]) { $0[$1.key] = "\($1.key):\($1.value)" })
    }

    /// Unordered reads on 1 and 2 threads against the key-ordered read and `expected`.
    private func check(_ store: Store, _ expected: [Int64: String], streams: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let ordered = try rows(store, order: .key, threads: 2)
        XCTAssertEqual(ordered.rows, expected.keys.sorted().map { expected[$0]! }, "key order", file: file, line: line)
        XCTAssertEqual(ordered.reader.streamCount, 1, file: file, line: line)
        XCTAssertEqual(ordered.reader.unresolvedUnchanged, 0, file: file, line: line)
        for threads in [1, 2] {
            let any = try rows(store, order: .any, threads: threads)
            XCTAssertEqual(any.rows.sorted(), ordered.rows.sorted(), "\(threads) thread(s)", file: file, line: line)
            XCTAssertEqual(any.rows.count, Set(any.rows.map { $0.prefix { $0 != ":" } }).count, "each key once", file: file, line: line)
            XCTAssertEqual(any.reader.streamCount, streams, file: file, line: line)
            XCTAssertEqual(any.reader.unresolvedUnchanged, 0, file: file, line: line)
            XCTAssertEqual(any.reader.partsRead, ordered.reader.partsRead, file: file, line: line)
            // Predicates: a key range and a column that is not the key (filtered after the dedup).
            let filtered = try rows(store, order: .any, threads: threads, where: [ColumnPredicate(column: "id", op: .lt, literal: "450"),
                                                                                  ColumnPredicate(column: "amount", op: .ge, literal: "100.00")])
            let keyed = try rows(store, order: .key, threads: 1, where: [ColumnPredicate(column: "id", op: .lt, literal: "450"),
                                                                         ColumnPredicate(column: "amount", op: .ge, literal: "100.00")])
            XCTAssertEqual(filtered.rows.sorted(), keyed.rows.sorted(), file: file, line: line)
            XCTAssertGreaterThan(keyed.rows.count, 200, file: file, line: line)
        }
        // One key: its partition alone is read.
        let one = try rows(store, order: .any, threads: 2, where: [ColumnPredicate(column: "id", op: .eq, literal: "15")])
        XCTAssertEqual(one.rows, expected[15].map { [$0] } ?? [], file: file, line: line)
        XCTAssertEqual(one.reader.streamCount, 1, file: file, line: line)
    }

    func testAnyOrderReadsTheSameRowsAsKeyOrder() throws {
        let (store, expected) = try makeStore()
        // Six commits: several parts per partition, every partition merged alone.
        XCTAssertGreaterThan(try store.manifest(Self.table).parts.count, 12)
        try check(store, expected, streams: 4)
        // Compacted: one part with unique keys per partition, each read in place.
        try store.compact(Self.table)
        let compacted = try store.manifest(Self.table)
        XCTAssertEqual(compacted.parts.count, 4)
        XCTAssertTrue(compacted.parts.allSatisfy { $0.uniqueKeys == true })
        try check(store, expected, streams: 4)
        // A later commit touching two partitions: those are merged, the others read in place.
        var after = expected
        try store.commitBatch(Self.table, columns: ModelSchema.base, version: 70) { b in
            ModelSchema.append(&b, id: 2, ModelRow(name: "late", amount: 1, big: nil), version: 70, unchangedBig: true)
            ModelSchema.appendDelete(&b, id: 3, version: 70)
        }
        after[2] = "2:late:1:" + (expected[2]!.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? "")
        after[3] = nil
        let m = try store.manifest(Self.table)
        XCTAssertGreaterThan(Set(m.parts.map(\.partition)).count, Set(m.parts.filter { $0.level == 0 }.map(\.partition)).count,
                             "some partitions untouched by the commit")
        try check(store, after, streams: 4)
    }

    /// A partitioning by a column that is not the key can hold versions of one key in two partitions: read as one merge.
    func testPartitioningNotDerivedFromTheKeyReadsAsOneMerge() throws {
        let store = try Store.open(at: try makeTempDirectory(self).appendingPathComponent("store"), identity: testIdentity)
        try store.defineTable(Self.table, schema: ModelSchema.schema(ModelSchema.base), partitioning: .value(column: "region"))
        try store.commitBatch(Self.table, columns: ModelSchema.base, version: 10) { b in
            for id in Int64(0)..<50 { ModelSchema.append(&b, id: id, ModelRow(name: "a", amount: id, big: "b", region: "eu"), version: 10) }
        }
        try store.commitBatch(Self.table, columns: ModelSchema.base, version: 20) { b in
            for id in Int64(0)..<50 where id % 2 == 0 {
                ModelSchema.append(&b, id: id, ModelRow(name: "moved", amount: id, big: nil, region: "us"), version: 20, unchangedBig: true)
            }
        }
        let any = try rows(store, order: .any, threads: 2)
        XCTAssertEqual(any.reader.streamCount, 1)
        XCTAssertEqual(any.rows, try rows(store, order: .key, threads: 1).rows)
        XCTAssertEqual(any.rows.count, 50)
        XCTAssertEqual(any.rows[0], "0:moved:0:b", "unchanged column carried forward across partitions")
    }

    /// A reader dropped before its end stops its workers (no hang); a part that fails to read mid-way fails the read.
    func testEarlyDropAndAFailingPart() throws {
        let (store, _) = try makeStore()
        for _ in 0..<20 {
            var reader = try store.read(Self.table, batchRows: 5, order: .any, threads: 2)
            XCTAssertNotNil(try reader.next())
        }
        // Cut the largest part short after the reader opened it: a later row group cannot be read. (One-row batches:
        // the workers wait after a few rows, long before the part's second row group.)
        var reader = try store.read(Self.table, batchRows: 1, order: .any, threads: 2)
        let m = try store.manifest(Self.table)
        let part = try XCTUnwrap(m.parts.max { $0.rows < $1.rows })
        let fh = try FileHandle(forWritingTo: store.tableDirectory(Self.table).appendingPathComponent(part.path))
        try fh.truncate(atOffset: UInt64(part.bytes / 3))
        try fh.close()
        XCTAssertThrowsError(try { while try reader.next() != nil {} }()) { error in
            guard case StoreError.corruptPart(_, let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix(part.path), path)
        }
    }
}
