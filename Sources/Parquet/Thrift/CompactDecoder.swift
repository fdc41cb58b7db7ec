/// Thrift compact protocol reader over a byte buffer. Every read is bounds-checked; sizes coming from the
/// input are validated against the remaining bytes, and nesting depth is limited, so corrupt input ends
/// in a `DecodeError` rather than a trap, a huge allocation or a stack overflow.
struct CompactDecoder {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    private var depth = 0
    static let maxDepth = 64

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { end - position }

    // MARK: primitives

    mutating func readByte() throws -> UInt8 {
        guard position < end else { throw DecodeError("unexpected end of thrift data", at: position) }
        let b = bytes[position]
        position += 1
        return b
    }

    mutating func readVarint() throws -> UInt64 {
        try decodeVarint { try readByte() }
    }

    mutating func readZigzag() throws -> Int64 {
        let u = try readVarint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    mutating func readI32() throws -> Int32 {
        let v = try readZigzag()
        guard let r = Int32(exactly: v) else { throw DecodeError("i32 out of range", at: position) }
        return r
    }

    mutating func readI16() throws -> Int16 {
        let v = try readZigzag()
        guard let r = Int16(exactly: v) else { throw DecodeError("i16 out of range", at: position) }
        return r
    }

    mutating func readDouble() throws -> Double {
        guard remaining >= 8 else { throw DecodeError("truncated double", at: position) }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return Double(bitPattern: bits)
    }

    mutating func readBinary() throws -> [UInt8] {
        let n = try readVarint()
        guard n <= UInt64(remaining) else { throw DecodeError("binary length \(n) exceeds data", at: position) }
        let r = Array(bytes[position..<position + Int(n)])
        position += Int(n)
        return r
    }

    mutating func readString() throws -> String {
        String(decoding: try readBinary(), as: UTF8.self)
    }

    // MARK: structured values

    /// Reads one struct: calls `field` for each field header; `field` returns false for fields it does not
    /// know, which are then skipped. Bool field values are in the type (`boolTrue`/`boolFalse`).
    mutating func readStruct(_ field: (inout CompactDecoder, Int16, CompactType) throws -> Bool) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw DecodeError("thrift nesting too deep", at: position) }
        var last: Int16 = 0
        while true {
            let header = try readByte()
            if header == 0 { return }
            guard let type = CompactType(rawValue: header & 0x0F), type != .stop else {
                throw DecodeError("bad field type \(header & 0x0F)", at: position - 1)
            }
            let delta = Int16(header >> 4)
            let id: Int16
            if delta != 0 {
                let (sum, overflow) = last.addingReportingOverflow(delta)
                guard !overflow else { throw DecodeError("field id overflow", at: position) }
                id = sum
            } else {
                id = try readI16()
            }
            last = id
            if try !field(&self, id, type) {
                try skip(type)
            }
        }
    }

    /// Reads a list header: element type and count (count validated against remaining bytes).
    mutating func readListHeader() throws -> (CompactType, Int) {
        let h = try readByte()
        var count = Int(h >> 4)
        if count == 15 {
            let n = try readVarint()
            guard n <= UInt64(remaining) else { throw DecodeError("list size \(n) exceeds data", at: position) }
            count = Int(n)
        }
        guard let t = CompactType(rawValue: h & 0x0F), t != .stop else {
            throw DecodeError("bad list element type", at: position - 1)
        }
        guard count <= remaining || (count == 0) else { throw DecodeError("list size exceeds data", at: position) }
        return (t, count)
    }

    /// Reads a list of elements with `element`.
    mutating func readList<T>(_ element: (inout CompactDecoder, CompactType) throws -> T) throws -> [T] {
        let (t, n) = try readListHeader()
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try element(&self, t)) }
        return out
    }

    /// Skips one value of `type` (any type, including nested containers).
    mutating func skip(_ type: CompactType) throws {
        switch type {
        case .stop: throw DecodeError("unexpected stop", at: position)
        case .boolTrue, .boolFalse: return  // value lives in the field header
        case .i8: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double:
            guard remaining >= 8 else { throw DecodeError("truncated double", at: position) }
            position += 8
        case .binary:
            let n = try readVarint()
            guard n <= UInt64(remaining) else { throw DecodeError("binary length exceeds data", at: position) }
            position += Int(n)
        case .list, .set:
            let (t, n) = try readListHeader()
            try nested {
                for _ in 0..<n {
                    if t == .boolTrue || t == .boolFalse { _ = try $0.readByte() } else { try $0.skip(t) }
                }
            }
        case .map:
            let n = try readVarint()
            guard n <= UInt64(remaining) else { throw DecodeError("map size exceeds data", at: position) }
            if n == 0 { return }
            let kv = try readByte()
            guard let kt = CompactType(rawValue: kv >> 4), let vt = CompactType(rawValue: kv & 0x0F) else {
                throw DecodeError("bad map types", at: position - 1)
            }
            try nested {
                for _ in 0..<Int(n) {
                    if kt == .boolTrue || kt == .boolFalse { _ = try $0.readByte() } else { try $0.skip(kt) }
                    if vt == .boolTrue || vt == .boolFalse { _ = try $0.readByte() } else { try $0.skip(vt) }
                }
            }
        case .struct:
            try readStruct { _, _, _ in false }
        }
    }

    private mutating func nested(_ body: (inout CompactDecoder) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw DecodeError("thrift nesting too deep", at: position) }
        try body(&self)
    }

    // MARK: typed field helpers (throw when the wire type does not match)

    func expect(_ actual: CompactType, _ expected: CompactType) throws {
        guard actual == expected else {
            throw DecodeError("field has type \(actual) but \(expected) was expected", at: position)
        }
    }

    mutating func i32(_ t: CompactType) throws -> Int32 { try expect(t, .i32); return try readI32() }
    mutating func i64(_ t: CompactType) throws -> Int64 { try expect(t, .i64); return try readZigzag() }
    mutating func binary(_ t: CompactType) throws -> [UInt8] { try expect(t, .binary); return try readBinary() }
    mutating func string(_ t: CompactType) throws -> String { try expect(t, .binary); return try readString() }
    func bool(_ t: CompactType) throws -> Bool {
        guard t == .boolTrue || t == .boolFalse else { throw DecodeError("expected bool", at: position) }
        return t == .boolTrue
    }
    mutating func physicalType(_ t: CompactType) throws -> PhysicalType {
        let raw = try i32(t)
        guard let pt = PhysicalType(rawValue: raw) else { throw DecodeError("unknown physical type \(raw)", at: position) }
        return pt
    }
    mutating func i8(_ t: CompactType) throws -> Int8 { try expect(t, .i8); return Int8(bitPattern: try readByte()) }

    mutating func i32List(_ t: CompactType) throws -> [Int32] {
        try expect(t, .list)
        return try readList { d, et in try d.expect(et, .i32); return try d.readI32() }
    }
    mutating func stringList(_ t: CompactType) throws -> [String] {
        try expect(t, .list)
        return try readList { d, et in try d.expect(et, .binary); return try d.readString() }
    }
    mutating func structValue<T: ThriftDecodable>(_ t: CompactType, _: T.Type = T.self) throws -> T {
        try expect(t, .struct)
        return try T(from: &self)
    }
    mutating func structList<T: ThriftDecodable>(_ t: CompactType, _: T.Type = T.self) throws -> [T] {
        try expect(t, .list)
        return try readList { d, et in try d.expect(et, .struct); return try T(from: &d) }
    }
}

/// Unsigned LEB128 from a byte source (at most 10 bytes).
@inline(__always) func decodeVarint(_ next: () throws -> UInt8) throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
        let b = try next()
        guard shift < 64 else { throw DecodeError("varint too long", at: 0) }
        result |= UInt64(b & 0x7F) << shift
        if b & 0x80 == 0 { return result }
        shift += 7
    }
}

/// A Thrift struct that can be read with the compact protocol (reads the fields through the stop byte).
protocol ThriftDecodable {
    init(from d: inout CompactDecoder) throws
}
