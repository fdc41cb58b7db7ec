import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// Issue 11 item 11: schema `"X.dotted"` table `name` and schema `X` table `"dotted.name"` (which older versions both
/// stored in `tables/X.dotted.name`), and names with `/`, a quote, spaces and unicode, replicate as separate tables,
/// each equal to its PostgreSQL table through `freshet scan` (addressed as `"X.dotted".name` / `X."dotted.name"`) and
/// through DuckDB over `freshet sql`; the merger runs over them, and `freshet verify` is ok. A damaged part makes its
/// table's merges fail with one logged warning, not a crash.
final class TableNameEndToEndTests: XCTestCase {
    struct Table {
        let schema: String
        let name: String
        /// The CLI / config syntax.
        let cli: String
        /// The store directory (`TableName.directoryName`).
        let directory: String
        var quoted: String { SQLQuoting.qualified(schema: schema, name: name) }
    }

    func testCollidingAndAwkwardNamesAreSeparateTablesEqualToPostgres() throws {
        let pg = try PostgresFixture()
        let url = try TestEnvironment.postgresURL()
        let s = pg.name("n"), dotted = s + ".dotted"
        let slot = pg.name("slot"), publication = pg.name("pub")
        let store = NSTemporaryDirectory() + "freshet-names-" + pg.prefix
        let logPath = store + ".log"
        let tables = [
            Table(schema: dotted, name: "name", cli: "\"\(dotted)\".name", directory: "\(s)%2Edotted.name"),
            Table(schema: s, name: "dotted.name", cli: "\(s).\"dotted.name\"", directory: "\(s).dotted%2Ename"),
            Table(schema: s, name: "a/b", cli: "\(s).a/b", directory: "\(s).a%2Fb"),
            Table(schema: s, name: "it's \"q\"", cli: "\(s).\"it's \"\"q\"\"\"", directory: "\(s).it's \"q\""),
            Table(schema: s, name: "ünï côde", cli: "\"\(s)\".\"ünï côde\"", directory: "\(s).ünï côde"),
        ]
        let excluded = Table(schema: s, name: "ex.cluded", cli: "\(s).\"ex.cluded\"", directory: "\(s).ex%2Ecluded")
        let sql = pg.sql
        defer {
            _ = try? sql.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", [slot])
            usleep(200_000)
            _ = try? sql.query("SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1", [slot])
            _ = try? sql.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(publication))")
            _ = try? sql.execute("DROP SCHEMA IF EXISTS \(SQLQuoting.identifier(s)) CASCADE; DROP SCHEMA IF EXISTS \(SQLQuoting.identifier(dotted)) CASCADE")
            try? FileManager.default.removeItem(atPath: store)
            try? FileManager.default.removeItem(atPath: store + ".json")
            try? FileManager.default.removeItem(atPath: logPath)   // failures quote it
        }
        try sql.execute("CREATE SCHEMA \(SQLQuoting.identifier(s)); CREATE SCHEMA \(SQLQuoting.identifier(dotted))")
        for (i, t) in (tables + [excluded]).enumerated() {
            // Each table its own values, so rows that landed in the wrong table show.
            try sql.execute("""
                CREATE TABLE \(t.quoted) (id int PRIMARY KEY, v text, n bigint);
                INSERT INTO \(t.quoted) SELECT g, CASE WHEN g % 5 = 0 THEN NULL ELSE 't\(i) ' || g || E', "x"\\n''y' END, g * 1000 + \(i)
                FROM generate_series(1, 40) g;
                """)
        }
        // A config key in the quoted syntax: that table gets two hash buckets.
        let config = store + ".json"
        let settings = ["tableSettings": [tables[0].cli: ["partition": "hash:2"]]]
        try JSONSerialization.data(withJSONObject: settings).write(to: URL(fileURLWithPath: config))

