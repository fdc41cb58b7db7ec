import Foundation
import TestSupport
import XCTest
@testable import ColumnStore

/// The DuckDB view `freshet sql` prints resolves the part list at query time: created once, it keeps answering with
/// the committed state while commits, merges and garbage collection change the files under it.
final class QueryViewTests: XCTestCase {
    static let table = "public.v"
    static let columns: [ColumnDefinition] = [.init("id", .int64, nullable: false), .init("amount", .int64), .init("big", .string)]
    static let keys = 2000

    /// A Python loop that creates the view once and reads it until `stop` exists: every answer must be one committed
    /// state (the commits move amounts between keys, so count and sum never change). Prints queries and failures.
    /// DuckDB's footer cache is on, as `freshet sql --view` sets it, so cached footers meet new and deleted files.
    static let readLoop = #"""
import sys, os, time, duckdb
sql, stop, keys, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = duckdb.connect()
con.execute("SET parquet_metadata_cache = true")   # footers cached across the queries, as `freshet sql --view` sets
con.execute(sql)
queries = wrong = errors = 0
first_error = None
while not os.path.exists(stop):
    try:
        n, s, b = con.execute('SELECT count(*), sum(amount), count(big) FROM v').fetchone()
        queries += 1
        if (n, s, b) != (keys, total, keys):
            wrong += 1
            print('wrong answer', n, s, b, file=sys.stderr)
    except Exception as e:
        errors += 1
        first_error = first_error or str(e)
print(queries, wrong, errors, first_error or '')
"""#

    /// DuckDB reads the view (created before any of the changes) in a loop while commits move amounts between keys of
    /// different partitions, carry `big` forward as unchanged, and merges install: no answer ever shows a partial commit
    /// or a missing merge output, and the final answer equals the FINAL reader, also after the replaced files are
    /// deleted.
    func testViewReadWhileMergesInstall() throws {
        try readWhileMergesInstall(settle: nil)
    }

    /// The same with the merger settling the partitions every few commits (`SettlePolicy`: at 5% recent rows): the view
    /// keeps switching between clean parts read without any join and recent parts deduplicated, and never shows a
    /// partial state.
    func testViewReadWhileSettlesInstall() throws {
        var policy = SettlePolicy()
        policy.quietSeconds = 3600
        policy.share = 0.05
        try readWhileMergesInstall(settle: policy, seconds: 10)
    }

    private func readWhileMergesInstall(settle: SettlePolicy?, seconds: TimeInterval = 6) throws {
        let python = try TestEnvironment.python()
        let dir = try makeTempDirectory(self).appendingPathComponent("store")
        var options = StoreOptions()
        options.settle = settle
        // No replaced file is deleted during the loop (the grace period outlasts it), so every failed query is a bug.
        options.gracePeriod = 30
        let store = try Store.open(at: dir, identity: testIdentity, options: options)
        try store.defineTable(Self.table, schema: TableSchema(columns: Self.columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: 4))
        var amounts = [Int64](repeating: 100, count: Self.keys + 1)
        var version: UInt64 = 100
        var b = RowBatch(columns: Self.columns)
        for id in 1...Self.keys {
            b.append(Int64(id), column: 0); b.append(Int64(100), column: 1); b.append("big \(id)", column: 2); b.finishRow(version: version)
        }
        var c = StoreCommit(upTo: version)
        c.add(try store.stage(b, table: Self.table))
        try store.commit(c)
        let view = try store.sql(Self.table, dialect: .duckdb, view: "v")

        let stop = dir.deletingLastPathComponent().appendingPathComponent("stop")
        let reader = BackgroundRun(python, ["-c", Self.readLoop, view, stop.path, String(Self.keys), String(Self.keys * 100)])
        var rng = SeededRandom(seed: 13)
        var merges = 0, commits = 0
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            version += 1
            var b = RowBatch(columns: Self.columns)
            for _ in 0..<20 {
                let from = rng.next(Self.keys) + 1, to = rng.next(Self.keys) + 1
                guard from != to else { continue }
                let d = Int64(rng.next(10))
                amounts[from] -= d; amounts[to] += d
                for id in [from, to] {
                    b.append(Int64(id), column: 0); b.append(amounts[id], column: 1); b.appendUnchanged(column: 2)
                    b.finishRow(version: version)
                }
            }
            var c = StoreCommit(upTo: version)
            c.add(try store.stage(b, table: Self.table))
            try store.commit(c)
            commits += 1
            merges += try store.mergeDue(Self.table).merges
            if commits % 25 == 0 { merges += try store.compact(Self.table).merges }
        }
        FileManager.default.createFile(atPath: stop.path, contents: nil)
        let result = reader.wait()
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        let fields = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 3).map(String.init)
        XCTAssertGreaterThanOrEqual(fields.count, 3, out)
        let queries = Int(fields[0]) ?? 0, wrong = Int(fields[1]) ?? -1, errors = Int(fields[2]) ?? -1
        XCTAssertGreaterThan(queries, 5, out)
        XCTAssertGreaterThan(merges, 10)
        XCTAssertEqual(wrong, 0, out)
        XCTAssertEqual(errors, 0, "queries failing while merges install: \(out)")
        print("view read \(queries) times during \(commits) commits and \(merges) merges; \(errors) errors")

        // The same view, unchanged, equals the FINAL reader at the end, once the replaced files are gone.
        XCTAssertGreaterThan(store.collectGarbage(force: true), 0)
        let rows = try ModelSchema.readAll(store, Self.table).count
        XCTAssertEqual(rows, Self.keys)
        let final = try Subprocess.python("""
import sys, duckdb
con = duckdb.connect()
con.execute(sys.argv[1])
print(con.execute("SELECT string_agg(id || ':' || amount || ':' || big, ',' ORDER BY id) FROM v").fetchone()[0])
""", [view])
        let expected = (1...Self.keys).map { "\($0):\(amounts[$0]):big \($0)" }.joined(separator: ",")
        XCTAssertEqual(final.trimmingCharacters(in: .whitespacesAndNewlines), expected)
    }
}

extension QueryViewTests {
    /// Inside one DuckDB transaction the view answers as of the transaction's start (a commit made meanwhile shows
    /// after COMMIT); once the parts that start needs are deleted (a compact), the next query in that transaction fails
    /// with Freshet's error instead of answering from too few files.
    func testViewAnswersAsOfTheTransactionStart() throws {
        let python = try TestEnvironment.python()
        let dir = try makeTempDirectory(self).appendingPathComponent("store")
        var options = StoreOptions()
        options.gracePeriod = 600
        let store = try Store.open(at: dir, identity: testIdentity, options: options)
        try store.defineTable(Self.table, schema: TableSchema(columns: Self.columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: 2))
        func commit(_ ids: ClosedRange<Int>, version: UInt64) throws {
            var b = RowBatch(columns: Self.columns)
            for id in ids { b.append(Int64(id), column: 0); b.append(Int64(1), column: 1); b.append("b", column: 2); b.finishRow(version: version) }
            var c = StoreCommit(upTo: version)
            c.add(try store.stage(b, table: Self.table))
            try store.commit(c)
        }
        try commit(1...10, version: 10)
        let view = try store.sql(Self.table, dialect: .duckdb, view: "v")
        let sync = dir.deletingLastPathComponent()
        let script = #"""
import sys, os, time, duckdb
sql, sync = sys.argv[1], sys.argv[2]
def step(name):
    open(os.path.join(sync, name + '.ready'), 'w').close()
    while not os.path.exists(os.path.join(sync, name + '.go')): time.sleep(0.01)
count = lambda: con.execute('SELECT count(*) FROM v').fetchone()[0]
con = duckdb.connect()
con.execute(sql)
con.execute('BEGIN')
print('before', count())
step('commit')
print('in transaction', count())
con.execute('COMMIT')
print('after commit', count())
con.execute('BEGIN')
print('second transaction', count())
step('compact')
try:
    print('after compact', count())
except Exception as e:
    print('error', str(e).splitlines()[0])
"""#
        let reader = BackgroundRun(python, ["-c", script, view, sync.path])
        func waitFor(_ name: String) {
            let end = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: sync.appendingPathComponent(name + ".ready").path) && Date() < end { usleep(10_000) }
        }
        func go(_ name: String) { FileManager.default.createFile(atPath: sync.appendingPathComponent(name + ".go").path, contents: nil) }
        waitFor("commit")
        try commit(11...15, version: 20)
        go("commit")
        waitFor("compact")
        try commit(16...17, version: 30)
        XCTAssertGreaterThan(try store.compact(Self.table).merges, 0)
        XCTAssertGreaterThan(store.collectGarbage(force: true), 0)
        go("compact")
        let r = reader.wait()
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(4)), ["before 10", "in transaction 10", "after commit 15", "second transaction 15"], r.stdout)
        XCTAssertTrue(lines.last?.hasPrefix("error ") == true && lines.last?.contains("freshet: this transaction started before") == true, r.stdout)
    }
}

extension QueryViewTests {
    /// Staged parts are named `*.parquet.staged` until their commit renames them, so the view's glob never matches a
    /// staged file; after the commit the manifest lists the `.parquet` name and the view shows the rows.
    func testStagedPartsDoNotMatchTheGlob() throws {
        let dir = try makeTempDirectory(self).appendingPathComponent("store")
        let store = try Store.open(at: dir, identity: testIdentity)
        try store.defineTable(Self.table, schema: TableSchema(columns: Self.columns, keyColumns: ["id"]), partitioning: .keyHash(buckets: 2))
        var b = RowBatch(columns: Self.columns)
        for id in 1...20 { b.append(Int64(id), column: 0); b.append(Int64(1), column: 1); b.append("b", column: 2); b.finishRow(version: 5) }
        let staged = try store.stage(b, table: Self.table)
        XCTAssertEqual(staged.parts.count, 2)
        let globbed = { ModelSchema.partFiles(store, Self.table).filter { $0.hasSuffix(".parquet") } }
        XCTAssertEqual(globbed(), [])
        XCTAssertTrue(staged.parts.allSatisfy { $0.path.hasSuffix(".parquet.staged") }, "\(staged.parts.map(\.path))")
        var c = StoreCommit(upTo: 5)
        c.add(staged)
        try store.commit(c)
        let listed = Set(try store.manifest(Self.table).parts.map(\.path))
        XCTAssertEqual(globbed(), listed)
        XCTAssertEqual(ModelSchema.partFiles(store, Self.table), listed, "no staged file left behind")
        let out = try Subprocess.python("""
import sys, duckdb
con = duckdb.connect()
con.execute(sys.argv[1])
print(con.execute('SELECT count(*) FROM v').fetchone()[0])
""", [try store.sql(Self.table, dialect: .duckdb, view: "v")])
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "20")
    }
}

/// A subprocess run on a background queue; `wait` returns its result.
final class BackgroundRun: @unchecked Sendable {
    private let group = DispatchGroup()
    private var result: ProcessResult?
    private var failure = ""

    init(_ executable: String, _ arguments: [String]) {
        group.enter()
        DispatchQueue.global().async {
            do { self.result = try Subprocess.run(executable, arguments) } catch { self.failure = "\(error)" }
            self.group.leave()
        }
    }

    /// The result, or (status -1, the error) when the process could not run.
    func wait() -> (status: Int32, stdout: String, stderr: String) {
        group.wait()
        guard let r = result else { return (-1, "", failure) }
        return (r.status, r.stdout, r.stderr)
    }
}
