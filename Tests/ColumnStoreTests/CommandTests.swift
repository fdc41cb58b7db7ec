import Foundation
import XCTest
import TestSupport
@testable import ColumnStore

/// `freshet scan / sql / verify / compact` end to end through the built executable.
final class CommandTests: XCTestCase {
    func testScanFiltersProjectsAndCompactKeepsRows() throws {
        let freshet = try builtExecutable("freshet")
        let dir = try makeTempDirectory(self)
        let store = try Store.open(at: dir, identity: testIdentity)
        try store.defineTable("public.c", schema: ModelSchema.schema(ModelSchema.base), partitioning: .keyHash(buckets: 3))
        for v in [UInt64(10), 20, 30] {
            var b = RowBatch(columns: ModelSchema.base)
            for id in 0..<20 {
                if v == 30 && id % 4 == 0 { ModelSchema.appendDelete(&b, id: Int64(id), version: v); continue }
                ModelSchema.append(&b, id: Int64(id), ModelRow(name: id == 3 ? "a,\"b\"\nc" : "v\(v)", amount: Int64(id) * 150,
                                                               big: "big", flag: id % 2 == 0), version: v, unchangedBig: v > 10)
            }
            var c = StoreCommit(upTo: v); c.add(try store.stage(b, table: "public.c")); try store.commit(c)
        }
        store.close()
        func run(_ args: [String]) throws -> String {
            let r = try Subprocess.run(freshet, args + ["--store", dir.path])
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            return r.stdout
        }
        let csv = try run(["scan", "public.c", "--columns", "id,name,amount,big", "--where", "amount>=15", "--where", "id<12", "--key-order"])
        XCTAssertEqual(csv, "id,name,amount,big\n10,v30,15.00,big\n11,v30,16.50,big\n")
        let quoted = try run(["scan", "public.c", "--columns", "name", "--where", "id=3"])
        XCTAssertEqual(quoted, "name\n\"a,\"\"b\"\"\nc\"\n")
        let json = try run(["scan", "public.c", "--format", "jsonl", "--limit", "2", "--columns", "id,flag,amount", "--key-order"])
        XCTAssertEqual(json, "{\"id\":1,\"flag\":false,\"amount\":\"1.50\"}\n{\"id\":2,\"flag\":true,\"amount\":\"3.00\"}\n")
        XCTAssertEqual(try run(["scan", "public.c", "--format", "jsonl", "--limit", "2"]).split(separator: "\n").count, 2)
        let before = try run(["scan", "public.c", "--key-order"])
        XCTAssertEqual(before.split(separator: "\n").count, 1 + 15 + 1, "header, 15 rows, one name holds a newline")
        // Without --key-order the partitions come in any order: the same rows (one holds a newline: compare JSON lines).
        let ordered = try run(["scan", "public.c", "--format", "jsonl", "--key-order"])
        XCTAssertEqual(try run(["scan", "public.c", "--format", "jsonl"]).split(separator: "\n").sorted(),
                       ordered.split(separator: "\n").sorted())
        let compacted = try run(["compact", "public.c"])
        XCTAssertTrue(compacted.contains("9 → 3 parts"), compacted)
        XCTAssertEqual(try run(["scan", "public.c", "--key-order"]), before)
        XCTAssertEqual(try run(["scan", "public.c", "--format", "jsonl"]).split(separator: "\n").sorted(),
                       ordered.split(separator: "\n").sorted())
        XCTAssertTrue(try run(["verify"]).hasPrefix("ok: 1 tables, 3 parts, checkpoint 30"))
        let view = try run(["sql", "public.c", "--dialect", "duckdb", "--view", "c_now"])
        XCTAssertTrue(view.hasPrefix("SET parquet_metadata_cache = true;") && view.contains("\nCREATE VIEW \"c_now\" AS WITH ") && view.contains("arg_max_null(\"name\""), view)
        XCTAssertTrue(view.contains("/parts/*/*.parquet'") && view.contains("/manifest.json'"), "a query-time view: \(view)")
        XCTAssertEqual(Set(ModelSchema.partFiles(try Store.open(at: dir), "public.c")).count, 3, "replaced files are gone")
        let bad = try Subprocess.run(freshet, ["scan", "public.c", "--store", dir.path, "--where", "amount~1"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.hasPrefix("freshet scan: invalid predicate"), bad.stderr)
    }
}
