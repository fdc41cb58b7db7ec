import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// Tables whose names older versions put in one directory, or could not store, are separate tables; stores written
/// before `TableName` open without migration; `verify` reports inconsistent manifests and the merger never traps on them.
final class StoreNameTests: XCTestCase {
    private func commit(_ store: Store, _ table: String, ids: Range<Int>, name: String, version: UInt64) throws {
        var b = RowBatch(columns: ModelSchema.base)
        for id in ids { ModelSchema.append(&b, id: Int64(id), ModelRow(name: name, big: "big"), version: version) }
        var c = StoreCommit(upTo: version)
        c.add(try store.stage(b, table: table))
        try store.commit(c)
    }

    func testEveryAwkwardNameIsItsOwnTable() throws {
        let dir = try makeTempDirectory(self)
        let names = TableNameTests.awkward.map(\.qualifiedName)
        do {
            let store = try Store.open(at: dir, identity: testIdentity)
            for (i, t) in names.enumerated() {
                try store.defineTable(t, schema: ModelSchema.schema(ModelSchema.base), partitioning: .keyHash(buckets: 2))
                try commit(store, t, ids: 0..<(i + 1), name: "t\(i)", version: UInt64(10 + i))
            }
            store.close()
        }
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tables").path)
        XCTAssertEqual(Set(onDisk), Set(TableNameTests.awkward.map(\.directoryName)))
        XCTAssertTrue(onDisk.contains("public.orders"), "plain names keep today's layout")

        let store = try Store.open(at: dir)
        XCTAssertEqual(store.tableNames, names.sorted())
        for (i, t) in names.enumerated() {
            let rows = try ModelSchema.readAll(store, t)
            XCTAssertEqual(rows.count, i + 1, t)
            XCTAssertEqual(Set(rows.values.map(\.name)), ["t\(i)"], t)
            XCTAssertEqual(try store.manifest(t).table, t)
        }
        XCTAssertEqual(store.verify(), [])
        // More commits and merges land in the same directories.
        for (i, t) in names.enumerated() {
            for v in 0..<4 { try commit(store, t, ids: 0..<(i + 1), name: "t\(i)", version: UInt64(100 + i * 10 + v)) }
            XCTAssertGreaterThan(try store.mergeDue(t).merges, 0, t)
        }
        store.close()
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tables").path)), Set(onDisk))

        let freshet = try builtExecutable("freshet")
        let verify = try Subprocess.run(freshet, ["verify", "--store", dir.path])
        XCTAssertEqual(verify.status, 0, verify.stderr)
        for (cli, expected) in [("\"public.dotted\".name", "t1"), ("public.\"dotted.name\"", "t2"), ("\"public\".\"a/b\"", "t3"),
                                ("public.\"it's \"\"quoted\"\"\"", "t4")] {
            let scan = try Subprocess.run(freshet, ["scan", cli, "--store", dir.path, "--columns", "name", "--format", "csv"])
            XCTAssertEqual(scan.status, 0, scan.stderr)
            XCTAssertEqual(Set(scan.stdout.split(separator: "\n").dropFirst()), [Substring(expected)], cli)
        }
        let ambiguous = try Subprocess.run(freshet, ["scan", "public.dotted.name", "--store", dir.path])
        XCTAssertNotEqual(ambiguous.status, 0)
        XCTAssertTrue(ambiguous.stderr.contains("\"public.dotted\".name"), "the error shows the quoted syntax: \(ambiguous.stderr)")
    }

