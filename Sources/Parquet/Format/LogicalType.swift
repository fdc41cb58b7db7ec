/// TimeUnit union of parquet.thrift.
enum TimeUnit: Int16, Equatable {
    case millis = 1, micros = 2, nanos = 3
}

/// LogicalType union of parquet.thrift (the members Freshet writes; others decode as `.other`).
enum LogicalType: Equatable, ThriftEncodable, ThriftDecodable {
    case string, date, json, uuid, bson, enumType
    case decimal(scale: Int32, precision: Int32)
    case timestamp(utc: Bool, unit: TimeUnit)
    case time(utc: Bool, unit: TimeUnit)
    case integer(bitWidth: Int8, signed: Bool)
    case other(Int16)

    func encodeFields(_ e: inout CompactEncoder) {
        switch self {
        case .string: e.field(1, struct: { _ in })
        case .enumType: e.field(4, struct: { _ in })
        case let .decimal(scale, precision):
            e.field(5, struct: { $0.field(1, i32: scale); $0.field(2, i32: precision) })
        case .date: e.field(6, struct: { _ in })
        case let .time(utc, unit):
            e.field(7, struct: { $0.field(1, bool: utc); $0.field(2, struct: { $0.field(unit.rawValue, struct: { _ in }) }) })
        case let .timestamp(utc, unit):
            e.field(8, struct: { $0.field(1, bool: utc); $0.field(2, struct: { $0.field(unit.rawValue, struct: { _ in }) }) })
        case let .integer(bits, signed):
            e.field(10, struct: { $0.field(1, i8: bits); $0.field(2, bool: signed) })
        case .json: e.field(12, struct: { _ in })
        case .bson: e.field(13, struct: { _ in })
        case .uuid: e.field(14, struct: { _ in })
        case .other: break
        }
    }

    init(from d: inout CompactDecoder) throws {
        var result: LogicalType? = nil
        try d.readStruct { d, id, t in
            switch id {
            case 1: result = .string
            case 4: result = .enumType
            case 6: result = .date
            case 12: result = .json
            case 13: result = .bson
            case 14: result = .uuid
            case 5:
                try d.expect(t, .struct)
                var scale: Int32 = 0, precision: Int32 = 0
                try d.readStruct { d, id, t in
                    switch id {
                    case 1: scale = try d.i32(t)
                    case 2: precision = try d.i32(t)
                    default: return false
                    }
                    return true
                }
                result = .decimal(scale: scale, precision: precision)
                return true
            case 7, 8:
                try d.expect(t, .struct)
                var utc = false
                var unit = TimeUnit.millis
                try d.readStruct { d, id, t in
                    switch id {
                    case 1: utc = try d.bool(t)
                    case 2:
                        try d.expect(t, .struct)
                        try d.readStruct { d, id, t in
                            if let u = TimeUnit(rawValue: id) { unit = u }
                            return false
                        }
                    default: return false
                    }
                    return true
                }
                result = id == 8 ? .timestamp(utc: utc, unit: unit) : .time(utc: utc, unit: unit)
                return true
            case 10:
                try d.expect(t, .struct)
                var bits: Int8 = 0, signed = true
                try d.readStruct { d, id, t in
                    switch id {
                    case 1: bits = try d.i8(t)
                    case 2: signed = try d.bool(t)
                    default: return false
                    }
                    return true
                }
                result = .integer(bitWidth: bits, signed: signed)
                return true
            default:
                result = .other(id)
            }
            return false  // skip the (empty) member struct
        }
        self = result ?? .other(0)
    }
}
