/// PostgreSQL's `range_out` / `multirange_out` text of binary ranges and multiranges of the built-in range types
/// (int4range, int8range, numrange, daterange, tsrange, tstzrange): `[1,10)`, `empty`, `(,5]`,
/// `["2024-01-01 00:00:00+00","2024-02-01 00:00:00+00")`, `{[1,3),[5,8)}`.
enum RangeText {
    /// The bound type of a built-in range type, nil for any other type.
    static func boundType(ofRange oid: UInt32) -> UInt32? {
        switch oid {
        case 3904: return TypeOID.int4
        case 3926: return TypeOID.int8
        case 3906: return TypeOID.numeric
        case 3912: return TypeOID.date
        case 3908: return TypeOID.timestamp
        case 3910: return TypeOID.timestamptz
        default: return nil
        }
    }

    /// The range type of a built-in multirange type, nil for any other type.
    static func rangeType(ofMultirange oid: UInt32) -> UInt32? {
        switch oid {
        case 4451: return 3904
        case 4536: return 3926
        case 4532: return 3906
        case 4535: return 3912
        case 4533: return 3908
        case 4534: return 3910
        default: return nil
        }
    }

    /// `range_send`: a flags byte (0x01 empty, 0x02 lower inclusive, 0x04 upper inclusive, 0x08 / 0x10 lower / upper
    /// infinite), then each finite bound as a length and its send form.
    static func appendRange(_ raw: UnsafeRawBufferPointer, boundType: UInt32, to out: inout [UInt8]) throws(ValueParseError) {
        guard let flags = raw.first else { throw .invalidLength(type: "range", expected: 1, actual: 0) }
        if flags & 0x01 != 0 {
            guard raw.count == 1 else { throw .invalidBinary(type: "range", reason: "bytes after an empty range") }
            out.append(contentsOf: "empty".utf8)
            return
        }
        var offset = 1
        out.append(UInt8(ascii: flags & 0x02 != 0 ? "[" : "("))
        if flags & 0x28 == 0 { try appendBound(raw, at: &offset, boundType: boundType, to: &out) }
        out.append(UInt8(ascii: ","))
        if flags & 0x50 == 0 { try appendBound(raw, at: &offset, boundType: boundType, to: &out) }
        out.append(UInt8(ascii: flags & 0x04 != 0 ? "]" : ")"))
        guard offset == raw.count else { throw .invalidBinary(type: "range", reason: "trailing bytes") }
    }

    /// `multirange_send`: a range count, then each range as a length and its `range_send` form; printed `{r1,r2}`.
    static func appendMultirange(_ raw: UnsafeRawBufferPointer, boundType: UInt32, to out: inout [UInt8]) throws(ValueParseError) {
        guard raw.count >= 4 else { throw .invalidLength(type: "multirange", expected: 4, actual: raw.count) }
        let count = Int(raw.loadBigEndian(as: UInt32.self))
        var offset = 4
        out.append(UInt8(ascii: "{"))
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            try appendRange(try slice(raw, at: &offset, type: "multirange"), boundType: boundType, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        guard offset == raw.count else { throw .invalidBinary(type: "multirange", reason: "trailing bytes") }
    }

    /// One bound's text, quoted as `range_bound_escape` does: when empty or holding `"`, `\`, `(`, `)`, `[`, `]`, `,` or
    /// white space, in double quotes with `"` and `\` doubled.
    private static func appendBound(_ raw: UnsafeRawBufferPointer, at offset: inout Int, boundType: UInt32,
                                    to out: inout [UInt8]) throws(ValueParseError) {
        let start = out.count
        try OutputText.appendElement(try slice(raw, at: &offset, type: "range"), typeOID: boundType, to: &out)
        let (escapes, special) = InPlaceQuoting.scan(out, from: start) { byte in
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["),
                 UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: " "), 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return true
            default: return false
            }
        }
        guard out.count == start || special else { return }
        InPlaceQuoting.quote(&out, from: start, escapes: escapes) { $0 }
    }

    /// The next length-prefixed field of `raw` at `offset`.
    private static func slice(_ raw: UnsafeRawBufferPointer, at offset: inout Int, type: String) throws(ValueParseError) -> UnsafeRawBufferPointer {
        guard offset + 4 <= raw.count else { throw .invalidLength(type: type, expected: offset + 4, actual: raw.count) }
        let length = Int(raw.loadBigEndian(fromByteOffset: offset, as: Int32.self))
        offset += 4
        guard length >= 0, offset + length <= raw.count else { throw .invalidLength(type: type, expected: offset + max(length, 0), actual: raw.count) }
        defer { offset += length }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])
    }
}