    /// A store written by Freshet before `TableName` (LegacyStoreFixture) opens as it is: plain names map to the same
    /// directories, and names today's encoding spells otherwise (`%`, `"`) are found where they were.
    func testStoreWrittenInTheOldLayoutOpensWithoutMigration() throws {
        let dir = try makeTempDirectory(self)
        try LegacyStoreFixture.write(to: dir)
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tables").path).sorted()
        XCTAssertEqual(before, ["legacy.orders", "legacy.pct%name", "legacy.q\"uote"])

        let freshet = try builtExecutable("freshet")
        let verify = try Subprocess.run(freshet, ["verify", "--store", dir.path])
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertTrue(verify.stdout.contains("ok: 3 tables, 3 parts"), verify.stdout)
        func scan(_ table: String) throws -> String {
            let r = try Subprocess.run(freshet, ["scan", table, "--store", dir.path, "--format", "csv"])
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout
        }
        XCTAssertEqual(try scan("legacy.orders"), "id,note,qty\n1,one,10\n2,\"two, with \"\"quotes\"\"\",20\n3,,30\n")
        XCTAssertEqual(try scan("legacy.pct%name"), "id,v\n1,p\n")
        XCTAssertEqual(try scan("legacy.\"q\"\"uote\""), "id,v\n7,q\n")

        // A writer commits to the same directories.
        let store = try Store.open(at: dir)
        XCTAssertEqual(store.tableNames, ["legacy.\"q\"\"uote\"", "legacy.orders", "legacy.pct%name"])
        for t in store.tableNames {
            let m = try store.manifest(t)
            var b = RowBatch(columns: m.currentSchema.columns)
            b.append(Int64(100), column: 0)
            for c in 1..<b.columns.count {
                if b.columns[c].type == .string { b.append("new", column: c) } else { b.append(Int64(5), column: c) }
            }
            b.finishRow(version: store.checkpointLSN + 1)
            var c = StoreCommit(upTo: store.checkpointLSN + 1)
            c.add(try store.stage(b, table: t))
            try store.commit(c)
        }
        store.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tables").path).sorted(), before)
        XCTAssertEqual(try scan("legacy.pct%name"), "id,v\n1,p\n100,new\n")
        XCTAssertEqual(try scan("legacy.\"q\"\"uote\""), "id,v\n7,q\n100,new\n")
        XCTAssertEqual(try Subprocess.run(freshet, ["verify", "--store", dir.path]).status, 0)
    }

    /// An old directory `public.a%2Fb` (table `a%2Fb`) is what `public."a/b"` encodes to today: the old table keeps it,
    /// and the new table is refused rather than mixed into it.
    func testOldDirectorySpelledLikeANewTableIsNotShared() throws {
        let dir = try makeTempDirectory(self)
        do {
            let store = try Store.open(at: dir, identity: testIdentity)
            try store.defineTable("public.a%2Fb", schema: ModelSchema.schema(ModelSchema.base))
            try commit(store, "public.a%2Fb", ids: 0..<3, name: "old", version: 10)
            store.close()
        }
        let tables = dir.appendingPathComponent("tables")
        try FileManager.default.moveItem(at: tables.appendingPathComponent("public.a%252Fb"), to: tables.appendingPathComponent("public.a%2Fb"))
        let store = try Store.open(at: dir)
        XCTAssertEqual(store.tableNames, ["public.a%2Fb"])
        XCTAssertEqual(try ModelSchema.readAll(store, "public.a%2Fb").count, 3)
        XCTAssertThrowsError(try store.defineTable("public.a/b", schema: ModelSchema.schema(ModelSchema.base))) {
            XCTAssertTrue("\($0)".contains("holds table public.a%2Fb"), "\($0)")
        }
        XCTAssertEqual(store.verify(), [])
    }

