import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// Online full resync: requested through the WAL from another connection, copied while streaming goes on,
/// switched in one manifest commit.
final class ResyncTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    private func waitForSnapshot(_ scenario: Scenario, _ process: FreshetProcess) throws {
        let end = Date().addingTimeInterval(120)
        while scenario.checkpoint == .zero && Date() < end { usleep(50_000) }
        XCTAssertGreaterThan(scenario.checkpoint, .zero, process.log)
    }

    private func scanCount(_ scenario: Scenario, _ table: String) throws -> Int {
        let r = try runFreshet(["scan", table, "--store", scenario.store, "--columns", "id", "--format", "csv"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return max(0, r.stdout.split(separator: "\n").count - 1)
    }

    func testDriftIsRepairedByResyncAll() throws {
        let scenario = try Scenario(rows: 1000)
        defer { scenario.cleanup() }
        var process = try scenario.start()
        try waitForSnapshot(scenario, process)
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
        // The slot is lost; changes made now never reach the store.
        try scenario.pg.sql.query("SELECT pg_drop_replication_slot($1)", [scenario.slot])
        let s = SQLQuoting.identifier(scenario.schema)
        try scenario.pg.sql.execute("UPDATE \(s).items SET qty = -qty WHERE id % 3 = 0; DELETE FROM \(s).events WHERE a < 10; INSERT INTO \(s).plain SELECT g, 0, NULL FROM generate_series(5000, 5100) g")
        process = try scenario.start()
        let end = Date().addingTimeInterval(60)
        while !process.log.contains("stream.started") && Date() < end { usleep(50_000) }
        XCTAssertTrue(process.log.contains("setup.slot_missing"), process.log)
        try scenario.waitCaughtUp()
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("compare-store").path
        let drift = try Subprocess.run(try TestEnvironment.python(), [tool, "--source", scenario.url, "--store", scenario.store,
                                                                      "--freshet", TestEnvironment.product("freshet")] + scenario.tables)
        XCTAssertNotEqual(drift.status, 0, "the store should have missed the changes made without a slot:\n\(drift.stdout)")

        let resync = try runFreshet(["resync", "--all", "--source", scenario.url, "--store", scenario.store, "--wait"])
        XCTAssertEqual(resync.status, 0, resync.stdout + resync.stderr + process.log)
        XCTAssertTrue(resync.stdout.contains("done: switched"), resync.stdout)
        try scenario.waitCaughtUp()
        try scenario.compare()
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
    }

    func testResyncUnderLoadNeverShowsAPartialTable() throws {
        let scenario = try Scenario(rows: 40000)
        defer { scenario.cleanup() }
        let process = try scenario.start()
        try waitForSnapshot(scenario, process)
        let items = "\(scenario.schema).items"
        let generationBefore = try manifestGeneration(scenario, items)

        // An insert-and-update-only load: the table only grows, so a reader seeing a partial copy would see it shrink.
        // It counts what it did: the test fails unless the load really ran, without errors, during the resync.
        let stop = AtomicBool()
        let load = LoadTally()
        let loaderDone = DispatchSemaphore(value: 0)
        let loader = Thread { [url = scenario.url, schema = scenario.schema] in
            defer { loaderDone.signal() }
            let sql: Connection
            do { sql = try Connection(url) } catch { load.fail("connect: \(error)"); return }
            let s = SQLQuoting.identifier(schema)
            var id = 9_000_000
            while !stop.value {
                do {
                    try sql.execute("INSERT INTO \(s).items (id, qty) SELECT g, 1 FROM generate_series(\(id), \(id + 19)) g; UPDATE \(s).items SET qty = qty + 1 WHERE id = \(id - 7)")
                    load.succeeded()
                } catch {
                    load.fail("\(error)")
                }
                id += 20
                usleep(5_000)
            }
            sql.close()
        }
        loader.start()
        let resync = try FreshetProcess(["resync", items, "\(scenario.schema).events", "--source", scenario.url,
                                         "--store", scenario.store, "--wait"], logPath: scenario.store + ".resync.log")
        var last = try scanCount(scenario, items)
        var polls = 0
        while resync.isRunning {
            let n = try scanCount(scenario, items)
            XCTAssertGreaterThanOrEqual(n, last, "a reader saw the table shrink during the resync")
            last = n
            polls += 1
        }
        let statementsDuringResync = load.successes
        stop.value = true
        loaderDone.wait()
        XCTAssertEqual(load.failures, [], "the load's statements failed")
        XCTAssertGreaterThan(statementsDuringResync, 0, "no load ran during the resync: the test proves nothing")
        XCTAssertEqual(resync.wait(timeout: 1), 0, resync.log + process.log)
        XCTAssertTrue(resync.log.contains("done: switched"), resync.log)
        XCTAssertGreaterThan(polls, 0)
        XCTAssertGreaterThan(try manifestGeneration(scenario, items), generationBefore, "the resync switches generations")
        try scenario.waitCaughtUp()
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
        try scenario.compare()
    }

    private func manifestGeneration(_ scenario: Scenario, _ table: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(scenario.store)/tables/\(table)/manifest.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap((json["generation"] as? NSNumber)?.intValue)
    }
}

/// What a load thread did: statements that succeeded, and the errors of those that failed.
final class LoadTally: @unchecked Sendable {
    private let lock = NSLock()
    private var ok = 0
    private var errors: [String] = []
    func succeeded() { lock.lock(); ok += 1; lock.unlock() }
    func fail(_ error: String) { lock.lock(); errors.append(error); lock.unlock() }
    var successes: Int { lock.lock(); defer { lock.unlock() }; return ok }
    var failures: [String] { lock.lock(); defer { lock.unlock() }; return errors }
}

final class AtomicBool: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
}