        let process = try FreshetProcess(["run", "--config", config, "--source", url, "--store", store, "--slot", slot,
                                          "--publication", publication, "--schema", s, "--schema", dotted, "--exclude", excluded.cli,
                                          "--metrics", "off", "--heartbeat-seconds", "1", "--max-age-ms", "100"], logPath: logPath)
        func checkpoint() -> LSN {
            guard let data = FileManager.default.contents(atPath: store + "/store.json"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let value = json["checkpointLSN"] as? NSNumber else { return .zero }
            return LSN(value.uint64Value)
        }
        func waitCaughtUp() throws {
            let target = try XCTUnwrap(LSN(try XCTUnwrap(sql.execute("SELECT pg_current_wal_lsn()::text").scalar)))
            let end = Date().addingTimeInterval(120)
            while checkpoint() < target {
                guard process.isRunning, Date() < end else {
                    return XCTFail("store did not reach \(target) (at \(checkpoint())); log:\n\(process.log)")
                }
                usleep(100_000)
            }
        }
        try waitCaughtUp()

        // Streamed changes in every table, one transaction per table and round: enough commits for merges.
        for round in 1...6 {
            for (i, t) in tables.enumerated() {
                try sql.execute("""
                    BEGIN;
                    UPDATE \(t.quoted) SET v = 'r\(round) t\(i) ' || id, n = n + \(round) WHERE id % 7 = \(round % 7);
                    INSERT INTO \(t.quoted) VALUES (\(100 + round), 'new t\(i)', NULL);
                    DELETE FROM \(t.quoted) WHERE id = \(round * 3);
                    COMMIT;
                    """)
                usleep(150_000)
            }
        }
        try waitCaughtUp()

        func manifestField(_ t: Table, _ field: String) -> Int {
            guard let data = FileManager.default.contents(atPath: "\(store)/tables/\(t.directory)/manifest.json"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return -1 }
            return (json[field] as? NSNumber)?.intValue ?? -1
        }
        // The merger merges the streamed parts of the colliding tables (it used to die on their manifests).
        func levels(_ t: Table) -> [Int] {
            guard let data = FileManager.default.contents(atPath: "\(store)/tables/\(t.directory)/manifest.json"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let parts = json["parts"] as? [[String: Any]] else { return [] }
            return parts.compactMap { ($0["level"] as? NSNumber)?.intValue }
        }
        let end = Date().addingTimeInterval(30)
        while tables.prefix(2).contains(where: { levels($0).max() ?? 0 < 1 }) && Date() < end && process.isRunning { usleep(100_000) }
        for t in tables.prefix(2) { XCTAssertGreaterThanOrEqual(levels(t).max() ?? 0, 1, "no merge in \(t.cli): \(levels(t))\n\(process.log)") }
        XCTAssertTrue(process.isRunning, process.log)

        let onDisk = try FileManager.default.contentsOfDirectory(atPath: store + "/tables")
        XCTAssertEqual(Set(onDisk), Set(tables.map(\.directory)), "one directory per table, the excluded one not copied")
        let manifest0 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(store)/tables/\(tables[0].directory)/manifest.json"))) as? [String: Any]
        XCTAssertEqual((manifest0?["partitioning"] as? [String: Any])?["buckets"] as? Int, 2, "tableSettings under the quoted name")
        XCTAssertEqual(manifest0?["table"] as? String, tables[0].cli)

        for t in tables {
            let expected = try sql.query("SELECT id, v, n FROM \(t.quoted) ORDER BY id").rows
            XCTAssertGreaterThan(expected.count, 30)
            XCTAssertEqual(try scanRows(t.cli, store: store), expected, "freshet scan \(t.cli)")
            XCTAssertEqual(try duckDBRows(t.cli, store: store), expected, "DuckDB over freshet sql \(t.cli)")
        }
        // An online resync of one colliding table, named in the quoted syntax, replaces only that table.
        let generationsBefore = tables.prefix(2).map { manifestField($0, "generation") }
        let resync = try runFreshet(["resync", tables[1].cli, "--source", url, "--store", store, "--wait"])
        XCTAssertEqual(resync.status, 0, resync.stdout + resync.stderr + process.log)
        XCTAssertTrue(resync.stdout.contains("done: switched"), resync.stdout)
        try waitCaughtUp()
        for t in tables.prefix(2) {
            XCTAssertEqual(try scanRows(t.cli, store: store), try sql.query("SELECT id, v, n FROM \(t.quoted) ORDER BY id").rows,
                           "after the resync: \(t.cli)")
        }
        XCTAssertEqual(tables.prefix(2).map { manifestField($0, "generation") }, [generationsBefore[0], generationsBefore[1] + 1])

        let scanExcluded = try runFreshet(["scan", excluded.cli, "--store", store])
        XCTAssertNotEqual(scanExcluded.status, 0)
        XCTAssertTrue(scanExcluded.stderr.contains("unknown table \(excluded.cli)"), scanExcluded.stderr)

        let verify = try runFreshet(["verify", "--store", store])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stdout.hasPrefix("ok: \(tables.count) tables"), verify.stdout)

        // A damaged part makes merges of its table fail: logged (once), and the replicator goes on.
        let damaged = tables[2]
        let manifestURL = URL(fileURLWithPath: "\(store)/tables/\(damaged.directory)/manifest.json")
        let parts = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any])?["parts"] as? [[String: Any]])
        let newest = try XCTUnwrap(parts.last?["path"] as? String)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: "\(store)/tables/\(damaged.directory)/\(newest)"))
        try handle.seek(toOffset: 8)
        try handle.write(contentsOf: Data("XXXX".utf8))
        try handle.close()
        for round in 1...5 {
            try sql.execute("INSERT INTO \(damaged.quoted) VALUES (\(200 + round), 'late', 1)")
            usleep(150_000)
        }
        try waitCaughtUp()
        let failEnd = Date().addingTimeInterval(30)
        while !process.log.contains("store.merge_failed") && Date() < failEnd && process.isRunning { usleep(100_000) }
        XCTAssertTrue(process.isRunning, process.log)
        let failures = process.log.components(separatedBy: "\n").filter { $0.contains("store.merge_failed") }
        XCTAssertEqual(failures.count, 1, process.log)
        XCTAssertTrue(failures.first?.contains(newest) ?? false, failures.first ?? "")
        XCTAssertEqual(try runFreshet(["verify", "--store", store]).status, 1)

        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0, process.log)
        XCTAssertFalse(process.log.contains("Fatal error"), process.log)
    }

    /// `freshet scan` rows (JSON lines) as id, v, n text, by id.
    private func scanRows(_ table: String, store: String) throws -> [[String?]] {
        let r = try runFreshet(["scan", table, "--store", store, "--format", "jsonl"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try r.stdout.split(separator: "\n").map { line -> [String?] in
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return ["id", "v", "n"].map { c in
                switch o[c] {
                case let n as NSNumber: return n.stringValue
                case let s as String: return s
                default: return nil
                }
            }
        }.sorted { Int($0[0] ?? "") ?? 0 < Int($1[0] ?? "") ?? 0 }
    }

    /// DuckDB's rows over `freshet sql --dialect duckdb` as id, v, n text, by id.
    private func duckDBRows(_ table: String, store: String) throws -> [[String?]] {
        let script = """
            import duckdb, json, subprocess, sys
            freshet, store, table = sys.argv[1:4]
            sql = subprocess.run([freshet, "sql", table, "--store", store, "--dialect", "duckdb"], capture_output=True, text=True, check=True).stdout
            rows = duckdb.connect().execute(f"SELECT id, v, n FROM ({sql}) ORDER BY id").fetchall()
            print(json.dumps([[None if x is None else str(x) for x in r] for r in rows]))
            """
        let r = try Subprocess.run(try TestEnvironment.python(), ["-c", script, TestEnvironment.product("freshet"), store, table])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[Any]])
        return rows.map { $0.map { $0 as? String } }
    }
}
