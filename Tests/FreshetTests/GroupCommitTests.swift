import ColumnStore
import Foundation
import PostgresReplication
import TestSupport
import XCTest
@testable import Freshet

/// The stream's commit policy (group commit) and its committer thread: a quiet table's row is committed as soon as
/// the store is free, never after a busy table's batch age; commits run one at a time, confirmed in order.
final class GroupCommitTests: XCTestCase {
    private let limits = Config.BatchLimits()

    func testCaughtUpRowsAreCommittedAtOnceWhenNoCommitIsInFlight() {
        // Caught up and the store free: commit now, however young the batch.
        XCTAssertTrue(CommitPolicy.commitsNow(age: 0, caughtUp: true, committerBusy: false, limits: limits))
        // A commit in flight: the rows join the next commit, at any age.
        XCTAssertFalse(CommitPolicy.commitsNow(age: 0, caughtUp: true, committerBusy: true, limits: limits))
        XCTAssertFalse(CommitPolicy.commitsNow(age: 3600, caughtUp: false, committerBusy: true, limits: limits))
        // Behind (events queued): the batch grows until the behind age.
        XCTAssertFalse(CommitPolicy.commitsNow(age: limits.maxAge, caughtUp: false, committerBusy: false, limits: limits))
        XCTAssertTrue(CommitPolicy.commitsNow(age: CommitPolicy.behindAge(limits), caughtUp: false, committerBusy: false, limits: limits))
    }

    /// Commits run one at a time in submission order; `submit` waits for the one in flight; after a failure nothing
    /// more runs and the error reaches the apply side.
    func testCommitterRunsCommitsOneAtATimeInOrderAndStopsAtAFailure() throws {
        let log = Log()
        let committer = StoreCommitter { job in
            log.begin(job.commit.upTo)
            usleep(20_000)
            if job.commit.upTo == 4 { throw TestFailure("disk full") }
            log.end(job.commit.upTo)
        }
        defer { committer.stop() }
        func job(_ lsn: UInt64) -> StoreCommitter.Job {
            StoreCommitter.Job(commit: StoreCommit(upTo: lsn), rows: 0, transactionMicros: [], started: Date())
        }
        for lsn in 1...3 { try committer.submit(job(UInt64(lsn))) }
        try committer.waitIdle()
        XCTAssertEqual(try committer.completed().map(\.commit.upTo), [1, 2, 3])
        XCTAssertEqual(log.events, ["begin 1", "end 1", "begin 2", "end 2", "begin 3", "end 3"])
        XCTAssertFalse(committer.isBusy)
        try committer.submit(job(4))
        XCTAssertThrowsError(try committer.waitIdle())
        XCTAssertThrowsError(try committer.submit(job(5)))
        XCTAssertThrowsError(try committer.completed())
        XCTAssertFalse(log.events.contains("begin 5"))
    }

    /// Overlapping commits on a real store: while commit N is being finished (its manifest and checkpoint renames),
    /// the committer takes commit N+1 and prepares it on top of N; finishes (and so confirmations) stay in order.
    /// When a finish fails, the commit prepared ahead is abandoned, nothing after it is finished, and the checkpoint
    /// stays at the last durable commit.
    func testOverlappingCommitsPrepareTheNextWhileOneIsFinishedAndStayInOrder() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("freshet-overlap-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store.open(at: dir, identity: StoreIdentity(systemIdentifier: "1", slot: "s", publication: "p"))
        defer { store.close() }
        let columns = [ColumnDefinition("id", .int64, nullable: false)]
        try store.defineTable("public.t", schema: TableSchema(columns: columns, keyColumns: ["id"]))
        let log = Log()
        let overlap = StoreCommitter.Overlap(
            begin: { store.beginCommits() }, end: { store.endCommits() }, awaited: { store.commitsAwaited },
            prepare: { job, previous in
                log.add("prepare \(job.commit.upTo)")
                return try store.prepareCommit(job.commit, after: previous)
            },
            finish: { job, prepared in
                usleep(100_000)
                if job.commit.upTo == 40 { throw TestFailure("rename failed") }
                try store.finishCommit(prepared)
                log.add("finished \(job.commit.upTo)")
            },
            abandon: { log.add("abandon \($0.upTo)"); store.abandon($0) })
        let committer = StoreCommitter(overlap: overlap) { job in
            log.add("whole \(job.commit.upTo)")
            try store.commit(job.commit)
        }
        defer { committer.stop() }
        func job(_ lsn: UInt64) throws -> StoreCommitter.Job {
            var batch = RowBatch(columns: columns)
            batch.append(Int64(lsn), column: 0)
            batch.finishRow(version: lsn)
            var commit = StoreCommit(upTo: lsn)
            commit.add(try store.stage(batch, table: "public.t", deferFsync: true))
            return StoreCommitter.Job(commit: commit, rows: 1, transactionMicros: [], started: Date())
        }
        func whenFree() {
            let deadline = Date().addingTimeInterval(10)
            while committer.isBusy && Date() < deadline { usleep(1_000) }
        }
        for lsn in [10, 20, 30] as [UInt64] {
            whenFree()
            try committer.submit(try job(lsn))
        }
        try committer.waitIdle()
        XCTAssertEqual(try committer.completed().map(\.commit.upTo), [10, 20, 30])
        XCTAssertEqual(store.checkpointLSN, 30)
        let events = log.events
        XCTAssertEqual(events.filter { $0.hasPrefix("finished") }, ["finished 10", "finished 20", "finished 30"])
        XCTAssertLessThan(events.firstIndex(of: "prepare 20") ?? .max, events.firstIndex(of: "finished 10") ?? -1,
                          "commit 20 was not prepared while commit 10 was being finished: \(events)")

        try committer.submit(try job(40))
        whenFree()
        try committer.submit(try job(50))
        XCTAssertThrowsError(try committer.waitIdle())
        XCTAssertEqual(store.checkpointLSN, 30)
        XCTAssertFalse(log.events.contains("finished 50"))
        XCTAssertTrue(log.events.contains("abandon 50"), "\(log.events)")
        XCTAssertThrowsError(try committer.submit(try job(60)))
    }

