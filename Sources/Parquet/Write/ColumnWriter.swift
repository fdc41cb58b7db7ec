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
/// in front of the data pages; the values themselves are `ColumnValueEncoder`'s (PLAIN, RLE_DICTIONARY or DELTA_BINARY_PACKED,
/// and the statistics). One instance lives for the whole file and is reset after every chunk.
///
/// Copies per PLAIN value: into the encoder's page buffer (behind room kept for the definition levels, so the page body
/// is never assembled in a second buffer), then LZ4 compresses the page straight into the chunk buffer behind its
/// header; the file writer writes the chunk buffer as it is.
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
    /// The chunk's data pages (headers and compressed bodies), back to back.
    private let chunk = ChunkBuffer()
    private var numValues: Int64 = 0
    private var uncompressedBytes: Int64 = 0
    /// The open page's definition levels, encoded (4-byte length, then RLE).
    private var levelBytes: [UInt8] = []
    /// A page body assembled by copying (dictionary indices; levels too long for the room in front of PLAIN values).
    private var scratch: [UInt8] = []
    /// Compressed size of the last page over its uncompressed size, to guess the next page's header length.
    private var lastRatio = 0.5

    init(column: Column, options: WriterOptions, dictionaryMemory: DictionaryMemory) {
        self.column = column
        self.layout = PhysicalLayout(column.type)
        self.options = options
        self.codec = options.compression == .lz4Raw ? .lz4Raw : .uncompressed
        self.values = ColumnValueEncoder(column: column, layout: layout, options: options, dictionaryMemory: dictionaryMemory)
        resetChunk()
    }

    /// Bytes buffered for the current chunk (compressed pages plus the open page), for row-group sizing.
    var bufferedBytes: Int { chunk.count + defLevels.count / 8 + values.bufferedBytes }

    private func resetChunk() {
        chunk.removeAll()
        numValues = 0
        uncompressedBytes = 0
        values.resetChunk()
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
        levelBytes.removeAll(keepingCapacity: true)
        if column.nullable {
            levelBytes.append(contentsOf: [0, 0, 0, 0])
            defLevels.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 1, into: &levelBytes) }
            let len = UInt32(levelBytes.count - 4)
            for k in 0..<4 { levelBytes[k] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(k))) }
        }
        let rows = Int32(pageRows)
        values.flushDataPage(levels: levelBytes, scratch: &scratch) { encoding, body in
            var header = PageHeader(type: .dataPage, uncompressedPageSize: 0, compressedPageSize: 0)
            header.dataPageHeader = DataPageHeader(numValues: rows, encoding: encoding)
            uncompressedBytes += Int64(appendPage(header: header, body: body, to: chunk))
        }
        numValues += Int64(pageRows)
        defLevels.removeAll(keepingCapacity: true)
        pageRows = 0
        pageNonNull = 0
    }

    /// Appends a page to `out`: its header with the sizes, then its body, compressed straight into `out` (LZ4_RAW).
    /// Returns the uncompressed size (header + body) for the chunk totals.
    private func appendPage(header: PageHeader, body: UnsafeRawBufferPointer, to out: ChunkBuffer) -> Int {
        var h = header
        h.uncompressedPageSize = Int32(body.count)
        guard codec == .lz4Raw else {
            h.compressedPageSize = Int32(body.count)
            let hb = h.thriftBytes()
            out.append(hb)
            out.append(body)
            return hb.count + body.count
        }
        // The header holds the compressed size as a varint, so its length is known only after compressing: the body is
        // compressed behind a header of the length the last page's ratio predicts, and moved only when that was wrong.
        h.compressedPageSize = Int32(clamping: Int(Double(body.count) * lastRatio))
        let guessed = h.thriftBytes().count
        let bound = LZ4Codec.bound(body.count)
        let slack = 8   // a header longer than guessed (each varint is at most 5 bytes)
        let room = out.reserve(guessed + bound + slack)
        let n = LZ4Codec.compress(body, to: room + guessed, capacity: bound)
        lastRatio = body.count > 0 ? Double(n) / Double(body.count) : lastRatio
        h.compressedPageSize = Int32(n)
        let hb = h.thriftBytes()
        if hb.count != guessed {
            out.move((out.count + guessed)..<(out.count + guessed + n), to: out.count + hb.count)
        }
        hb.withUnsafeBytes { room.copyMemory(from: $0.baseAddress!, byteCount: hb.count) }
        out.commit(hb.count + n)
        return hb.count + body.count
    }

    // MARK: chunk

    /// Finishes the chunk that starts at `fileOffset`: hands `write` the bytes to write (the dictionary page, if any,
    /// then the data pages) and returns the chunk's metadata, then resets for the next chunk.
    func finishChunk(fileOffset: Int64, write: (UnsafeRawBufferPointer) throws -> Void) rethrows -> ColumnMetaData {
        flushPage()
        let prefix = ChunkBuffer()
        var dictUncompressed = 0
        if let page = values.dictionaryPage() {
            var header = PageHeader(type: .dictionaryPage, uncompressedPageSize: 0, compressedPageSize: 0)
            header.dictionaryPageHeader = DictionaryPageHeader(numValues: Int32(page.count))
            dictUncompressed = page.body.withUnsafeBytes { appendPage(header: header, body: $0, to: prefix) }
        }
        var meta = ColumnMetaData()
        meta.type = layout.type
        var encodings: [Encoding] = [.plain, .rle]
        if values.dictionaryPages > 0 { encodings.append(.rleDictionary) }
        if values.deltaPages > 0 { encodings.append(.deltaBinaryPacked) }
        meta.encodings = encodings.map(\.rawValue)
        meta.pathInSchema = [column.name]
        meta.codec = codec.rawValue
        meta.numValues = numValues
        meta.totalUncompressedSize = uncompressedBytes + Int64(dictUncompressed)
        meta.totalCompressedSize = Int64(prefix.count + chunk.count)
        meta.dataPageOffset = fileOffset + Int64(prefix.count)
        if values.dictionaryPages > 0 { meta.dictionaryPageOffset = fileOffset }
        meta.statistics = values.stats.statistics(minMax: options.statistics)
        defer { resetChunk() }
        try prefix.withUnsafeBytes(write)
        try chunk.withUnsafeBytes(write)
        return meta
    }
}
