/// Decodes the pages of one column chunk (already read into memory) into a `ColumnBuffer`.
struct ColumnChunkDecoder {
    /// Pages claiming more values than this are rejected as corrupt (bounds memory on garbage input).
    static let maxPageValues = 1 << 24
    let path: String
    let column: Column
    let physical: PhysicalType
    let typeLength: Int?
    let codec: Int32
    /// File offset of `bytes[0]`, for error messages.
    let baseOffset: Int64

    private var physicalStorage: ColumnStorage {
        switch physical {
        case .boolean: return .boolean
        case .int32: return .int32
        case .int64: return .int64
        case .float: return .float
        case .double: return .double
        case .byteArray, .int96: return .byteArray
        case .fixedLenByteArray: return .fixed(typeLength ?? 0)
        }
    }

    /// Decodes all pages in `bytes`; the chunk must hold exactly `expectedValues` values.
    func decode(_ bytes: [UInt8], expectedValues: Int64) throws -> ColumnBuffer {
        var pos = 0
        let storage = physicalStorage
        var out = ColumnValues.empty(storage, capacity: Int(clamping: min(expectedValues, 1 << 20)))
        var validity: [Bool]? = nil
        var rows: Int64 = 0
        var dictionary: ColumnValues? = nil
        var pageStart = 0
        var dense = ColumnValues.empty(storage)
        var levels: [UInt32] = []
        var indices: [UInt32] = []
        do {
            while rows < expectedValues {
                guard pos < bytes.count else {
                    throw DecodeError("chunk ends after \(rows) of \(expectedValues) values", at: pos)
                }
                pageStart = pos
                var d = CompactDecoder(bytes, from: pos)
                let header = try PageHeader(from: &d)
                pos = d.position
                let bodyLen = Int(header.compressedPageSize)
                guard bodyLen <= bytes.count - pos else { throw DecodeError("page body exceeds chunk", at: pos) }
                let bodyRange = pos..<(pos + bodyLen)
                pos += bodyLen
                switch header.type {
                case PageType.dictionaryPage.rawValue:
                    guard dictionary == nil else { throw DecodeError("second dictionary page", at: pageStart) }
                    guard let dh = header.dictionaryPageHeader, dh.numValues >= 0 else { throw DecodeError("dictionary page without header", at: pageStart) }
                    guard dh.encoding == Encoding.plain.rawValue || dh.encoding == Encoding.plainDictionary.rawValue else {
                        throw DecodeError("dictionary encoding \(dh.encoding)", at: pageStart)
                    }
                    let body = try decompress(bytes, bodyRange, Int(header.uncompressedPageSize), pageStart)
                    var dict = ColumnValues.empty(storage)
                    try body.withUnsafeBytes { b in
                        guard Int(dh.numValues) <= b.count * 8 + 1 || storage == .fixed(0) else { throw DecodeError("dictionary size", at: pageStart) }
                        var r = ByteReader(b)
                        try ValueDecoder.plain(&r, storage: storage, count: Int(dh.numValues), into: &dict)
                    }
                    dictionary = dict
                case PageType.dataPage.rawValue:
                    guard let dh = header.dataPageHeader, dh.numValues >= 0 else { throw DecodeError("data page without header", at: pageStart) }
                    let n = Int(dh.numValues)
                    guard n <= ColumnChunkDecoder.maxPageValues else { throw DecodeError("page claims \(n) values", at: pageStart) }
                    guard Int64(n) <= expectedValues - rows else { throw DecodeError("page has more values than the chunk", at: pageStart) }
                    let body = try decompress(bytes, bodyRange, Int(header.uncompressedPageSize), pageStart)
                    try body.withUnsafeBytes { b in
                        var r = ByteReader(b)
                        var nonNull = n
                        levels.removeAll(keepingCapacity: true)
                        if column.nullable {
                            guard dh.definitionLevelEncoding == Encoding.rle.rawValue else {
                                throw DecodeError("definition level encoding \(dh.definitionLevelEncoding)", at: pageStart)
                            }
                            let len = Int(try r.u32())
                            let lr = try r.take(len)
                            try RLEHybrid.decode(b, start: lr.lowerBound, end: lr.upperBound, bitWidth: 1, count: n, into: &levels)
                            nonNull = levels.reduce(0) { $0 + Int($1) }
                        }
                        try decodeValues(&r, encoding: dh.encoding, count: nonNull, dictionary: dictionary, dense: &dense, indices: &indices)
                    }
                    try scatter(&dense, levels: levels, rows: n, into: &out, validity: &validity, rowsBefore: Int(rows))
                    rows += Int64(n)
                case PageType.dataPageV2.rawValue:
                    guard let dh = header.dataPageHeaderV2, dh.numValues >= 0, dh.numNulls >= 0,
                          dh.definitionLevelsByteLength >= 0, dh.repetitionLevelsByteLength >= 0 else {
                        throw DecodeError("v2 data page without valid header", at: pageStart)
                    }
                    let n = Int(dh.numValues)
                    guard n <= ColumnChunkDecoder.maxPageValues else { throw DecodeError("page claims \(n) values", at: pageStart) }
                    guard Int64(n) <= expectedValues - rows else { throw DecodeError("page has more values than the chunk", at: pageStart) }
                    let levelLen = Int(dh.definitionLevelsByteLength) + Int(dh.repetitionLevelsByteLength)
                    guard levelLen <= bodyLen, levelLen <= Int(header.uncompressedPageSize) else { throw DecodeError("level sizes exceed page", at: pageStart) }
                    levels.removeAll(keepingCapacity: true)
                    let defStart = bodyRange.lowerBound + Int(dh.repetitionLevelsByteLength)
                    if column.nullable {
                        try bytes.withUnsafeBytes { b in
                            try RLEHybrid.decode(b, start: defStart, end: defStart + Int(dh.definitionLevelsByteLength),
                                                 bitWidth: 1, count: n, into: &levels)
                        }
                    }
                    let nonNull = column.nullable ? levels.reduce(0) { $0 + Int($1) } : n
                    let valuesRange = (bodyRange.lowerBound + levelLen)..<bodyRange.upperBound
                    let uncompressedValues = Int(header.uncompressedPageSize) - levelLen
                    let body: [UInt8]
                    if dh.isCompressed && codec != CodecID.uncompressed.rawValue {
                        body = try decompress(bytes, valuesRange, uncompressedValues, pageStart)
                    } else {
                        body = Array(bytes[valuesRange])
                    }
                    try body.withUnsafeBytes { b in
                        var r = ByteReader(b)
                        try decodeValues(&r, encoding: dh.encoding, count: nonNull, dictionary: dictionary, dense: &dense, indices: &indices)
                    }
                    try scatter(&dense, levels: levels, rows: n, into: &out, validity: &validity, rowsBefore: Int(rows))
                    rows += Int64(n)
                default:
                    continue  // index pages and unknown page types are skipped
                }
            }
        } catch let e as DecodeError {
            throw ParquetError.corruptPage(path: path, column: column.name, offset: baseOffset + Int64(pageStart),
                                           reason: "\(e.reason) (byte \(e.offset) of page)")
        }
        do {
            let values = try DecimalConversion.convert(out, to: column.type.storage)
            return ColumnBuffer(values, validity: validity)
        } catch let e as DecodeError {
            throw ParquetError.corruptPage(path: path, column: column.name, offset: baseOffset, reason: e.reason)
        }
    }

