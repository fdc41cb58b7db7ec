import ColumnStore
import Foundation
import XCTest
@testable import Freshet

/// The sink's URL parsing, naming, type mapping and DDL for an old (18.16) and a new server, and RowBinary bytes —
/// no server needed.
final class ClickHouseDDLTests: XCTestCase {
    /// A manifest (through its JSON form: its initialisers are the store's own).
    private func manifest(partitioning: PartitionSpec = .keyHash(buckets: 8), extraVersion: Bool = false) throws -> Manifest {
        func col(_ name: String, _ type: String, _ nullable: Bool = true) -> [String: Any] { ["name": name, "type": type, "nullable": nullable] }
        let first: [[String: Any]] = [col("id", "int64", false), col("name", "string"), col("amount", "decimal(12,2)"),
                                      col("wide", "decimal(30,4)"), col("at", "timestamptz", false), col("day", "date"),
                                      col("flag", "bool"), col("gone", "int32")]
        var versions: [[String: Any]] = [["version": 1, "columns": first]]
        if extraVersion {
            versions.append(["version": 2, "columns": first.filter { $0["name"] as? String != "gone" } + [col("extra", "int32", false)]])
        }
        let spec = try JSONSerialization.jsonObject(with: JSONEncoder().encode(partitioning))
        let json: [String: Any] = ["formatVersion": 1, "table": "sales.orders", "sequence": 1, "generation": 1, "committedLSN": 0,
                                   "keyColumns": ["id"], "partitioning": spec, "schemaVersions": versions, "parts": [] as [Any]]
        return try JSONDecoder().decode(Manifest.self, from: JSONSerialization.data(withJSONObject: json))
    }

    func testEndpointParsingAndRedaction() throws {
        let e = try ClickHouseEndpoint(ClickHouseSettings(url: "http://bob:s%40cret@ch.local:8123/?database=shop"), environment: [:])
        XCTAssertEqual(e.base, "http://ch.local:8123")
        XCTAssertEqual(e.user, "bob")
        XCTAssertEqual(e.password, "s@cret")
        XCTAssertEqual(e.database, "shop")
        XCTAssertEqual(ClickHouseSettings(url: "http://bob:s%40cret@ch.local:8123/").redactedURL, "http://bob:***@ch.local:8123/")
        let env = try ClickHouseEndpoint(ClickHouseSettings(url: "http://ch:8123", database: "other"), environment: ["CLICKHOUSE_PASSWORD": "pw"])
        XCTAssertEqual(env.user, "default")
        XCTAssertEqual(env.password, "pw")
        XCTAssertEqual(env.database, "other")
        for bad in ["https://ch:8443/", "ch:8123", "http://ch:8123/db", "http://ch:99999/", "http://ch:8123/?db=x", "http://:8123/"] {
            XCTAssertThrowsError(try ClickHouseEndpoint(ClickHouseSettings(url: bad), environment: [:]), bad)
        }
        XCTAssertThrowsError(try ClickHouseEndpoint(ClickHouseSettings(url: "http://u:topsecret@ch:x/"), environment: [:])) { e in
            XCTAssertFalse("\(e)".contains("topsecret"), "\(e)")
        }
    }

