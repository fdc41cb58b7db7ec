import Foundation
import XCTest
@testable import ColumnStore

/// Partition directory names for the values real sources hold: text longer than a file name may be, timestamps at
/// ±infinity, BC and 5-digit years; and pruning by those names never drops a partition that holds matching rows.
final class PartitionNameTests: XCTestCase {
    private let columns: [ColumnDefinition] = [.init("id", .int64, nullable: false), .init("p", .string), .init("ts", .timestamptz)]

    private func open() throws -> Store {
        try Store.open(at: try makeTempDirectory(self), identity: testIdentity, options: StoreOptions())
    }

    private func ids(_ store: Store, _ table: String, _ predicates: [ColumnPredicate] = []) throws -> [Int64] {
        var reader = try store.read(table, columns: ["id"], where: predicates)
        var out = [Int64]()
        while let b = try reader.next() { for r in 0..<b.count { out.append(b.int64(r, 0)) } }
        return out.sorted()
    }

    func testLongValuesGetBoundedDistinctPartitions() throws {
        let store = try open()
        // Keyed by (id, p), so predicates on p prune partitions.
        try store.defineTable("public.t", schema: TableSchema(columns: columns, keyColumns: ["id", "p"]), partitioning: .value(column: "p"))
        let long = String(repeating: "é", count: 300)  // 600 bytes, 1800 escaped
        let values = [long + "a", long + "b", "short", String(repeating: "x", count: 238), String(repeating: "x", count: 239)]
        try store.commitBatch("public.t", columns: columns, version: 10) { b in
            for (i, v) in values.enumerated() {
                b.append(Int64(i), column: 0); b.append(v, column: 1); b.appendNull(column: 2); b.finishRow(version: 10)
            }
        }
        let names = try store.manifest("public.t").parts.map(\.partition)
        XCTAssertEqual(Set(names).count, values.count, "one partition per value: \(names)")
        for n in names { XCTAssertLessThanOrEqual(n.utf8.count, 249, n) }
        XCTAssertTrue(names.contains("v=" + String(repeating: "x", count: 238)), "240 bytes stay plain")
        XCTAssertEqual(try ids(store, "public.t"), [0, 1, 2, 3, 4])
        for (i, v) in values.enumerated() {
            XCTAssertEqual(try ids(store, "public.t", [ColumnPredicate(column: "p", op: .eq, literal: v)]), [Int64(i)])
        }
    }

    func testTimeBucketsOfInfinitiesBCAndLateYears() throws {
        let store = try open()
        try store.defineTable("public.e", schema: TableSchema(columns: columns, keyColumns: ["id", "ts"]),
                              partitioning: .time(column: "ts", bucket: .day))
        let perDay: Int64 = 86_400_000_000
        let times: [Int64] = [
            ValueText.timestampNegativeInfinity,
            ValueText.days(year: -43, month: 3, day: 15) * perDay + 1,   // 0044-03-15 BC
            ValueText.days(year: 2024, month: 5, day: 1) * perDay - 1,  // the last microsecond of 2024-04-30
            ValueText.days(year: 2024, month: 5, day: 1) * perDay,
            ValueText.days(year: 20000, month: 1, day: 1) * perDay,
            ValueText.timestampInfinity,
        ]
        try store.commitBatch("public.e", columns: columns, version: 10) { b in
            for (i, t) in times.enumerated() {
                b.append(Int64(i), column: 0); b.appendNull(column: 1); b.append(t, column: 2); b.finishRow(version: 10)
            }
        }
        XCTAssertEqual(Set(try store.manifest("public.e").parts.map(\.partition)),
                       ["-infinity", "0044-03-15 BC", "2024-04-30", "2024-05-01", "20000-01-01", "infinity"])
        XCTAssertEqual(try ids(store, "public.e"), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(try ids(store, "public.e", [ColumnPredicate(column: "ts", op: .lt, literal: "0010-01-01 00:00:00+00")]), [0, 1])
        XCTAssertEqual(try ids(store, "public.e", [ColumnPredicate(column: "ts", op: .gt, literal: "9000-01-01 00:00:00+00")]), [4, 5])
        XCTAssertEqual(try ids(store, "public.e", [ColumnPredicate(column: "ts", op: .ge, literal: "2024-05-01 00:00:00+00")]), [3, 4, 5])
        XCTAssertEqual(try ids(store, "public.e", [ColumnPredicate(column: "ts", op: .lt, literal: "2024-05-01 00:00:00+00")]), [0, 1, 2])
    }
}
