/// Statistics struct of parquet.thrift (chunk or page level).
struct Statistics: ThriftEncodable, ThriftDecodable, Equatable {
    var max: [UInt8]?
    var min: [UInt8]?
    var nullCount: Int64?
    var distinctCount: Int64?
    var maxValue: [UInt8]?
    var minValue: [UInt8]?
    var nanCount: Int64?

    init() {}

    func encodeFields(_ e: inout CompactEncoder) {
        if let max { e.field(1, binary: max) }
        if let min { e.field(2, binary: min) }
        if let nullCount { e.field(3, i64: nullCount) }
        if let distinctCount { e.field(4, i64: distinctCount) }
        if let maxValue { e.field(5, binary: maxValue) }
        if let minValue { e.field(6, binary: minValue) }
        if let nanCount { e.field(9, i64: nanCount) }
    }

    init(from d: inout CompactDecoder) throws {
        try d.readStruct { d, id, t in
            switch id {
            case 1: max = try d.binary(t)
            case 2: min = try d.binary(t)
            case 3: nullCount = try d.i64(t)
            case 4: distinctCount = try d.i64(t)
            case 5: maxValue = try d.binary(t)
            case 6: minValue = try d.binary(t)
            case 9: nanCount = try d.i64(t)
            default: return false
            }
            return true
        }
    }
}
