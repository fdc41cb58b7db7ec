import Foundation
import PostgresReplication
import TestSupport
import XCTest
@testable import Freshet

/// `"cluster"` against real 18.16 servers.
///
/// - A replicated cluster (`Tools/clickhouse-sandbox start --replicated freshet_two`: a standalone ZooKeeper and two
///   servers, one shard with two replicas): snapshot, inserts, updates, deletes, a TOAST-unchanged update, ADD/DROP
///   COLUMN, TRUNCATE and a resync reach both replicas, each equal to PostgreSQL row by row. Then replica r2 is
///   stopped: ON CLUSTER statements (ALTER, a new copy) go on without it after `ddlTimeoutSeconds`, r1 stays equal,
///   and r2, started again, catches up from the DDL queue and r1's parts.
/// - A one-node cluster without ZooKeeper (`start --cluster freshet_one`): without distributed DDL, and for a cluster
///   the server does not know, `freshet run` stops at start-up with a clear error, before the source is touched.
final class ClickHouseClusterTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    /// The replicated sandbox, started for this test in a directory of its own; the URLs of its two replicas.
    private func startReplicated(_ environment: [String: String]) throws -> [String] {
        guard FileManager.default.fileExists(atPath: "/usr/share/java/zookeeper.jar") else {
            try TestEnvironment.unavailable("zookeeper is not installed: run Tools/install-deps --clickhouse-cluster")
        }
        _ = try TestEnvironment.executable("java")
        _ = try TestEnvironment.executable("clickhouse-server")
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("clickhouse-sandbox").path
        let began = Date()
        let started = try Subprocess.run(tool, ["start", "--replicated", "freshet_two"], environment: environment)
        guard started.status == 0 else { throw TestFailure("clickhouse-sandbox start --replicated: \(started.stderr)") }
        let urls = started.stdout.split(separator: "\n").map(String.init)
        guard urls.count == 2 else { throw TestFailure("clickhouse-sandbox start --replicated printed \(urls.count) URLs") }
        print("ClickHouseClusterTests: ZooKeeper and two ClickHouse servers up in \(String(format: "%.1f", Date().timeIntervalSince(began))) s")
        return urls
    }

    /// One statement on one replica (its answer as text).
    private func query(_ url: String, _ sql: String) throws -> String {
        let client = ClickHouseClient(endpoint: try ClickHouseEndpoint(ClickHouseSettings(url: url), environment: [:]))
        return try client.execute(sql, inDatabase: false).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testEveryChangeReachesBothReplicasOfAReplicatedCluster() throws {
        _ = try TestEnvironment.python()
        let base = ProcessInfo.processInfo.environment["FRESHET_SANDBOX_DIR"] ?? NSTemporaryDirectory()
        let environment = ["FRESHET_CH_SANDBOX_DIR": base + "/clickhouse-replicated"]
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("clickhouse-sandbox").path
        defer { _ = try? Subprocess.run(tool, ["destroy"], environment: environment) }
        let replicas = try startReplicated(environment)

        let scenario = try Scenario(rows: 600)
        defer { scenario.cleanup() }
        let database = scenario.pg.prefix + "_cluster"
        let tables = ["items", "events", "plain"]
        let s = SQLQuoting.identifier(scenario.schema)
        let config = scenario.store + ".json"
        defer { try? FileManager.default.removeItem(atPath: config) }
        /// `freshet run` with the cluster in its config file (`extra`: more fields of `"clickhouse"`).
        func run(_ extra: String) throws -> FreshetProcess {
            try Data("""
                {"clickhouse": {"url": "\(replicas[0])", "database": "\(database)", "cluster": "freshet_two", "batchAgeMs": 200\(extra)}}
                """.utf8).write(to: URL(fileURLWithPath: config))
            return try scenario.start(["--config", config])
        }
        /// Both replicas equal PostgreSQL (the second once it fetched the first's parts).
        func bothEqual(_ process: FreshetProcess) throws {
            for url in replicas {
                try ClickHouseSinkTests.waitEqual(scenario, clickhouse: url, database: database, tables: tables, process: process)
            }
        }
        let began = Date()
        let process = try run("")
        defer { process.signal(SIGKILL) }
        /// The replica Freshet talks to equals PostgreSQL.
        func firstEqual(_ process: FreshetProcess) throws {
            try ClickHouseSinkTests.waitEqual(scenario, clickhouse: replicas[0], database: database, tables: tables, process: process)
        }
        try firstEqual(process)

        // Inserts, updates (of rows whose TOASTed `big` stays unchanged, too), deletes, a key change.
        let sql = scenario.pg.sql
        try sql.execute(ClickHouseSinkTests.everyChangeKind(s, inserts: 100))
        let toasted = try sql.query("SELECT count(*) FROM \(s).items WHERE id % 10 = 0 AND big IS NOT NULL").scalar ?? "0"
        XCTAssertNotEqual(toasted, "0", "rows with a TOASTed value were updated")
        // ADD and DROP COLUMN: ALTER TABLE ... ON CLUSTER.
        try sql.execute("""
            ALTER TABLE \(s).items ADD COLUMN extra int;
            UPDATE \(s).items SET extra = id % 5 WHERE id % 3 = 0;
            ALTER TABLE \(s).plain DROP COLUMN u;
            UPDATE \(s).plain SET v = 0 WHERE id < 10;
            """)
        try firstEqual(process)
        XCTAssertTrue(process.log.contains("ON CLUSTER `freshet_two` ADD COLUMN `extra`"), process.log)
        XCTAssertTrue(process.log.contains("ON CLUSTER `freshet_two` DROP COLUMN `u`"), process.log)

        // TRUNCATE and a resync: new copies, swapped in with RENAME ... ON CLUSTER.
        try sql.execute("TRUNCATE \(s).events; INSERT INTO \(s).events SELECT g, 'after' || g, NULL, NULL FROM generate_series(1, 50) g")
        let resync = try runFreshet(["resync", "\(scenario.schema).plain", "--source", scenario.url, "--store", scenario.store, "--wait"])
        XCTAssertEqual(resync.status, 0, resync.stdout + resync.stderr)
        try sql.execute("UPDATE \(s).plain SET v = 42 WHERE id = 1; UPDATE \(s).items SET qty = 7 WHERE id % 10 = 0")
        try bothEqual(process)
        XCTAssertGreaterThanOrEqual(process.log.components(separatedBy: "clickhouse.table_copied").count - 1, 5, process.log)
        // Every ON CLUSTER statement was taken at once by both servers: no error, no retry.
        XCTAssertFalse(process.log.contains("clickhouse.error"), process.log)
        XCTAssertFalse(process.log.contains("clickhouse.ddl_pending"), process.log)
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0, process.log)
        print("ClickHouseClusterTests: every step on both replicas in \(String(format: "%.1f", Date().timeIntervalSince(began))) s")

        // Replica r2 goes down; Freshet restarts with ON CLUSTER statements that wait 1 s for every host. Each such
        // statement then counts as done (clickhouse.ddl_pending) and r1 keeps up; back up, r2 runs the queued
        // statements in order (ALTER, then the new copy's CREATE and RENAME) and fetches the parts it missed.
        let down = try Subprocess.run(tool, ["stop", "r2"], environment: environment)
        XCTAssertEqual(down.status, 0, down.stderr)
        let outage = Date()
        let again = try run(#", "ddlTimeoutSeconds": 1"#)
        defer { again.signal(SIGKILL) }
        try sql.execute("""
            ALTER TABLE \(s).items ADD COLUMN late text;
            UPDATE \(s).items SET late = 'late ' || id WHERE id % 4 = 0;
            TRUNCATE \(s).events; INSERT INTO \(s).events SELECT g, 'down' || g, NULL, NULL FROM generate_series(1, 30) g;
            DELETE FROM \(s).plain WHERE id % 5 = 0;
            """)
        try firstEqual(again)
        XCTAssertTrue(again.log.contains("clickhouse.ddl_pending"), again.log)
        let up = try Subprocess.run(tool, ["start", "--replicated", "freshet_two"], environment: environment)
        XCTAssertEqual(up.status, 0, up.stderr)
        try bothEqual(again)
        XCTAssertFalse(again.log.contains("clickhouse.error"), again.log)
        print("ClickHouseClusterTests: r2 down, r1 equal, r2 back and equal in \(String(format: "%.1f", Date().timeIntervalSince(outage))) s")

        // Each replica holds Replicated tables, each copy at a ZooKeeper path of its own, and no shadow left behind.
        let d = ClickHouseSQL.literal(database)
        for url in replicas {
            let engines = try query(url, "SELECT name, engine FROM system.tables WHERE database = \(d) ORDER BY name")
            XCTAssertEqual(engines, tables.sorted().map { "\(scenario.schema)_\($0)\tReplicatedReplacingMergeTree" }.joined(separator: "\n"))
            let paths = try query(url, "SELECT zookeeper_path FROM system.replicas WHERE database = \(d) ORDER BY table")
            XCTAssertEqual(Set(paths.split(separator: "\n")).count, tables.count, paths)
            XCTAssertTrue(paths.contains("/clickhouse/tables/1/\(database)/\(scenario.schema)_events/g"), paths)
        }
        XCTAssertEqual(try query(replicas[0], "SELECT replica_name FROM system.replicas WHERE database = \(d) LIMIT 1"), "r1")
        XCTAssertEqual(try query(replicas[1], "SELECT replica_name FROM system.replicas WHERE database = \(d) LIMIT 1"), "r2")
        again.signal(SIGTERM)
        XCTAssertEqual(again.wait(timeout: 30), 0, again.log)
    }

    func testClusterProblemsFailAtStartUpBeforeTheSourceIsTouched() throws {
        _ = try TestEnvironment.clickhouseURL()   // the sandbox tests run (CI: they must)
        let base = ProcessInfo.processInfo.environment["FRESHET_SANDBOX_DIR"] ?? NSTemporaryDirectory()
        let environment = ["FRESHET_CH_SANDBOX_DIR": base + "/clickhouse-cluster"]
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("clickhouse-sandbox").path
        let started = try Subprocess.run(tool, ["start", "--cluster", "freshet_one"], environment: environment)
        guard started.status == 0 else { throw TestFailure("clickhouse-sandbox start --cluster: \(started.stderr)") }
        defer { _ = try? Subprocess.run(tool, ["stop"], environment: environment) }
        let url = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let password = URLComponents(string: url)?.password ?? "no password"

        let scenario = try EndToEndTests.Scenario(rows: 10)
        defer { scenario.cleanup() }
        let config = scenario.store + ".json"
        defer { try? FileManager.default.removeItem(atPath: config) }
        for (cluster, expected) in [("freshet_one", "ON CLUSTER and Replicated engines need ZooKeeper"),
                                    ("nowhere", "cluster nowhere: not in system.clusters")] {
            try Data("""
                {"clickhouse": {"url": "\(url)", "database": "\(scenario.pg.prefix)_cluster", "cluster": "\(cluster)"}}
                """.utf8).write(to: URL(fileURLWithPath: config))
            let r = try runFreshet(["run", "--source", scenario.url, "--store", scenario.store, "--slot", scenario.slot,
                                    "--publication", scenario.publication, "--schema", scenario.schema, "--metrics", "off",
                                    "--config", config])
            let output = r.stdout + r.stderr
            XCTAssertNotEqual(r.status, 0, output)
            XCTAssertTrue(output.contains(expected), "\(cluster): \(output)")
            XCTAssertFalse(output.contains(password), "password shown: \(output)")
        }
        let slots = try scenario.pg.sql.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [scenario.slot])
        XCTAssertEqual(slots.scalar, "0")
        let pubs = try scenario.pg.sql.query("SELECT count(*) FROM pg_publication WHERE pubname = $1", [scenario.publication])
        XCTAssertEqual(pubs.scalar, "0")
    }
}
