/// Physical layout of a column type.
struct PhysicalLayout {
    let type: PhysicalType
    let typeLength: Int?

    init(_ t: ColumnType) {
        switch t.storage {
        case .boolean: type = .boolean; typeLength = nil
        case .int32: type = .int32; typeLength = nil
        case .int64: type = .int64; typeLength = nil
        case .float: type = .float; typeLength = nil
        case .double: type = .double; typeLength = nil
        case .byteArray: type = .byteArray; typeLength = nil
        case let .fixed(n): type = .fixedLenByteArray; typeLength = n
        }
    }
}

/// Encodes one column's values into the pages of the current column chunk (v1 data pages, PLAIN or
/// RLE_DICTIONARY with a PLAIN dictionary page, RLE definition levels), compresses them, and keeps the
/// chunk's statistics. One instance lives for the whole file and is reset after every chunk.
final class ColumnChunkWriter {
    let column: Column
    let layout: PhysicalLayout
    let options: WriterOptions
    private let codec: CodecID

    private enum Dict {
        case none
        case numeric(NumericDictionary)
        case bytes(BytesDictionary)
    }

    // Page state.
    private var defLevels: [UInt32] = []
    private var pageRows = 0
    private var pageNonNull = 0
    private var plain: [UInt8] = []
    private var boolBits = 0
    private var indices: [UInt32] = []
    /// PLAIN size of the values currently held as dictionary indices (to decide whether the dictionary pays).
    private var indexedPlainBytes = 0

    // Chunk state.
    private var dict: Dict = .none
    /// True while new values go to the dictionary; false after a fallback to PLAIN.
    private var dictActive = false
    /// True once the chunk's first values were checked against `dictionarySampleBytes`.
    private var dictSampled = false
    /// PLAIN bytes of dictionary-encoded values after which a chunk's dictionary is checked the first time.
    static let dictionarySampleBytes = 256 << 10
    private var dictPages = 0
    private var chunk: [UInt8] = []
    private var numValues: Int64 = 0
    private var uncompressedBytes: Int64 = 0
    private var stats: StatisticsAccumulator
    private var scratch: [UInt8] = []
    /// `compressPage`'s output buffer (the last page's compressed bytes at its start).
    private var compressed: [UInt8] = []

    init(column: Column, options: WriterOptions) {
        self.column = column
        self.layout = PhysicalLayout(column.type)
        self.options = options
        self.codec = options.compression == .lz4Raw ? .lz4Raw : .uncompressed
        self.stats = StatisticsAccumulator(physical: layout.type, type: column.type)
        resetChunk()
    }

    /// Bytes buffered for the current chunk (compressed pages plus the open page), for row-group sizing.
    var bufferedBytes: Int { chunk.count + plain.count + indices.count / 2 + defLevels.count / 8 + dictPlainBytes }

    private func resetChunk() {
        chunk.removeAll(keepingCapacity: true)
        numValues = 0
        uncompressedBytes = 0
        dictPages = 0
        dictSampled = false
        compressed = []   // reused within a chunk only: a writer of many columns must not hold a page per column
        stats = StatisticsAccumulator(physical: layout.type, type: column.type)
        dictActive = options.dictionary && layout.type != .boolean
        if dictActive {
            switch layout.type {
            case .int32, .float: dict = .numeric(NumericDictionary(width: 4))
            case .int64, .double: dict = .numeric(NumericDictionary(width: 8))
            case .byteArray: dict = .bytes(BytesDictionary(fixedWidth: nil))
            case .fixedLenByteArray: dict = .bytes(BytesDictionary(fixedWidth: layout.typeLength))
            default: dict = .none; dictActive = false
            }
        } else {
            dict = .none
        }
    }

    // MARK: appending

    /// Appends rows `range` of `buffer` (whose storage was validated by the file writer).
    @inline(never)
    func append(_ buffer: ColumnBuffer, _ range: Range<Int>) {
        var r = range.lowerBound
        while r < range.upperBound {
            let want = min(range.upperBound - r, options.pageRowLimit - pageRows)
            let taken = appendValues(buffer, r..<(r + want))
            appendLevels(buffer.validity, r..<(r + taken))
            r += taken
            // Decide early whether the dictionary pays (as `flushPage` does on the first page), once a sample of
            // the chunk is in: a column of long unique values (text, ids) stops hashing and copying its values into
            // a dictionary it would drop anyway.
            if dictActive, dictPages == 0, !dictSampled, indexedPlainBytes >= ColumnChunkWriter.dictionarySampleBytes {
                dictSampled = true
                if !dictionaryPays { abandonDictionary() }
            }
            if dictActive, dictPlainBytes > options.dictionaryPageSizeLimit {
                flushPage()
                dictActive = false  // fall back to PLAIN for the rest of the chunk
            }
            if pageRows >= options.pageRowLimit || pageBytes >= options.pageSizeBytes { flushPage() }
        }
    }

