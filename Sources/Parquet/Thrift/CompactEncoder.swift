/// Thrift compact protocol writer. Structs are written with `beginStruct`/`endStruct`; field ids must be
/// written in ascending order inside each struct (the delta is relative to the previous field of the same struct).
struct CompactEncoder {
    var bytes: [UInt8] = []
    private var lastFieldStack: [Int16] = []
    private var lastField: Int16 = 0

    init() { bytes.reserveCapacity(256) }

    // MARK: primitives

    mutating func writeVarint(_ v: UInt64) { bytes.appendVarint(v) }

    mutating func writeZigzag(_ v: Int64) { bytes.appendZigzag(v) }

    mutating func writeBinary(_ b: [UInt8]) {
        writeVarint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }

    mutating func writeString(_ s: String) { writeBinary(Array(s.utf8)) }

    // MARK: structs and fields

    mutating func beginStruct() {
        lastFieldStack.append(lastField)
        lastField = 0
    }

    mutating func endStruct() {
        bytes.append(0)
        lastField = lastFieldStack.popLast() ?? 0
    }

    mutating func fieldHeader(_ id: Int16, _ type: CompactType) {
        let delta = Int(id) - Int(lastField)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta << 4) | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeZigzag(Int64(id))
        }
        lastField = id
    }

    mutating func field(_ id: Int16, i32 v: Int32) { fieldHeader(id, .i32); writeZigzag(Int64(v)) }
    mutating func field(_ id: Int16, i64 v: Int64) { fieldHeader(id, .i64); writeZigzag(v) }
    mutating func field(_ id: Int16, i16 v: Int16) { fieldHeader(id, .i16); writeZigzag(Int64(v)) }
    mutating func field(_ id: Int16, i8 v: Int8) { fieldHeader(id, .i8); bytes.append(UInt8(bitPattern: v)) }
    mutating func field(_ id: Int16, bool v: Bool) { fieldHeader(id, v ? .boolTrue : .boolFalse) }
    mutating func field(_ id: Int16, binary v: [UInt8]) { fieldHeader(id, .binary); writeBinary(v) }
    mutating func field(_ id: Int16, string v: String) { fieldHeader(id, .binary); writeString(v) }
    mutating func field(_ id: Int16, double v: Double) {
        fieldHeader(id, .double)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes a struct-typed field; `body` writes the nested fields.
    mutating func field(_ id: Int16, struct body: (inout CompactEncoder) -> Void) {
        fieldHeader(id, .struct)
        beginStruct()
        body(&self)
        endStruct()
    }

    mutating func listHeader(_ count: Int, _ elem: CompactType) {
        if count <= 14 {
            bytes.append(UInt8(count << 4) | elem.rawValue)
        } else {
            bytes.append(0xF0 | elem.rawValue)
            writeVarint(UInt64(count))
        }
    }

    mutating func field(_ id: Int16, i32List v: [Int32]) {
        fieldHeader(id, .list)
        listHeader(v.count, .i32)
        for x in v { writeZigzag(Int64(x)) }
    }

    mutating func field(_ id: Int16, stringList v: [String]) {
        fieldHeader(id, .list)
        listHeader(v.count, .binary)
        for x in v { writeString(x) }
    }

    /// Writes a list of structs; `body` writes the fields of one element.
    mutating func field<T>(_ id: Int16, structList v: [T], _ body: (inout CompactEncoder, T) -> Void) {
        fieldHeader(id, .list)
        listHeader(v.count, .struct)
        for x in v {
            beginStruct()
            body(&self, x)
            endStruct()
        }
    }
}

/// A Thrift struct that can be written with the compact protocol.
protocol ThriftEncodable {
    /// Writes the fields of `self` (without the enclosing begin/end).
    func encodeFields(_ e: inout CompactEncoder)
}

extension ThriftEncodable {
    /// The compact encoding of `self` as a top-level struct (fields + stop byte).
    func thriftBytes() -> [UInt8] {
        var e = CompactEncoder()
        e.beginStruct()
        encodeFields(&e)
        e.endStruct()
        return e.bytes
    }
}

extension CompactEncoder {
    mutating func field(_ id: Int16, _ value: some ThriftEncodable) {
        field(id, struct: { value.encodeFields(&$0) })
    }
    mutating func field(_ id: Int16, list: [some ThriftEncodable]) {
        field(id, structList: list) { e, x in x.encodeFields(&e) }
    }
}
