/// KeyValue of parquet.thrift.
struct KeyValue: ThriftEncodable, ThriftDecodable {
    var key: String
    var value: String?

    init(key: String, value: String?) { self.key = key; self.value = value }

    func encodeFields(_ e: inout CompactEncoder) {
        e.field(1, string: key)
        if let value { e.field(2, string: value) }
    }

    init(from d: inout CompactDecoder) throws {
        var k: String?, v: String?
        try d.readStruct { d, id, t in
            switch id {
            case 1: k = try d.string(t)
            case 2: v = try d.string(t)
            default: return false
            }
            return true
        }
        guard let k else { throw DecodeError("KeyValue without key", at: d.position) }
        key = k; value = v
    }
}

/// FileMetaData of parquet.thrift: the footer.
struct FileMetaData: ThriftEncodable, ThriftDecodable {
    var version: Int32 = 1
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroup] = []
    var keyValueMetadata: [KeyValue]?
    var createdBy: String?
    /// Number of `TypeDefinedOrder` column orders to write (one per leaf), or nil for none.
    var typeDefinedColumnOrders: Int?

    init() {}

    func encodeFields(_ e: inout CompactEncoder) {
        e.field(1, i32: version)
        e.field(2, list: schema)
        e.field(3, i64: numRows)
        e.field(4, list: rowGroups)
        if let keyValueMetadata { e.field(5, list: keyValueMetadata) }
        if let createdBy { e.field(6, string: createdBy) }
        if let n = typeDefinedColumnOrders {
            e.field(7, structList: Array(repeating: 0, count: n)) { e, _ in e.field(1, struct: { _ in }) }
        }
    }

    init(from d: inout CompactDecoder) throws {
        var seen = Set<Int16>()
        try d.readStruct { d, id, t in
            switch id {
            case 1: version = try d.i32(t)
            case 2: schema = try d.structList(t)
            case 3: numRows = try d.i64(t)
            case 4: rowGroups = try d.structList(t)
            case 5: keyValueMetadata = try d.structList(t)
            case 6: createdBy = try d.string(t)
            default: return false
            }
            seen.insert(id)
            return true
        }
        guard seen.isSuperset(of: [2, 3, 4]) else { throw DecodeError("FileMetaData misses required fields", at: d.position) }
    }
}

/// RowGroup of parquet.thrift.
struct RowGroup: ThriftEncodable, ThriftDecodable {
    var columns: [ColumnChunk] = []
    var totalByteSize: Int64 = 0
    var numRows: Int64 = 0
    var fileOffset: Int64?
    var totalCompressedSize: Int64?
    var ordinal: Int16?

    init() {}

    func encodeFields(_ e: inout CompactEncoder) {
        e.field(1, list: columns)
        e.field(2, i64: totalByteSize)
        e.field(3, i64: numRows)
        if let fileOffset { e.field(5, i64: fileOffset) }
        if let totalCompressedSize { e.field(6, i64: totalCompressedSize) }
        if let ordinal { e.field(7, i16: ordinal) }
    }

    init(from d: inout CompactDecoder) throws {
        var seen = Set<Int16>()
        try d.readStruct { d, id, t in
            switch id {
            case 1: columns = try d.structList(t)
            case 2: totalByteSize = try d.i64(t)
            case 3: numRows = try d.i64(t)
            case 5: fileOffset = try d.i64(t)
            case 6: totalCompressedSize = try d.i64(t)
            default: return false
            }
            seen.insert(id)
            return true
        }
        guard seen.isSuperset(of: [1, 3]) else { throw DecodeError("RowGroup misses required fields", at: d.position) }
    }
}

/// ColumnChunk of parquet.thrift.
struct ColumnChunk: ThriftEncodable, ThriftDecodable {
    var filePath: String?
    var fileOffset: Int64 = 0
    var metaData: ColumnMetaData?

    init(fileOffset: Int64, metaData: ColumnMetaData) { self.fileOffset = fileOffset; self.metaData = metaData }

    func encodeFields(_ e: inout CompactEncoder) {
        if let filePath { e.field(1, string: filePath) }
        e.field(2, i64: fileOffset)
        if let metaData { e.field(3, metaData) }
    }

    init(from d: inout CompactDecoder) throws {
        try d.readStruct { d, id, t in
            switch id {
            case 1: filePath = try d.string(t)
            case 2: fileOffset = try d.i64(t)
            case 3: metaData = try d.structValue(t, ColumnMetaData.self)
            default: return false
            }
            return true
        }
    }
}

/// ColumnMetaData of parquet.thrift.
struct ColumnMetaData: ThriftEncodable, ThriftDecodable {
    var type: PhysicalType = .int32
    var encodings: [Int32] = []
    var pathInSchema: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalUncompressedSize: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var indexPageOffset: Int64?
    var dictionaryPageOffset: Int64?
    var statistics: Statistics?

    init() {}

    func encodeFields(_ e: inout CompactEncoder) {
        e.field(1, i32: type.rawValue)
        e.field(2, i32List: encodings)
        e.field(3, stringList: pathInSchema)
        e.field(4, i32: codec)
        e.field(5, i64: numValues)
        e.field(6, i64: totalUncompressedSize)
        e.field(7, i64: totalCompressedSize)
        e.field(9, i64: dataPageOffset)
        if let indexPageOffset { e.field(10, i64: indexPageOffset) }
        if let dictionaryPageOffset { e.field(11, i64: dictionaryPageOffset) }
        if let statistics { e.field(12, statistics) }
    }

    init(from d: inout CompactDecoder) throws {
        var seen = Set<Int16>()
        try d.readStruct { d, id, t in
            switch id {
            case 1: type = try d.physicalType(t)
            case 2: encodings = try d.i32List(t)
            case 3: pathInSchema = try d.stringList(t)
            case 4: codec = try d.i32(t)
            case 5: numValues = try d.i64(t)
            case 6: totalUncompressedSize = try d.i64(t)
            case 7: totalCompressedSize = try d.i64(t)
            case 9: dataPageOffset = try d.i64(t)
            case 10: indexPageOffset = try d.i64(t)
            case 11: dictionaryPageOffset = try d.i64(t)
            case 12: statistics = try d.structValue(t, Statistics.self)
            default: return false
            }
            seen.insert(id)
            return true
        }
        guard seen.isSuperset(of: [1, 4, 5, 7, 9]) else { throw DecodeError("ColumnMetaData misses required fields", at: d.position) }
    }
}
