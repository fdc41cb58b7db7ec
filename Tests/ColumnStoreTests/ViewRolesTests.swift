import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// The per-part flags every manifest commit writes for the DuckDB view (`unchangedRows`, `settled`, `clean`:
/// `Manifest.classifyForViews`), and the view's exactness over each of its paths: clean parts read as stored, settled
/// parts without grouping (alone but with tombstones or unchanged markers, or beside recent parts), and the dedup.
final class ViewRolesTests: XCTestCase {
    static let table = "public.r"
    static let columns = QueryViewTests.columns

    private func entry(_ path: String, partition: String = "all", minVersion: UInt64, maxVersion: UInt64, unique: Bool = true,
                       tombstones: Int = 0, unchanged: Int? = 0) -> PartEntry {
        var e = PartEntry(path: path, partition: partition, rows: 10, bytes: 100, minVersion: minVersion, maxVersion: maxVersion,
                          level: 0, checksum: "crc32:00000000", schemaVersion: 1, generation: 1, tombstones: tombstones)
        e.uniqueKeys = unique
        e.unchangedRows = unchanged
        return e
    }

    /// Per merge domain: the part with unique keys below every other part's versions is settled; clean when it is also
    /// alone and has neither tombstones nor (known to have no) unchanged markers. A partitioning not derived from the
    /// key is one domain.
    func testClassification() {
        var m = Manifest(formatVersion: 1, table: Self.table, sequence: 1, generation: 1, committedLSN: 0, keyColumns: ["id"],
                         partitioning: .keyHash(buckets: 4),
                         schemaVersions: [SchemaVersion(version: 1, columns: Self.columns)], parts: [
            entry("parts/h=000/a.parquet", partition: "h=000", minVersion: 1, maxVersion: 5),
            entry("parts/h=000/b.parquet", partition: "h=000", minVersion: 6, maxVersion: 9),
            entry("parts/h=001/c.parquet", partition: "h=001", minVersion: 1, maxVersion: 5),
            entry("parts/h=002/d.parquet", partition: "h=002", minVersion: 1, maxVersion: 5, tombstones: 1),
            entry("parts/h=003/e.parquet", partition: "h=003", minVersion: 1, maxVersion: 5, unchanged: nil),
            entry("parts/h=003/f.parquet", partition: "h=003", minVersion: 5, maxVersion: 8),
        ])
        m.classifyForViews()
        let flags = m.parts.map { ($0.settled ?? false, $0.clean ?? false) }
        XCTAssertEqual(flags.map(\.0), [true, false, true, true, false, false])
        XCTAssertEqual(flags.map(\.1), [false, false, true, false, false, false])
        m.partitioning = .value(column: "amount")      // not derived from the key: one domain, its oldest part settled
        m.classifyForViews()
        XCTAssertEqual(m.parts.map { $0.settled ?? false }, [false, false, false, false, false, false],
                       "three parts start at version 1: none is below every other")
        m.parts = [m.parts[1], m.parts[0]]
        m.parts[1].minVersion = 0; m.parts[1].maxVersion = 0
        m.classifyForViews()
        XCTAssertEqual(m.parts.map { $0.settled ?? false }, [false, true])
        XCTAssertEqual(m.parts.map { $0.clean ?? false }, [false, false], "not alone in its domain")
    }

