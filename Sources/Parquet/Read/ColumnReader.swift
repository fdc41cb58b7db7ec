/// Decodes the pages of one column chunk (already read into memory) into a `ColumnBuffer`.
struct ColumnChunkDecoder {
    /// Pages claiming more values than this are rejected as corrupt (bounds memory on garbage input).
    static let maxPageValues = 1 << 24
    let path: String
    let column: Column
    let physical: PhysicalType
    let typeLength: Int?
    let codec: Int32
    /// Unit conversion of timestamps stored in milliseconds, nanoseconds or INT96.
    let time: TimeConversion
    /// File offset of `bytes[0]`, for error messages.
    let baseOffset: Int64

    private var physicalStorage: ColumnStorage {
        switch physical {
        case .boolean: return .boolean
        case .int32: return .int32
        case .int64: return .int64
        case .float: return .float
        case .double: return .double
        case .byteArray: return .byteArray
        case .int96: return .fixed(12)
        case .fixedLenByteArray: return .fixed(typeLength ?? 0)
        }
    }

    /// Decodes all pages in `bytes`; the chunk must hold exactly `expectedValues` values.
    func decode(_ bytes: [UInt8], expectedValues: Int64) throws -> ColumnBuffer {
        var pos = 0
        let storage = physicalStorage
        // Reserve for the whole chunk so pages append without reallocating (bounded for corrupt counts).
        var out = ColumnValues.empty(storage, capacity: Int(clamping: min(expectedValues, Int64(ColumnChunkDecoder.maxPageValues))))
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
                        try decodePage(&r, encoding: dh.encoding, nonNull: nonNull, rows: n, levels: levels, dictionary: dictionary,
                                       dense: &dense, indices: &indices, out: &out, validity: &validity, rowsBefore: Int(rows))
                    }
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
                        try decodePage(&r, encoding: dh.encoding, nonNull: nonNull, rows: n, levels: levels, dictionary: dictionary,
                                       dense: &dense, indices: &indices, out: &out, validity: &validity, rowsBefore: Int(rows))
                    }
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
            let values = try DecimalConversion.convert(time.convert(out), to: column.type.storage)
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

    /// Decodes one page's values: straight into `out` when the page has no nulls, else into `dense` and scattered.
    private func decodePage(_ r: inout ByteReader, encoding: Int32, nonNull: Int, rows: Int, levels: [UInt32],
                            dictionary: ColumnValues?, dense: inout ColumnValues, indices: inout [UInt32],
                            out: inout ColumnValues, validity: inout [Bool]?, rowsBefore: Int) throws {
        if nonNull == rows {
            try decodeValues(&r, encoding: encoding, count: nonNull, dictionary: dictionary, into: &out, indices: &indices)
            validity?.append(contentsOf: repeatElement(true, count: rows))
            return
        }
        dense = ColumnValues.empty(physicalStorage)
        try decodeValues(&r, encoding: encoding, count: nonNull, dictionary: dictionary, into: &dense, indices: &indices)
        try scatter(&dense, levels: levels, rows: rows, into: &out, validity: &validity, rowsBefore: rowsBefore)
    }

    /// Decodes `count` dense values of one page, appending them to `target`.
    private func decodeValues(_ r: inout ByteReader, encoding: Int32, count: Int, dictionary: ColumnValues?,
                              into target: inout ColumnValues, indices: inout [UInt32]) throws {
        let storage = physicalStorage
        let before = target.count
        switch encoding {
        case Encoding.plain.rawValue:
            try ValueDecoder.plain(&r, storage: storage, count: count, into: &target)
        case Encoding.plainDictionary.rawValue, Encoding.rleDictionary.rawValue:
            guard let dictionary else { throw DecodeError("dictionary-encoded page without dictionary page", at: r.pos) }
            try ValueDecoder.dictionary(&r, dictionary: dictionary, count: count, into: &target, indices: &indices)
        case Encoding.rle.rawValue where storage == .boolean:
            try ValueDecoder.rleBoolean(&r, count: count, into: &target)
        case Encoding.deltaBinaryPacked.rawValue where storage == .int32 || storage == .int64:
            // Straight into the column's array; INT32 values are the low 32 bits of the wrapping sums.
            let decoded = storage == .int64
                ? try target.modify(Int64.self) { try DeltaDecoder.binaryPacked(&r, into: &$0, expected: count) }
                : try target.modify(Int32.self) { try DeltaDecoder.binaryPacked(&r, into: &$0, expected: count) }
            guard decoded else { throw DecodeError("DELTA_BINARY_PACKED into a column of another storage", at: r.pos) }
        case Encoding.deltaLengthByteArray.rawValue where storage == .byteArray:
            guard case var .byteArray(b) = target else { break }
            target = .boolean([])
            defer { target = .byteArray(b) }
            try DeltaDecoder.lengthByteArray(&r, count: count, into: &b)
        case Encoding.deltaByteArray.rawValue:
            switch storage {
            case .byteArray: try DeltaDecoder.byteArray(&r, count: count, fixedWidth: nil, into: &target)
            case let .fixed(w): try DeltaDecoder.byteArray(&r, count: count, fixedWidth: w, into: &target)
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
            try ValueDecoder.byteStreamSplit(&r, count: count, width: width, into: &target)
        default:
            throw ParquetError.unsupported(path: path, column: column.name, feature: "encoding \(encoding)")
        }
        guard target.count - before == count else {
            throw DecodeError("decoded \(target.count - before) values, expected \(count)", at: r.pos)
        }
    }

    /// Appends one page's rows to `out`: dense values placed at present rows, placeholders at nulls.
    private func scatter(_ dense: inout ColumnValues, levels: [UInt32], rows: Int, into out: inout ColumnValues,
                         validity: inout [Bool]?, rowsBefore: Int) throws {
        var v = validity ?? {
            var fresh = [Bool]()
            fresh.reserveCapacity(rowsBefore + rows)
            fresh.append(contentsOf: repeatElement(true, count: rowsBefore))
            return fresh
        }()
        validity = nil
        let vBase = v.count
        v.append(contentsOf: repeatElement(false, count: rows))
        v.withUnsafeMutableBufferPointer { vp in
            levels.withUnsafeBufferPointer { lp in for k in 0..<rows { vp[vBase + k] = lp[k] != 0 } }
        }
        validity = v
        var target = out.take()
        defer { out = target }
        switch dense {
        case let .boolean(d): if target.modify(Bool.self, { Self.spread(d, levels, &$0) }) { return }
        case let .int32(d): if target.modify(Int32.self, { Self.spread(d, levels, &$0) }) { return }
        case let .int64(d): if target.modify(Int64.self, { Self.spread(d, levels, &$0) }) { return }
        case let .float(d): if target.modify(Float.self, { Self.spread(d, levels, &$0) }) { return }
        case let .double(d): if target.modify(Double.self, { Self.spread(d, levels, &$0) }) { return }
        case .byteArray(let d):
            guard case .byteArray(var a) = target else { break }
            target = .boolean([])
            // Nulls are empty values, so the arena is the dense arena; only the offsets need spreading.
            let base = a.bytes.count
            a.bytes.append(contentsOf: d.bytes)
            let oBase = a.offsets.count
            a.offsets.append(contentsOf: repeatElement(0, count: rows))
            a.offsets.withUnsafeMutableBufferPointer { op in
                d.offsets.withUnsafeBufferPointer { dp in
                    levels.withUnsafeBufferPointer { lp in
                        var k = 0
                        var current = base
                        for j in 0..<rows {
                            if lp[j] != 0 { k += 1; current = base + dp[k] }
                            op[oBase + j] = current
                        }
                    }
                }
            }
            target = .byteArray(a)
            return
        case .fixed(let d):
            guard case .fixed(var a) = target else { break }
            target = .boolean([])
            let w = d.width
            let base = a.bytes.count
            a.bytes.append(contentsOf: repeatElement(0, count: rows * w))
            a.bytes.withUnsafeMutableBytes { ap in
                d.bytes.withUnsafeBytes { dp in
                    var k = 0
                    for (j, l) in levels.prefix(rows).enumerated() where l != 0 {
                        ap.baseAddress!.advanced(by: base + j * w).copyMemory(from: dp.baseAddress! + k * w, byteCount: w)
                        k += 1
                    }
                }
            }
            target = .fixed(a)
            return
        }
        throw DecodeError("internal: storage mismatch", at: 0)
    }

    /// Appends `levels.count` slots to `a`: the next dense value where the level is 1, zero where it is 0.
    private static func spread<T>(_ dense: [T], _ levels: [UInt32], _ a: inout [T]) where T: ColumnElement {
        let base = a.count
        a.append(contentsOf: repeatElement(T.zeroValue, count: levels.count))
        a.withUnsafeMutableBufferPointer { ap in
            dense.withUnsafeBufferPointer { dp in
                levels.withUnsafeBufferPointer { lp in
                    var k = 0
                    for j in 0..<lp.count where lp[j] != 0 {
                        ap[base + j] = dp[k]
                        k += 1
                    }
                }
            }
        }
    }
}
