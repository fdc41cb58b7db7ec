import Foundation
import TestSupport
import XCTest

/// `"cluster"` against the real 18.16 server: a second sandbox (its own directory) started with
/// `Tools/clickhouse-sandbox start --cluster freshet_one`, a one-node cluster in remote_servers (one shard, one replica
/// on its own TCP port). Without ZooKeeper the server runs no distributed DDL, so `ON CLUSTER` (and Replicated
/// engines) cannot be tested for real here; what is tested is that both an unknown cluster and a server without
/// distributed DDL stop `freshet run` at start-up with a clear error, before the source is touched.
final class ClickHouseClusterTests: XCTestCase {
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
