import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// Memory depends on batch limits, not on transaction size: one 2,000,000-row transaction is staged to disk in
/// pieces and committed at its end.
final class LargeTransactionTests: XCTestCase {
    func testTwoMillionRowTransactionStaysUnder300MB() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let schema = pg.name("big"), slot = pg.name("slot"), pub = pg.name("pub")
        let s = SQLQuoting.identifier(schema)
        try pg.sql.execute("CREATE SCHEMA \(s); CREATE TABLE \(s).t (id bigint PRIMARY KEY, v text, n numeric(12,2), ts timestamptz)")
        let store = NSTemporaryDirectory() + "freshet-big-" + pg.prefix
        defer {
            removeTemporaryFiles(store)
            _ = try? pg.sql.execute("DROP SCHEMA \(s) CASCADE")
        }
        pg.trackSlot(slot)
        let process = try FreshetProcess(["run", "--source", pg.url, "--store", store, "--schema", schema, "--slot", slot,
                                          "--publication", pub, "--metrics", "off"], logPath: store + ".log")
        func checkpoint() -> UInt64 {
            guard let d = FileManager.default.contents(atPath: store + "/store.json"),
                  let j = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return 0 }
            return (j["checkpointLSN"] as? NSNumber)?.uint64Value ?? 0
        }
        var deadline = Date().addingTimeInterval(60)
        while checkpoint() == 0 && Date() < deadline { usleep(50_000) }
        XCTAssertGreaterThan(checkpoint(), 0, process.log)

        try pg.sql.execute("INSERT INTO \(s).t SELECT g, 'row ' || g, g / 100.0, now() FROM generate_series(1, 2000000) g")
        let target = try XCTUnwrap(LSN(try XCTUnwrap(pg.sql.execute("SELECT pg_current_wal_lsn()::text").scalar)))
        var peak = 0
        deadline = Date().addingTimeInterval(600)
        while checkpoint() < target.value && Date() < deadline && process.isRunning {
            peak = max(peak, process.peakRSS ?? 0)
            usleep(100_000)
        }
        peak = max(peak, process.peakRSS ?? 0)
        XCTAssertGreaterThanOrEqual(checkpoint(), target.value, "not caught up:\n\(process.log)")
        print("2,000,000-row transaction: peak RSS of freshet run \(peak / 1_048_576) MB")
        XCTAssertLessThan(peak, 300 * 1_048_576, "peak RSS \(peak / 1_048_576) MB")
        XCTAssertGreaterThan(peak, 0)
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, process.log)

        // Every row arrived, exactly once: DuckDB over `freshet sql` against Postgres' own aggregates.
        let sql = try runFreshet(["sql", "\(schema).t", "--store", store, "--dialect", "duckdb"])
        XCTAssertEqual(sql.status, 0, sql.stderr)
        let sqlFile = try writeTemp(sql.stdout)
        defer { try? FileManager.default.removeItem(atPath: sqlFile) }
        let duck = try Subprocess.python("""
            import duckdb, sys
            con = duckdb.connect(); con.execute("SET enable_progress_bar = false"); print(con.execute("SELECT count(*), sum(id), sum(n) FROM (" + sys.stdin.read() + ")").fetchone())
            """.replacingOccurrences(of: "sys.stdin.read()", with: "open(sys.argv[1]).read()"), [sqlFile])
        XCTAssertEqual(duck.split(separator: "\n").last.map(String.init), "(2000000, 2000001000000, Decimal('20000010000.00'))")
    }

    private func writeTemp(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "freshet-sql-\(UUID().uuidString).sql"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