    /// Manifests made inconsistent by hand (and the shared directory an older Freshet gave `"public.dotted".name` and
    /// `public."dotted.name"`): `verify` names each problem and fails; readers and the merger get typed errors.
    func testVerifyReportsInconsistentManifests() throws {
        let dir = try makeTempDirectory(self)
        var options = StoreOptions()
        options.gracePeriod = 0
        let tables = dir.appendingPathComponent("tables")
        do {
            let store = try Store.open(at: dir, identity: testIdentity, options: options)
            for t in ["public.dup", "public.rows", "public.gone", "public.shared", "public.ok"] {
                try store.defineTable(t, schema: ModelSchema.schema(ModelSchema.base), partitioning: .keyHash(buckets: 1))
                for v in 0..<3 { try commit(store, t, ids: 0..<10, name: t, version: UInt64(10 + v)) }
            }
            store.close()
        }
        func editManifest(_ directory: String, _ change: (inout [String: Any]) -> Void) throws {
            let url = tables.appendingPathComponent(directory).appendingPathComponent("manifest.json")
            var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            change(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: url)
        }
        // A part listed twice (what the old name collision did to a manifest).
        try editManifest("public.dup") { m in
            var parts = m["parts"] as! [Any]
            parts.append(parts[0])
            m["parts"] = parts
        }
        // A row count that is not the part's.
        try editManifest("public.rows") { m in
            var parts = m["parts"] as! [[String: Any]]
            parts[1]["rows"] = 11
            m["parts"] = parts
        }
        // A missing part file.
        let goneManifest = try Manifest.decode(Array(try Data(contentsOf: tables.appendingPathComponent("public.gone/manifest.json"))), path: "")
        try FileManager.default.removeItem(at: tables.appendingPathComponent("public.gone").appendingPathComponent(goneManifest.parts[2].path))
        // Another table's part files, listed by a second manifest.
        let shared = tables.appendingPathComponent("public.shared")
        try FileManager.default.removeItem(at: shared.appendingPathComponent("parts/h=000"))
        try FileManager.default.createSymbolicLink(at: shared.appendingPathComponent("parts/h=000"),
                                                   withDestinationURL: tables.appendingPathComponent("public.ok/parts/h=000"))
        let okManifest = try JSONSerialization.jsonObject(with: Data(contentsOf: tables.appendingPathComponent("public.ok/manifest.json"))) as? [String: Any]
        try editManifest("public.shared") { m in m["parts"] = okManifest?["parts"] }
        // The directory an older Freshet gave both "public.dotted".name and public."dotted.name".
        try FileManager.default.copyItem(at: tables.appendingPathComponent("public.ok"), to: tables.appendingPathComponent("public.dotted.name"))
        try editManifest("public.dotted.name") { m in m["table"] = "public.dotted.name" }

        let store = try Store.open(at: dir, options: options)
        let problems = store.verify().map(\.description)
        func has(_ text: String, _ table: String) -> Bool { problems.contains { $0.contains("table \(table):") && $0.contains(text) } }
        XCTAssertTrue(has("is listed twice", "public.dup"), "\(problems)")
        XCTAssertTrue(has("holds 10 rows, manifest says 11", "public.rows"), "\(problems)")
        XCTAssertTrue(has("\(goneManifest.parts[2].path): missing", "public.gone"), "\(problems)")
        XCTAssertTrue(has("also listed by table public.ok", "public.shared"), "\(problems)")
        XCTAssertTrue(has("ambiguous table name public.dotted.name", "public.dotted.name"), "\(problems)")
        XCTAssertEqual(problems.count, 7, "\(problems)")

        // Readers and the merger refuse the damaged tables with typed errors; the others are served.
        XCTAssertThrowsError(try ModelSchema.readAll(store, "public.dup")) { XCTAssertTrue("\($0)".contains("listed twice"), "\($0)") }
        XCTAssertThrowsError(try store.mergeDue("public.dup")) { XCTAssertTrue($0 is StoreError, "\($0)") }
        XCTAssertEqual(try ModelSchema.readAll(store, "public.ok").count, 10)
        let reported = Reported()
        store.startMerger(interval: 0.05) { table, error in reported.add(table, error) }
        let end = Date().addingTimeInterval(10)
        while reported.tables.count < 2 && Date() < end { usleep(20_000) }
        store.stopMerger()
        XCTAssertTrue(reported.tables.isSuperset(of: ["public.dup", "public.gone"]), "\(reported.tables)")
        XCTAssertEqual(reported.count, reported.tables.count, "each error is passed on once, not on every pass")
        store.close()

        let freshet = try builtExecutable("freshet")
        let verify = try Subprocess.run(freshet, ["verify", "--store", dir.path])
        XCTAssertEqual(verify.status, 1, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stderr.contains("part parts/h=000/"), verify.stderr)
        XCTAssertTrue(verify.stderr.contains("is listed twice"), verify.stderr)
        XCTAssertTrue(verify.stderr.contains("7 problem(s)"), verify.stderr)
        let scan = try Subprocess.run(freshet, ["scan", "public.dup", "--store", dir.path])
        XCTAssertEqual(scan.status, 1, "a clear error, not a crash: \(scan.stderr)")
        XCTAssertTrue(scan.stderr.contains("listed twice"), scan.stderr)
    }
}

/// What a merger's error callback received (thread-safe).
final class Reported: @unchecked Sendable {
    private let lock = NSLock()
    private var seen = [(String, StoreError)]()
    func add(_ table: String, _ error: StoreError) { lock.withLock { seen.append((table, error)) } }
    var tables: Set<String> { lock.withLock { Set(seen.map(\.0)) } }
    var count: Int { lock.withLock { seen.count } }
}
