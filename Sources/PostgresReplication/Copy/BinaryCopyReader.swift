/// Streaming decoder of `COPY … TO STDOUT (FORMAT binary)` output.
///
/// Feed it the CopyData payloads in order (`PQgetCopyData` chunks; rows may span chunks and chunks may hold
/// many rows), then call `nextRow()` until it returns false, and feed again. At the end of the input call
/// `finish()`, which throws unless the `-1` trailer was seen. The reader buffers only the undecoded rest of
/// the input, so memory is bounded by the largest row plus one chunk, never by the table size.
///
/// ```swift
/// var reader = BinaryCopyReader()
/// while let chunk = nextCopyChunk() {
///     reader.feed(chunk)
///     while try reader.nextRow() {
///         let id = try reader.withField(0) { try BinaryValueParser.parseInt64($0!) }
///     }
/// }
/// try reader.finish()
/// ```
///
/// Field views (`field(_:)`, `withField(_:_:)`) point into the reader's buffer and are valid until the next
/// `feed` or `nextRow`; a field is NULL when its length is -1.
public struct BinaryCopyReader: Sendable {
    private enum Phase: Sendable {
        case header
        case headerExtension(remaining: Int)
        case rows
        case finished
    }

    private struct Field: Sendable {
        /// Index of the first byte in `buffer`; -1 for NULL.
        var start: Int
        var length: Int
    }

