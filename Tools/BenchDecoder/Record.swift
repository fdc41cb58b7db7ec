import Foundation
import PostgresReplication

/// Records a real pgoutput stream from a server into a capture file: an orders-like table gets `rows` inserts in
/// transactions of 1,000 rows, then every row is updated once, and the stream is captured until the last commit.
func recordFromServer(url: String, rows: Int, to path: String) throws {
    let sql = try Connection(url)
    let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    let table = "bench_capture_\(suffix)", slot = "bench_capture_\(suffix)"
    let qt = SQLQuoting.identifier(table)
    try sql.execute("""
        CREATE TABLE \(qt) (id int8 PRIMARY KEY, customer_id int4, status text, amount numeric(12,2),
          created_at timestamptz, note text, quantity int2, paid bool);
        CREATE PUBLICATION \(SQLQuoting.identifier(slot)) FOR TABLE \(qt)
        """)
    let repl = try ReplicationConnection(url)
    defer {
        repl.connection.close()
        _ = try? sql.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(slot)); DROP TABLE IF EXISTS \(qt)")
    }
    _ = try repl.createSlot(slot, temporary: true, snapshot: .nothing)
    for start in stride(from: 1, through: rows, by: 1000) {
        try sql.execute("""
            INSERT INTO \(qt) SELECT g, g % 50000, (ARRAY['new','paid','shipped'])[1 + g % 3], (g % 100000) / 100.0,
              timestamptz '2024-01-01' + g * interval '1 second', CASE WHEN g % 7 <> 0 THEN 'note ' || g END, (1 + g % 20)::int2, g % 2 = 0
            FROM generate_series(\(start), \(min(rows, start + 999))) g
            """)
    }
    try sql.execute("UPDATE \(qt) SET status = 'delivered', paid = true")
    let transactions = (rows + 999) / 1000 + 1
    let stream = try repl.startReplication(slot: slot, options: ReplicationOptions(publications: [slot]))
    let writer = try CaptureFile.Writer(path: path)
    var commits = 0
    while commits < transactions {
        guard let event = try stream.next(timeout: 30) else {
            throw PostgresError.connectionLost(message: "capture timed out after \(commits) of \(transactions) commits")
        }
        guard case let .data(x) = event else { continue }   // keepalives
        try writer.write(x.payload)
        if x.payload.first == UInt8(ascii: "C") { commits += 1 }
    }
    try writer.close()
    print("recorded \(transactions) transactions (\(rows) inserts + \(rows) updates) from the server into \(path)")
}
