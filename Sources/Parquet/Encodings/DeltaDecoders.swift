/// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY decoders.
enum DeltaDecoder {
    /// Decodes a DELTA_BINARY_PACKED stream from `r` (reads exactly the stream), appending its values.
    /// Arithmetic wraps (two's complement), as the encoding specifies.
    static func binaryPacked(_ r: inout ByteReader, into out: inout [Int64], expected: Int? = nil) throws {
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
        // Every value after the first needs at least one bit of input; reject absurd counts early.
        // Each block needs at least 1 + miniblocks bytes; reject counts the remaining input cannot hold.
        let maxBlocks = UInt64(r.remaining) / (1 + miniblocks) + 1
        guard total <= 1 + maxBlocks * blockSize else { throw DecodeError("DELTA_BINARY_PACKED count too large", at: r.pos) }
        let n = Int(total)
        if n == 0 { return }
        out.reserveCapacity(out.count + n)
        out.append(value)
        var produced = 1
        var widths = [UInt8](repeating: 0, count: Int(miniblocks))
        while produced < n {
            let minDelta = try r.zigzag()
            for m in 0..<widths.count { widths[m] = try r.byte() }
            for m in 0..<widths.count {
                if produced >= n { break }  // unused trailing miniblocks have no data
                let w = Int(widths[m])
                guard w <= 64 else { throw DecodeError("miniblock bit width \(w)", at: r.pos) }
                let bytes = try r.take(perMini * w / 8)
                var bitPos = 0
                for _ in 0..<perMini {
                    var d: UInt64 = 0
                    if w > 0 {
                        // Read w bits LSB-first starting at bitPos.
                        var got = 0
                        var bp = bitPos
                        while got < w {
                            let byte = UInt64(r.buf[bytes.lowerBound + (bp >> 3)])
                            let off = bp & 7
                            let take = min(8 - off, w - got)
                            d |= ((byte >> UInt64(off)) & ((1 << UInt64(take)) - 1)) << UInt64(got)
                            got += take
                            bp += take
                        }
                        bitPos += w
                    }
                    if produced < n {
                        value = value &+ minDelta &+ Int64(bitPattern: d)
                        out.append(value)
                        produced += 1
                    }
                }
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
