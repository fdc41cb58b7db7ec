/// Converts decimal unscaled values between INT32, INT64 and big-endian FIXED_LEN_BYTE_ARRAY storage, so the reader
/// returns `ColumnType.decimal` in its canonical storage whatever the writer chose (pyarrow writes FLBA).
enum DecimalConversion {
    /// Big-endian two's complement → Int64; nil when it does not fit.
    static func bigEndianToInt64(_ b: ArraySlice<UInt8>) -> Int64? {
        guard let first = b.first else { return 0 }
        let negative = first & 0x80 != 0
        var v: UInt64 = negative ? UInt64.max : 0
        var count = 0
        for byte in b {
            if count >= 8 {
                // The dropped high byte must be pure sign extension.
                let dropped = UInt8(truncatingIfNeeded: v >> 56)
                guard dropped == (negative ? 0xFF : 0) else { return nil }
            }
            v = (v << 8) | UInt64(byte)
            count += 1
        }
        let r = Int64(bitPattern: v)
        guard (r < 0) == negative else { return nil }
        return r
    }

    /// Converts `values` (physical storage) to `target` storage; throws a reason when a value does not fit.
    static func convert(_ values: ColumnValues, to target: ColumnStorage) throws -> ColumnValues {
        if values.storage == target { return values }
        switch (values, target) {
        case let (.int32(a), .int64): return .int64(a.map { Int64($0) })
        case let (.int64(a), .int32):
            var out = [Int32](); out.reserveCapacity(a.count)
            for v in a {
                guard let n = Int32(exactly: v) else { throw DecodeError("decimal value \(v) does not fit INT32", at: 0) }
                out.append(n)
            }
            return .int32(out)
        case let (.fixed(f), .int64), let (.fixed(f), .int32):
            var out64 = [Int64](); out64.reserveCapacity(f.count)
            for i in 0..<f.count {
                guard let v = bigEndianToInt64(f[i]) else { throw DecodeError("decimal value does not fit 64 bits", at: 0) }
                out64.append(v)
            }
            if target == .int64 { return .int64(out64) }
            return try convert(.int64(out64), to: .int32)
        case let (.int32(a), .fixed(w)): return .fixed(fromInts(a.map { Int64($0) }, width: w))
        case let (.int64(a), .fixed(w)): return .fixed(fromInts(a, width: w))
        case let (.fixed(f), .fixed(w)):
            var out = FixedBuffer(width: w, reservingCapacity: f.count)
            for i in 0..<f.count {
                let v = f[i]
                let negative = (v.first ?? 0) & 0x80 != 0
                if v.count >= w {
                    let drop = v.count - w
                    guard v.prefix(drop).allSatisfy({ $0 == (negative ? 0xFF : 0) }) else {
                        throw DecodeError("decimal value does not fit \(w) bytes", at: 0)
                    }
                    out.bytes.append(contentsOf: v.dropFirst(drop))
                } else {
                    out.bytes.append(contentsOf: repeatElement(negative ? 0xFF : 0, count: w - v.count))
                    out.bytes.append(contentsOf: v)
                }
            }
            return .fixed(out)
        default:
            throw DecodeError("cannot convert \(values.storage) to \(target)", at: 0)
        }
    }

    private static func fromInts(_ a: [Int64], width w: Int) -> FixedBuffer {
        var out = FixedBuffer(width: w, reservingCapacity: a.count)
        for v in a { out.appendDecimal(high: v < 0 ? -1 : 0, low: UInt64(bitPattern: v)) }
        return out
    }
}