    private func decompress(_ bytes: [UInt8], _ range: Range<Int>, _ size: Int, _ pageStart: Int) throws -> [UInt8] {
        switch codec {
        case CodecID.uncompressed.rawValue:
            guard size == range.count else { throw DecodeError("uncompressed page size mismatch", at: pageStart) }
            return Array(bytes[range])
        case CodecID.lz4Raw.rawValue:
            let r = bytes.withUnsafeBytes { LZ4Codec.decompress(UnsafeRawBufferPointer(rebasing: $0[range]), uncompressedSize: size) }
            guard let r else {
                throw ParquetError.decompressionFailed(path: path, column: column.name, offset: baseOffset + Int64(pageStart))
            }
            return r
        case CodecID.lz4.rawValue:
            // Hadoop framing: [BE uncompressed size][BE compressed size][block]…; fall back to a raw block.
            if let framed = hadoopLZ4(bytes, range, size) { return framed }
            let r = bytes.withUnsafeBytes { LZ4Codec.decompress(UnsafeRawBufferPointer(rebasing: $0[range]), uncompressedSize: size) }
            guard let r else {
                throw ParquetError.decompressionFailed(path: path, column: column.name, offset: baseOffset + Int64(pageStart))
            }
            return r
        default:
            throw ParquetError.unsupported(path: path, column: column.name, feature: "compression codec \(codec)")
        }
    }

