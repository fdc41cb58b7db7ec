// bench-decoder: pgoutput decoding throughput.
//   bench-decoder [CAPTURE]         decode a capture file (see CaptureFile), or a synthetic one when omitted
//   bench-decoder --write PATH      write the synthetic capture to PATH and exit
// Prints messages/s and MB/s for (a) message decoding alone and (b) decoding plus parsing every tuple
// value to a typed value with the low-level text/binary parsers, then (c) rows/s of BinaryCopyReader on a
// synthetic COPY binary stream.
import Foundation
import PostgresReplication

/// Builds pgoutput messages byte by byte (big-endian), for the synthetic capture.
struct MessageBuilder {
    var bytes: [UInt8] = []
    init(kind: Character) { bytes.append(kind.asciiValue!) }
    mutating func int8(_ value: UInt8) { bytes.append(value) }
    mutating func int16(_ value: UInt16) { withUnsafeBytes(of: value.bigEndian) { bytes += $0 } }
    mutating func int32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { bytes += $0 } }
    mutating func int64(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { bytes += $0 } }
    mutating func string(_ value: String) { bytes += value.utf8; bytes.append(0) }
    mutating func tuple(_ values: [String?]) {
        int16(UInt16(values.count))
        for value in values {
            guard let value else { int8(UInt8(ascii: "n")); continue }
            int8(UInt8(ascii: "t"))
            int32(UInt32(value.utf8.count))
            bytes += value.utf8
        }
    }
}

/// An orders-like table: (name, type OID).
let ordersColumns: [(String, UInt32)] = [
    ("id", TypeOID.int8), ("customer_id", TypeOID.int4), ("status", TypeOID.text), ("amount", TypeOID.numeric),
    ("created_at", TypeOID.timestamptz), ("note", TypeOID.text), ("quantity", TypeOID.int2), ("paid", TypeOID.bool),
]
let ordersOID: UInt32 = 16_384

func syntheticCapture(messages target: Int) -> [UInt8] {
    var capture: [UInt8] = []
    capture.reserveCapacity(target * 120)
    var count = 0
    var lsn: UInt64 = 0x16_0000_0000
    var xid: UInt32 = 1_000
    let statuses = ["new", "paid", "shipped", "delivered", "cancelled"]
    let notes = ["", "Leave at the back door, ring twice", "gift wrap ✓", "Größe M, bitte", "call before delivery"]
    func row(_ id: Int) -> [String?] {
        let micros = String(format: "%06d", (id * 7919) % 1_000_000)
        return [String(id), String(id % 50_000), statuses[id % 5], "\(id % 100_000).\(String(format: "%02d", id % 100))",
                "2024-\(String(format: "%02d", id % 12 + 1))-\(String(format: "%02d", id % 28 + 1)) 0\(id % 10):1\(id % 10):2\(id % 10).\(micros)+00",
                id % 7 == 0 ? nil : notes[id % 5], String(id % 20 + 1), id % 2 == 0 ? "t" : "f"]
    }
    var nextID = 1
    while count < target {
        xid += 1
        lsn += 4_096
        var begin = MessageBuilder(kind: "B")
        begin.int64(lsn + 2_000); begin.int64(757_479_845_123_456); begin.int32(xid)
        CaptureFile.appendRecord(begin.bytes, to: &capture)
        if xid % 5_000 == 1_001 {
            var relation = MessageBuilder(kind: "R")
            relation.int32(ordersOID); relation.string("public"); relation.string("orders"); relation.int8(UInt8(ascii: "d"))
            relation.int16(UInt16(ordersColumns.count))
            for (index, (name, type)) in ordersColumns.enumerated() {
                relation.int8(index == 0 ? 1 : 0); relation.string(name); relation.int32(type); relation.int32(UInt32(bitPattern: -1))
            }
            CaptureFile.appendRecord(relation.bytes, to: &capture)
            count += 1
        }
        for change in 0..<8 {
            if change < 6 || nextID < 100 {
                var insert = MessageBuilder(kind: "I")
                insert.int32(ordersOID); insert.int8(UInt8(ascii: "N")); insert.tuple(row(nextID))
                CaptureFile.appendRecord(insert.bytes, to: &capture)
                nextID += 1
            } else {
                let id = nextID - 1 - Int(xid % 90)
                var update = MessageBuilder(kind: "U")
                update.int32(ordersOID)
                if change == 7 { update.int8(UInt8(ascii: "K")); update.tuple([String(id)] + Array(repeating: nil, count: 7)) }
                update.int8(UInt8(ascii: "N")); update.tuple(row(id))
                CaptureFile.appendRecord(update.bytes, to: &capture)
            }
        }
        var commit = MessageBuilder(kind: "C")
        commit.int8(0); commit.int64(lsn + 2_000); commit.int64(lsn + 2_048); commit.int64(757_479_845_123_456)
        CaptureFile.appendRecord(commit.bytes, to: &capture)
        count += 10
    }
    return capture
}