    /// Through a view created before any change: a part with unchanged markers and no older version (settled, not
    /// clean: the markers read as NULL), tombstones in a part alone in its partition, recent parts over settled ones,
    /// and the compacted table (clean) all equal the FINAL reader; the manifest's flags match each state.
    func testViewExactOverEveryPath() throws {
        _ = try TestEnvironment.python()
        let dir = try makeTempDirectory(self).appendingPathComponent("store")
        let store = try Store.open(at: dir, identity: testIdentity, options: StoreOptions())
        try store.defineTable(Self.table, schema: TableSchema(columns: Self.columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: 2))
        var version: UInt64 = 10
        func commit(_ fill: (inout RowBatch) -> Void) throws {
            version += 10
            try store.commitBatch(Self.table, columns: Self.columns, version: version, fill)
        }
        let view = try store.sql(Self.table, dialect: .duckdb, view: "v")
        func check(_ step: String) throws {
            // The FINAL reader (markers without an older value read as NULL, as in the view).
            var reader = try store.read(Self.table)
            var rows = [String]()
            while let b = try reader.next() {
                for r in 0..<b.count {
                    rows.append("\(b.int64(r, 0)):\(b.isNull(r, 1) ? "null" : String(b.int64(r, 1))):\(b.string(r, 2) ?? "null")")
                }
            }
            let expected = rows.joined(separator: ",")
            XCTAssertEqual(try SettleTests.viewRows(view), expected, step)
            let parts = try store.manifest(Self.table).parts
            for p in parts {
                let alone = parts.filter { $0.partition == p.partition }.count == 1
                XCTAssertEqual(p.clean ?? false, (p.settled ?? false) && alone && p.tombstones == 0 && p.unchangedRows == 0, step)
            }
        }
        // Every fifth row marks `big` unchanged with no older version: the view shows NULL, as the FINAL reader does.
        try commit { b in
            for id in 1...200 {
                b.append(Int64(id), column: 0); b.append(Int64(id), column: 1)
                if id % 5 == 0 { b.appendUnchanged(column: 2) } else { b.append("big \(id)", column: 2) }
                b.finishRow(version: version)
            }
        }
        var m = try store.manifest(Self.table)
        XCTAssertEqual(m.parts.reduce(0) { $0 + ($1.unchangedRows ?? -1000) }, 40)
        XCTAssertTrue(m.parts.allSatisfy { $0.settled == true && $0.clean == nil })
        try check("markers without an older version")
        // Updates over the key range (some leaving big unchanged) and deletes: recent parts over the settled ones.
        try commit { b in
            for id in stride(from: 1, through: 200, by: 3) {
                b.append(Int64(id), column: 0); b.append(Int64(id * 100), column: 1)
                if id % 2 == 0 { b.appendUnchanged(column: 2) } else { b.append("new \(id)", column: 2) }
                b.finishRow(version: version)
            }
            for id in stride(from: 2, through: 200, by: 7) { b.append(Int64(id), column: 0); b.finishTombstone(version: version) }
        }
        m = try store.manifest(Self.table)
        XCTAssertEqual(m.parts.filter { $0.settled == true }.count, 2)
        XCTAssertTrue(m.parts.allSatisfy { $0.clean == nil })
        try check("recent over settled")
        // Compacted: one part per partition; rows still marked (no older value) keep the part from being clean.
        _ = try store.compact(Self.table)
        m = try store.manifest(Self.table)
        XCTAssertTrue(m.parts.allSatisfy { $0.settled == true })
        try check("compacted")
        // Rewrite every key with all columns, then compact: clean parts, read as stored.
        try commit { b in
            for id in 1...200 { b.append(Int64(id), column: 0); b.append(Int64(-id), column: 1); b.append("all \(id)", column: 2); b.finishRow(version: version) }
        }
        try check("a full rewrite over the compacted parts")
        _ = try store.compact(Self.table)
        m = try store.manifest(Self.table)
        XCTAssertTrue(m.parts.allSatisfy { $0.clean == true && $0.unchangedRows == 0 }, "\(m.parts)")
        try check("clean")
        // Tombstones alone in a new partition state: delete keys, compact keeps nothing of them; then a tombstone-only
        // commit leaves a settled part beside the clean one (not clean any more).
        try commit { b in for id in stride(from: 1, through: 200, by: 4) { b.append(Int64(id), column: 0); b.finishTombstone(version: version) } }
        try check("tombstones over clean parts")
    }
}
