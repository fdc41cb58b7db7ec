import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// Setup problems give one clear message, a non-zero exit, and change nothing (no slot, no publication).
final class BadInputTests: XCTestCase {
    private func run(_ url: String, store: String, schema: String, extra: [String] = []) throws -> ProcessResult {
        try runFreshet(["run", "--source", url, "--store", store, "--schema", schema, "--slot", "bad_input_slot",
                        "--publication", "bad_input_pub", "--metrics", "off"] + extra)
    }

    private func assertNothingCreated(_ sql: Connection, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(try sql.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'bad_input_slot'").rows.isEmpty, file: file, line: line)
        XCTAssertTrue(try sql.execute("SELECT 1 FROM pg_publication WHERE pubname = 'bad_input_pub'").rows.isEmpty, file: file, line: line)
    }

    func testTableWithoutKeyIsRefusedWithTheFix() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let schema = pg.name("s")
        try pg.sql.execute("CREATE SCHEMA \(SQLQuoting.identifier(schema)); CREATE TABLE \(SQLQuoting.identifier(schema)).nokey (a int, b text)")
        defer { _ = try? pg.sql.execute("DROP SCHEMA \(SQLQuoting.identifier(schema)) CASCADE") }
        let store = NSTemporaryDirectory() + "freshet-bad-" + pg.prefix
        defer { removeTemporaryFiles(store) }
        let r = try run(pg.url, store: store, schema: schema)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("has no primary key") && r.stderr.contains("REPLICA IDENTITY FULL"), r.stderr)
        XCTAssertFalse(r.stderr.contains(try XCTUnwrap(ConnectionSettings(pg.url)["password"])))
        try assertNothingCreated(pg.sql)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store + "/store.json"))
    }

    func testWalLevelReplicaIsRefused() throws {
        let sandbox = try ExtraSandbox(walLevel: "replica")
        defer { sandbox.destroy() }
        let sql = try Connection(sandbox.url)
        try sql.execute("CREATE TABLE public.t (id int PRIMARY KEY)")
        let store = NSTemporaryDirectory() + "freshet-bad-wal-" + UUID().uuidString
        let r = try run(sandbox.url, store: store, schema: "public")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("wal_level is 'replica'") && r.stderr.contains("ALTER SYSTEM SET wal_level = logical"), r.stderr)
        try assertNothingCreated(sql)
    }

    func testStoreOfAnotherDatabaseIsRefused() throws {
        // A store made from another cluster (another system identifier).
        let other = try ExtraSandbox()
        defer { other.destroy() }
        let otherSQL = try Connection(other.url)
        try otherSQL.execute("CREATE TABLE public.t (id int PRIMARY KEY)")
        let store = NSTemporaryDirectory() + "freshet-bad-other-" + UUID().uuidString
        defer { removeTemporaryFiles(store) }
        let first = try FreshetProcess(["run", "--source", other.url, "--store", store, "--schema", "public", "--slot", "bad_input_slot",
                                        "--publication", "bad_input_pub", "--metrics", "off"], logPath: store + ".log")
        let end = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: store + "/store.json") && Date() < end { usleep(50_000) }
        first.signal(SIGTERM)
        XCTAssertEqual(first.wait(timeout: 30), 0, first.log)

        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let schema = pg.name("s")
        try pg.sql.execute("CREATE SCHEMA \(SQLQuoting.identifier(schema)); CREATE TABLE \(SQLQuoting.identifier(schema)).t (id int PRIMARY KEY)")
        defer { _ = try? pg.sql.execute("DROP SCHEMA \(SQLQuoting.identifier(schema)) CASCADE") }
        let before = try Data(contentsOf: URL(fileURLWithPath: store + "/store.json"))
        let r = try run(pg.url, store: store, schema: schema)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("belongs to another source"), r.stderr)
        try assertNothingCreated(pg.sql)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: store + "/store.json")), before, "the store must be left as it was")
    }

    func testUnusableStoreDirectoryIsRefused() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let schema = pg.name("s")
        try pg.sql.execute("CREATE SCHEMA \(SQLQuoting.identifier(schema)); CREATE TABLE \(SQLQuoting.identifier(schema)).t (id int PRIMARY KEY)")
        defer { _ = try? pg.sql.execute("DROP SCHEMA \(SQLQuoting.identifier(schema)) CASCADE") }
        // A regular file where the store directory should be (tests run as root, so permissions cannot make a
        // directory unreadable for them).
        let notADirectory = NSTemporaryDirectory() + "freshet-bad-file-" + pg.prefix
        FileManager.default.createFile(atPath: notADirectory, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: notADirectory) }
        let r = try run(pg.url, store: notADirectory, schema: schema)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("store \(notADirectory): not a directory"), r.stderr)
        // A store.json that is not a store.
        let garbled = NSTemporaryDirectory() + "freshet-bad-json-" + pg.prefix
        try FileManager.default.createDirectory(atPath: garbled, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: garbled) }
        FileManager.default.createFile(atPath: garbled + "/store.json", contents: Data("{not json".utf8))
        let r2 = try run(pg.url, store: garbled, schema: schema)
        XCTAssertEqual(r2.status, 1)
        XCTAssertTrue(r2.stderr.contains(garbled), r2.stderr)
        try assertNothingCreated(pg.sql)
    }

    func testBadConfigNamesTheFieldAndExitsTwo() throws {
        let config = NSTemporaryDirectory() + "freshet-bad-config-\(UUID().uuidString).json"
        try Data(#"{"source": "postgresql://u:topsecret@127.0.0.1:1/db", "batch": {"maxRows": -5}}"#.utf8).write(to: URL(fileURLWithPath: config))
        defer { try? FileManager.default.removeItem(atPath: config) }
        let r = try runFreshet(["run", "--config", config])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("batch.maxRows"), r.stderr)
        XCTAssertFalse(r.stderr.contains("topsecret"))
        // An unreachable source: a clean error without the password.
        try Data(#"{"source": "postgresql://u:topsecret@127.0.0.1:1/db"}"#.utf8).write(to: URL(fileURLWithPath: config))
        let r2 = try runFreshet(["run", "--config", config, "--store", NSTemporaryDirectory() + "freshet-unreachable"])
        XCTAssertEqual(r2.status, 1)
        XCTAssertTrue(r2.stderr.contains("could not connect to postgresql://u:***@127.0.0.1:1/db"), r2.stderr)
        XCTAssertFalse(r2.stderr.contains("topsecret"), r2.stderr)
    }

    func testNumbersOutOfRangeInTheConfigAndZeroOnTheCommandLineAreUsageErrors() throws {
        let config = NSTemporaryDirectory() + "freshet-bad-config-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: config) }
        try Data(#"{"source": "postgresql://u:topsecret@127.0.0.1:1/db", "batch": {"maxRows": 1e30}}"#.utf8).write(to: URL(fileURLWithPath: config))
        let r = try runFreshet(["run", "--config", config])
        XCTAssertEqual(r.status, 2, "rc \(r.status): \(r.stderr)")   // not 132 (a crash)
        XCTAssertTrue(r.stderr.contains("batch.maxRows: must be a whole number"), r.stderr)
        try Data("{\"source\": \"x\",\n \"source\": \"y\"}".utf8).write(to: URL(fileURLWithPath: config))
        let dup = try runFreshet(["run", "--config", config])
        XCTAssertEqual(dup.status, 2)
        XCTAssertTrue(dup.stderr.contains("line 2, column 2: duplicate key \"source\""), dup.stderr)
        for option in ["--max-rows", "--max-age-ms", "--progress-seconds", "--health-max-lag-seconds", "--slot-warn-bytes"] {
            let zero = try runFreshet(["run", "--source", "postgresql://127.0.0.1:1/db", "--store", "/nonexistent", option, "0"])
            XCTAssertEqual(zero.status, 2, "\(option) 0: \(zero.stderr)")
            XCTAssertTrue(zero.stderr.contains("\(option) needs a positive integer, got 0"), zero.stderr)
        }
    }

    func testAPasswordWithAnUnencodedAtSignIsNeverPrinted() throws {
        let store = NSTemporaryDirectory() + "freshet-at-" + UUID().uuidString.prefix(8)
        defer { removeTemporaryFiles(store) }
        let r = try runFreshet(["run", "--source", "postgresql://u:qX7p@s3cr3t@127.0.0.1:1/db", "--store", store, "--metrics", "off"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertFalse((r.stdout + r.stderr).contains("s3cr3t") || (r.stdout + r.stderr).contains("qX7p"), r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("postgresql://u:***@127.0.0.1:1/db"), r.stderr)
    }

    func testHelpOnEveryCommandPrintsUsageAndExitsZero() throws {
        for command in ["run", "resync", "scan", "sql", "verify", "compact", "status", "drop"] {
            for flag in ["--help", "-h"] {
                let r = try runFreshet([command, flag])
                XCTAssertEqual(r.status, 0, "freshet \(command) \(flag): \(r.stderr)")
                XCTAssertTrue(r.stdout.hasPrefix("usage: freshet \(command)"), "freshet \(command) \(flag): \(r.stdout)")
            }
        }
        // After other arguments too, and the top level.
        XCTAssertEqual(try runFreshet(["scan", "public.t", "--store", "/nonexistent", "--help"]).status, 0)
        XCTAssertEqual(try runFreshet(["--help"]).status, 0)
    }
}