    /// `batch.maxAgeMs` is 10 minutes and another table is written all the time, so before group commit the quiet
    /// table's row would wait the full 10 minutes. Each quiet row must become visible (the checkpoint passes its
    /// commit) long before that, each in a store commit of its own, with the checkpoint never moving back.
    func testAQuietTablesRowDoesNotWaitForABusyTablesBatchAge() throws {
        let pg = try PostgresFixture()
        let schema = pg.name("gc")
        let s = SQLQuoting.identifier(schema)
        try pg.sql.execute("""
            CREATE SCHEMA \(s);
            CREATE TABLE \(s).busy (id bigint PRIMARY KEY, v int);
            CREATE TABLE \(s).quiet (id bigint PRIMARY KEY, note text);
            """)
        let slot = pg.name("slot"), publication = pg.name("pub")
        pg.trackSlot(slot)
        let store = NSTemporaryDirectory() + "freshet-groupcommit-" + pg.prefix
        defer {
            pg.cleanup()
            _ = try? pg.sql.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(publication))")
            _ = try? pg.sql.execute("DROP SCHEMA IF EXISTS \(s) CASCADE")
            removeTemporaryFiles(store)
        }
        let process = try FreshetProcess(["run", "--source", pg.url, "--store", store, "--slot", slot, "--publication", publication,
                                          "--schema", schema, "--metrics", "127.0.0.1:0", "--heartbeat-seconds", "0",
                                          "--max-age-ms", "600000"], logPath: store + ".log")
        defer { process.signal(SIGTERM); process.wait(timeout: 30) }
        try MetricsTests.waitFor("stream.started") { process.log.contains("stream.started") }
        let endpoint = try MetricsTests.endpoint(process)

        let busy = BusyWriter(url: pg.url, table: "\(s).busy")
        busy.start()
        defer { busy.stop() }
        try MetricsTests.waitFor("the busy writer to start") { busy.transactions > 10 }
        let commitsBefore = try storeCommits(endpoint)
        var checkpoints: [UInt64] = []
        let probes = 5
        for i in 1...probes {
            try pg.sql.execute("INSERT INTO \(s).quiet VALUES (\(i), 'probe \(i)')")
            let lsn = try XCTUnwrap(LSN(try XCTUnwrap(pg.sql.execute("SELECT pg_current_wal_lsn()::text").scalar))).value
            // A guard against a hang, far below the 10-minute batch age the row would have waited before.
            try MetricsTests.waitFor("quiet row \(i) visible", timeout: 60) {
                let c = checkpoint(store)
                checkpoints.append(c)
                return c >= lsn
            }
            XCTAssertTrue(process.isRunning, process.log)
        }
        XCTAssertGreaterThan(busy.transactions, 0)
        XCTAssertNil(busy.error)
        XCTAssertEqual(checkpoints, checkpoints.sorted(), "the checkpoint moved back")
        // Every probe waited for its own visibility before the next was written: at least one store commit each.
        XCTAssertGreaterThanOrEqual(try storeCommits(endpoint) - commitsBefore, probes)
        let scan = try runFreshet(["scan", "\(schema).quiet", "--store", store, "--columns", "id,note"])
        XCTAssertEqual(scan.status, 0, scan.stderr)
        for i in 1...probes { XCTAssertTrue(scan.stdout.contains("probe \(i)"), scan.stdout) }
    }

    // MARK: helpers

    private final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func begin(_ lsn: UInt64) { lock.withLock { list.append("begin \(lsn)") } }
        func end(_ lsn: UInt64) { lock.withLock { list.append("end \(lsn)") } }
        func add(_ event: String) { lock.withLock { list.append(event) } }
        var events: [String] { lock.withLock { list } }
    }

    /// One-row INSERT transactions into one table, back to back, on a thread of its own.
    private final class BusyWriter: @unchecked Sendable {
        let url: String, table: String
        private let lock = NSLock()
        private var stopped = false, count = 0, failure: Error?
        private let done = DispatchSemaphore(value: 0)
        init(url: String, table: String) { self.url = url; self.table = table }
        var transactions: Int { lock.withLock { count } }
        var error: Error? { lock.withLock { failure } }
        func start() {
            Thread.detachNewThread { [self] in
                defer { done.signal() }
                do {
                    let sql = try Connection(url)
                    defer { sql.close() }
                    var id = 0
                    while !lock.withLock({ stopped }) {
                        id += 1
                        try sql.execute("INSERT INTO \(table) VALUES (\(id), \(id % 97))")
                        lock.withLock { count += 1 }
                    }
                } catch { lock.withLock { failure = error } }
            }
        }
        func stop() {
            lock.withLock { stopped = true }
            done.wait()
        }
    }

    private func checkpoint(_ store: String) -> UInt64 {
        guard let data = FileManager.default.contents(atPath: store + "/store.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let value = json["checkpointLSN"] as? NSNumber else { return 0 }
        return value.uint64Value
    }

    private func storeCommits(_ endpoint: String) throws -> Int {
        let text = String(decoding: try HTTPClient.get(endpoint + "/metrics", timeout: 5).body, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("freshet_store_commits_total ") }
        return Int(Double(line?.split(separator: " ").last ?? "") ?? -1)
    }
}