/// Parses every value of `tuple` with the low-level parsers; returns a checksum so nothing is optimised away.
func parseValues(_ tuple: TupleData, types: [UInt32]) throws -> Int64 {
    try tuple.withUnsafeColumns { columns in
        var checksum: Int64 = 0
        for index in 0..<min(columns.count, types.count) {
            guard let raw = columns[index] else { continue }
            checksum &+= try parseValue(raw, type: types[index], binary: columns.kind(at: index) == .binary)
        }
        return checksum
    }
}

/// One value as an Int64, the way a typed column builder would consume it.
func parseValue(_ raw: UnsafeRawBufferPointer, type: UInt32, binary: Bool) throws -> Int64 {
    switch type {
    case TypeOID.bool: return try (binary ? BinaryValueParser.parseBool(raw) : TextValueParser.parseBool(raw)) ? 1 : 0
    case TypeOID.int2: return Int64(try binary ? BinaryValueParser.parseInt16(raw) : TextValueParser.parseInt16(raw))
    case TypeOID.int4: return Int64(try binary ? BinaryValueParser.parseInt32(raw) : TextValueParser.parseInt32(raw))
    case TypeOID.int8: return try binary ? BinaryValueParser.parseInt64(raw) : TextValueParser.parseInt64(raw)
    case TypeOID.float8: return Int64(try binary ? BinaryValueParser.parseFloat64(raw) : TextValueParser.parseFloat64(raw))
    case TypeOID.numeric:
        return try binary ? BinaryValueParser.parseNumericUnscaledInt64(raw, scale: 2)
            : TextValueParser.parseNumericUnscaledInt64(raw, scale: 2)
    case TypeOID.date: return Int64(try binary ? BinaryValueParser.parseDateDays(raw) : TextValueParser.parseDateDays(raw))
    case TypeOID.timestamp: return try binary ? BinaryValueParser.parseTimestampMicros(raw) : TextValueParser.parseTimestampMicros(raw)
    case TypeOID.timestamptz:
        return try binary ? BinaryValueParser.parseTimestamptzMicros(raw) : TextValueParser.parseTimestamptzMicros(raw)
    default: return Int64(raw.count)  // strings and bytes: a column builder copies them into its arena
    }
}

func run(_ capture: [UInt8], parse: Bool) throws -> (messages: Int, seconds: Double, checksum: Int64) {
    var reader = CaptureFile.Reader(bytes: capture)
    var decoder = PgOutputDecoder(protocolVersion: 2)
    var types: [UInt32: [UInt32]] = [:]
    var messages = 0
    var checksum: Int64 = 0
    let start = DispatchTime.now().uptimeNanoseconds
    while let payload = try reader.next() {
        let message = try decoder.decode(payload)
        messages += 1
        guard parse else { continue }
        switch message {
        case .relation(let relation): types[relation.oid] = relation.columns.map(\.typeOID)
        case .insert(let insert): checksum &+= try parseValues(insert.newTuple, types: types[insert.relationOID] ?? [])
        case .update(let update): checksum &+= try parseValues(update.newTuple, types: types[update.relationOID] ?? [])
        default: break
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return (messages, seconds, checksum)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--record", arguments.count == 4, let rows = Int(arguments[2]) {
    try recordFromServer(url: arguments[1], rows: rows, to: arguments[3])
    exit(0)
}
if arguments.first == "--write", arguments.count == 2 {
    let writer = try CaptureFile.Writer(path: arguments[1])
    var reader = CaptureFile.Reader(bytes: syntheticCapture(messages: 1_000_000))
    while let payload = try reader.next() { try writer.write(payload) }
    try writer.close()
    print("wrote \(arguments[1])")
    exit(0)
}
let capture: [UInt8]
if let path = arguments.first {
    capture = try CaptureFile.Reader(contentsOf: path).bytes
    print("capture: \(path)")
} else {
    capture = syntheticCapture(messages: 1_000_000)
    print("capture: synthetic orders stream (Begin, Relation, Inserts, Updates, Commit)")
}
let megabytes = Double(capture.count) / 1e6
for (label, parse) in [("(a) decode messages         ", false), ("(b) decode + parse values   ", true)] {
    var best = (messages: 0, seconds: Double.infinity, checksum: Int64(0))
    for _ in 0..<3 {
        let result = try run(capture, parse: parse)
        if result.seconds < best.seconds { best = result }
    }
    print(String(format: "%@ %d messages, %.1f MB: %.2f M messages/s, %.0f MB/s (best of 3, %.3f s; checksum %lld)",
                 label, best.messages, megabytes, Double(best.messages) / best.seconds / 1e6, megabytes / best.seconds,
                 best.seconds, best.checksum))
}
let copyStream = syntheticCopyStream(rows: 2_000_000)
var bestCopy = (rows: 0, seconds: Double.infinity, checksum: Int64(0))
for _ in 0..<3 {
    let result = try runCopy(copyStream)
    if result.seconds < bestCopy.seconds { bestCopy = result }
}
let copyMegabytes = Double(copyStream.count) / 1e6
print(String(format: "(c) COPY binary rows         %d rows, %.1f MB: %.2f M rows/s, %.0f MB/s (best of 3, %.3f s; checksum %lld)",
             bestCopy.rows, copyMegabytes, Double(bestCopy.rows) / bestCopy.seconds / 1e6, copyMegabytes / bestCopy.seconds,
             bestCopy.seconds, bestCopy.checksum))
