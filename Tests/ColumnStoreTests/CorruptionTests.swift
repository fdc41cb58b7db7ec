import Foundation
import XCTest
import TestSupport
@testable import ColumnStore

/// Damaged files are reported with their path and the table is refused rather than read wrong; bad input is rejected.
final class CorruptionTests: XCTestCase {
    /// A store with two tables of 50 rows each (two commits, so several parts).
    func makeStore() throws -> (URL, Store) {
        let dir = try makeTempDirectory(self)
        var o = StoreOptions()
        o.gracePeriod = 0
        let store = try Store.open(at: dir, identity: testIdentity, options: o)
        for t in ["public.a", "public.b"] {
            try store.defineTable(t, schema: ModelSchema.schema(ModelSchema.base), partitioning: .keyHash(buckets: 2))
            for v in [UInt64(10), 20] {
                var b = RowBatch(columns: ModelSchema.base)
                for id in 0..<50 { ModelSchema.append(&b, id: Int64(id), ModelRow(name: "n\(id)", big: "big"), version: v) }
                var c = StoreCommit(upTo: v)
                c.add(try store.stage(b, table: t))
                try store.commit(c)
            }
        }
        return (dir, store)
    }

    func flipByte(_ path: String, at offset: Int) throws {
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try h.seek(toOffset: UInt64(offset))
        let b = try h.read(upToCount: 1) ?? Data([0])
        try h.seek(toOffset: UInt64(offset))
        try h.write(contentsOf: Data([b[0] ^ 0x5A]))
        try h.close()
    }

    func testFlippedByteInPartIsReportedAndTableRefused() throws {
        let (dir, store) = try makeStore()
        let part = try store.manifest("public.a").parts[0]
        let path = store.tableDirectory("public.a").appendingPathComponent(part.path).path
        try flipByte(path, at: part.bytes / 2)
        XCTAssertThrowsError(try ModelSchema.readAll(store, "public.a")) { e in
            guard case let StoreError.corruptPart(table, p, reason)? = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(table, "public.a"); XCTAssertEqual(p, path); XCTAssertTrue(reason.contains("checksum"), reason)
        }
        XCTAssertThrowsError(try store.compact("public.a"))
        XCTAssertEqual(try ModelSchema.readAll(store, "public.b").count, 50, "other tables are still served")
        let problems = store.verify()
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems.first?.description.contains(path) ?? false)