    private static let signature: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00]
    private static let headerSize = 19

    /// The largest field accepted (Postgres values are at most 1 GB); larger lengths are corrupt input.
    public let maxFieldBytes: Int
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already decoded.
    private var readIndex = 0
    /// Stream offset of `buffer[0]`.
    private var bufferOffset = 0
    private var phase = Phase.header
    private var fields: [Field] = []
    /// Fields per row, fixed by the first row.
    public private(set) var columnCount: Int?
    /// Rows decoded so far.
    public private(set) var rowCount = 0

    public init(maxFieldBytes: Int = 1 << 30) {
        self.maxFieldBytes = maxFieldBytes
    }

    /// True once the `-1` trailer has been read.
    public var isFinished: Bool {
        if case .finished = phase { return true }
        return false
    }

    /// Bytes held but not yet decoded (at most one partial row plus the last chunk).
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends the next chunk of the stream. Invalidates the current row's field views.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: chunk)
    }

    /// Appends the next chunk of the stream. Invalidates the current row's field views.
    public mutating func feed(_ chunk: [UInt8]) {
        chunk.withUnsafeBytes { feed($0) }
    }

    /// Decodes the next complete row from the buffered input. Returns false when more input is needed
    /// or the trailer was reached (see `isFinished`).
    public mutating func nextRow() throws(BinaryCopyError) -> Bool {
        fields.removeAll(keepingCapacity: true)
        while true {
            switch phase {
            case .finished:
                guard readIndex == buffer.count else { throw .dataAfterTrailer(offset: bufferOffset + readIndex) }
                return false
            case .header:
                guard try readHeader() else { return false }
            case .headerExtension(let remaining):
                let skipped = min(remaining, buffer.count - readIndex)
                readIndex += skipped
                guard skipped == remaining else {
                    phase = .headerExtension(remaining: remaining - skipped)
                    return false
                }
                phase = .rows
            case .rows:
                do {
                    guard try readRow() else {
                        fields.removeAll(keepingCapacity: true)
                        return false
                    }
                    return true
                } catch {
                    fields.removeAll(keepingCapacity: true)
                    throw error
                }
            }
        }
    }

    /// Call when the input has ended: throws unless the whole stream up to the trailer was decoded.
    public func finish() throws(BinaryCopyError) {
        guard isFinished else { throw .truncated(offset: bufferOffset + readIndex, bufferedBytes: bufferedByteCount) }
        guard readIndex == buffer.count else { throw .dataAfterTrailer(offset: bufferOffset + readIndex) }
    }

    /// Fields in the current row.
    public var fieldCount: Int { fields.count }

    /// True when field `index` of the current row is NULL.
    public func isNull(_ index: Int) -> Bool { fields[index].start < 0 }

    /// Field `index` of the current row as a view into the buffer; nil for NULL.
    public func field(_ index: Int) -> ArraySlice<UInt8>? {
        let field = fields[index]
        return field.start < 0 ? nil : buffer[field.start..<field.start + field.length]
    }

    /// Calls `body` with the bytes of field `index` of the current row, or nil for NULL.
    /// Calls `body` with each field of the current row in order (nil for NULL). One access to the buffer per row:
    /// cheaper than `withField` per column when the reader is a captured variable (each call copies the struct).
    public func forEachField(_ body: (_ index: Int, _ value: UnsafeRawBufferPointer?) throws -> Void) rethrows {
        try buffer.withUnsafeBytes { all in
            for i in fields.indices {
                let f = fields[i]
                try body(i, f.start < 0 ? nil : UnsafeRawBufferPointer(rebasing: all[f.start..<f.start + f.length]))
            }
        }
    }

    public func withField<R>(_ index: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let field = fields[index]
        guard field.start >= 0 else { return try body(nil) }
        return try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[field.start..<field.start + field.length])) }
    }

    // MARK: - Decoding

    /// Drops the decoded prefix of the buffer.
    private mutating func compact() {
        guard readIndex > 0 else { return }
        fields.removeAll(keepingCapacity: true)
        bufferOffset += readIndex
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else {
            buffer.removeFirst(readIndex)
        }
        readIndex = 0
    }

    private mutating func readHeader() throws(BinaryCopyError) -> Bool {
        let available = buffer.count - readIndex
        // Reject a wrong signature as soon as its first bytes are here.
        let signatureBytes = min(available, Self.signature.count)
        guard buffer[readIndex..<readIndex + signatureBytes].elementsEqual(Self.signature.prefix(signatureBytes)) else {
            throw .invalidSignature
        }
        guard available >= Self.headerSize else { return false }
        let flags = UInt32(bitPattern: buffer.loadBigEndian(fromByteOffset: readIndex + 11, as: Int32.self))
        guard flags & 0x1_FFFF == 0 else { throw .unsupportedFlags(flags) }
        let extensionLength = buffer.loadBigEndian(fromByteOffset: readIndex + 15, as: Int32.self)
        guard extensionLength >= 0 else { throw .invalidHeaderExtensionLength(extensionLength) }
        readIndex += Self.headerSize
        phase = .headerExtension(remaining: Int(extensionLength))
        return true
    }

    /// Reads one whole tuple if it is buffered; leaves `readIndex` at the tuple start otherwise.
    private mutating func readRow() throws(BinaryCopyError) -> Bool {
        var index = readIndex
        guard buffer.count - index >= 2 else { return false }
        let count = buffer.loadBigEndian(fromByteOffset: index, as: Int16.self)
        index += 2
        if count == -1 {
            readIndex = index
            phase = .finished
            guard readIndex == buffer.count else { throw .dataAfterTrailer(offset: bufferOffset + readIndex) }
            return false
        }
        guard count >= 0 else { throw .invalidFieldCount(count, row: rowCount, offset: bufferOffset + readIndex) }
        if let expected = columnCount, expected != Int(count) {
            throw .fieldCountChanged(expected: expected, found: Int(count), row: rowCount, offset: bufferOffset + readIndex)
        }
        for fieldIndex in 0..<Int(count) {
            guard buffer.count - index >= 4 else { return false }
            let length = buffer.loadBigEndian(fromByteOffset: index, as: Int32.self)
            guard length >= -1, Int(length) <= maxFieldBytes else {
                throw .invalidFieldLength(length, row: rowCount, field: fieldIndex, offset: bufferOffset + index)
            }
            index += 4
            if length == -1 {
                fields.append(Field(start: -1, length: 0))
            } else {
                guard buffer.count - index >= Int(length) else { return false }
                fields.append(Field(start: index, length: Int(length)))
                index += Int(length)
            }
        }
        columnCount = Int(count)
        rowCount += 1
        readIndex = index
        return true
    }
}
