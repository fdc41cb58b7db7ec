import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `streamInProgress: true` (pgoutput protocol 2, `streaming 'on'`) against the sandbox PostgreSQL: the walsender's
/// sessions get `logical_decoding_work_mem = 64kB` (through the connection's `options`), so transactions of a few
/// thousand rows arrive as streamed chunks. After each scenario the store must equal PostgreSQL row by row
/// (Tools/compare-store, through `freshet scan` and DuckDB).
final class StreamInProgressTests: XCTestCase {
    private typealias Scenario = EndToEndTests.Scenario

    /// The sandbox URL with a 64 kB decoding memory, so small transactions stream.
    private func streamingURL() throws -> String {
        let url = try TestEnvironment.postgresURL()
        return url + (url.contains("?") ? "&" : "?") + "options=-c%20logical_decoding_work_mem%3D64kB"
    }

    /// Runs `body` with a scenario whose Freshet streams in-progress transactions (`arguments` start it), then
    /// checks that PostgreSQL's confirmed LSN never passed the store's checkpoint and cleans up.
    private func withStreamingScenario(rows: Int, _ body: (Scenario, _ arguments: [String]) throws -> Void) throws {
        let scenario = try Scenario(url: try streamingURL(), rows: rows)
        defer { scenario.cleanup() }
        let config = scenario.store + ".config.json"
        // A batch limit of 2 MiB: the big transactions' spools pass it, so the applier holds settles (`BacklogSignal`).
        try Data(#"{"streamInProgress": true, "batch": {"maxBytes": 2097152}}"#.utf8).write(to: URL(fileURLWithPath: config))
        defer { try? FileManager.default.removeItem(atPath: config) }
        try body(scenario, ["--config", config])
        let confirmed = try XCTUnwrap(LSN(try XCTUnwrap(scenario.pg.sql.query(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [scenario.slot]).scalar)))
        XCTAssertLessThanOrEqual(confirmed, scenario.checkpoint)
    }

    /// The slot's streamed transactions so far (`pg_stat_replication_slots.stream_txns`), waiting up to 10 s for the
    /// statistics to reach at least `atLeast`.
    private func streamedTransactions(_ scenario: Scenario, atLeast: Int) throws -> Int {
        let end = Date().addingTimeInterval(10)
        while true {
            let n = Int(try scenario.pg.sql.query("SELECT stream_txns::text FROM pg_stat_replication_slots WHERE slot_name = $1",
                                                  [scenario.slot]).scalar ?? "0") ?? 0
            if n >= atLeast || Date() > end { return n }
            usleep(200_000)
        }
    }

    private func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// Committed, aborted, a savepoint rolled back, two interleaved transactions committing in the opposite order,
    /// and UPDATE / DELETE / key changes / TOAST-unchanged columns, each a streamed transaction.
    func testStreamedTransactionsMatchPostgres() throws {
        try withStreamingScenario(rows: 3000) { scenario, arguments in
            let process = try scenario.startCaughtUp(arguments + ["--metrics", "127.0.0.1:0"])
            let metrics = try MetricsTests.endpoint(process) + "/metrics"
            let s = scenario.quotedSchema
            let sql = scenario.pg.sql

            // 1. A big streamed transaction that commits.
            try sql.execute("""
                BEGIN;
                INSERT INTO \(s).items (id, qty, price, note, big, tags, flag, ratio)
                  SELECT g, g % 7, g / 3.0, 'streamed ' || g, CASE WHEN g % 50 = 0 THEN repeat(md5(g::text), 300) END,
                         ARRAY['s' || g], g % 2 = 1, g / 9.0 FROM generate_series(100001, 120000) g;
                INSERT INTO \(s).events SELECT 1000 + g % 13, 'streamed' || g, jsonb_build_object('g', g), date '2025-01-01' + g % 30
                  FROM generate_series(1, 5000) g;
                COMMIT;
                """)
            // 2. One that aborts: none of its rows may appear.
            try sql.execute("""
                BEGIN;
                INSERT INTO \(s).items (id, qty, note) SELECT g, 1, 'aborted ' || g FROM generate_series(200001, 215000) g;
                UPDATE \(s).items SET note = 'aborted update' WHERE id <= 2000;
                DELETE FROM \(s).plain WHERE id <= 500;
                ROLLBACK;
                """)
            // 3. A savepoint rolled back inside a streamed transaction, rows before and after it (and a savepoint kept).
            try sql.execute("""
                BEGIN;
                INSERT INTO \(s).items (id, qty, note) SELECT g, 2, 'before savepoint ' || g FROM generate_series(300001, 305000) g;
                SAVEPOINT a;
                INSERT INTO \(s).items (id, qty, note) SELECT g, 3, 'rolled back ' || g FROM generate_series(310001, 318000) g;
                UPDATE \(s).items SET note = 'rolled back update' WHERE id BETWEEN 300001 AND 302000;
                DELETE FROM \(s).items WHERE id BETWEEN 1 AND 1000;
                SAVEPOINT b;
                INSERT INTO \(s).items (id, qty, note) SELECT g, 4, 'nested rolled back ' || g FROM generate_series(320001, 324000) g;
                ROLLBACK TO SAVEPOINT a;
                SAVEPOINT c;
                INSERT INTO \(s).items (id, qty, note) SELECT g, 5, 'kept savepoint ' || g FROM generate_series(330001, 334000) g;
                RELEASE SAVEPOINT c;
                UPDATE \(s).items SET note = 'after savepoint' WHERE id BETWEEN 300001 AND 301000;
                INSERT INTO \(s).items (id, qty, note) SELECT g, 6, 'after savepoint ' || g FROM generate_series(340001, 345000) g;
                COMMIT;
                """)
            // 4. Two interleaved streamed transactions (two connections) committing in the opposite order, with a small
            //    transaction between the commits that changes a row the first committer wrote.
            let other = try Connection(scenario.url)
            defer { other.close() }
            try sql.execute("BEGIN; INSERT INTO \(s).items (id, qty, note) SELECT g, 7, 'first ' || g FROM generate_series(400001, 406000) g")
            try other.execute("BEGIN; INSERT INTO \(s).items (id, qty, note) SELECT g, 8, 'second ' || g FROM generate_series(500001, 506000) g")
            try sql.execute("UPDATE \(s).items SET note = 'first updated' WHERE id BETWEEN 2001 AND 5000")
            try other.execute("INSERT INTO \(s).events SELECT 2000 + g % 7, 'second' || g, '{}', date '2025-02-01' FROM generate_series(1, 6000) g")
            try other.execute("COMMIT")
            let third = try Connection(scenario.url)
            defer { third.close() }
            try third.execute("UPDATE \(s).items SET note = 'third after second' WHERE id BETWEEN 500001 AND 500010")
            try sql.execute("COMMIT")
            // 5. UPDATE of every row leaving the TOASTed `big` unchanged, DELETEs, and key changes of TOASTed rows.
            try sql.execute("""
                BEGIN;
                UPDATE \(s).items SET qty = qty + 100, updated = updated + interval '1 day';
                DELETE FROM \(s).items WHERE id % 17 = 0;
                UPDATE \(s).items SET id = id + 1000000 WHERE id % 100 = 0 AND id <= 3000 AND big IS NOT NULL;
                UPDATE \(s).plain SET v = -v, u = NULL WHERE id % 3 = 0;
                COMMIT;
                """)

            try scenario.waitCaughtUp()
            let streamed = try streamedTransactions(scenario, atLeast: 6)
            XCTAssertGreaterThanOrEqual(streamed, 6, "the transactions were not streamed (stream_txns \(streamed))")
            // The stream metrics: what was committed and aborted, nothing open, settles no longer held.
            let exposition = try Exposition(try MetricsTests.curl(metrics).body)
            XCTAssertGreaterThanOrEqual(exposition.value("freshet_streamed_transactions_total", ["outcome": "committed"]) ?? 0, 5)
            XCTAssertGreaterThanOrEqual(exposition.value("freshet_streamed_transactions_total", ["outcome": "aborted"]) ?? 0, 1)
            XCTAssertEqual(exposition.value("freshet_stream_open_transactions"), 0)
            XCTAssertEqual(exposition.value("freshet_stream_spool_bytes"), 0)
            XCTAssertEqual(exposition.value("freshet_settles_held"), 0)
            process.signal(SIGTERM)
            XCTAssertEqual(process.wait(timeout: 60), 0, process.log.suffix(3000).description)
            XCTAssertGreaterThanOrEqual(occurrences("stream.streamed_commit", in: scenario.log), 5, scenario.log.suffix(3000).description)
            XCTAssertGreaterThanOrEqual(occurrences("stream.streamed_abort", in: scenario.log), 1, scenario.log.suffix(3000).description)
            // Settles waited while a spool was past the batch limit, and resumed once it was applied.
            XCTAssertGreaterThanOrEqual(occurrences("stream.backlog settles=held", in: scenario.log), 1, scenario.log.suffix(3000).description)
            XCTAssertGreaterThanOrEqual(occurrences("stream.backlog settles=resumed", in: scenario.log), 1, scenario.log.suffix(3000).description)
            try scenario.compare()
            // No spool is left behind.
            let spool = scenario.store + "/stream-spool"
            XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: spool))?.count ?? 0, 0)
        }
    }

    /// SIGKILL while a transaction is being streamed (its spool half written), restart while it is still open, go on,
    /// commit: nothing is lost, nothing doubled. A second kill lands right after its Stream Commit.
    func testKillMidStreamLosesNothing() throws {
        try withStreamingScenario(rows: 2000) { scenario, arguments in
            var process = try scenario.startCaughtUp(arguments)
            let s = scenario.quotedSchema
            let sql = scenario.pg.sql
            let spool = scenario.store + "/stream-spool"
            func spooled() -> Int {
                ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).reduce(0) { sum, name in
                    sum + ((try? FileManager.default.attributesOfItem(atPath: spool + "/" + name)[.size] as? Int) ?? 0)
                }
            }

            try sql.execute("BEGIN")
            try sql.execute("INSERT INTO \(s).items (id, qty, note, big) SELECT g, 1, 'open ' || g, CASE WHEN g % 100 = 0 THEN repeat('x', 5000) END FROM generate_series(100001, 115000) g")
            try sql.execute("UPDATE \(s).items SET qty = -qty WHERE id <= 1500")
            // Wait until Freshet holds part of the open transaction in its spool, then kill it.
            let end = Date().addingTimeInterval(30)
            while spooled() == 0 && Date() < end { usleep(20_000) }
            XCTAssertGreaterThan(spooled(), 0, "the open transaction was not streamed:\n\(process.log.suffix(3000))")
            process.signal(SIGKILL)
            process.wait(timeout: 10)
            let checkpointAtKill = scenario.checkpoint

            // Restart while the transaction is still open; it grows, a small transaction commits meanwhile, then it commits.
            process = try scenario.start(arguments)
            try sql.execute("INSERT INTO \(s).items (id, qty, note) SELECT g, 2, 'after restart ' || g FROM generate_series(120001, 130000) g")
            try sql.execute("DELETE FROM \(s).items WHERE id BETWEEN 100001 AND 100500")
            let other = try Connection(scenario.url)
            defer { other.close() }
            try other.execute("UPDATE \(s).plain SET v = 42 WHERE id <= 10")
            try sql.execute("COMMIT")
            try scenario.waitCaughtUp()
            XCTAssertGreaterThanOrEqual(scenario.checkpoint, checkpointAtKill)
            try scenario.compare()

            // A second streamed transaction; kill as soon as it committed on the source, restart, compare.
            try sql.execute("""
                BEGIN;
                UPDATE \(s).items SET note = 'second ' || id WHERE id > 100000;
                INSERT INTO \(s).items (id, qty, note) SELECT g, 3, 'second ' || g FROM generate_series(140001, 150000) g;
                COMMIT;
                """)
            process.signal(SIGKILL)
            process.wait(timeout: 10)
            process = try scenario.start(arguments)
            try scenario.waitCaughtUp()
            process.signal(SIGTERM)
            XCTAssertEqual(process.wait(timeout: 60), 0, process.log.suffix(3000).description)
            try scenario.compare()
            XCTAssertGreaterThanOrEqual(try streamedTransactions(scenario, atLeast: 1), 1)
            let verify = try runFreshet(["verify", "--store", scenario.store])
            XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        }
    }
}
