/// PostgreSQL's output-function text of binary send forms, for the types whose text Freshet stores and whose binary
/// form it can format exactly: `inet`, `cidr`, `macaddr`, `macaddr8`, `time`, `timetz`, `interval`, `bit`, `varbit`, the
/// built-in ranges and multiranges (int4, int8, num, date, ts, tstz), and arrays of
/// those and of int2/int4/int8, bool, numeric, text/varchar/bpchar/name, uuid, json/jsonb, date, timestamp and
/// timestamptz. The snapshot reads these types in binary and formats them here instead of making the server run
/// their output functions (the same text under `Connection`'s session settings; `TypeMatrixTests` checks it).
public enum OutputText {
    /// Whether `connection`'s session prints values as `append` does: TimeZone UTC, DateStyle ISO, IntervalStyle
    /// postgres (what `Connection` sets, unless the connection string's `options` override it). Otherwise the caller
    /// must take the server's output text.
    public static func sessionMatches(_ connection: Connection) throws -> Bool {
        let row = try connection.query("SELECT current_setting('TimeZone'), current_setting('DateStyle'), current_setting('IntervalStyle')").rows.first
        guard let row, row.count == 3 else { return false }
        return ["UTC", "Etc/UTC"].contains(row[0] ?? "") && (row[1] ?? "").hasPrefix("ISO") && row[2] == "postgres"
    }

    /// Whether `append` formats the binary form of type `typeOID` (a top-level column type).
    public static func formats(_ typeOID: UInt32) -> Bool {
        switch typeOID {
        case inet, cidr, macaddr, macaddr8, TypeOID.time, timetz, TypeOID.interval, bit, varbit: return true
        default:
            return arrayElement(typeOID) != nil || RangeText.boundType(ofRange: typeOID) != nil
                || RangeText.rangeType(ofMultirange: typeOID) != nil
        }
    }

    /// Appends the output text of the binary value `raw` of type `typeOID` (one `formats` accepts) to `out`.
    public static func append(_ raw: UnsafeRawBufferPointer, typeOID: UInt32, to out: inout [UInt8]) throws(ValueParseError) {
        switch typeOID {
        case inet, cidr: try NetworkText.appendInet(raw, to: &out)
        case macaddr: try NetworkText.appendMacaddr(raw, length: 6, to: &out)
        case macaddr8: try NetworkText.appendMacaddr(raw, length: 8, to: &out)
        case TypeOID.time: try DateTimeText.appendTime(raw, to: &out)
        case timetz: try DateTimeText.appendTimetz(raw, to: &out)
        case TypeOID.interval: try DateTimeText.appendInterval(raw, to: &out)
        case bit, varbit: try appendBits(raw, to: &out)
        default:
            if let bound = RangeText.boundType(ofRange: typeOID) {
                try RangeText.appendRange(raw, boundType: bound, to: &out)
            } else if let range = RangeText.rangeType(ofMultirange: typeOID), let bound = RangeText.boundType(ofRange: range) {
                try RangeText.appendMultirange(raw, boundType: bound, to: &out)
            } else if arrayElement(typeOID) != nil {
                try ArrayText.append(raw, to: &out)
            } else {
                throw .invalidBinary(type: "oid \(typeOID)", reason: "no binary formatter")
            }
        }
    }

    /// Appends an array element's text (element types of `arrayElement`) to `out`.
    static func appendElement(_ raw: UnsafeRawBufferPointer, typeOID: UInt32, to out: inout [UInt8]) throws(ValueParseError) {
        switch typeOID {
        case TypeOID.int2: DecimalText.appendSigned(Int64(try BinaryValueParser.parseInt16(raw)), to: &out)
        case TypeOID.int4: DecimalText.appendSigned(Int64(try BinaryValueParser.parseInt32(raw)), to: &out)
        case TypeOID.int8: DecimalText.appendSigned(try BinaryValueParser.parseInt64(raw), to: &out)
        case TypeOID.bool: out.append(UInt8(ascii: try BinaryValueParser.parseBool(raw) ? "t" : "f"))
        case TypeOID.numeric: try BinaryValueParser.appendNumericText(raw, to: &out)
        case TypeOID.text, TypeOID.varchar, TypeOID.bpchar, TypeOID.name, TypeOID.json: out.append(contentsOf: raw)
        case TypeOID.jsonb: out.append(contentsOf: try BinaryValueParser.jsonbText(raw))
        case TypeOID.uuid: try BinaryValueParser.appendUUIDText(raw, to: &out)
        case TypeOID.date: DateTimeText.appendDate(try BinaryValueParser.parseDateDays(raw), to: &out)
        case TypeOID.timestamp: DateTimeText.appendTimestamp(try BinaryValueParser.parseTimestampMicros(raw), withZone: false, to: &out)
        case TypeOID.timestamptz: DateTimeText.appendTimestamp(try BinaryValueParser.parseTimestamptzMicros(raw), withZone: true, to: &out)
        default: try append(raw, typeOID: typeOID, to: &out)
        }
    }

    /// The element type of an array type `append` formats, nil for any other type.
    static func arrayElement(_ arrayOID: UInt32) -> UInt32? {
        switch arrayOID {
        case 1005: return TypeOID.int2
        case 1007: return TypeOID.int4
        case 1016: return TypeOID.int8
        case 1000: return TypeOID.bool
        case 1231: return TypeOID.numeric
        case 1009: return TypeOID.text
        case 1015: return TypeOID.varchar
        case 1014: return TypeOID.bpchar
        case 1003: return TypeOID.name
        case 199: return TypeOID.json
        case 3807: return TypeOID.jsonb
        case 2951: return TypeOID.uuid
        case 1182: return TypeOID.date
        case 1115: return TypeOID.timestamp
        case 1185: return TypeOID.timestamptz
        case 1041: return inet
        case 651: return cidr
        case 1040: return macaddr
        case 775: return macaddr8
        case 1183: return TypeOID.time
        case 1270: return timetz
        case 1187: return TypeOID.interval
        case 1561: return bit
        case 1563: return varbit
        case 3905: return 3904   // arrays of the built-in ranges
        case 3927: return 3926
        case 3907: return 3906
        case 3913: return 3912
        case 3909: return 3908
        case 3911: return 3910
        default: return nil
        }
    }

    /// `bit` / `varbit` send form (Int32 bit count, then the bits, most significant first) as `0` and `1` characters.
    static func appendBits(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) throws(ValueParseError) {
        guard raw.count >= 4 else { throw .invalidLength(type: "bit", expected: 4, actual: raw.count) }
        let count = Int(raw.loadBigEndian(as: Int32.self))
        guard count >= 0, raw.count == 4 + (count + 7) / 8 else {
            throw .invalidLength(type: "bit", expected: 4 + (max(count, 0) + 7) / 8, actual: raw.count)
        }
        for i in 0..<count { out.append(raw[4 + i / 8] & (0x80 >> UInt8(i % 8)) != 0 ? UInt8(ascii: "1") : UInt8(ascii: "0")) }
    }

    static let bit: UInt32 = 1560, varbit: UInt32 = 1562
    static let inet: UInt32 = 869, cidr: UInt32 = 650, macaddr: UInt32 = 829, macaddr8: UInt32 = 774, timetz: UInt32 = 1266
}