    private func hadoopLZ4(_ bytes: [UInt8], _ range: Range<Int>, _ size: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var p = range.lowerBound
        func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        while p < range.upperBound {
            guard range.upperBound - p >= 8 else { return nil }
            let u = be32(p), c = be32(p + 4)
            p += 8
            guard c <= range.upperBound - p, u <= size - out.count else { return nil }
            guard let block = bytes.withUnsafeBytes({ LZ4Codec.decompress(UnsafeRawBufferPointer(rebasing: $0[p..<(p + c)]), uncompressedSize: u) }) else { return nil }
            out.append(contentsOf: block)
            p += c
        }
        return out.count == size ? out : nil
    }

    /// Decodes `count` dense values of one page into `dense` (cleared first).
    private func decodeValues(_ r: inout ByteReader, encoding: Int32, count: Int, dictionary: ColumnValues?,
                              dense: inout ColumnValues, indices: inout [UInt32]) throws {
        let storage = physicalStorage
        dense = ColumnValues.empty(storage)
        switch encoding {
        case Encoding.plain.rawValue:
            try ValueDecoder.plain(&r, storage: storage, count: count, into: &dense)
        case Encoding.plainDictionary.rawValue, Encoding.rleDictionary.rawValue:
            guard let dictionary else { throw DecodeError("dictionary-encoded page without dictionary page", at: r.pos) }
            try ValueDecoder.dictionary(&r, dictionary: dictionary, count: count, into: &dense, indices: &indices)
        case Encoding.rle.rawValue where storage == .boolean:
            try ValueDecoder.rleBoolean(&r, count: count, into: &dense)
        case Encoding.deltaBinaryPacked.rawValue where storage == .int32 || storage == .int64:
            var vals: [Int64] = []
            try DeltaDecoder.binaryPacked(&r, into: &vals, expected: count)
            if storage == .int64 { dense = .int64(vals) } else { dense = .int32(vals.map { Int32(truncatingIfNeeded: $0) }) }
        case Encoding.deltaLengthByteArray.rawValue where storage == .byteArray:
            var b = ByteArrayBuffer()
            try DeltaDecoder.lengthByteArray(&r, count: count, into: &b)
            dense = .byteArray(b)
        case Encoding.deltaByteArray.rawValue:
            switch storage {
            case .byteArray: try DeltaDecoder.byteArray(&r, count: count, fixedWidth: nil, into: &dense)
            case let .fixed(w): try DeltaDecoder.byteArray(&r, count: count, fixedWidth: w, into: &dense)
            default: throw DecodeError("DELTA_BYTE_ARRAY on \(storage)", at: r.pos)
            }
        case Encoding.byteStreamSplit.rawValue:
            let width: Int
            switch storage {
            case .int32, .float: width = 4
            case .int64, .double: width = 8
            case let .fixed(w): width = w
            default: throw DecodeError("BYTE_STREAM_SPLIT on \(storage)", at: r.pos)
            }
            try ValueDecoder.byteStreamSplit(&r, count: count, width: width, into: &dense)
        default:
            throw ParquetError.unsupported(path: path, column: column.name, feature: "encoding \(encoding)")
        }
        guard dense.count == count else { throw DecodeError("decoded \(dense.count) values, expected \(count)", at: r.pos) }
    }

