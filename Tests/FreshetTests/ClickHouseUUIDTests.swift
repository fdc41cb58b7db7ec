import ColumnStore
import Foundation
import PostgresReplication
import TestSupport
import XCTest
@testable import Freshet

/// PostgreSQL `uuid` columns go to ClickHouse as its native `UUID`: RowBinary writes two little-endian UInt64 halves
/// (the first 8 bytes of the UUID, then the last 8), checked byte by byte, then read back as text from the real 18.16
/// server (Tools/clickhouse-sandbox) and from chDB (26.x), equal to PostgreSQL's output text.
final class ClickHouseUUIDTests: XCTestCase {
    private let columns = [ColumnDefinition("id", .string, nullable: false, annotation: .uuid),
                           ColumnDefinition("u", .string, annotation: .uuid), ColumnDefinition("n", .int32)]

    /// UUIDs as PostgreSQL prints them (md5-made ones and the extremes), each with a row number.
    private func postgresUUIDs() throws -> [String] {
        let pg = try Connection(try TestEnvironment.postgresURL())
        defer { pg.close() }
        let r = try pg.query("""
            SELECT u::text FROM (SELECT md5(g::text)::uuid AS u, g FROM generate_series(1, 40) g
              UNION ALL VALUES ('00000000-0000-0000-0000-000000000000'::uuid, 41), ('FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 42),
                               ('{00112233-4455-6677-8899-aabbccddeeff}', 43)) x ORDER BY g
            """)
        return r.rows.compactMap { $0.first ?? nil }
    }

    /// Row i: id = uuids[i], u = uuids[i] reversed in order (NULL every fifth row), n = i; one tombstone at the end.
    private func batch(_ uuids: [String]) -> RowBatch {
        var b = RowBatch(columns: columns)
        for (i, id) in uuids.enumerated() {
            b.append(id, column: 0)
            if i % 5 == 4 { b.appendNull(column: 1) } else { b.append(uuids[uuids.count - 1 - i], column: 1) }
            b.append(Int64(i), column: 2)
            b.finishRow(version: 10)
        }
        b.append(uuids[0], column: 0)
        b.finishTombstone(version: 20)
        return b
    }

    /// What ClickHouse must print (TSV: id, u or \N, n), sorted by n, tombstoned row left out.
    private func expected(_ uuids: [String]) -> String {
        uuids.enumerated().dropFirst().map { i, id in
            "\(id)\t\(i % 5 == 4 ? "\\N" : uuids[uuids.count - 1 - i])\t\(i)"
        }.joined(separator: "\n") + "\n"
    }

