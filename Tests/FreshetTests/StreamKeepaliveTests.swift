import Foundation
import PostgresReplication
import TestSupport
import XCTest
@testable import Freshet

/// The stream survives a stalled apply side: while the queue to the store is full, the reader keeps the walsender
/// informed, so `wal_sender_timeout` never fires; and the reconnect backoff starts over after healthy streaming.
final class StreamKeepaliveTests: XCTestCase {
    func testBackoffDoublesToItsCapAndResetsAfterHealthyStreaming() {
        var b = ReconnectBackoff(initial: 0.5, maximum: 30, healthyAfter: 60)
        XCTAssertEqual((0..<8).map { _ in b.delay(afterRunning: 1) }, [0.5, 1, 2, 4, 8, 16, 30, 30])
        // A stream that ran a minute before it broke: the next wait is short again, then doubles anew.
        XCTAssertEqual(b.delay(afterRunning: 60), 0.5)
        XCTAssertEqual(b.delay(afterRunning: 59), 1)
        XCTAssertEqual(b.delay(afterRunning: 3600), 0.5)
    }

    func testTimedPushWaitsForSpaceAndReportsTimeoutAndClose() {
        let q = BoundedQueue<Int>(budget: 10)
        XCTAssertEqual(q.push(1, cost: 11, timeout: 0), .pushed)   // an empty queue takes anything
        let started = Date()
        XCTAssertEqual(q.push(2, cost: 1, timeout: 0.2), .timedOut)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.19)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { _ = q.pop(timeout: 0) }
        XCTAssertEqual(q.push(2, cost: 1, timeout: 5), .pushed)
        q.close()
        XCTAssertEqual(q.push(3, cost: 1, timeout: 5), .closed)
    }

    /// `wal_sender_timeout = 5s` and the first row commit held for 25 s while over 100 MB of changes arrive (more
    /// than the queue's budget): the stream is never dropped, and every row arrives.
    func testAStalledCommitDoesNotLetTheServerDropTheStream() throws {
        // A cluster of its own: the short timeout must not reach other tests.
        let sandbox = try ExtraSandbox()
        defer { sandbox.destroy() }
        let sql = try Connection(sandbox.url)
        defer { sql.close() }
        try sql.execute("ALTER SYSTEM SET wal_sender_timeout = '5s'")
        _ = try sql.execute("SELECT pg_reload_conf()")
        var applied = ""
        for _ in 0..<50 {
            applied = try sql.execute("SHOW wal_sender_timeout").scalar ?? ""
            if applied == "5s" { break }
            usleep(100_000)
        }
        XCTAssertEqual(applied, "5s")
        try sql.execute("CREATE TABLE public.kept (id bigint PRIMARY KEY, pad text); INSERT INTO public.kept VALUES (0, 'x')")
        let store = NSTemporaryDirectory() + "freshet-keepalive-" + UUID().uuidString.prefix(8)
        defer { removeTemporaryFiles(store) }
        let process = try FreshetProcess(["run", "--source", sandbox.url, "--store", store, "--schema", "public",
                                          "--metrics", "127.0.0.1:0", "--heartbeat-seconds", "0", "--max-age-ms", "100", "--max-rows", "20000"],
                                         logPath: store + ".log", environment: ["FRESHET_TEST_COMMIT_DELAY_MS": "25000"])
        defer { process.signal(SIGTERM); process.wait(timeout: 30) }
        try MetricsTests.waitFor("stream.started") { process.log.contains("stream.started") }
        let endpoint = try MetricsTests.endpoint(process)
        // The first commit with rows is held 25 s; meanwhile ~105 MB of changes arrive, over the 32 MiB queue (MemoryBudget.queueBytes).
        // They come as 100 transactions of 1,000 rows: after 20 of them the batch reaches `--max-rows` and the apply
        // thread waits for the held commit (one commit in flight at a time), so the queue fills.
        try sql.execute("INSERT INTO public.kept VALUES (1, 'first')")
        sleep(1)
        let bulkStarted = Date()
        for k in 0..<100 {
            try sql.execute("INSERT INTO public.kept SELECT g, repeat(md5(g::text), 32) FROM generate_series(\(2 + k * 1_000), \(1 + (k + 1) * 1_000)) g")
        }
        let target = try XCTUnwrap(LSN(try XCTUnwrap(sql.execute("SELECT pg_current_wal_lsn()::text").scalar)))
        try MetricsTests.waitFor("the store catches up", timeout: 180) {
            guard process.isRunning else { return true }
            let metrics = try HTTPClient.get(endpoint + "/metrics", timeout: 5)
            let text = String(decoding: metrics.body, as: UTF8.self)
            let committed = text.split(separator: "\n").first { $0.hasPrefix("freshet_committed_lsn ") }
                .flatMap { UInt64(Double($0.split(separator: " ").last ?? "") ?? 0) } ?? 0
            return committed >= target.value
        }
        XCTAssertTrue(process.isRunning, process.log)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(bulkStarted), 15, "the commit was not held: the test proves nothing")
        let log = process.log
        XCTAssertFalse(log.contains("stream.disconnected"), log)
        XCTAssertTrue(log.contains("stream.apply_stalled"), "the reader never waited for queue space:\n\(log)")
        let metrics = String(decoding: try HTTPClient.get(endpoint + "/metrics", timeout: 5).body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("\nfreshet_reconnects_total 0\n"), metrics)
        let serverLog = (try? String(contentsOfFile: sandbox.directory + "/server.log", encoding: .utf8)) ?? ""
        XCTAssertFalse(serverLog.contains("replication timeout"), serverLog)
        let scan = try runFreshet(["scan", "public.kept", "--store", store, "--columns", "id"])
        XCTAssertEqual(scan.status, 0, scan.stderr)
        XCTAssertEqual(scan.stdout.split(separator: "\n").count, 1 + 100_002)   // header + rows
    }
}