        let freshet = try builtExecutable("freshet")
        let verify = try Subprocess.run(freshet, ["verify", "--store", dir.path])
        XCTAssertNotEqual(verify.status, 0)
        XCTAssertTrue(verify.stderr.contains(path), verify.stderr)
        let scan = try Subprocess.run(freshet, ["scan", "public.a", "--store", dir.path])
        XCTAssertEqual(scan.status, 1)
        XCTAssertTrue(scan.stderr.contains(path), scan.stderr)
        XCTAssertEqual(scan.stderr.split(separator: "\n").count, 1, "one clear line: \(scan.stderr)")
        let scanB = try Subprocess.run(freshet, ["scan", "public.b", "--store", dir.path, "--limit", "3"])
        XCTAssertEqual(scanB.status, 0, scanB.stderr)
        XCTAssertEqual(scanB.stdout.split(separator: "\n").count, 4, "header + 3 rows")
    }

    func testTruncatedPartRefusesTableOnOpen() throws {
        let (dir, store) = try makeStore()
        let part = try store.manifest("public.b").parts[1]
        let path = store.tableDirectory("public.b").appendingPathComponent(part.path).path
        store.close()
        XCTAssertEqual(truncate(path, off_t(part.bytes - 10)), 0)
        let reopened = try Store.open(at: dir)
        XCTAssertThrowsError(try reopened.manifest("public.b")) { e in
            XCTAssertEqual(e as? StoreError, .corruptPart(table: "public.b", path: path, reason: "size \(part.bytes - 10), manifest says \(part.bytes)"))
        }
        XCTAssertThrowsError(try reopened.stage(RowBatch(columns: ModelSchema.base), table: "public.b"))
        XCTAssertEqual(try ModelSchema.readAll(reopened, "public.a").count, 50)
    }

    func testCorruptManifestRefusesTableAndKeepsItsFiles() throws {
        let (dir, store) = try makeStore()
        let manifest = store.manifestURL("public.a")
        let files = ModelSchema.partFiles(store, "public.a")
        store.close()
        try Data("{\"formatVersion\": 1, \"table\": ".utf8).write(to: manifest)
        var o = StoreOptions()
        o.orphanCutoff = Date().addingTimeInterval(60)
        let reopened = try Store.open(at: dir, options: o)
        XCTAssertThrowsError(try reopened.read("public.a")) { e in
            guard case let StoreError.corruptManifest(table, path, _)? = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(table, "public.a"); XCTAssertEqual(path, manifest.path)
        }
        XCTAssertThrowsError(try reopened.committedLSN("public.a"))
        XCTAssertEqual(ModelSchema.partFiles(reopened, "public.a"), files, "orphan cleanup must not touch a table it cannot read")
        XCTAssertEqual(try ModelSchema.readAll(reopened, "public.b").count, 50)
        XCTAssertEqual(reopened.verify().count, 1)
    }

    func testStoreFileIdentityAndWriterLock() throws {
        let (dir, store) = try makeStore()
        XCTAssertThrowsError(try Store.open(at: dir)) { e in XCTAssertEqual(e as? StoreError, .locked(path: dir.path)) }
        var ro = StoreOptions(); ro.readOnly = true
        let reader = try Store.open(at: dir, options: ro)
        XCTAssertEqual(reader.checkpointLSN, 20)
        XCTAssertThrowsError(try reader.compact("public.a")) { e in XCTAssertEqual(e as? StoreError, .readOnly(path: dir.path)) }
        store.close()
        let other = StoreIdentity(systemIdentifier: "999", slot: "freshet", publication: "freshet_pub")
        XCTAssertThrowsError(try Store.open(at: dir, identity: other)) { e in
            guard case .identityMismatch? = e as? StoreError else { return XCTFail("\(e)") }
        }
        try Data("not json".utf8).write(to: dir.appendingPathComponent("store.json"))
        XCTAssertThrowsError(try Store.open(at: dir)) { e in
            guard case let StoreError.corruptStoreFile(path, _)? = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(path, dir.appendingPathComponent("store.json").path)
        }
    }

    func testBadInputIsRejected() throws {
        let (_, store) = try makeStore()
        XCTAssertThrowsError(try store.stage(RowBatch(columns: [.init("id", .int64)]), table: "public.a")) { e in
            guard case .invalidBatch? = e as? StoreError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try store.stage(RowBatch(columns: ModelSchema.base), table: "public.nope")) { e in
            XCTAssertEqual(e as? StoreError, .unknownTable("public.nope"))
        }
        let bad: [TableSchema] = [
            TableSchema(columns: [.init("id", .int64), .init("_version", .int64)], keyColumns: ["id"]),
            TableSchema(columns: [.init("id", .int64), .init("id", .string)], keyColumns: ["id"]),
            TableSchema(columns: [.init("id", .int64)], keyColumns: []),
            TableSchema(columns: [.init("id", .int64)], keyColumns: ["nope"]),
        ]
        for s in bad {
            XCTAssertThrowsError(try store.defineTable("public.bad", schema: s)) { e in
                guard case .invalidSchema? = e as? StoreError else { return XCTFail("\(e)") }
            }
        }
        XCTAssertThrowsError(try store.defineTable("public.a", schema: TableSchema(columns: ModelSchema.base, keyColumns: ["id", "name"])))
        XCTAssertThrowsError(try store.defineTable("public.a", schema: ModelSchema.schema(ModelSchema.base), partitioning: .none), "partitioning cannot change")
        XCTAssertThrowsError(try store.defineTable("public.t", schema: ModelSchema.schema(ModelSchema.base), partitioning: .time(column: "name", bucket: .day)))
        XCTAssertThrowsError(try store.read("public.a", where: [ColumnPredicate(column: "amount", op: .eq, literal: "abc")]))
        XCTAssertThrowsError(try store.read("public.a", columns: ["nope"]))
        XCTAssertThrowsError(try ColumnPredicate(parsing: "no operator"))
        XCTAssertEqual(try ColumnPredicate(parsing: "ts>=2024-01-01").op, .ge)

        let freshet = try builtExecutable("freshet")
        let unknown = try Subprocess.run(freshet, ["frobnicate"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown command frobnicate"))
        let noStore = try Subprocess.run(freshet, ["scan", "public.a"], environment: ["FRESHET_STORE": ""])
        XCTAssertEqual(noStore.status, 2)   // a usage error
        XCTAssertTrue(noStore.stderr.contains("--store"), noStore.stderr)
    }
}
