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

/// Writes one column's chunk: definition levels (RLE), v1 data page headers, compression, and the dictionary page
/// in front of the data pages; the values themselves are `ColumnValueEncoder`'s (PLAIN or RLE_DICTIONARY, and the
/// statistics). One instance lives for the whole file and is reset after every chunk.
final class ColumnChunkWriter {
    let column: Column
    let layout: PhysicalLayout
    let options: WriterOptions
    private let codec: CodecID
    private var values: ColumnValueEncoder

    // Page state.
    private var defLevels: [UInt32] = []
    private var pageRows = 0
    private var pageNonNull = 0

    // Chunk state.
    private var chunk: [UInt8] = []
    private var numValues: Int64 = 0
    private var uncompressedBytes: Int64 = 0
    private var scratch: [UInt8] = []
    /// `compressPage`'s output buffer (the last page's compressed bytes at its start).
    private var compressed: [UInt8] = []

    init(column: Column, options: WriterOptions) {
        self.column = column
        self.layout = PhysicalLayout(column.type)
        self.options = options
        self.codec = options.compression == .lz4Raw ? .lz4Raw : .uncompressed
        self.values = ColumnValueEncoder(column: column, layout: layout, options: options)
        resetChunk()
    }

    /// Bytes buffered for the current chunk (compressed pages plus the open page), for row-group sizing.
    var bufferedBytes: Int { chunk.count + defLevels.count / 8 + values.bufferedBytes }

    private func resetChunk() {
        chunk.removeAll(keepingCapacity: true)
        numValues = 0
        uncompressedBytes = 0
        values.resetChunk()
        compressed = []   // reused within a chunk only: a writer of many columns must not hold a page per column
    }

    // MARK: appending

    /// Appends rows `range` of `buffer` (whose storage was validated by the file writer).
    @inline(never)
    func append(_ buffer: ColumnBuffer, _ range: Range<Int>) {
        var r = range.lowerBound
        while r < range.upperBound {
            let want = min(range.upperBound - r, options.pageRowLimit - pageRows)
            let taken = values.append(buffer, r..<(r + want))
            appendLevels(buffer.validity, r..<(r + taken))
            r += taken
            values.sampleDictionary()
            if values.dictionaryFull {
                flushPage()
                values.fallBackToPlain()  // PLAIN for the rest of the chunk
            }
            if pageRows >= options.pageRowLimit || values.pageBytes >= options.pageSizeBytes { flushPage() }
        }
    }

    // Works on a local copy of the levels (moved out and back), so the optimiser sees a plain local array.
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
            values.stats.nullCount += Int64(n - present)
        }
        pageNonNull += present
        defLevels = levels
    }

    // MARK: pages

    /// Encodes, compresses and appends the open page to the chunk.
    func flushPage() {
        guard pageRows > 0 else { return }
        scratch.removeAll(keepingCapacity: true)
        if column.nullable {
            scratch.append(contentsOf: [0, 0, 0, 0])
            defLevels.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 1, into: &scratch) }
            let len = UInt32(scratch.count - 4)
            for k in 0..<4 { scratch[k] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(k))) }
        }
        let encoding = values.flushDataPage(into: &scratch)
        var header = PageHeader(type: .dataPage, uncompressedPageSize: 0, compressedPageSize: 0)
        header.dataPageHeader = DataPageHeader(numValues: Int32(pageRows), encoding: encoding)
        appendPage(header: header, body: scratch)
        numValues += Int64(pageRows)
        defLevels.removeAll(keepingCapacity: true)
        pageRows = 0
        pageNonNull = 0
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
        if let page = values.dictionaryPage() {
            var header = PageHeader(type: .dictionaryPage, uncompressedPageSize: 0, compressedPageSize: 0)
            header.dictionaryPageHeader = DictionaryPageHeader(numValues: Int32(page.count))
            dictUncompressed = compressPage(header: header, body: page.body, into: &prefix)
        }
        var meta = ColumnMetaData()
        meta.type = layout.type
        var encodings: [Encoding] = [.plain, .rle]
        if values.dictionaryPages > 0 { encodings.append(.rleDictionary) }
        meta.encodings = encodings.map(\.rawValue)
        meta.pathInSchema = [column.name]
        meta.codec = codec.rawValue
        meta.numValues = numValues
        meta.totalUncompressedSize = uncompressedBytes + Int64(dictUncompressed)
        meta.totalCompressedSize = Int64(prefix.count + chunk.count)
        meta.dataPageOffset = fileOffset + Int64(prefix.count)
        if values.dictionaryPages > 0 { meta.dictionaryPageOffset = fileOffset }
        meta.statistics = values.stats.statistics(minMax: options.statistics)
        let pages = chunk
        resetChunk()
        return (prefix, pages, meta)
    }
}
