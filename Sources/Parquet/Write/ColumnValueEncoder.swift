/// A dictionary as the encoder uses it outside its hot loops: its size, and its values in PLAIN form.
protocol PlainDictionary {
    /// Distinct values.
    var count: Int { get }
    /// Size of the dictionary page body (every value PLAIN).
    var plainBytes: Int { get }
    /// Appends value `i` PLAIN-encoded.
    func appendPlain(_ i: Int, to out: inout [UInt8])
    /// The dictionary page body.
    func plainPage() -> [UInt8]
}

extension NumericDictionary: PlainDictionary {}
extension BytesDictionary: PlainDictionary {}

/// Encodes one column chunk's values for its data pages (arrow-rs's `ColumnValueEncoder`): PLAIN, or RLE_DICTIONARY
/// indices into a dictionary kept for the whole chunk, falling back to PLAIN when the dictionary outgrows
/// `dictionaryPageSizeLimit` or does not pay on the chunk's first page; INT32/INT64 pages that would be PLAIN are
/// DELTA_BINARY_PACKED when that is smaller (`WriterOptions.deltaIntegers`). It also keeps the chunk's statistics.
/// `ColumnChunkWriter` does the rest: definition levels, page headers, compression and the chunk's layout.
struct ColumnValueEncoder {
    private enum Dictionary {
        case none
        case numeric(NumericDictionary)
        case bytes(BytesDictionary)
    }

    let layout: PhysicalLayout
    let column: Column
    let options: WriterOptions

    // Page state.
    /// The open page's PLAIN values, behind `levelsRoom` bytes kept free for its definition levels.
    private var plain = [UInt8](repeating: 0, count: ColumnValueEncoder.levelsRoom)
    /// Room in front of the PLAIN values for the encoded definition levels (4-byte length and RLE runs: a page without
    /// nulls takes 8 bytes), so that the page body is handed on from `plain` itself.
    static let levelsRoom = 64
    private var boolBits = 0
    private var indices: [UInt32] = []
    /// PLAIN size of the values currently held as dictionary indices (to decide whether the dictionary pays).
    private var indexedPlainBytes = 0

    // Chunk state.
    private var dict: Dictionary = .none
    /// True while new values go to the dictionary; false after a fallback to PLAIN.
    private var dictActive = false
    /// Data pages of the chunk encoded with the dictionary (the chunk then has a dictionary page).
    private(set) var dictionaryPages = 0
    /// Data pages of the chunk encoded DELTA_BINARY_PACKED.
    private(set) var deltaPages = 0
    /// True once the chunk's first values were checked against `dictionarySampleBytes`.
    private var dictionarySampled = false
    /// PLAIN bytes of dictionary-encoded values after which a chunk's dictionary is checked the first time.
    static let dictionarySampleBytes = 256 << 10
    /// Whether earlier chunks of this column dropped their dictionary (then the next chunks skip it).
    let dictionaryMemory: DictionaryMemory
    /// The chunk's statistics (`ColumnChunkWriter` adds the null count).
    var stats: StatisticsAccumulator

    init(column: Column, layout: PhysicalLayout, options: WriterOptions, dictionaryMemory: DictionaryMemory) {
        self.dictionaryMemory = dictionaryMemory
        self.column = column
        self.layout = layout
        self.options = options
        self.stats = StatisticsAccumulator(physical: layout.type, type: column.type)
        resetChunk()
    }

