import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// A full store disk makes `freshet run` wait, not exit (`DiskFullWait`): the store is a small tmpfs that a ballast
/// file fills while a mixed workload runs. Freshet logs `store.disk_full` once, `/healthz` answers 503 and the metrics
/// say `disk_full`, the slot is never confirmed past what the store holds, and once the ballast is gone the same process
/// catches up: the store equals PostgreSQL row by row and no staged or temporary file is left.
final class StoreDiskFullTests: XCTestCase {
    func testFullStoreDiskWaitsForSpaceAndLosesNothing() throws {
        try withSmallStore(rows: 2000) { scenario in
            let ballast = scenario.store + "/ballast"

            let process = try scenario.start(["--metrics", "127.0.0.1:0"])
            defer { if process.isRunning { process.signal(SIGKILL) } }
            let endpoint = try MetricsTests.endpoint(process)
            try scenario.waitCaughtUp()

            let filled = try Self.fill(ballast)
            // Space Freshet frees (a part it abandoned, a failed merge's output) goes to the ballast too: the disk stays full.
            let topUp = TopUp(ballast)
            defer { topUp.stop() }
            let workload = EndToEndTests.Workload(url: scenario.url, schema: scenario.schema)
            workload.start(seed: 12)
            var workloadStopped = false
            defer { if !workloadStopped { workload.stop() } }
            try MetricsTests.waitFor("/healthz to report the full disk", timeout: 120) {
                let h = try MetricsTests.curl(endpoint + "/healthz")
                return h.status == 503 && h.body.contains("disk_full") && h.body.contains("No space left on device")
            }
            let metrics = try MetricsTests.curl(endpoint + "/metrics").body
            XCTAssertTrue(metrics.contains("freshet_store_disk_full 1"), metrics)
            XCTAssertTrue(metrics.contains("freshet_state{state=\"disk_full\"} 1"), metrics)
            XCTAssertTrue(metrics.contains("freshet_errors_total{kind=\"disk_full\"} 1"), metrics)

            // While the disk stays full the load goes on; PostgreSQL is never told more than the store holds.
            let sql = try Connection(scenario.url)
            defer { sql.close() }
            for _ in 0..<20 {
                let confirmed = try XCTUnwrap(LSN(try XCTUnwrap(sql.query(
                    "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [scenario.slot]).scalar)))
                XCTAssertLessThanOrEqual(confirmed, scenario.checkpoint, "slot confirmed past the store's checkpoint")
                usleep(250_000)
            }
            workload.stop()
            workloadStopped = true
            XCTAssertNil(workload.error)
            XCTAssertGreaterThan(workload.operations, 0)
            XCTAssertTrue(process.isRunning, "freshet exited on a full disk:\n\(process.log)")
            let behind = try XCTUnwrap(LSN(try XCTUnwrap(sql.execute("SELECT pg_current_wal_lsn()::text").scalar)))
            XCTAssertLessThan(scenario.checkpoint, behind, "the store kept up although its disk was full (\(filled) bytes of ballast)")

            // Space returns: the same process catches up and stays healthy.
            topUp.stop()
            try FileManager.default.removeItem(atPath: ballast)
            try scenario.waitCaughtUp(timeout: 180)
            try MetricsTests.waitFor("/healthz 200 after the disk-full episode", timeout: 60) {
                try MetricsTests.curl(endpoint + "/healthz").status == 200
            }
            XCTAssertTrue(process.isRunning, process.log)
            let log = process.log
            for line in log.split(separator: "\n") where line.contains("store.disk") { print(line) }
            XCTAssertEqual(log.components(separatedBy: "store.disk_full").count - 1, 1, "store.disk_full logged once per episode:\n\(log)")
            XCTAssertTrue(log.contains("store.disk_space_back"), log)
            XCTAssertFalse(log.contains(scenario.url), "the connection string leaked into the log")
            try scenario.compare()

            try Self.stopLeavingNoStagedFiles(process, store: scenario.store)
        }
    }

    /// A transaction larger than the batch limits is staged in chunks, each on a thread of its own (`ChunkStaging`).
    /// A chunk that finds the disk full is staged again on the apply thread, waiting for space: nothing is lost and
    /// nothing is confirmed early. Protocol 1, so the transaction reaches Freshet whole (a streamed one would be
    /// spooled first, and the spool's own wait would come before any chunk).
    func testLargeTransactionChunkOnAFullDiskWaitsForSpace() throws {
        try withSmallStore(rows: 500) { scenario in
            let config = scenario.store + ".config.json"
            try Data(#"{"streamInProgress": false, "batch": {"maxBytes": 1048576}}"#.utf8).write(to: URL(fileURLWithPath: config))
            defer { try? FileManager.default.removeItem(atPath: config) }
            let ballast = scenario.store + "/ballast"

            let process = try scenario.start(["--config", config])
            defer { if process.isRunning { process.signal(SIGKILL) } }
            try scenario.waitCaughtUp()
            _ = try Self.fill(ballast)
            let topUp = TopUp(ballast)
            defer { topUp.stop() }
            // About 6 MB of rows in one transaction: several 1 MiB chunks.
            try scenario.pg.sql.execute("""
                INSERT INTO \(scenario.quotedSchema).items (id, qty, price, note, big)
                SELECT 1000000 + g, g % 5, g, 'chunk ' || g, repeat(md5(g::text), 6) FROM generate_series(1, 30000) g
                """)
            let end = Date().addingTimeInterval(120)
            while !process.log.contains("during=stage_chunk") {
                guard Date() < end, process.isRunning else { return XCTFail("no chunk waited for space:\n\(process.log)") }
                usleep(100_000)
            }
            topUp.stop()
            try FileManager.default.removeItem(atPath: ballast)
            try scenario.waitCaughtUp(timeout: 180)
            XCTAssertTrue(process.isRunning, process.log)
            XCTAssertTrue(process.log.contains("store.disk_space_back"), process.log)
            try scenario.compare()
            try Self.stopLeavingNoStagedFiles(process, store: scenario.store)
        }
    }

    /// Runs `body` with a scenario whose store directory is a 48 MB tmpfs (mounted before, unmounted after).
    private func withSmallStore(rows: Int, _ body: (EndToEndTests.Scenario) throws -> Void) throws {
        guard getuid() == 0 else { try TestEnvironment.unavailable("mounting a tmpfs for the store needs root") }
        let scenario = try EndToEndTests.Scenario(rows: rows)
        defer { scenario.cleanup() }
        try FileManager.default.createDirectory(atPath: scenario.store, withIntermediateDirectories: true)
        let mount = try Subprocess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=48m,mode=0755", "tmpfs", scenario.store])
        guard mount.status == 0 else { try TestEnvironment.unavailable("cannot mount a tmpfs for the store: \(mount.stderr)") }
        defer { _ = try? Subprocess.run("/bin/umount", ["-l", scenario.store]) }
        try body(scenario)
    }

    /// Stops `process` (exit 0 expected) and checks that no staged or temporary file is left in `store`.
    static func stopLeavingNoStagedFiles(_ process: FreshetProcess, store: String) throws {
        process.signal(SIGTERM)
        XCTAssertEqual(process.wait(timeout: 60), 0, process.log)
        let leftovers = (FileManager.default.enumerator(atPath: store)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".staged") || ($0.split(separator: "/").last ?? "").contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "staged or temporary files left in the store")
    }

    /// Writes `path` until the file system is full (1 MiB writes, then 4 KiB ones); returns the bytes written.
    static func fill(_ path: String, truncate: Bool = true) throws -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND), 0o644)
        guard fd >= 0 else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var total = 0
        for size in [1 << 20, 4096] {
            let block = [UInt8](repeating: 0, count: size)
            while true {
                let n = block.withUnsafeBytes { write(fd, $0.baseAddress, size) }
                if n <= 0 { break }
                total += n
            }
        }
        return total
    }

    /// Appends to the ballast every 50 ms whatever space was freed, until stopped.
    final class TopUp: @unchecked Sendable {
        private let lock = NSLock()
        private var stopped = false
        private let done = DispatchSemaphore(value: 0)

        init(_ path: String) {
            Thread.detachNewThread { [self] in
                defer { done.signal() }
                while !isStopped {
                    _ = try? StoreDiskFullTests.fill(path, truncate: false)
                    usleep(50_000)
                }
            }
        }

        private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

        func stop() {
            lock.lock(); let first = !stopped; stopped = true; lock.unlock()
            if first { done.wait() }
        }
    }
}
