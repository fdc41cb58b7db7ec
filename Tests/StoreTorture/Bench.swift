import ColumnStore
import Foundation

/// `store-torture bench DIR ROWS`: commit rate for batches of 1k/10k/100k rows, then a ROWS-row orders table:
/// FINAL scan before and after a full merge, merge throughput, bytes per row.
func bench(_ dir: URL, rows total: Int) throws {
    let orders: [ColumnDefinition] = [
        .init("order_id", .int64, nullable: false), .init("customer_id", .int64), .init("status", .string),
        .init("amount", .decimal(precision: 12, scale: 2)), .init("created_at", .timestamptz), .init("note", .string),
    ]
    let schema = TableSchema(columns: orders, keyColumns: ["order_id"])
    let statuses = ["new", "paid", "shipped", "delivered", "cancelled"]
    var options = StoreOptions()
    options.gracePeriod = 0
    let store = try Store.open(at: dir, identity: identity, options: options)
    var lsn: UInt64 = 1

    func batch(_ from: Int, _ n: Int, version: UInt64, update: Bool) -> RowBatch {
        var b = RowBatch(columns: orders)
        b.reserveCapacity(n)
        for k in from..<(from + n) {
            let id = Int64(k)
            b.append(id, column: 0)
            b.append(id % 50_000, column: 1)
            b.append(statuses[(k + (update ? 1 : 0)) % statuses.count], column: 2)
            b.append(Int64(k % 100_000) * 37, column: 3)
            b.append(1_700_000_000_000_000 + id * 1_000_000, column: 4)
            if update { b.appendUnchanged(column: 5) } else { b.append("order \(k) for customer \(k % 50_000)", column: 5) }
            b.finishRow(version: version)
        }
        return b
    }

    func timed(_ body: () throws -> Void) rethrows -> Double {
        let t = Date()
        try body()
        return Date().timeIntervalSince(t)
    }

    func commitAll(_ table: String, rows: Int, batchRows: Int, start: Int = 0, update: Bool = false) throws -> Double {
        var done = 0
        return try timed {
            while done < rows {
                let n = min(batchRows, rows - done)
                let b = batch(start + done, n, version: lsn, update: update)
                var c = StoreCommit(upTo: lsn)
                c.add(try store.stage(b, table: table))
                try store.commit(c)
                lsn += 1
                done += n
            }
        }
    }

    /// The FINAL reader over every column of every row, as DuckDB's query below is timed: one untimed warm-up, then
    /// the median of 3 (wall clock and this process's CPU seconds, all threads).
    func scan(_ table: String, order: ReadOrder) throws -> (rows: Int, seconds: Double, cpu: Double) {
        func once() throws -> (Int, Double, Double) {
            var n = 0
            let cpu0 = cpuSeconds()
            let s = try timed {
                var r = try store.read(table, order: order)
                while let b = try r.next() { n += b.count }
            }
            return (n, s, cpuSeconds() - cpu0)
        }
        _ = try once()
        let runs = try (0..<3).map { _ in try once() }
        return (runs[0].0, runs.map(\.1).sorted()[1], runs.map(\.2).sorted()[1])
    }
    func scans(_ table: String, parts: Int) throws {
        let (n, s, cpu) = try scan(table, order: .key)
        line("FINAL scan, \(parts) parts, key order", rate(n, s, cpu))
        let (m, t, cpuAny) = try scan(table, order: .any)
        line("FINAL scan, \(parts) parts, any order", rate(m, t, cpuAny))
    }

    func line(_ what: String, _ value: String) { print(what.padding(toLength: 44, withPad: " ", startingAt: 0) + value) }
    func rate(_ n: Int, _ s: Double, _ cpu: Double? = nil) -> String {
        String(format: "%10.0f rows/s  (%d rows, %.2f s", Double(n) / s, n, s) + (cpu.map { String(format: ", CPU %.2f s)", $0) } ?? ")")
    }

    print("freshet store benchmark (\(total) rows, orders-like table, 6 columns)")
    // Small commits, as streaming makes them at a steady load: where the time of one goes.
    do {
        let t = "bench.commit_100"
        try store.defineTable(t, schema: schema)
        var stage = 0.0, commit = 0.0
        let commits = 200
        for i in 0..<commits {
            var c = StoreCommit(upTo: lsn)
            let b = batch(i * 100, 100, version: lsn, update: false)
            stage += try timed { c.add(try store.stage(b, table: t)) }
            commit += try timed { try store.commit(c) }
            lsn += 1
        }
        line("commit of 100 rows: stage / commit", String(format: "%.2f ms / %.2f ms per commit", stage * 1000 / Double(commits),
                                                       commit * 1000 / Double(commits)))
    }
    for size in [1_000, 10_000, 100_000] {
        let t = "bench.commit_\(size)"
        try store.defineTable(t, schema: schema)
        let n = min(total, max(size * 20, 200_000))
        line("commit, batches of \(size)", rate(n, try commitAll(t, rows: n, batchRows: size)))
    }

    let t = "bench.orders"
    try store.defineTable(t, schema: schema)
    let load = try commitAll(t, rows: total, batchRows: 100_000)
    line("load \(total) rows (100k batches)", rate(total, load))
    let updates = total / 10
    _ = try commitAll(t, rows: updates, batchRows: 50_000, start: total / 3, update: true)
    let before = try store.manifest(t)
    try scans(t, parts: before.parts.count)
    try duckdbScan(store, t, parts: before.parts.count, line: line)
    var report = MergeReport()
    let ms = try timed { report = try store.compact(t) }
    line("merge (compact to 1 part/partition)", String(format: "%10.1f MB/s   (%.1f MB in, %.1f MB out, %.2f s)",
        Double(report.inputBytes) / 1e6 / ms, Double(report.inputBytes) / 1e6, Double(report.outputBytes) / 1e6, ms))
    let after = try store.manifest(t)
    try scans(t, parts: after.parts.count)
    try duckdbScan(store, t, parts: after.parts.count, line: line)
    let bytes = after.parts.reduce(0) { $0 + $1.bytes }
    line("on disk after compact", String(format: "%10.1f bytes/row (%.1f MB)", Double(bytes) / Double(total), Double(bytes) / 1e6))
    store.close()
}

