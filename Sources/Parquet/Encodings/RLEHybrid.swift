/// RLE / bit-packed hybrid encoding (definition levels, dictionary indices).
enum RLEHybrid {
    /// Number of bits needed to store `maxValue` (at least 0).
    @inline(__always) static func bitWidth(_ maxValue: UInt32) -> Int {
        maxValue == 0 ? 0 : 32 - maxValue.leadingZeroBitCount
    }

    /// Appends the hybrid encoding of `values` (each < 2^bitWidth) to `out` (no length prefix).
    static func encode(_ values: UnsafeBufferPointer<UInt32>, bitWidth: Int, into out: inout [UInt8]) {
        let n = values.count
        guard n > 0 else { return }
        // Worst case: every group of 8 bit-packed with its own header, or RLE runs of 8 (header + value).
        let bound = (n / 8 + 2) * (10 + max(bitWidth, 4)) + n * bitWidth / 8
        let base = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBufferPointer { buf -> Int in
            encode(values, bitWidth: bitWidth, to: buf.baseAddress! + base)
        }
        out.removeLast(bound - written)
    }

    /// Writes the encoding to `dst` (large enough, see `encode(_:bitWidth:into:)`); returns the byte count.
    private static func encode(_ values: UnsafeBufferPointer<UInt32>, bitWidth: Int, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        let n = values.count
        let valueBytes = (bitWidth + 7) / 8
        var o = 0
        @inline(__always) func varint(_ v: UInt64) {
            var v = v
            while v >= 0x80 { dst[o] = UInt8(truncatingIfNeeded: v) | 0x80; o += 1; v >>= 7 }
            dst[o] = UInt8(v); o += 1
        }
        @inline(__always) func runLength(at i: Int, limit: Int) -> Int {
            let v = values[i]
            var j = i + 1
            while j < n && j - i < limit && values[j] == v { j += 1 }
            return j - i
        }
        var i = 0
        while i < n {
            let run = runLength(at: i, limit: Int.max)
            if run >= 8 {
                varint(UInt64(run) << 1)
                let v = values[i]
                for b in 0..<valueBytes { dst[o] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(b))); o += 1 }
                i += run
                continue
            }
            // Bit-packed groups of 8 until a run of >= 8 starts at a group boundary.
            var end = i
            while true {
                end = min(end + 8, n)
                if end >= n || runLength(at: end, limit: 8) >= 8 { break }
            }
            let groups = (end - i + 7) / 8
            varint(UInt64(groups) << 1 | 1)
            if bitWidth > 0 {
                var acc: UInt64 = 0
                var bits = 0
                for k in 0..<(groups * 8) {
                    let v: UInt64 = i + k < end ? UInt64(values[i + k]) : 0
                    acc |= v << UInt64(bits)
                    bits += bitWidth
                    if bits >= 32 {
                        dst[o] = UInt8(truncatingIfNeeded: acc); dst[o + 1] = UInt8(truncatingIfNeeded: acc >> 8)
                        dst[o + 2] = UInt8(truncatingIfNeeded: acc >> 16); dst[o + 3] = UInt8(truncatingIfNeeded: acc >> 24)
                        o += 4; acc >>= 32; bits -= 32
                    }
                }
                while bits > 0 { dst[o] = UInt8(truncatingIfNeeded: acc); o += 1; acc >>= 8; bits -= 8 }
            }
            i = end
        }
        return o
    }

    /// Decodes exactly `count` values from `data[start..<end]` into `out` (appending). Throws on truncation or
    /// values that do not fit; `maxValue` (if given) bounds every value (dictionary indices).
    static func decode(_ data: UnsafeRawBufferPointer, start: Int, end: Int, bitWidth: Int, count: Int,
                       maxValue: UInt32? = nil, into out: inout [UInt32]) throws {
        guard bitWidth >= 0 && bitWidth <= 32 else { throw DecodeError("bit width \(bitWidth) out of range", at: start) }
        guard end <= data.count, start <= end, count >= 0 else { throw DecodeError("RLE section out of bounds", at: start) }
        let base = out.count
        out.append(contentsOf: repeatElement(0, count: count))
        try out.withUnsafeMutableBufferPointer { dst in
            try decodeInto(data, start: start, end: end, bitWidth: bitWidth, dst: UnsafeMutableBufferPointer(rebasing: dst[base...]),
                           maxValue: maxValue ?? UInt32.max)
        }
    }

    private static func decodeInto(_ data: UnsafeRawBufferPointer, start: Int, end: Int, bitWidth: Int,
                                   dst: UnsafeMutableBufferPointer<UInt32>, maxValue: UInt32) throws {
        let count = dst.count
        var pos = start
        var produced = 0
        let valueBytes = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (UInt64(1) << UInt64(bitWidth)) - 1
        while produced < count {
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard pos < end else { throw DecodeError("truncated RLE run header", at: pos) }
                let b = data[pos]; pos += 1
                guard shift < 64 else { throw DecodeError("RLE header varint too long", at: pos) }
                header |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
            }
            if header & 1 == 0 {
                let runLength = header >> 1
                guard runLength > 0 else { throw DecodeError("empty RLE run", at: pos) }
                guard end - pos >= valueBytes else { throw DecodeError("truncated RLE value", at: pos) }
                var v: UInt64 = 0
                for b in 0..<valueBytes { v |= UInt64(data[pos + b]) << (8 * UInt64(b)) }
                pos += valueBytes
                guard v <= mask else { throw DecodeError("RLE value exceeds bit width", at: pos) }
                guard v <= UInt64(maxValue) else { throw DecodeError("index \(v) out of range", at: pos) }
                let take = Int(min(runLength, UInt64(count - produced)))
                (dst.baseAddress! + produced).update(repeating: UInt32(v), count: take)
                produced += take
            } else {
                let groups = header >> 1
                guard groups > 0 else { throw DecodeError("empty bit-packed run", at: pos) }
                guard groups <= UInt64(end - pos) else { throw DecodeError("truncated bit-packed run", at: pos) }
                let byteCount = Int(groups) * bitWidth
                guard byteCount <= end - pos else { throw DecodeError("truncated bit-packed run", at: pos) }
                let take = min(Int(groups) * 8, count - produced)
                if bitWidth == 0 {
                    (dst.baseAddress! + produced).update(repeating: 0, count: take)
                } else {
                    var maxSeen: UInt64 = 0
                    var bitPos = 0
                    let runEnd = pos + byteCount
                    var k0 = 0
                    if bitWidth <= 8 {
                        // Fast path: a group of 8 values is `bitWidth` bytes; load it as one word.
                        let fullGroups = min(take / 8, (runEnd - pos - 8) / bitWidth + 1)
                        let w = UInt64(bitWidth)
                        var g = 0
                        while g < fullGroups && pos + g * bitWidth + 8 <= runEnd {
                            let word = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: pos + g * bitWidth, as: UInt64.self))
                            let out = dst.baseAddress! + produced + g * 8
                            for j in 0..<8 {
                                let v = (word >> (UInt64(j) &* w)) & mask
                                maxSeen = max(maxSeen, v)
                                out[j] = UInt32(truncatingIfNeeded: v)
                            }
                            g += 1
                        }
                        k0 = g * 8
                        bitPos = k0 * bitWidth
                    }
                    for k in k0..<take {
                        let byteIndex = pos + (bitPos >> 3)
                        var word: UInt64
                        if runEnd - byteIndex >= 8 {
                            word = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: byteIndex, as: UInt64.self))
                        } else {
                            word = 0
                            for b in 0..<(runEnd - byteIndex) { word |= UInt64(data[byteIndex + b]) << (8 * UInt64(b)) }
                        }
                        let v = (word >> UInt64(bitPos & 7)) & mask
                        maxSeen = max(maxSeen, v)
                        dst[produced + k] = UInt32(truncatingIfNeeded: v)
                        bitPos += bitWidth
                    }
                    guard maxSeen <= UInt64(maxValue) else { throw DecodeError("index \(maxSeen) out of range", at: pos) }
                }
                produced += take
                pos += byteCount
            }
        }
    }
}
