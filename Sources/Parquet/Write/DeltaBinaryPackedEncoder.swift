/// DELTA_BINARY_PACKED for INT32 and INT64 data pages: blocks of 128 deltas in 4 miniblocks of 32, each miniblock
/// bit-packed (LSB first) at the width its largest `delta - minDelta` needs. Sequential keys and timestamps pack to a
/// few bits per value, and readers (DuckDB, Arrow, Freshet's `DeltaDecoder`) unpack them faster than they decompress
/// the PLAIN values' LZ4.
///
/// INT32 deltas are taken in 32-bit wrapping arithmetic, so a miniblock is at most 32 bits wide, as 32-bit readers
/// (Arrow) require; INT64 deltas wrap at 64 bits. Readers add the deltas back with wrapping arithmetic.
enum DeltaBinaryPackedEncoder {
    static let blockSize = 128
    static let miniblocks = 4
    static let miniblockSize = blockSize / miniblocks

    /// Appends the encoding of `values` (little-endian INT64s, `count` of them) to `out`.
    static func encodeInt64(_ values: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = values.count / 8
        encode(count: n, first: n > 0 ? Int64(littleEndian: values.loadUnaligned(as: Int64.self)) : 0, into: &out) { i in
            // Delta i (between values i and i + 1), as the unsigned offset kind used for packing.
            let a = Int64(littleEndian: values.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
            let b = Int64(littleEndian: values.loadUnaligned(fromByteOffset: i * 8 + 8, as: Int64.self))
            return b &- a
        } packed: { delta, minDelta in UInt64(bitPattern: delta &- minDelta) }
    }

    /// Appends the encoding of `values` (little-endian INT32s) to `out`.
    static func encodeInt32(_ values: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = values.count / 4
        encode(count: n, first: n > 0 ? Int64(Int32(littleEndian: values.loadUnaligned(as: Int32.self))) : 0, into: &out) { i in
            let a = Int32(littleEndian: values.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
            let b = Int32(littleEndian: values.loadUnaligned(fromByteOffset: i * 4 + 4, as: Int32.self))
            return Int64(b &- a)
        } packed: { delta, minDelta in UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: delta) &- Int32(truncatingIfNeeded: minDelta))) }
    }

    /// The format: header (block size, miniblocks per block, value count, zigzag first value), then per block of up
    /// to 128 deltas its zigzag minimum delta, four width bytes and the miniblocks that hold deltas (the last one
    /// padded with zeros to 32 values; miniblocks past the last delta are left out, their widths 0).
    @inline(__always)
    private static func encode(count n: Int, first: Int64, into out: inout [UInt8],
                               delta: (Int) -> Int64, packed: (Int64, Int64) -> UInt64) {
        out.appendVarint(UInt64(blockSize))
        out.appendVarint(UInt64(miniblocks))
        out.appendVarint(UInt64(n))
        out.appendZigzag(first)
        guard n > 1 else { return }
        out.reserveCapacity(out.count + (n + blockSize) / blockSize * (16 + miniblocks) + n * 8)
        var deltas = [Int64](repeating: 0, count: blockSize)
        var widths = [Int](repeating: 0, count: miniblocks)
        var offsets = [UInt64](repeating: 0, count: blockSize)
        var start = 0
        let total = n - 1
        while start < total {
            let m = min(blockSize, total - start)
            var minDelta = Int64.max
            for k in 0..<m {
                let d = delta(start + k)
                deltas[k] = d
                if d < minDelta { minDelta = d }
            }
            for k in 0..<blockSize {
                let o = k < m ? packed(deltas[k], minDelta) : 0
                offsets[k] = o
            }
            out.appendZigzag(minDelta)
            let used = (m + miniblockSize - 1) / miniblockSize
            for b in 0..<miniblocks {
                var orAll: UInt64 = 0
                if b < used { for k in (b * miniblockSize)..<((b + 1) * miniblockSize) { orAll |= offsets[k] } }
                widths[b] = 64 - orAll.leadingZeroBitCount
                out.append(UInt8(widths[b]))
            }
            for b in 0..<used {
                offsets.withUnsafeBufferPointer { o in
                    pack(UnsafeBufferPointer(rebasing: o[(b * miniblockSize)..<((b + 1) * miniblockSize)]), width: widths[b], into: &out)
                }
            }
            start += m
        }
    }

    /// Appends 32 values packed LSB-first at `width` bits each (`4 × width` bytes).
    @inline(__always)
    static func pack(_ values: UnsafeBufferPointer<UInt64>, width: Int, into out: inout [UInt8]) {
        guard width > 0 else { return }
        var acc: UInt64 = 0
        var bits = 0
        for v in values {
            acc |= v << UInt64(bits)            // `<<` by 64 or more gives 0
            bits += width
            if bits >= 64 {
                withUnsafeBytes(of: acc.littleEndian) { out.append(contentsOf: $0) }
                bits -= 64
                acc = bits > 0 ? v >> UInt64(width - bits) : 0
            }
        }
        var rest = bits
        while rest > 0 {
            out.append(UInt8(truncatingIfNeeded: acc))
            acc >>= 8
            rest -= 8
        }
    }
}
