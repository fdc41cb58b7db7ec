import Foundation
import XCTest
@testable import ColumnStore

/// Retyped columns widen losslessly where possible, else read as text; partition names and type names round-trip.
final class SchemaVersionTests: XCTestCase {
    func testRetypedColumnsWidenAcrossParts() throws {
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        let v1: [ColumnDefinition] = [.init("id", .int32, nullable: false), .init("n", .int16), .init("code", .int32),
                                      .init("price", .decimal(precision: 8, scale: 2)), .init("day", .date)]
        let v2: [ColumnDefinition] = [.init("id", .int32, nullable: false), .init("n", .int64), .init("code", .string),
                                      .init("price", .decimal(precision: 20, scale: 4)), .init("day", .timestamp)]
        try store.defineTable("public.r", schema: TableSchema(columns: v1, keyColumns: ["id"]))
        var b = RowBatch(columns: v1)
        b.append(Int64(1), column: 0); b.append(Int64(-7), column: 1); b.append(Int64(42), column: 2)
        b.append(Int64(12345), column: 3); b.append(Int64(19_000), column: 4); b.finishRow(version: 10)
        var c = StoreCommit(upTo: 10); c.add(try store.stage(b, table: "public.r")); try store.commit(c)
        XCTAssertEqual(try store.defineTable("public.r", schema: TableSchema(columns: v2, keyColumns: ["id"])), 2)
        var b2 = RowBatch(columns: v2)
        b2.append(Int64(2), column: 0); b2.append(Int64(1) << 40, column: 1); b2.append("A-9", column: 2)
        b2.append(decimal128: 99_999_999_999_999_999, column: 3); b2.append(Int64(5), column: 4); b2.finishRow(version: 20)
        c = StoreCommit(upTo: 20); c.add(try store.stage(b2, table: "public.r")); try store.commit(c)

        let m = try store.manifest("public.r")
        XCTAssertEqual(m.readerColumns.map(\.type), [.int32, .int64, .string, .decimal(precision: 20, scale: 4), .timestamp])
        for compacted in [false, true] {
            if compacted { try store.compact("public.r") }
            var r = try store.read("public.r")
            let rows = try XCTUnwrap(try r.next())
            XCTAssertEqual(rows.count, 2)
            let text = (0..<2).map { row in (0..<5).map { ValueText.render(rows, row, $0) ?? "NULL" } }
            XCTAssertEqual(text[0], ["1", "-7", "42", "123.4500", "2022-01-08 00:00:00"], "compacted: \(compacted)")
            XCTAssertEqual(text[1], ["2", "1099511627776", "A-9", "9999999999999.9999", "1970-01-01 00:00:00.000005"])
        }
    }

    func testNamesRoundTrip() throws {
        for t in [StoreType.bool, .int16, .int32, .int64, .float32, .float64, .decimal(precision: 38, scale: 9), .string,
                  .bytes, .date, .timestamp, .timestamptz] {
            XCTAssertEqual(StoreType(parsing: t.description), t)
        }
        XCTAssertNil(StoreType(parsing: "decimal(39,1)"))
        XCTAssertEqual(PartitionSpec.bucketName(days: 19_000, .day), "2022-01-08")
        XCTAssertEqual(PartitionSpec.bucketName(days: -1, .month), "1969-12")
        XCTAssertEqual(PartitionSpec.escape("a b/é"), "a%20b%2F%C3%A9")
        XCTAssertEqual(ValueText.parseTimestamp("2022-01-08 00:00:00.000005"), 19_000 * 86_400_000_000 + 5)
        XCTAssertEqual(ValueText.timestamp(-1, utc: true), "1969-12-31 23:59:59.999999+00")
        XCTAssertEqual(ValueText.decimal(Int64(-5), scale: 2), "-0.05")
    }
}
