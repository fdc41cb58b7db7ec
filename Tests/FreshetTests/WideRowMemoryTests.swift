import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// The memory bound (docs/replication.md "Memory") holds on wide rows: about 2.6 kB each, with jsonb, text[] and a
/// TOASTed text column. Peak RSS stays under 300 MB for the snapshot of 150k such rows (about 400 MB of values), for
/// one 150k-row transaction of them streamed afterwards, for the background merges that follow, and for
/// `freshet compact` merging the largest parts. Before row groups were bounded in bytes, the merge after such a
/// transaction peaked at 800 MB.
final class WideRowMemoryTests: XCTestCase {
    static let bound = 300 * 1_048_576
    static let rows = 150_000

    func testWideRowsStayUnder300MB() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let schema = pg.name("wide"), slot = pg.name("slot"), pub = pg.name("pub")
        let s = SQLQuoting.identifier(schema)
        try pg.sql.execute("""
            CREATE SCHEMA \(s);
            CREATE TABLE \(s).t (id bigint PRIMARY KEY, doc jsonb, tags text[], body text, u uuid, code char(8))
            """)
        let store = NSTemporaryDirectory() + "freshet-wide-" + pg.prefix
        defer {
            try? FileManager.default.removeItem(atPath: store)
            _ = try? pg.sql.execute("DROP SCHEMA \(s) CASCADE")
        }
        // md5 text does not compress, so `body` (1,280 bytes) is stored out of line as PostgreSQL TOAST would for
        // real documents, and the store's parts are as large as the values.
        func insert(from: Int, to: Int) throws {
            try pg.sql.execute("""
                INSERT INTO \(s).t SELECT g,
                    jsonb_build_object('n', g, 'h', md5(g::text), 'pad', repeat(md5((g + 1)::text), 8)),
                    ARRAY[md5(g::text), md5((g * 7)::text), 'x"y', NULL],
                    (SELECT string_agg(md5((g * 100 + k)::text), '') FROM generate_series(1, 40) k),
                    md5(g::text)::uuid, 'c' || (g % 1000)
                FROM generate_series(\(from), \(to)) g
                """)
        }
        try insert(from: 1, to: Self.rows)

        pg.trackSlot(slot)
        let process = try FreshetProcess(["run", "--source", pg.url, "--store", store, "--schema", schema, "--slot", slot,
                                          "--publication", pub, "--metrics", "off"], logPath: store + ".log")
        defer { try? FileManager.default.removeItem(atPath: store + ".log") }
        var peak = 0
        func waitFor(_ lsn: UInt64, _ what: String) {
            let deadline = Date().addingTimeInterval(600)
            while checkpoint(store) < max(lsn, 1) && Date() < deadline && process.isRunning {
                peak = max(peak, process.peakRSS ?? 0)
                usleep(50_000)
            }
            peak = max(peak, process.peakRSS ?? 0)
            XCTAssertGreaterThanOrEqual(checkpoint(store), max(lsn, 1), "\(what) not caught up:\n\(process.log)")
        }
        waitFor(0, "snapshot")
        let snapshotPeak = peak
        print("wide rows: snapshot of \(Self.rows) rows, peak RSS \(snapshotPeak / 1_048_576) MB")
        XCTAssertLessThan(snapshotPeak, Self.bound, "snapshot peak RSS \(snapshotPeak / 1_048_576) MB")

        try insert(from: Self.rows + 1, to: 2 * Self.rows)   // one transaction
        let target = try XCTUnwrap(LSN(try XCTUnwrap(pg.sql.execute("SELECT pg_current_wal_lsn()::text").scalar)))
        waitFor(target.value, "transaction")
        // The background merger combines the transaction's staged parts (it runs every 5 s and after commits).
        let mergeUntil = Date().addingTimeInterval(8)
        while Date() < mergeUntil && process.isRunning { peak = max(peak, process.peakRSS ?? 0); usleep(50_000) }
        print("wide rows: \(Self.rows)-row transaction and its merges, peak RSS \(peak / 1_048_576) MB")
        XCTAssertLessThan(peak, Self.bound, "streaming peak RSS \(peak / 1_048_576) MB")
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, process.log)

        // `freshet compact` merges every part of the table, the largest included, into one.
        let compact = try FreshetProcess(["compact", "\(schema).t", "--store", store], logPath: store + ".compact.log")
        defer { try? FileManager.default.removeItem(atPath: store + ".compact.log") }
        var compactPeak = 0
        let deadline = Date().addingTimeInterval(600)
        while compact.isRunning && Date() < deadline { compactPeak = max(compactPeak, compact.peakRSS ?? 0); usleep(20_000) }
        XCTAssertEqual(compact.wait(timeout: 60), 0, compact.log)
        print("wide rows: freshet compact of \(2 * Self.rows) rows, peak RSS \(compactPeak / 1_048_576) MB")
        XCTAssertLessThan(compactPeak, Self.bound, "compact peak RSS \(compactPeak / 1_048_576) MB")

        // Every row arrived exactly once, with its values: PostgreSQL's aggregates against DuckDB over `freshet sql`.
        let expected = try XCTUnwrap(pg.sql.execute("""
            SELECT count(*)::text || '|' || sum(id)::text || '|' || sum(length(body))::text || '|' || sum(length(doc::text))::text
            FROM \(s).t
            """).scalar)
        let sql = try runFreshet(["sql", "\(schema).t", "--store", store, "--dialect", "duckdb"])
        XCTAssertEqual(sql.status, 0, sql.stderr)
        let sqlFile = NSTemporaryDirectory() + "freshet-wide-\(UUID().uuidString).sql"
        try Data(sql.stdout.utf8).write(to: URL(fileURLWithPath: sqlFile))
        defer { try? FileManager.default.removeItem(atPath: sqlFile) }
        let duck = try Subprocess.python("""
            import duckdb, sys
            con = duckdb.connect(); con.execute("SET enable_progress_bar = false")
            q = open(sys.argv[1]).read()
            r = con.execute("SELECT count(*), sum(id), sum(length(body)), sum(length(doc)) FROM (" + q + ")").fetchone()
            print("|".join(str(int(x)) for x in r))
            """, [sqlFile])
        XCTAssertEqual(duck.split(separator: "\n").last.map(String.init), expected)
    }

    private func checkpoint(_ store: String) -> UInt64 {
        guard let d = FileManager.default.contents(atPath: store + "/store.json"),
              let j = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return 0 }
        return (j["checkpointLSN"] as? NSNumber)?.uint64Value ?? 0
    }
}