    /// Size of the open page, counting dictionary-encoded values at their PLAIN size (so a page of long
    /// dictionary strings is cut as soon as the byte-array loop stops at the limit).
    private var pageBytes: Int { plain.count + indexedPlainBytes }

    private var dictPlainBytes: Int {
        switch dict {
        case .none: return 0
        case let .numeric(d): return d.plainBytes
        case let .bytes(d): return d.plainBytes
        }
    }

    // The hot loops below work on local copies of the writer's state (moved out and back), so the optimiser
    // sees plain local arrays: no exclusivity checks or uniqueness checks per value.

    private func appendLevels(_ validity: [Bool]?, _ range: Range<Int>) {
        let n = range.count
        pageRows += n
        guard column.nullable else { pageNonNull += n; return }
        var levels = defLevels
        defLevels = []
        let base = levels.count
        levels.append(contentsOf: repeatElement(1, count: n))
        var present = n
        if let validity {
            present = 0
            levels.withUnsafeMutableBufferPointer { out in
                validity.withUnsafeBufferPointer { v in
                    for k in 0..<n {
                        let p = v[range.lowerBound + k]
                        out[base + k] = p ? 1 : 0
                        present &+= p ? 1 : 0
                    }
                }
            }
            stats.nullCount += Int64(n - present)
        }
        pageNonNull += present
        defLevels = levels
    }

    /// Encodes the non-null values of `range`; returns how many rows were consumed (fewer than requested
    /// only for byte arrays, when the page reached its byte size).
    private func appendValues(_ buffer: ColumnBuffer, _ range: Range<Int>) -> Int {
        let validity = column.nullable ? buffer.validity : nil
        switch buffer.values {
        case let .boolean(v):
            appendBooleans(v, validity, range)
        case let .int32(v):
            v.withUnsafeBufferPointer { p in
                appendNumeric(p, validity, range, bits: { UInt64(UInt32(bitPattern: $0)) },
                              stat: { $0.update(int: Int64($1)) })
            }
        case let .int64(v):
            v.withUnsafeBufferPointer { p in
                appendNumeric(p, validity, range, bits: { UInt64(bitPattern: $0) }, stat: { $0.update(int: $1) })
            }
        case let .float(v):
            v.withUnsafeBufferPointer { p in
                appendNumeric(p, validity, range, bits: { UInt64($0.bitPattern) }, stat: { $0.update(double: Double($1)) })
            }
        case let .double(v):
            v.withUnsafeBufferPointer { p in
                appendNumeric(p, validity, range, bits: { $0.bitPattern }, stat: { $0.update(double: $1) })
            }
        case let .byteArray(b):
            return b.offsets.withUnsafeBufferPointer { offsets in
                appendBytes(b.bytes, validity, range, value: { offsets[$0]..<offsets[$0 + 1] }, lengthPrefix: true)
            }
        case let .fixed(f):
            let w = f.width
            return appendBytes(f.bytes, validity, range, value: { ($0 * w)..<(($0 + 1) * w) }, lengthPrefix: false)
        }
        return range.count
    }

    private func appendBooleans(_ v: [Bool], _ validity: [Bool]?, _ range: Range<Int>) {
        var out = plain
        plain = []
        var st = stats
        var bits = boolBits
        for i in range where validity?[i] ?? true {
            let b = v[i]
            if bits & 7 == 0 { out.append(0) }
            if b { out[out.count - 1] |= UInt8(1) << UInt8(bits & 7) }
            bits += 1
            st.update(int: b ? 1 : 0)
        }
        boolBits = bits
        stats = st
        plain = out
    }

