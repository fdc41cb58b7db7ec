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

    func scan(_ table: String) throws -> (rows: Int, seconds: Double) {
        var n = 0
        let s = try timed {
            var r = try store.read(table)
            while let b = try r.next() { n += b.count }
        }
        return (n, s)
    }

    func line(_ what: String, _ value: String) { print(what.padding(toLength: 44, withPad: " ", startingAt: 0) + value) }
    func rate(_ n: Int, _ s: Double) -> String { String(format: "%10.0f rows/s  (%d rows, %.2f s)", Double(n) / s, n, s) }

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
    let (n1, s1) = try scan(t)
    line("FINAL scan, \(before.parts.count) parts", rate(n1, s1))
    try duckdbScan(store, t, parts: before.parts.count, line: line)
    var report = MergeReport()
    let ms = try timed { report = try store.compact(t) }
    line("merge (compact to 1 part/partition)", String(format: "%10.1f MB/s   (%.1f MB in, %.1f MB out, %.2f s)",
        Double(report.inputBytes) / 1e6 / ms, Double(report.inputBytes) / 1e6, Double(report.outputBytes) / 1e6, ms))
    let after = try store.manifest(t)
    let (n2, s2) = try scan(t)
    line("FINAL scan, \(after.parts.count) parts", rate(n2, s2))
    try duckdbScan(store, t, parts: after.parts.count, line: line)
    let bytes = after.parts.reduce(0) { $0 + $1.bytes }
    line("on disk after compact", String(format: "%10.1f bytes/row (%.1f MB)", Double(bytes) / Double(n2), Double(bytes) / 1e6))
    store.close()
}

/// DuckDB reading the same parts through the view `freshet sql --dialect duckdb` prints, every column of every row
/// materialized (`CREATE TABLE AS`, what `freshet scan` hands out): one untimed warm-up, then the median of 3. Needs
/// `FRESHET_PYTHON` (a python with duckdb; Tools/bench-store sets it), else says so.
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
    t = time.monotonic()
    con.execute('CREATE OR REPLACE TEMP TABLE m AS SELECT * FROM v')
    return time.monotonic() - t
once()
s = statistics.median([once() for _ in range(3)])
n = con.execute('SELECT count(*) FROM m').fetchone()[0]
print(n, s)
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
    guard p.terminationStatus == 0, fields.count == 2, let n = Int(fields[0]), let s = Double(fields[1]), s > 0 else {
        line(what, "failed (exit \(p.terminationStatus))")
        return
    }
    line(what, String(format: "%10.0f rows/s  (%d rows, %.2f s)", Double(n) / s, n, s))
}
