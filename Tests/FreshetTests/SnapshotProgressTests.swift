import Foundation
@testable import Freshet
import PostgresReplication
import TestSupport
import XCTest

/// Snapshot progress: percent and time left from the planner's estimate, one updating line on a terminal.
final class SnapshotProgressTests: XCTestCase {
    func testPercentAndTimeLeft() {
        XCTAssertTrue(ProgressReporter.progress(copied: 10, expected: -1, elapsed: 1) == (nil, nil))
        XCTAssertTrue(ProgressReporter.progress(copied: 0, expected: 100, elapsed: 1) == (0, nil))
        let quarter = ProgressReporter.progress(copied: 25, expected: 100, elapsed: 10)
        XCTAssertEqual(quarter.percent, 25)
        XCTAssertEqual(quarter.eta ?? -1, 30, accuracy: 0.001)
        // More rows than estimated: 99% and a short time left, never above 100% or negative.
        let over = ProgressReporter.progress(copied: 150, expected: 100, elapsed: 10)
        XCTAssertEqual(over.percent, 99)
        XCTAssertTrue((over.eta ?? -1) >= 0 && (over.eta ?? 99) < 1)
        XCTAssertEqual(ProgressReporter.duration(42.4), "42s")
        XCTAssertEqual(ProgressReporter.duration(185), "3m05s")
        XCTAssertEqual(ProgressReporter.duration(3720), "1h02m")
        XCTAssertEqual(ProgressReporter.duration(nil), "?")
    }

    func testPlannerEstimatesATableNeverAnalysed() throws {
        let pg = try PostgresFixture()
        let t = SQLQuoting.identifier(pg.name("never"))
        try pg.sql.execute("CREATE TABLE \(t) (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = off); "
                           + "INSERT INTO \(t) SELECT g, 'value ' || g FROM generate_series(1, 50000) g")
        defer { _ = try? pg.sql.execute("DROP TABLE \(t)") }
        XCTAssertEqual(try pg.sql.execute("SELECT reltuples::int8 FROM pg_class WHERE oid = '\(t)'::regclass").scalar, "-1")
        let table = try XCTUnwrap(SourceCatalog(connection: pg.sql).tables(schemas: [], tables: ["public.\(pg.name("never"))"], exclude: [], plannerEstimates: true).first)
        XCTAssertTrue(table.estimatedRows > 25_000 && table.estimatedRows < 100_000, "estimate \(table.estimatedRows) for 50000 rows")
    }

    /// `freshet run` under a pseudo-terminal (util-linux `script`): the snapshot shows one line that updates in place
    /// (carriage return, clear line) with percent and ETA; the log lines after it start on a clean line.
    func testOnATerminalTheSnapshotShowsOneUpdatingLine() throws {
        let script = try TestEnvironment.executable("script")
        let pg = try PostgresFixture()
        let schema = pg.name("tty"), slot = pg.name("slot"), publication = pg.name("pub")
        let s = SQLQuoting.identifier(schema)
        try pg.sql.execute("CREATE SCHEMA \(s); CREATE TABLE \(s).big (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = off); "
                           + "INSERT INTO \(s).big SELECT g, repeat('x', 40) || g FROM generate_series(1, 600000) g")
        let store = NSTemporaryDirectory() + "freshet-tty-" + pg.prefix
        pg.trackSlot(slot)
        defer {
            pg.cleanup()
            _ = try? pg.sql.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(publication)); DROP SCHEMA \(s) CASCADE")
            try? FileManager.default.removeItem(atPath: store)
        }
        let args = ["run", "--source", pg.url, "--store", store, "--slot", slot, "--publication", publication, "--schema", schema,
                    "--metrics", "off", "--heartbeat-seconds", "1"]
        let command = "exec " + ([TestEnvironment.product("freshet")] + args).map { "'" + $0 + "'" }.joined(separator: " ")
        let output = store + ".tty"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = Pipe()   // script needs a stdin; it never reads from a pipe that stays empty
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var text: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        try MetricsTests.waitFor("stream.started", timeout: 180) { text.contains("stream.started") }
        // Stop freshet (the child of script) and let script exit.
        let children = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children", encoding: .utf8)) ?? ""
        for pid in children.split(separator: " ").compactMap({ Int32($0) }) { kill(pid, SIGTERM) }
        let end = Date().addingTimeInterval(30)
        while process.isRunning && Date() < end { usleep(50_000) }

        let out = text
        let updates = out.components(separatedBy: "\r\u{1B}[Ksnapshot ").dropFirst()
        XCTAssertGreaterThanOrEqual(updates.count, 1, out)
        for u in updates {
            let line = u.prefix { $0 != "\r" && $0 != "\n" }
            XCTAssertTrue(line.contains("%") && line.contains(" of ~") && line.contains("ETA "), String(line))
            XCTAssertFalse(line.hasPrefix("?"), "no estimate: \(line)")
        }
        XCTAssertFalse(out.contains("info snapshot.progress"), "log lines instead of the updating line:\n\(out)")
        // The final per-table line has the estimate, close to the real count (the table was never analysed).
        let done = try XCTUnwrap(out.components(separatedBy: "\n").first { $0.contains("snapshot.table_done") }, out)
        let expected = try XCTUnwrap(done.components(separatedBy: "expected_rows=").last?.prefix { $0.isNumber }).description
        XCTAssertTrue((300_000...1_200_000).contains(Int(expected) ?? 0), done)
        XCTAssertTrue(done.contains("rows=600000"), done)
    }
}