    private func ddl(_ server: ClickHouseServer, database: String, uuidAsText: Set<String> = []) throws -> ClickHouseTableDDL {
        let json: [String: Any] = [
            "formatVersion": 1, "table": "public.ids", "sequence": 1, "generation": 1, "committedLSN": 0, "keyColumns": ["id"],
            "partitioning": ["kind": "none"],
            "schemaVersions": [["version": 1, "columns": columns.map { c -> [String: Any] in
                var d: [String: Any] = ["name": c.name, "type": c.type.description, "nullable": c.nullable]
                if let a = c.annotation { d["annotation"] = a.rawValue }
                return d
            }]],
            "parts": [] as [Any]]
        let m = try JSONDecoder().decode(Manifest.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertEqual(m.readerColumns.map(\.annotation), [.uuid, .uuid, nil], "the annotation survives the manifest")
        return ClickHouseTableDDL(manifest: m, database: database, name: "ids", cluster: nil, server: server, uuidAsText: uuidAsText)
    }

    func testRowBinaryUUIDBytes() {
        var b = RowBatch(columns: [columns[1]])
        b.append("00112233-4455-6677-8899-aabbccddeeff", column: 0); b.finishRow(version: 1)
        b.append("not a uuid", column: 0); b.finishRow(version: 1)
        var out: [UInt8] = []
        let done = b.appendRowBinary(to: &out, columns: [RowBinaryColumn(source: 0, field: .uuid, nullable: false)],
                                     skipDeleted: false)
        XCTAssertEqual(done.rows, 2)
        XCTAssertEqual(done.invalid, 1)
        XCTAssertEqual(Array(out[0..<16]), [0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
                                            0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88])
        XCTAssertEqual(Array(out[25..<41]), [UInt8](repeating: 0, count: 16), "not UUID text: the zero UUID, counted")
    }

    /// A table an earlier Freshet made with String for a uuid column keeps it (18.16 refuses MODIFY COLUMN from
    /// Nullable(String) to Nullable(UUID): "CAST AS Nullable(UUID) is not implemented"); its values go as text.
    func testAnEarlierStringColumnStaysString() throws {
        let d = try ddl(ClickHouseServer(version: "18.16.1"), database: "shop", uuidAsText: ["u"])
        XCTAssertEqual(d.columns.map(\.type), ["UUID", "Nullable(String)", "Nullable(Int32)"])
        XCTAssertEqual(d.columns.map(\.encoding), [.uuid, .string, .int(bytes: 4)])
        XCTAssertEqual(d.alterations(existing: ["id": "UUID", "u": "Nullable(String)", "n": "Nullable(Int32)",
                                                "_version": "UInt64", "_deleted": "UInt8"]), [])
    }

    func testUUIDRoundTripOnTheRealServerEqualsPostgresText() throws {
        let uuids = try postgresUUIDs()
        XCTAssertEqual(uuids.count, 43)
        XCTAssertEqual(uuids.last, "00112233-4455-6677-8899-aabbccddeeff")
        let database = "freshet_uuid_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let endpoint = try ClickHouseEndpoint(ClickHouseSettings(url: try TestEnvironment.clickhouseURL(), database: database))
        let client = ClickHouseClient(endpoint: endpoint)
        let server = ClickHouseServer(version: try client.execute("SELECT version()", inDatabase: false)
            .trimmingCharacters(in: .whitespacesAndNewlines))
        try client.execute("CREATE DATABASE IF NOT EXISTS \(ClickHouseSQL.identifier(database))", inDatabase: false)
        defer { _ = try? client.execute("DROP DATABASE IF EXISTS \(ClickHouseSQL.identifier(database))", inDatabase: false) }
        let ddl = try ddl(server, database: database)
        XCTAssertEqual(ddl.columns.map(\.type), ["UUID", "Nullable(UUID)", "Nullable(Int32)"])
        try client.execute(ddl.create("ids"))
        var encoder = RowBinaryEncoder()
        encoder.append(batch(uuids), columns: ddl.columns, sources: [0, 1, 2], skipDeleted: false)
        XCTAssertEqual(encoder.invalidUUIDs, 0)
        try client.insertRowBinary(table: "ids", columns: ddl.insertColumns, rows: encoder.bytes)
        let text = try client.execute("SELECT id, u, n FROM \(ClickHouseSQL.table(database, "ids")) FINAL WHERE _deleted = 0 ORDER BY n FORMAT TSV")
        XCTAssertEqual(text, expected(uuids))
        let types = try client.execute("SELECT type FROM system.columns WHERE database = \(ClickHouseSQL.literal(database)) AND table = 'ids' AND name IN ('id', 'u') ORDER BY name FORMAT TSV")
        XCTAssertEqual(types, "UUID\nNullable(UUID)\n")
    }

    func testUUIDRoundTripInChDBEqualsPostgresText() throws {
        let chdb = try ChDBSession("chdb-uuid")
        defer { chdb.cleanup() }
        let uuids = try postgresUUIDs()
        var server = ClickHouseServer(version: "26.9.2.1")
        server.databaseEngine = "Atomic"
        let ddl = try ddl(server, database: "shop")
        var encoder = RowBinaryEncoder()
        encoder.append(batch(uuids), columns: ddl.columns, sources: [0, 1, 2], skipDeleted: false)
        try Data(encoder.bytes).write(to: URL(fileURLWithPath: chdb.dir + "/rows.bin"))
        let structure = ddl.columns.map { "`\($0.name)` \($0.type)" }.joined(separator: ", ") + ", `_version` UInt64, `_deleted` UInt8"
        let statements = ["CREATE DATABASE IF NOT EXISTS `shop`", ddl.create("ids"),
                          "INSERT INTO `shop`.`ids` SELECT * FROM file('\(chdb.dir)/rows.bin', RowBinary, \(ClickHouseSQL.literal(structure)))"]
        let r = try chdb.run(statements, queries: [("SELECT id, u, n FROM shop.ids FINAL WHERE _deleted = 0 ORDER BY n", "TSV")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, expected(uuids))
    }
}
