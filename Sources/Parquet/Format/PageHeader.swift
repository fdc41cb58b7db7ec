/// DataPageHeader (v1) of parquet.thrift.
struct DataPageHeader: ThriftEncodable, ThriftDecodable {
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = Encoding.rle.rawValue
    var repetitionLevelEncoding: Int32 = Encoding.rle.rawValue
    var statistics: Statistics?

    init(numValues: Int32, encoding: Encoding) { self.numValues = numValues; self.encoding = encoding.rawValue }

    func encodeFields(_ e: inout CompactEncoder) {
        e.field(1, i32: numValues)
        e.field(2, i32: encoding)
        e.field(3, i32: definitionLevelEncoding)
        e.field(4, i32: repetitionLevelEncoding)
        if let statistics { e.field(5, statistics) }
    }

    init(from d: inout CompactDecoder) throws {
        var seen = Set<Int16>()
        try d.readStruct { d, id, t in
            switch id {
            case 1: numValues = try d.i32(t)
            case 2: encoding = try d.i32(t)
            case 3: definitionLevelEncoding = try d.i32(t)
            case 4: repetitionLevelEncoding = try d.i32(t)
            case 5: statistics = try d.structValue(t, Statistics.self)
            default: return false
            }
            seen.insert(id)
            return true
        }
        guard seen.isSuperset(of: [1, 2]) else { throw DecodeError("DataPageHeader misses required fields", at: d.position) }
    }
}

/// DataPageHeaderV2 of parquet.thrift.
struct DataPageHeaderV2: ThriftDecodable {
    var numValues: Int32 = 0
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed = true

    init(from d: inout CompactDecoder) throws {
        var seen = Set<Int16>()
        try d.readStruct { d, id, t in
            switch id {
            case 1: numValues = try d.i32(t)
            case 2: numNulls = try d.i32(t)
            case 3: numRows = try d.i32(t)
            case 4: encoding = try d.i32(t)
            case 5: definitionLevelsByteLength = try d.i32(t)
            case 6: repetitionLevelsByteLength = try d.i32(t)
            case 7: isCompressed = try d.bool(t)
            default: return false
            }
            seen.insert(id)
            return true
        }
        guard seen.isSuperset(of: [1, 2, 3, 4, 5, 6]) else { throw DecodeError("DataPageHeaderV2 misses required fields", at: d.position) }
    }
}

/// DictionaryPageHeader of parquet.thrift.
struct DictionaryPageHeader: ThriftEncodable, ThriftDecodable {
    var numValues: Int32 = 0
    var encoding: Int32 = Encoding.plain.rawValue
    var isSorted: Bool?

    init(numValues: Int32) { self.numValues = numValues }

    func encodeFields(_ e: inout CompactEncoder) {
        e.field(1, i32: numValues)
        e.field(2, i32: encoding)
        if let isSorted { e.field(3, bool: isSorted) }
    }

    init(from d: inout CompactDecoder) throws {
        try d.readStruct { d, id, t in
            switch id {
            case 1: numValues = try d.i32(t)
            case 2: encoding = try d.i32(t)
            case 3: isSorted = try d.bool(t)
            default: return false
            }
            return true
        }
    }
}

/// PageHeader of parquet.thrift.
struct PageHeader: ThriftEncodable, ThriftDecodable {
    var type: Int32 = 0
    var uncompressedPageSize: Int32 = 0
    var compressedPageSize: Int32 = 0
    var crc: Int32?
    var dataPageHeader: DataPageHeader?
    var dictionaryPageHeader: DictionaryPageHeader?
    var dataPageHeaderV2: DataPageHeaderV2?

    init(type: PageType, uncompressedPageSize: Int32, compressedPageSize: Int32) {
        self.type = type.rawValue
        self.uncompressedPageSize = uncompressedPageSize
        self.compressedPageSize = compressedPageSize
    }

    func encodeFields(_ e: inout CompactEncoder) {
        e.field(1, i32: type)
        e.field(2, i32: uncompressedPageSize)
        e.field(3, i32: compressedPageSize)
        if let crc { e.field(4, i32: crc) }
        if let dataPageHeader { e.field(5, dataPageHeader) }
        if let dictionaryPageHeader { e.field(7, dictionaryPageHeader) }
    }

    init(from d: inout CompactDecoder) throws {
        var seen = Set<Int16>()
        try d.readStruct { d, id, t in
            switch id {
            case 1: type = try d.i32(t)
            case 2: uncompressedPageSize = try d.i32(t)
            case 3: compressedPageSize = try d.i32(t)
            case 4: crc = try d.i32(t)
            case 5: dataPageHeader = try d.structValue(t, DataPageHeader.self)
            case 7: dictionaryPageHeader = try d.structValue(t, DictionaryPageHeader.self)
            case 8: dataPageHeaderV2 = try d.structValue(t, DataPageHeaderV2.self)
            default: return false
            }
            seen.insert(id)
            return true
        }
        guard seen.isSuperset(of: [1, 2, 3]) else { throw DecodeError("PageHeader misses required fields", at: d.position) }
        guard uncompressedPageSize >= 0, compressedPageSize >= 0 else { throw DecodeError("negative page size", at: d.position) }
    }
}