/// This process's CPU time (user + system, all threads) in seconds.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

/// DuckDB reading the same parts through the view `freshet sql --dialect duckdb` prints, every column of every row
/// materialized (`CREATE TABLE AS`, what `freshet scan` hands out): one untimed warm-up, then the median of 3 (wall
/// clock and the DuckDB process's CPU seconds, all its threads). Needs `FRESHET_PYTHON` (a python with duckdb;
/// Tools/bench-store sets it), else says so.
func duckdbScan(_ store: Store, _ table: String, parts: Int, line: (String, String) -> Void) throws {
    let what = "DuckDB view, \(parts) parts (same rows)"
    guard let python = ProcessInfo.processInfo.environment["FRESHET_PYTHON"], !python.isEmpty else {
        line(what, "not measured (FRESHET_PYTHON unset)")
        return
    }
    let script = """
import sys, time, duckdb, statistics
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
con.execute(sys.argv[1])
def once():
    t, c = time.monotonic(), time.process_time()
    con.execute('CREATE OR REPLACE TEMP TABLE m AS SELECT * FROM v')
    return time.monotonic() - t, time.process_time() - c
once()
runs = [once() for _ in range(3)]
s = statistics.median([r[0] for r in runs])
cpu = statistics.median([r[1] for r in runs])
n = con.execute('SELECT count(*) FROM m').fetchone()[0]
print(n, s, cpu)
"""
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = ["-c", script, try store.sql(table, dialect: .duckdb, view: "v")]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard p.terminationStatus == 0, fields.count == 3, let n = Int(fields[0]), let s = Double(fields[1]), s > 0,
          let cpu = Double(fields[2]) else {
        line(what, "failed (exit \(p.terminationStatus))")
        return
    }
    line(what, String(format: "%10.0f rows/s  (%d rows, %.2f s, CPU %.2f s)", Double(n) / s, n, s, cpu))
}