    /// Starts a new chunk: a new dictionary (when enabled for this type) and new statistics.
    mutating func resetChunk() {
        dictionaryPages = 0
        deltaPages = 0
        dictionarySampled = false
        stats = StatisticsAccumulator(physical: layout.type, type: column.type)
        dictActive = options.dictionary && layout.type != .boolean && dictionaryMemory.startChunk(column.name)
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

    /// The chunk's dictionary, whatever its value type; nil without one.
    private var dictionary: (any PlainDictionary)? {
        switch dict {
        case .none: return nil
        case let .numeric(d): return d
        case let .bytes(d): return d
        }
    }

    private var dictionaryPlainBytes: Int { dictionary?.plainBytes ?? 0 }

    /// Bytes held for the open page and the dictionary, for row-group sizing (indices counted at ~4 bits).
    var bufferedBytes: Int { plainBytes + indices.count / 2 + dictionaryPlainBytes }

    /// Bytes of PLAIN values in the open page.
    private var plainBytes: Int { plain.count - Self.levelsRoom }

    /// Size of the open page, counting dictionary-encoded values at their PLAIN size (so a page of long
    /// dictionary strings is cut as soon as the byte-array loop stops at the limit).
    var pageBytes: Int { plainBytes + indexedPlainBytes }

    /// True when new values still go to the dictionary but it has outgrown its limit: the caller flushes the page
    /// and calls `fallBackToPlain`.
    var dictionaryFull: Bool { dictActive && dictionaryPlainBytes > options.dictionaryPageSizeLimit }

    /// Encodes the rest of the chunk PLAIN (the dictionary keeps serving the pages already written).
    mutating func fallBackToPlain() { dictActive = false }

    /// Decides early whether the dictionary pays (as `flushDataPage` does on the first page), once a sample of the
    /// chunk is in: a column of long unique values (text, ids) stops hashing and copying its values into a
    /// dictionary it would drop anyway. Called by the chunk writer after each append.
    mutating func sampleDictionary() {
        guard dictActive, dictionaryPages == 0, !dictionarySampled, indexedPlainBytes >= Self.dictionarySampleBytes else { return }
        dictionarySampled = true
        if !dictionaryPays { abandonDictionary() }
    }

    /// Whether the open page's values take less room as dictionary plus indexes than as PLAIN (by a tenth).
    private var dictionaryPays: Bool {
        let count = max(dictionary?.count ?? 0, 1)
        let indexBytes = (indices.count * max(RLEHybrid.bitWidth(UInt32(count - 1)), 1) + 7) / 8
        return dictionaryPlainBytes + indexBytes < indexedPlainBytes * 9 / 10
    }

    // MARK: values

    // The hot loops below work on local copies of the encoder's state (moved out and back), so the optimiser
    // sees plain local arrays: no exclusivity checks or uniqueness checks per value.

    /// Encodes the non-null values of `range`; returns how many rows were consumed (fewer than requested
    /// only for byte arrays, when the page reached its byte size).
    mutating func append(_ buffer: ColumnBuffer, _ range: Range<Int>) -> Int {
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
    private mutating func appendBooleans(_ v: [Bool], _ validity: [Bool]?, _ range: Range<Int>) {
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

    private mutating func appendNumeric<T>(_ p: UnsafeBufferPointer<T>, _ validity: [Bool]?, _ range: Range<Int>,
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

    private mutating func appendBytes(_ arena: [UInt8], _ validity: [Bool]?, _ range: Range<Int>,
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
            // Room for the page up to its limit (plus one long value) at once: growing the array by doubling would
            // copy the page several times over.
            if range.count > 0 {
                let inRange = value(range.upperBound - 1).upperBound - value(range.lowerBound).lowerBound
                let want = Self.levelsRoom + min(pageLimit + (64 << 10), out.count - Self.levelsRoom + inRange + (lengthPrefix ? 4 * range.count : 0))
                if out.capacity < want { out.reserveCapacity(want) }
            }
            for i in range {
                consumed += 1
                guard validity?[i] ?? true else { continue }
                let r = value(i)
                let v = UnsafeRawBufferPointer(rebasing: all[r])
                st.update(bytes: v)
                if lengthPrefix { withUnsafeBytes(of: UInt32(r.count).littleEndian) { out.append(contentsOf: $0) } }
                out.append(contentsOf: v)
                if out.count - Self.levelsRoom >= pageLimit { break }
            }
            plain = out
        }
        return consumed
    }

    // MARK: pages

    /// Converts the open page's dictionary indices to PLAIN values and drops the dictionary (used when the
    /// dictionary does not pay on the chunk's first page).
    private mutating func abandonDictionary() {
        // Per value: the concrete dictionary types, so `appendPlain` inlines.
        switch dict {
        case let .numeric(d): Self.appendPlain(indices, of: d, to: &plain)
        case let .bytes(d): Self.appendPlain(indices, of: d, to: &plain)
        case .none: break
        }
        indices.removeAll(keepingCapacity: true)
        indexedPlainBytes = 0
        dict = .none
        dictActive = false
        dictionaryMemory.dropped(column.name)
    }

    private static func appendPlain<D: PlainDictionary>(_ indices: [UInt32], of d: D, to out: inout [UInt8]) {
        for i in indices { d.appendPlain(Int(i), to: &out) }
    }

    /// Hands `emit` the open page's encoding and body: `levels` (the encoded definition levels) followed by the values,
    /// then starts the next page. On the chunk's first page the dictionary is dropped unless it pays (compared with
    /// PLAIN). PLAIN values are handed on in place, with the levels written into the room in front of them; dictionary
    /// indices (and levels longer than that room) are assembled in `scratch`.
    mutating func flushDataPage(levels: [UInt8], scratch: inout [UInt8],
                                _ emit: (Encoding, UnsafeRawBufferPointer) -> Void) {
        if !indices.isEmpty && dictionaryPages == 0 && !dictionaryPays { abandonDictionary() }
        if !indices.isEmpty {
            let count = max(dictionary?.count ?? 0, 1)
            let width = max(RLEHybrid.bitWidth(UInt32(count - 1)), 1)
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: levels)
            scratch.append(UInt8(width))
            indices.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: width, into: &scratch) }
            dictionaryPages += 1
            scratch.withUnsafeBytes { emit(.rleDictionary, $0) }
        } else if options.deltaIntegers, layout.type == .int32 || layout.type == .int64, plainBytes > 0,
                  encodeDelta(levels: levels, into: &scratch) {
            deltaPages += 1
            scratch.withUnsafeBytes { emit(.deltaBinaryPacked, $0) }
        } else if levels.count <= Self.levelsRoom {
            let start = Self.levelsRoom - levels.count
            plain.withUnsafeMutableBytes { page in
                levels.withUnsafeBytes { page.baseAddress!.advanced(by: start).copyMemory(from: $0.baseAddress!, byteCount: levels.count) }
                emit(.plain, UnsafeRawBufferPointer(rebasing: page[start...]))
            }
        } else {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: levels)
            plain.withUnsafeBytes { scratch.append(contentsOf: $0[Self.levelsRoom...]) }
            scratch.withUnsafeBytes { emit(.plain, $0) }
        }
        plain.removeLast(plainBytes)
        indices.removeAll(keepingCapacity: true)
        indexedPlainBytes = 0
        boolBits = 0
    }

    /// Puts `levels` and the open page's PLAIN integers as DELTA_BINARY_PACKED into `scratch`; false (and `scratch`
    /// to be ignored) when that is not smaller than PLAIN.
    private func encodeDelta(levels: [UInt8], into scratch: inout [UInt8]) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: levels)
        plain.withUnsafeBytes { page in
            let values = UnsafeRawBufferPointer(rebasing: page[Self.levelsRoom...])
            if layout.type == .int64 {
                DeltaBinaryPackedEncoder.encodeInt64(values, into: &scratch)
            } else {
                DeltaBinaryPackedEncoder.encodeInt32(values, into: &scratch)
            }
        }
        return scratch.count - levels.count < plainBytes
    }

    /// The dictionary page of the chunk (its PLAIN body and value count); nil when no data page used it.
    func dictionaryPage() -> (body: [UInt8], count: Int)? {
        guard dictionaryPages > 0 else { return nil }
        guard let d = dictionary else { return ([], 0) }
        return (d.plainPage(), d.count)
    }
}