/// Crashes in the middle of long copies: the initial snapshot and a resync both start over cleanly.
final class CrashDuringCopyTests: XCTestCase {
    typealias Scenario = EndToEndTests.Scenario

    func testSIGKILLDuringInitialSnapshotRestartsItCleanly() throws {
        let scenario = try Scenario(rows: 60000)
        defer { scenario.cleanup() }
        var process = try scenario.start()
        let end = Date().addingTimeInterval(60)
        while !process.log.contains("snapshot.start") && Date() < end { usleep(5_000) }
        usleep(150_000)
        XCTAssertEqual(scenario.checkpoint, .zero, "the snapshot should still be copying when killed")
        process.signal(SIGKILL)
        process.wait(timeout: 10)
        process = try scenario.start()
        try scenario.waitCaughtUp()
        XCTAssertTrue(process.log.contains("snapshot.restart"), process.log)
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
        try scenario.compare()
        let verify = try runFreshet(["verify", "--store", scenario.store])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }

    func testSIGKILLDuringResyncRestartsItAtTheNextStart() throws {
        let scenario = try Scenario(rows: 60000)
        defer { scenario.cleanup() }
        var process = try scenario.start()
        var end = Date().addingTimeInterval(120)
        while scenario.checkpoint == .zero && Date() < end { usleep(50_000) }
        // Drift to repair: a change made while nobody listens to the slot is gone for good.
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
        try scenario.pg.sql.query("SELECT pg_drop_replication_slot($1)", [scenario.slot])
        try scenario.pg.sql.execute("UPDATE \(SQLQuoting.identifier(scenario.schema)).items SET qty = 424242 WHERE id % 5 = 0")
        process = try scenario.start()
        end = Date().addingTimeInterval(60)
        while !process.log.contains("stream.started") && Date() < end { usleep(20_000) }
        let request = try runFreshet(["resync", "--all", "--source", scenario.url])
        XCTAssertEqual(request.status, 0, request.stderr)
        // Kill while the resync copies.
        end = Date().addingTimeInterval(60)
        while !process.log.contains("resync.copy") && Date() < end { usleep(5_000) }
        process.signal(SIGKILL)
        process.wait(timeout: 10)
        let ledger = try String(contentsOfFile: scenario.store + "/resync.json", encoding: .utf8)
        XCTAssertTrue(ledger.contains("\"copying\"") || ledger.contains("\"pending\""), ledger)
        // The next start performs it from scratch.
        process = try scenario.start()
        end = Date().addingTimeInterval(120)
        while !process.log.contains("resync.done") && Date() < end { usleep(50_000) }
        XCTAssertTrue(process.log.contains("resync.done"), process.log)
        try scenario.waitCaughtUp()
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 30), 0)
        try scenario.compare()
    }
}
