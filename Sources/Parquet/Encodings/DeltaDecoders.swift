/// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY decoders.
enum DeltaDecoder {
    /// Decodes a DELTA_BINARY_PACKED stream from `r` (reads exactly the stream), appending its values (truncated to
    /// `T`: INT32 columns add their deltas modulo 2^32, as 32-bit writers take them). Arithmetic wraps (two's
    /// complement), as the encoding specifies. Miniblocks are unpacked a 64-bit word at a time where 8 bytes remain.
    static func binaryPacked<T: FixedWidthInteger>(_ r: inout ByteReader, into out: inout [T], expected: Int? = nil) throws {
        let blockSize = try r.varint()
        let miniblocks = try r.varint()
        let total = try r.varint()
        var value = try r.zigzag()
        guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20, miniblocks > 0, blockSize % miniblocks == 0 else {
            throw DecodeError("bad DELTA_BINARY_PACKED header", at: r.pos)
        }
        let perMini = Int(blockSize / miniblocks)
        guard perMini % 32 == 0 else { throw DecodeError("bad miniblock size", at: r.pos) }
        if let expected, total != UInt64(expected) {
            throw DecodeError("DELTA_BINARY_PACKED has \(total) values, expected \(expected)", at: r.pos)
        }
        // Each block needs at least 1 + miniblocks bytes; reject counts the remaining input cannot hold.
        let maxBlocks = UInt64(r.remaining) / (1 + miniblocks) + 1
        guard total <= 1 + maxBlocks * blockSize else { throw DecodeError("DELTA_BINARY_PACKED count too large", at: r.pos) }
        let n = Int(total)
        if n == 0 { return }
        out.reserveCapacity(out.count + n)
        out.append(T(truncatingIfNeeded: value))
        var produced = 1
        var widths = [UInt8](repeating: 0, count: Int(miniblocks))
        let buf = r.buf
        while produced < n {
            let minDelta = try r.zigzag()
            for m in 0..<widths.count { widths[m] = try r.byte() }
            for m in 0..<widths.count {
                if produced >= n { break }  // unused trailing miniblocks have no data
                let w = Int(widths[m])
                guard w <= 64 else { throw DecodeError("miniblock bit width \(w)", at: r.pos) }
                let bytes = try r.take(perMini * w / 8)
                let take = min(perMini, n - produced)
                let mask: UInt64 = w == 64 ? ~0 : (1 << UInt64(w)) &- 1
                for k in 0..<take {
                    var d: UInt64 = 0
                    if w > 0 {
                        let bit = k * w
                        let at = bytes.lowerBound + (bit >> 3)
                        let shift = UInt64(bit & 7)
                        if at + 8 <= bytes.upperBound {
                            d = UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: at, as: UInt64.self)) >> shift
                            if shift + UInt64(w) > 64 { d |= UInt64(buf[at + 8]) << (64 - shift) }
                        } else {
                            // The miniblock's last (fewer than 8) bytes hold the rest of this value.
                            var word: UInt64 = 0
                            for i in 0..<(bytes.upperBound - at) { word |= UInt64(buf[at + i]) << UInt64(8 * i) }
                            d = word >> shift
                        }
                        d &= mask
                    }
                    value = value &+ minDelta &+ Int64(bitPattern: d)
                    out.append(T(truncatingIfNeeded: value))
                }
                produced += take
            }
        }
    }

    /// DELTA_LENGTH_BYTE_ARRAY: lengths (DELTA_BINARY_PACKED) then the concatenated bytes.
    static func lengthByteArray(_ r: inout ByteReader, count: Int, into b: inout ByteArrayBuffer) throws {
        var lengths: [Int64] = []
        try binaryPacked(&r, into: &lengths, expected: count)
        for l in lengths {
            guard l >= 0, l <= Int64(r.remaining) else { throw DecodeError("bad byte array length \(l)", at: r.pos) }
            let range = try r.take(Int(l))
            b.append(UnsafeRawBufferPointer(rebasing: r.buf[range]))
        }
    }

    /// DELTA_BYTE_ARRAY: prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY; value i = prefix of value i-1 + suffix.
    static func byteArray(_ r: inout ByteReader, count: Int, fixedWidth: Int?, into out: inout ColumnValues) throws {
        var prefixes: [Int64] = []
        try binaryPacked(&r, into: &prefixes, expected: count)
        var suffixes = ByteArrayBuffer()
        try lengthByteArray(&r, count: count, into: &suffixes)
        var previous: [UInt8] = []
        var current: [UInt8] = []
        var b = ByteArrayBuffer()
        var f = FixedBuffer(width: fixedWidth ?? 0)
        for i in 0..<count {
            let p = prefixes[i]
            guard p >= 0, p <= Int64(previous.count) else { throw DecodeError("bad DELTA_BYTE_ARRAY prefix \(p)", at: r.pos) }
            current.removeAll(keepingCapacity: true)
            current.append(contentsOf: previous[0..<Int(p)])
            current.append(contentsOf: suffixes[i])
            if let w = fixedWidth {
                guard current.count == w else { throw DecodeError("DELTA_BYTE_ARRAY value has wrong width", at: r.pos) }
                f.bytes.append(contentsOf: current)
            } else {
                b.append(contentsOf: current)
            }
            swap(&previous, &current)
        }
        if case var .byteArray(o) = out {
            out = .boolean([])
            for i in 0..<b.count { o.append(contentsOf: b[i]) }
            out = .byteArray(o)
        } else if case var .fixed(o) = out {
            out = .boolean([])
            o.bytes.append(contentsOf: f.bytes)
            out = .fixed(o)
        } else {
            throw DecodeError("DELTA_BYTE_ARRAY on a non-byte column", at: r.pos)
        }
    }
}
