// Parquet write/read benchmark on an orders-like table. Usage: bench-parquet ROWS OUTPUT.parquet [REPEATS [plain]]
// (`plain`: integer pages PLAIN instead of DELTA_BINARY_PACKED, for an A/B of `WriterOptions.deltaIntegers`).
// Prints one JSON line with timings; Tools/bench-parquet compares it with pyarrow.
import Foundation
import Parquet

let args = CommandLine.arguments
let rows = args.count > 1 ? Int(args[1]) ?? 3_000_000 : 3_000_000
let path = args.count > 2 ? args[2] : "/tmp/bench-freshet.parquet"
let batchRows = 100_000

let schema = Schema([
    Column("id", .int64, nullable: false),
    Column("customer_id", .int64, nullable: false),
    Column("status", .int32, nullable: false),
    Column("amount", .decimal(precision: 12, scale: 2), nullable: false),
    Column("created_at", .timestamp(utc: true), nullable: false),
    Column("note", .string, nullable: true),
    Column("discount", .double, nullable: true),
    Column("shipped_at", .timestamp(utc: true), nullable: true),
])

/// Deterministic xorshift generator (fast, reproducible).
struct XorShift {
    var s: UInt64
    mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

let notes = (0..<200).map { i in "note \(i): " + ["deliver to back door", "gift wrap", "call before delivery", "fragile",
                                                   "leave with neighbour", ""][i % 6] }

func makeBatch(_ start: Int, _ n: Int, _ rng: inout XorShift) -> [ColumnBuffer] {
    var id = [Int64](); id.reserveCapacity(n)
    var cust = [Int64](); cust.reserveCapacity(n)
    var status = [Int32](); status.reserveCapacity(n)
    var amount = [Int64](); amount.reserveCapacity(n)
    var created = [Int64](); created.reserveCapacity(n)
    var note = ByteArrayBuffer(reservingCapacity: n, bytes: n * 24)
    var noteValid = [Bool](); noteValid.reserveCapacity(n)
    var discount = [Double](); discount.reserveCapacity(n)
    var discountValid = [Bool](); discountValid.reserveCapacity(n)
    var shipped = [Int64](); shipped.reserveCapacity(n)
    var shippedValid = [Bool](); shippedValid.reserveCapacity(n)
    let base: Int64 = 1_700_000_000_000_000
    for k in 0..<n {
        let i = start + k
        id.append(Int64(i + 1))
        cust.append(Int64(rng.below(100_000) + 1))
        status.append(Int32(rng.below(6)))
        amount.append(Int64(rng.below(10_000_000)))
        let c = base + Int64(i) * 1_000 + Int64(rng.below(1_000))
        created.append(c)
        if rng.below(10) == 0 { note.appendEmpty(); noteValid.append(false) } else { note.append(notes[rng.below(notes.count)]); noteValid.append(true) }
        if rng.below(10) < 3 { discount.append(0); discountValid.append(false) } else { discount.append(Double(rng.below(5000)) / 100); discountValid.append(true) }
        if rng.below(10) < 4 { shipped.append(0); shippedValid.append(false) } else { shipped.append(c + Int64(rng.below(86_400_000_000))); shippedValid.append(true) }
    }
    return [ColumnBuffer(.int64(id)), ColumnBuffer(.int64(cust)), ColumnBuffer(.int32(status)), ColumnBuffer(.int64(amount)),
            ColumnBuffer(.int64(created)), ColumnBuffer(.byteArray(note), validity: noteValid),
            ColumnBuffer(.double(discount), validity: discountValid), ColumnBuffer(.int64(shipped), validity: shippedValid)]
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

// Generate all batches up front so only encoding is timed.
var rng = XorShift(s: 0x2545_F491_4F6C_DD1D)
var batches: [[ColumnBuffer]] = []
var start = 0
while start < rows {
    let n = min(batchRows, rows - start)
    batches.append(makeBatch(start, n, &rng))
    start += n
}

let repeats = args.count > 3 ? Int(args[3]) ?? 3 : 3
var options = WriterOptions()
options.durable = false  // pyarrow does not fsync either
options.deltaIntegers = !(args.count > 4 && args[4] == "plain")
// Best of `repeats` runs: the machine is shared, so the minimum is the most stable figure.
var writeSeconds = Double.infinity
var written: WrittenFile? = nil
for _ in 0..<repeats {
    let t0 = now()
    let writer = try ParquetFileWriter(path: path, schema: schema, options: options)
    for b in batches { try writer.write(b) }
    written = try writer.close()
    writeSeconds = min(writeSeconds, now() - t0)
}
var readSeconds = Double.infinity
for _ in 0..<repeats {
    let t1 = now()
    let reader = try ParquetFileReader(path: path)
    var readRows = 0
    for g in reader.rowGroups.indices {
        let cols = try reader.readRowGroup(g)
        readRows += cols[0].count
    }
    readSeconds = min(readSeconds, now() - t1)
    precondition(readRows == rows, "read \(readRows) rows, wrote \(rows)")
}
let file = written!
print("{\"rows\": \(rows), \"write_s\": \(writeSeconds), \"read_s\": \(readSeconds), \"bytes\": \(file.byteCount), \"row_groups\": \(file.rowGroupCount), \"crc32\": \(file.crc32)}")