    func testNamingAndConfig() throws {
        let naming = ClickHouseNaming(tableSettings: ["sales.special": Config.TableSettings(clickhouseTable: "sp")])
        XCTAssertEqual(naming.name(of: "public.orders"), "orders")
        XCTAssertEqual(naming.name(of: "sales.orders"), "sales_orders")
        XCTAssertEqual(naming.name(of: "sales.special"), "sp")
        let c = try Config.parse(json: Data("""
            {"source": "postgresql://x", "clickhouse": {"url": "http://ch:8123/", "database": "d", "cluster": "c",
             "batchRows": 5000, "batchAgeMs": 250, "insertStreams": 1, "healthMaxLagSeconds": 9, "ddlTimeoutSeconds": 7},
             "tableSettings": {"public.t": {"clickhouseTable": "tt"}}}
            """.utf8))
        XCTAssertEqual(c.clickhouse?.database, "d")
        XCTAssertEqual(c.clickhouse?.cluster, "c")
        XCTAssertEqual(c.clickhouse?.batchRows, 5000)
        XCTAssertEqual(c.clickhouse?.insertStreams, 1)
        XCTAssertEqual(c.clickhouse?.batchAge, 0.25)
        XCTAssertEqual(c.clickhouse?.healthMaxLagSeconds, 9)
        XCTAssertEqual(c.clickhouse?.ddlTimeoutSeconds, 7)
        XCTAssertEqual(c.tableSettings["public.t"]?.clickhouseTable, "tt")
        XCTAssertThrowsError(try Config.parse(json: Data(#"{"source": "x", "clickhouse": {"database": "d"}}"#.utf8)))
        XCTAssertThrowsError(try Config.parse(json: Data(#"{"source": "x", "clickhouse": {"url": "u", "typo": 1}}"#.utf8)))
    }

    func testOldServerDDL() throws {
        let ddl = ClickHouseTableDDL(manifest: try manifest(partitioning: .time(column: "at", bucket: .month)), database: "shop",
                                     name: "sales_orders", cluster: nil, server: ClickHouseServer(version: "18.16.1"))
        let sql = ddl.create("sales_orders")
        XCTAssertTrue(sql.contains("`id` Int64,"), sql)
        XCTAssertTrue(sql.contains("`name` Nullable(String)"), sql)
        XCTAssertTrue(sql.contains("`amount` Nullable(Decimal(12, 2))"), sql)
        XCTAssertTrue(sql.contains("`wide` Nullable(Decimal(30, 4))"), sql)
        XCTAssertTrue(sql.contains("`at` Int64,"), sql)
        XCTAssertTrue(sql.contains("`day` Nullable(Int32)"), sql)
        XCTAssertTrue(sql.contains("`flag` Nullable(UInt8)"), sql)
        XCTAssertTrue(sql.contains("ENGINE = ReplacingMergeTree(`_version`)\n"), sql)
        XCTAssertTrue(sql.contains("PARTITION BY toYYYYMM(toDateTime(intDiv(`at`, 1000000)))"), sql)
        XCTAssertTrue(sql.hasSuffix("ORDER BY (`id`)"), sql)
        XCTAssertEqual(ddl.swap(tableExists: true), [
            "DROP TABLE IF EXISTS `shop`.`sales_orders__freshet_old`",
            "RENAME TABLE `shop`.`sales_orders` TO `shop`.`sales_orders__freshet_old`, `shop`.`sales_orders__freshet_new` TO `shop`.`sales_orders`",
            "DROP TABLE IF EXISTS `shop`.`sales_orders__freshet_old`"])
        // With a cluster (what 18.16 took in ClickHouseClusterTests): ON CLUSTER after the table, or after a RENAME's
        // last pair; every DROP on each host.
        let onCluster = ClickHouseTableDDL(manifest: try manifest(), database: "shop", name: "o", cluster: "two",
                                           server: ClickHouseServer(version: "18.16.1"))
        XCTAssertEqual(onCluster.swap(tableExists: true), [
            "DROP TABLE IF EXISTS `shop`.`o__freshet_old` ON CLUSTER `two`",
            "RENAME TABLE `shop`.`o` TO `shop`.`o__freshet_old`, `shop`.`o__freshet_new` TO `shop`.`o` ON CLUSTER `two`",
            "DROP TABLE IF EXISTS `shop`.`o__freshet_old` ON CLUSTER `two`"])
        XCTAssertEqual(onCluster.swap(tableExists: false), ["RENAME TABLE `shop`.`o__freshet_new` TO `shop`.`o` ON CLUSTER `two`"])
        let create = onCluster.create(onCluster.shadowName, copy: "g1-5")
        XCTAssertTrue(create.hasPrefix("CREATE TABLE IF NOT EXISTS `shop`.`o__freshet_new` ON CLUSTER `two`\n("), create)
        XCTAssertTrue(create.contains("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/o/g1-5', '{replica}', `_version`)\n"), create)
    }

    func testNewServerDDLAndAlterations() throws {
        var server = ClickHouseServer(version: "24.8.3.59")
        server.databaseEngine = "Atomic"
        let ddl = ClickHouseTableDDL(manifest: try manifest(extraVersion: true), database: "shop", name: "o", cluster: "prod", server: server)
        let sql = ddl.create("o")
        XCTAssertTrue(sql.contains("`at` DateTime64(6, 'UTC')"), sql)
        XCTAssertTrue(sql.contains("`day` Nullable(Date32)"), sql)
        XCTAssertTrue(sql.contains("ON CLUSTER `prod`"), sql)
        XCTAssertTrue(sql.contains("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/o', '{replica}', `_version`, `_deleted`)"), sql)
        XCTAssertFalse(sql.contains("PARTITION BY"), "hash partitioning stays in the store")
        XCTAssertFalse(sql.contains("`gone`"), "dropped columns are not created")
        XCTAssertTrue(sql.contains("`extra` Nullable(Int32)"), "a column older versions lack is Nullable: \(sql)")
        XCTAssertEqual(ddl.swap(tableExists: true), ["EXCHANGE TABLES `shop`.`o` AND `shop`.`o__freshet_new` ON CLUSTER `prod`",
                                                     "DROP TABLE IF EXISTS `shop`.`o__freshet_new` ON CLUSTER `prod`"])
        // Each copy at a ZooKeeper path of its own, under the live table's name (a renamed table keeps its path).
        let copy = ClickHouseTableDDL.copyID(generation: 3, at: Date(timeIntervalSince1970: 1_764_521_600.123))
        XCTAssertEqual(copy, "g3-1764521600123")
        XCTAssertEqual(ClickHouseDDLRunner.hostID(host: "127.0.0.1", port: "9000"), "127%2E0%2E0%2E1:9000")
        XCTAssertEqual(ClickHouseDDLRunner.hostID(host: "ch-1_a", port: "9000"), "ch%2D1_a:9000")
        XCTAssertEqual(ClickHouseDDLRunner.task(inTimeoutMessage: "Code: 159, e.displayText() = DB::Exception: Watching task /clickhouse/task_queue/ddl/query-0000000027 is executing longer than distributed_ddl_task_timeout (=2) seconds."),
                       "/clickhouse/task_queue/ddl/query-0000000027")
        XCTAssertTrue(ddl.create(ddl.shadowName, copy: copy).contains(
            "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/o/g3-1764521600123', '{replica}', `_version`, `_deleted`)"))
        let alters = ddl.alterations(existing: ["id": "Int64", "name": "Nullable(String)", "amount": "Nullable(Decimal(12,2))",
                                                "wide": "Nullable(Decimal(30, 4))", "at": "Nullable(DateTime64(6, 'UTC'))",
                                                "day": "Nullable(Date32)", "flag": "Nullable(UInt8)", "gone": "Nullable(Int32)",
                                                "_version": "UInt64", "_deleted": "UInt8"])
        XCTAssertEqual(alters, [
            "ALTER TABLE `shop`.`o` ON CLUSTER `prod` MODIFY COLUMN `at` DateTime64(6, 'UTC')",
            "ALTER TABLE `shop`.`o` ON CLUSTER `prod` ADD COLUMN `extra` Nullable(Int32) AFTER `flag`",
            "ALTER TABLE `shop`.`o` ON CLUSTER `prod` DROP COLUMN `gone`"])
    }

    func testRowBinaryBytes() {
        let cols = [ColumnDefinition("id", .int32, nullable: false), ColumnDefinition("s", .string), ColumnDefinition("d", .decimal(precision: 30, scale: 0))]
        var b = RowBatch(columns: cols)
        b.append(Int64(-2), column: 0); b.append("hé", column: 1); b.append(decimal128: -1, column: 2); b.finishRow(version: 7)
        b.append(Int64(5), column: 0); b.finishTombstone(version: 9)
        let server = ClickHouseServer(version: "18.16.1")
        let ch = cols.map { ClickHouseColumn($0, isKey: $0.name == "id", server: server) }
        var e = RowBinaryEncoder()
        e.append(b, columns: ch, sources: [0, 1, 2], skipDeleted: false)
        XCTAssertEqual(e.rows, 2)
        XCTAssertEqual(e.bytes, [0xFE, 0xFF, 0xFF, 0xFF, 0, 3, 0x68, 0xC3, 0xA9, 0] + [UInt8](repeating: 0xFF, count: 16)
                                + [7, 0, 0, 0, 0, 0, 0, 0, 0]
                                + [5, 0, 0, 0, 1, 1] + [9, 0, 0, 0, 0, 0, 0, 0, 1])
        var skip = RowBinaryEncoder()
        skip.append(b, columns: ch, sources: [0, 1, 2], skipDeleted: true)
        XCTAssertEqual(skip.rows, 1)
    }
}

/// `freshet compact` on a stopped store keeps the deletes the ClickHouse sink has not shipped (its cursor file).
final class ClickHouseCompactTests: XCTestCase {
    func testCompactKeepsUnshippedTombstones() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory() + "freshet-chcompact-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = StoreOptions()
        options.gracePeriod = 0
        let store = try Store.open(at: dir, identity: StoreIdentity(systemIdentifier: "1", slot: "s", publication: "p"), options: options)
        let schema = TableSchema(columns: [ColumnDefinition("id", .int64, nullable: false), ColumnDefinition("v", .string)], keyColumns: ["id"])
        try store.defineTable("public.t", schema: schema, partitioning: .none)
        for (version, delete) in [(UInt64(10), false), (20, true)] {
            var b = RowBatch(schema: schema)
            for id in Int64(0)..<10 {
                b.append(id, column: 0)
                if delete { b.finishTombstone(version: version) } else { b.append("x", column: 1); b.finishRow(version: version) }
            }
            var c = StoreCommit(upTo: version)
            c.add(try store.stage(b, table: "public.t"))
            try store.commit(c)
        }
        let cursor = ClickHouseCursor(destination: "http://ch:8123/shop",
                                      tables: ["public.t": .init(generation: 1, version: 10, clickhouseTable: "t")])
        try cursor.save(store)
        ClickHouseSink.protectUnshipped(store)
        try store.compact("public.t")
        XCTAssertEqual(try store.manifest("public.t").parts.reduce(0) { $0 + $1.tombstones }, 10)
        var reader = try store.changes("public.t", after: 10)
        XCTAssertEqual(try reader.next()?.count, 10, "the deletes are still there to ship")
    }
}
