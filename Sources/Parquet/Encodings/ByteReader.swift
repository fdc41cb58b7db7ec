/// Bounds-checked little-endian reads from a page body.
struct ByteReader {
    let buf: UnsafeRawBufferPointer
    var pos: Int
    let end: Int

    init(_ buf: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil) {
        self.buf = buf
        self.pos = start
        self.end = min(end ?? buf.count, buf.count)
    }

    var remaining: Int { end - pos }

    mutating func byte() throws -> UInt8 {
        guard pos < end else { throw DecodeError("unexpected end of page", at: pos) }
        defer { pos += 1 }
        return buf[pos]
    }

    mutating func u32() throws -> UInt32 {
        guard end - pos >= 4 else { throw DecodeError("unexpected end of page", at: pos) }
        defer { pos += 4 }
        return UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: pos, as: UInt32.self))
    }

    mutating func varint() throws -> UInt64 {
        try decodeVarint { try byte() }
    }

    mutating func zigzag() throws -> Int64 {
        let u = try varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    /// Skips `n` bytes and returns their range.
    mutating func take(_ n: Int) throws -> Range<Int> {
        guard n >= 0, n <= end - pos else { throw DecodeError("length \(n) exceeds page", at: pos) }
        defer { pos += n }
        return pos..<(pos + n)
    }
}
