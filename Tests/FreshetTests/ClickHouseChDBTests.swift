import ColumnStore
import Foundation
import TestSupport
import XCTest
@testable import Freshet

/// The sink's statements for a newer server (DateTime64, Date32, `ReplacingMergeTree(_version, _deleted)`,
/// `EXCHANGE TABLES`, `ADD COLUMN ... AFTER`) and its RowBinary, run by chDB (ClickHouse 26.x in-process).
final class ClickHouseChDBTests: XCTestCase {
    func testNewServerStatementsRunInChDB() throws {
        let chdb = try ChDBSession("chdb")
        defer { chdb.cleanup() }

        let v1 = [ColumnDefinition("id", .int64, nullable: false), ColumnDefinition("name", .string),
                  ColumnDefinition("amount", .decimal(precision: 12, scale: 2)), ColumnDefinition("at", .timestamptz, nullable: false),
                  ColumnDefinition("day", .date), ColumnDefinition("flag", .bool)]
        var server = ClickHouseServer(version: "26.9.2.1")
        server.databaseEngine = "Atomic"
        func manifest(_ versions: [[ColumnDefinition]]) throws -> Manifest {
            let json: [String: Any] = [
                "formatVersion": 1, "table": "public.orders", "sequence": 1, "generation": 1, "committedLSN": 0, "keyColumns": ["id"],
                "partitioning": ["kind": "time", "column": "at", "bucket": "month"],
                "schemaVersions": versions.enumerated().map { i, cols in
                    ["version": i + 1, "columns": cols.map { ["name": $0.name, "type": $0.type.description, "nullable": $0.nullable] }]
                },
                "parts": [] as [Any]]
            return try JSONDecoder().decode(Manifest.self, from: JSONSerialization.data(withJSONObject: json))
        }
        let ddl = ClickHouseTableDDL(manifest: try manifest([v1]), database: "shop", name: "orders", cluster: nil, server: server)
        var rows = RowBatch(columns: v1)
        func row(_ id: Int64, _ name: String, version: UInt64) {
            rows.append(id, column: 0); rows.append(name, column: 1); rows.append(Int64(1050), column: 2)
            rows.append(Int64(1_700_000_000_123_456), column: 3); rows.append(Int64(-25_000), column: 4); rows.append(true, column: 5)
            rows.finishRow(version: version)
        }
        row(1, "a", version: 10); row(2, "b", version: 10); row(1, "a2", version: 20)
        rows.append(Int64(2), column: 0); rows.finishTombstone(version: 30)
        var encoder = RowBinaryEncoder()
        encoder.append(rows, columns: ddl.columns, sources: [0, 1, 2, 3, 4, 5], skipDeleted: false)
        try Data(encoder.bytes).write(to: URL(fileURLWithPath: chdb.dir + "/rows.bin"))
        let structure = ddl.columns.map { "`\($0.name)` \($0.type)" }.joined(separator: ", ") + ", `_version` UInt64, `_deleted` UInt8"
        let insert = { (table: String) in
            "INSERT INTO `shop`.`\(table)` SELECT * FROM file('\(chdb.dir)/rows.bin', RowBinary, \(ClickHouseSQL.literal(structure)))"
        }
        let added = ClickHouseTableDDL(manifest: try manifest([v1, v1 + [ColumnDefinition("note", .string)]]), database: "shop",
                                       name: "orders", cluster: nil, server: server)
        var statements = ["CREATE DATABASE IF NOT EXISTS `shop`", ddl.create(ddl.shadowName), insert(ddl.shadowName)]
        statements += ddl.swap(tableExists: false)
        // A new generation: shadow, insert, EXCHANGE.
        statements += [ddl.create(ddl.shadowName), insert(ddl.shadowName)] + ddl.swap(tableExists: true)
        statements += added.alterations(existing: Dictionary(uniqueKeysWithValues: ddl.columns.map { ($0.name, $0.type) }))
        XCTAssertTrue(statements.contains { $0.hasPrefix("EXCHANGE TABLES") }, "\(statements)")
        let r = try chdb.run(statements, queries: [
            ("SELECT id, name, amount, toUnixTimestamp64Micro(at), toInt32(day), flag, note FROM shop.orders FINAL WHERE _deleted = 0 ORDER BY id", "CSV"),
            ("SELECT engine_full FROM system.tables WHERE database = 'shop' AND name = 'orders'", "TSVRaw"),
            ("SELECT count() FROM system.tables WHERE database = 'shop'", "TSV"),
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "1,\"a2\",10.5,1700000000123456,-25000,1,\\N", r.stdout)
        XCTAssertEqual(lines.count, 3, "key 2 is deleted; one table left after the exchange: \(r.stdout)")
        XCTAssertTrue(lines.dropFirst().first?.contains("ReplacingMergeTree(_version, _deleted)") ?? false, r.stdout)
        XCTAssertTrue(lines.dropFirst().first?.contains("PARTITION BY toYYYYMM(at)") ?? false, r.stdout)
        XCTAssertEqual(lines.last, "1", r.stdout)
    }
}