    /// Appends one page's rows to `out`: dense values placed at present rows, placeholders at nulls.
    private func scatter(_ dense: inout ColumnValues, levels: [UInt32], rows: Int, into out: inout ColumnValues,
                         validity: inout [Bool]?, rowsBefore: Int) throws {
        let hasNulls = !levels.isEmpty && dense.count < rows
        if hasNulls || validity != nil {
            if validity == nil { validity = [Bool](repeating: true, count: rowsBefore) }
            if levels.isEmpty {
                validity!.append(contentsOf: repeatElement(true, count: rows))
            } else {
                for l in levels { validity!.append(l != 0) }
            }
        }
        if !hasNulls {
            append(dense, to: &out)
            return
        }
        var k = 0
        switch (dense, out) {
        case (.boolean(let d), .boolean(var a)):
            out = .int32([]); for l in levels { if l != 0 { a.append(d[k]); k += 1 } else { a.append(false) } }; out = .boolean(a)
        case (.int32(let d), .int32(var a)):
            out = .boolean([]); for l in levels { if l != 0 { a.append(d[k]); k += 1 } else { a.append(0) } }; out = .int32(a)
        case (.int64(let d), .int64(var a)):
            out = .boolean([]); for l in levels { if l != 0 { a.append(d[k]); k += 1 } else { a.append(0) } }; out = .int64(a)
        case (.float(let d), .float(var a)):
            out = .boolean([]); for l in levels { if l != 0 { a.append(d[k]); k += 1 } else { a.append(0) } }; out = .float(a)
        case (.double(let d), .double(var a)):
            out = .boolean([]); for l in levels { if l != 0 { a.append(d[k]); k += 1 } else { a.append(0) } }; out = .double(a)
        case (.byteArray(let d), .byteArray(var a)):
            out = .boolean([])
            d.bytes.withUnsafeBytes { src in
                for l in levels {
                    if l != 0 { a.append(UnsafeRawBufferPointer(rebasing: src[d.range(k)])); k += 1 } else { a.appendEmpty() }
                }
            }
            out = .byteArray(a)
        case (.fixed(let d), .fixed(var a)):
            out = .boolean([])
            for l in levels { if l != 0 { a.bytes.append(contentsOf: d[k]); k += 1 } else { a.appendZero() } }
            out = .fixed(a)
        default:
            throw DecodeError("internal: storage mismatch", at: 0)
        }
    }

    private func append(_ dense: ColumnValues, to out: inout ColumnValues) {
        switch (dense, out) {
        case (.boolean(let d), .boolean(var a)): out = .int32([]); a.append(contentsOf: d); out = .boolean(a)
        case (.int32(let d), .int32(var a)): out = .boolean([]); if a.isEmpty { a = d } else { a.append(contentsOf: d) }; out = .int32(a)
        case (.int64(let d), .int64(var a)): out = .boolean([]); if a.isEmpty { a = d } else { a.append(contentsOf: d) }; out = .int64(a)
        case (.float(let d), .float(var a)): out = .boolean([]); a.append(contentsOf: d); out = .float(a)
        case (.double(let d), .double(var a)): out = .boolean([]); a.append(contentsOf: d); out = .double(a)
        case (.byteArray(let d), .byteArray(var a)):
            out = .boolean([])
            if a.count == 0 { a = d } else {
                let base = a.bytes.count
                a.bytes.append(contentsOf: d.bytes)
                a.offsets.append(contentsOf: d.offsets.dropFirst().lazy.map { $0 + base })
            }
            out = .byteArray(a)
        case (.fixed(let d), .fixed(var a)): out = .boolean([]); a.bytes.append(contentsOf: d.bytes); out = .fixed(a)
        default: break
        }
    }
}