    private func appendNumeric<T>(_ p: UnsafeBufferPointer<T>, _ validity: [Bool]?, _ range: Range<Int>,
                                  bits: (T) -> UInt64, stat: (inout StatisticsAccumulator, T) -> Void) {
        var st = stats
        defer { stats = st }
        if dictActive, case var .numeric(d) = dict {
            dict = .none  // keep the dictionary uniquely referenced while mutating it
            var idx = indices
            indices = []
            let base = idx.count
            idx.append(contentsOf: repeatElement(0, count: range.count))
            var added = 0
            idx.withUnsafeMutableBufferPointer { out in
                if let validity {
                    validity.withUnsafeBufferPointer { valid in
                        for i in range where valid[i] {
                            let v = p[i]
                            let (index, isNew) = d.insert(bits(v))
                            if isNew { stat(&st, v) }
                            out[base + added] = index
                            added += 1
                        }
                    }
                } else {
                    for i in range {
                        let v = p[i]
                        let (index, isNew) = d.insert(bits(v))
                        if isNew { stat(&st, v) }
                        out[base + added] = index
                        added += 1
                    }
                }
            }
            idx.removeLast(range.count - added)
            indexedPlainBytes += added * d.width
            indices = idx
            dict = .numeric(d)
            return
        }
        var out = plain
        plain = []
        if let validity {
            var dense = [T]()
            dense.reserveCapacity(range.count)
            validity.withUnsafeBufferPointer { valid in
                for i in range where valid[i] {
                    stat(&st, p[i])
                    dense.append(p[i])
                }
            }
            dense.withUnsafeBytes { out.append(contentsOf: $0) }
        } else {
            for i in range { stat(&st, p[i]) }
            out.append(contentsOf: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[range])))
        }
        plain = out
    }

    private func appendBytes(_ arena: [UInt8], _ validity: [Bool]?, _ range: Range<Int>,
                             value: (Int) -> Range<Int>, lengthPrefix: Bool) -> Int {
        var consumed = 0
        var st = stats
        defer { stats = st }
        let pageLimit = options.pageSizeBytes
        let dictLimit = options.dictionaryPageSizeLimit
        arena.withUnsafeBytes { all in
            if dictActive, case var .bytes(d) = dict {
                dict = .none
                var idx = indices
                indices = []
                var plainBytes = indexedPlainBytes
                idx.reserveCapacity(idx.count + range.count)
                for i in range {
                    consumed += 1
                    guard validity?[i] ?? true else { continue }
                    let r = value(i)
                    let v = UnsafeRawBufferPointer(rebasing: all[r])
                    let (index, isNew) = d.insert(v)
                    if isNew { st.update(bytes: v) }
                    idx.append(index)
                    plainBytes += r.count + (lengthPrefix ? 4 : 0)
                    if plainBytes >= pageLimit || d.plainBytes > dictLimit { break }
                }
                indexedPlainBytes = plainBytes
                indices = idx
                dict = .bytes(d)
                return
            }
            var out = plain
            plain = []
            for i in range {
                consumed += 1
                guard validity?[i] ?? true else { continue }
                let r = value(i)
                let v = UnsafeRawBufferPointer(rebasing: all[r])
                st.update(bytes: v)
                if lengthPrefix { withUnsafeBytes(of: UInt32(r.count).littleEndian) { out.append(contentsOf: $0) } }
                out.append(contentsOf: v)
                if out.count >= pageLimit { break }
            }
            plain = out
        }
        return consumed
    }

    // MARK: pages

    /// Converts the open page's dictionary indices to PLAIN values and drops the dictionary (used when the
    /// dictionary does not pay on the chunk's first page).
    private func abandonDictionary() {
        switch dict {
        case let .numeric(d): for i in indices { d.appendPlain(Int(i), to: &plain) }
        case let .bytes(d): for i in indices { d.appendPlain(Int(i), to: &plain) }
        case .none: break
        }
        indices.removeAll(keepingCapacity: true)
        indexedPlainBytes = 0
        dict = .none
        dictActive = false
    }

    /// Encodes, compresses and appends the open page to the chunk.
    func flushPage() {
        guard pageRows > 0 else { return }
        if !indices.isEmpty && dictPages == 0 && !dictionaryPays { abandonDictionary() }
        scratch.removeAll(keepingCapacity: true)
        if column.nullable {
            scratch.append(contentsOf: [0, 0, 0, 0])
            defLevels.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 1, into: &scratch) }
            let len = UInt32(scratch.count - 4)
            for k in 0..<4 { scratch[k] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(k))) }
        }
        let encoding: Encoding
        if !indices.isEmpty {
            let width = max(RLEHybrid.bitWidth(UInt32(max(dictCount, 1) - 1)), 1)
            scratch.append(UInt8(width))
            indices.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: width, into: &scratch) }
            encoding = .rleDictionary
            dictPages += 1
        } else {
            scratch.append(contentsOf: plain)
            encoding = .plain
        }
        var header = PageHeader(type: .dataPage, uncompressedPageSize: 0, compressedPageSize: 0)
        header.dataPageHeader = DataPageHeader(numValues: Int32(pageRows), encoding: encoding)
        appendPage(header: header, body: scratch)
        numValues += Int64(pageRows)
        defLevels.removeAll(keepingCapacity: true)
        plain.removeAll(keepingCapacity: true)
        indices.removeAll(keepingCapacity: true)
        indexedPlainBytes = 0
        boolBits = 0
        pageRows = 0
        pageNonNull = 0
    }

    /// Whether the open page's values take less room as dictionary plus indexes than as PLAIN (by a tenth).
    private var dictionaryPays: Bool {
        let count = max(dictCount, 1)
        let indexBytes = (indices.count * max(RLEHybrid.bitWidth(UInt32(count - 1)), 1) + 7) / 8
        return dictPlainBytes + indexBytes < indexedPlainBytes * 9 / 10
    }

    private var dictCount: Int {
        switch dict {
        case .none: return 0
        case let .numeric(d): return d.count
        case let .bytes(d): return d.count
        }
    }

    /// Compresses `body`, writes the header with the sizes, appends both to `out`. Returns the uncompressed size
    /// (header + body) for the chunk totals.
    private func compressPage(header: PageHeader, body: [UInt8], into out: inout [UInt8]) -> Int {
        var h = header
        h.uncompressedPageSize = Int32(body.count)
        if codec == .lz4Raw {
            // Compressed into a buffer reused for the chunk's pages: a fresh page-sized array per page would be new
            // memory the kernel zeroes on first touch.
            let n = body.withUnsafeBytes { LZ4Codec.compress($0, into: &compressed) }
            h.compressedPageSize = Int32(n)
            let hb = h.thriftBytes()
            out.append(contentsOf: hb)
            compressed.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            return hb.count + body.count
        }
        h.compressedPageSize = Int32(body.count)
        let hb = h.thriftBytes()
        out.append(contentsOf: hb)
        out.append(contentsOf: body)
        return hb.count + body.count
    }

    private func appendPage(header: PageHeader, body: [UInt8]) {
        uncompressedBytes += Int64(compressPage(header: header, body: body, into: &chunk))
    }

    // MARK: chunk

    /// Finishes the chunk that starts at `fileOffset`: returns the bytes to write (dictionary page, if any,
    /// followed by the data pages) and the chunk's metadata, then resets for the next chunk.
    func finishChunk(fileOffset: Int64) -> (prefix: [UInt8], pages: [UInt8], meta: ColumnMetaData) {
        flushPage()
        var prefix: [UInt8] = []
        var dictUncompressed = 0
        if dictPages > 0 {
            let body: [UInt8]
            let count: Int
            switch dict {
            case let .numeric(d): body = d.plainPage(); count = d.count
            case let .bytes(d): body = d.plainPage(); count = d.count
            case .none: body = []; count = 0
            }
            var header = PageHeader(type: .dictionaryPage, uncompressedPageSize: 0, compressedPageSize: 0)
            header.dictionaryPageHeader = DictionaryPageHeader(numValues: Int32(count))
            dictUncompressed = compressPage(header: header, body: body, into: &prefix)
        }
        var meta = ColumnMetaData()
        meta.type = layout.type
        var encodings: [Encoding] = [.plain, .rle]
        if dictPages > 0 { encodings.append(.rleDictionary) }
        meta.encodings = encodings.map(\.rawValue)
        meta.pathInSchema = [column.name]
        meta.codec = codec.rawValue
        meta.numValues = numValues
        meta.totalUncompressedSize = uncompressedBytes + Int64(dictUncompressed)
        meta.totalCompressedSize = Int64(prefix.count + chunk.count)
        meta.dataPageOffset = fileOffset + Int64(prefix.count)
        if dictPages > 0 { meta.dictionaryPageOffset = fileOffset }
        meta.statistics = stats.statistics(minMax: options.statistics)
        let pages = chunk
        resetChunk()
        return (prefix, pages, meta)
    }
}
