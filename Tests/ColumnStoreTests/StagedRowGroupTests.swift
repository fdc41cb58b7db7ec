import Foundation
import Parquet
import XCTest
@testable import ColumnStore

/// A staged batch larger than one row group is written straight from its buffers in row ranges (the snapshot's
/// path): every row group stays within the row and byte limits, and every value, NULL and order survives.
final class StagedRowGroupTests: XCTestCase {
    static let columns: [ColumnDefinition] = [.init("id", .int64, nullable: false), .init("n", .int32),
                                              .init("s", .string), .init("d", .decimal(precision: 30, scale: 2))]

    func testLargeBatchIsSplitIntoBoundedRowGroups() throws {
        let store = try makeStore(rowGroupRows: 300, rowGroupBytes: 40_000, buckets: 1)
        var batch = RowBatch(columns: Self.columns)
        let rows = 2_000
        func text(_ id: Int) -> String { String(repeating: "v\(id % 10)", count: id % 97) }
        for id in 0..<rows {
            batch.append(Int64(id), column: 0)
            if id % 5 == 0 { batch.appendNull(column: 1) } else { batch.append(Int64(id * 3), column: 1) }
            if id % 7 == 0 { batch.appendNull(column: 2) } else { batch.append(text(id), column: 2) }
            batch.append(decimal128: Int128(id) * 1_000_000_000_000_000_000, column: 3)
            batch.finishRow(version: 10)
        }
        XCTAssertEqual(batch.rowRanges(maxRows: 300, maxBytes: 40_000).map(\.count).reduce(0, +), rows)
        var commit = StoreCommit(upTo: 10)
        commit.add(try store.stage(batch, table: "public.t"))
        try store.commit(commit)

        let parts = try store.manifest("public.t").parts
        XCTAssertEqual(parts.count, 1)
        let file = try ParquetFileReader(path: store.tableDirectory("public.t").appendingPathComponent(parts[0].path).path)
        XCTAssertGreaterThan(file.rowGroups.count, rows / 300)
        XCTAssertEqual(file.rowGroups.map(\.rowCount).reduce(0, +), Int64(rows))
        for g in file.rowGroups { XCTAssertLessThanOrEqual(g.rowCount, 300) }

        var reader = try store.read("public.t")
        var seen = 0
        while let b = try reader.next() {
            for r in 0..<b.count {
                let id = Int(b.int64(r, 0))
                XCTAssertEqual(id, seen)
                XCTAssertEqual(b.isNull(r, 1), id % 5 == 0)
                if id % 5 != 0 { XCTAssertEqual(b.int64(r, 1), Int64(id * 3)) }
                XCTAssertEqual(b.string(r, 2), id % 7 == 0 ? nil : text(id))
                XCTAssertEqual(b.int128(r, 3), Int128(id) * 1_000_000_000_000_000_000)
                seen += 1
            }
        }
        XCTAssertEqual(seen, rows)
    }

    /// A stream batch arrives in commit order, not key order: each partition's rows are written in (key, _version)
    /// order, gathered a row group at a time (no sorted copy of the whole batch), and every row group stays within the
    /// limits. Later versions of a key follow earlier ones, so readers see the newest.
    func testUnsortedBatchIsWrittenInKeyOrderOneRowGroupAtATime() throws {
        let store = try makeStore(rowGroupRows: 250, rowGroupBytes: 30_000, buckets: 3)
        var batch = RowBatch(columns: Self.columns)
        let keys = 3_000
        func text(_ id: Int, _ version: Int) -> String { String(repeating: "w\(version)", count: id % 89) }
        // Every key once at version 10 in a shuffled order, then every fifth key again at version 20.
        var rng = SystemRandomNumberGenerator()
        let ids = Array(0..<keys).shuffled(using: &rng) + Array(stride(from: 0, to: keys, by: 5)).shuffled(using: &rng)
        var seenOnce = Set<Int>()
        for id in ids {
            let version = seenOnce.insert(id).inserted ? 10 : 20
            batch.append(Int64(id), column: 0)
            batch.append(Int64(version), column: 1)
            batch.append(text(id, version), column: 2)
            batch.append(decimal128: Int128(id), column: 3)
            batch.finishRow(version: UInt64(version))
        }
        var commit = StoreCommit(upTo: 20)
        commit.add(try store.stage(batch, table: "public.t"))
        try store.commit(commit)

        let parts = try store.manifest("public.t").parts
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(parts.map(\.rows).reduce(0, +), ids.count)
        for part in parts {
            let file = try ParquetFileReader(path: store.tableDirectory("public.t").appendingPathComponent(part.path).path)
            XCTAssertGreaterThan(file.rowGroups.count, 1)
            for g in file.rowGroups { XCTAssertLessThanOrEqual(g.rowCount, 250) }
            XCTAssertEqual([part.minVersion, part.maxVersion], [10, 20])
            XCTAssertEqual(part.uniqueKeys, false)
        }
        var reader = try store.read("public.t")
        var newest = [Int: Int]()
        while let b = try reader.next() {
            for r in 0..<b.count {
                let id = Int(b.int64(r, 0)), version = Int(b.int64(r, 1))
                XCTAssertEqual(b.string(r, 2), text(id, version))
                XCTAssertEqual(b.int128(r, 3), Int128(id))
                newest[id] = version
            }
        }
        XCTAssertEqual(newest.count, keys)
        for (id, version) in newest { XCTAssertEqual(version, id % 5 == 0 ? 20 : 10, "key \(id)") }

        // Within each part file, rows are in (key, _version) order.
        for part in parts {
            let file = try PartFileReader(url: store.tableDirectory("public.t").appendingPathComponent(part.path), table: "public.t")
            var last: (Int64, UInt64)?
            for g in 0..<file.rowGroupCount {
                let b = try file.readRowGroup(g, columns: nil)
                for r in 0..<b.count {
                    let now = (b.int64(r, 0), b.versions[r])
                    if let last { XCTAssertTrue(last < now, "\(last) then \(now) in \(part.path)") }
                    last = now
                }
            }
        }
    }

    /// A store with table `public.t` (`columns`, keyed by id) in `buckets` hash partitions, and small row groups.
    private func makeStore(rowGroupRows: Int, rowGroupBytes: Int, buckets: Int) throws -> Store {
        var options = StoreOptions()
        options.rowGroupRows = rowGroupRows
        options.rowGroupBytes = rowGroupBytes
        let store = try Store.open(at: try makeTempDirectory(self).appendingPathComponent("store"), identity: testIdentity, options: options)
        try store.defineTable("public.t", schema: TableSchema(columns: Self.columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: buckets))
        return store
    }

    func testRowRangesHonourBothLimits() {
        var batch = RowBatch(columns: [.init("id", .int64), .init("s", .string)])
        for id in 0..<100 {
            batch.append(Int64(id), column: 0)
            batch.append(String(repeating: "x", count: id < 50 ? 10 : 1_000), column: 1)
            batch.finishRow(version: 1)
        }
        let ranges = batch.rowRanges(maxRows: 30, maxBytes: 3_000)
        XCTAssertEqual(ranges.first?.lowerBound, 0)
        XCTAssertEqual(ranges.last?.upperBound, 100)
        for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
        // Rows of 10-byte strings: 30 rows per range (the row limit); rows of 1 kB strings: 2 per range (the bytes).
        XCTAssertEqual(ranges[0].count, 30)
        XCTAssertEqual(ranges.last?.count, 2)
        // A single row larger than the limit still gets a range of its own.
        XCTAssertEqual(batch.rowRanges(maxRows: 30, maxBytes: 10).count, 100)
    }
}
