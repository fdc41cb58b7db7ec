/// Decoders from page bytes to dense (non-null) values, per encoding. All reads are bounds-checked.
enum ValueDecoder {
    /// PLAIN: `count` values of `storage` from `r`.
    static func plain(_ r: inout ByteReader, storage: ColumnStorage, count: Int, into out: inout ColumnValues) throws {
        switch storage {
        case .boolean:
            let bytes = try r.take((count + 7) / 8)
            guard case var .boolean(a) = out else { return }
            out = .boolean([])
            a.reserveCapacity(a.count + count)
            for i in 0..<count { a.append(r.buf[bytes.lowerBound + i >> 3] >> UInt8(i & 7) & 1 == 1) }
            out = .boolean(a)
        case .int32: try fixed(&r, count: count, width: 4, into: &out)
        case .int64: try fixed(&r, count: count, width: 8, into: &out)
        case .float: try fixed(&r, count: count, width: 4, into: &out)
        case .double: try fixed(&r, count: count, width: 8, into: &out)
        case .byteArray:
            guard case var .byteArray(b) = out else { return }
            guard count <= r.remaining / 4 else { throw DecodeError("\(count) byte arrays cannot fit in \(r.remaining) bytes", at: r.pos) }
            out = .int32([])
            b.offsets.reserveCapacity(b.offsets.count + count)
            for _ in 0..<count {
                let n = try r.u32()
                let range = try r.take(Int(n))
                b.append(UnsafeRawBufferPointer(rebasing: r.buf[range]))
            }
            out = .byteArray(b)
        case let .fixed(w):
            guard case var .fixed(f) = out else { return }
            out = .int32([])
            let (total, o) = count.multipliedReportingOverflow(by: w)
            guard !o else { throw DecodeError("value count overflow", at: r.pos) }
            let range = try r.take(total)
            f.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: r.buf[range]))
            out = .fixed(f)
        }
    }

    /// Appends `count` little-endian values of `width` bytes to the matching numeric array.
    private static func fixed(_ r: inout ByteReader, count: Int, width: Int, into out: inout ColumnValues) throws {
        let (total, o) = count.multipliedReportingOverflow(by: width)
        guard !o else { throw DecodeError("value count overflow", at: r.pos) }
        let range = try r.take(total)
        let src = UnsafeRawBufferPointer(rebasing: r.buf[range])
        switch out {
        case var .int32(a): out = .int32([]); appendRaw(src, &a); out = .int32(a)
        case var .int64(a): out = .int64([]); appendRaw(src, &a); out = .int64(a)
        case var .float(a): out = .float([]); appendRaw(src, &a); out = .float(a)
        case var .double(a): out = .double([]); appendRaw(src, &a); out = .double(a)
        default: break
        }
    }

    @inline(__always) static func appendRaw<T>(_ src: UnsafeRawBufferPointer, _ a: inout [T]) {
        let n = src.count / MemoryLayout<T>.stride
        let old = a.count
        a.reserveCapacity(old + n)
        // Little-endian host (x86-64, arm64): the PLAIN bytes are the in-memory representation.
        for i in 0..<n { a.append(src.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self)) }
        _ = old
    }

    /// Dictionary indices section (bit-width byte + RLE hybrid) → values gathered from `dictionary`.
    static func dictionary(_ r: inout ByteReader, dictionary: ColumnValues, count: Int, into out: inout ColumnValues,
                           indices: inout [UInt32]) throws {
        let dictCount = dictionary.count
        indices.removeAll(keepingCapacity: true)
        if count == 0 { return }
        let width = Int(try r.byte())
        guard dictCount > 0 else { throw DecodeError("dictionary-encoded values without a dictionary", at: r.pos) }
        try RLEHybrid.decode(r.buf, start: r.pos, end: r.end, bitWidth: width, count: count,
                             maxValue: UInt32(dictCount - 1), into: &indices)
        r.pos = r.end
        switch (dictionary, out) {
        case (.int32(let d), .int32(var a)): out = .int32([]); gather(d, indices, &a); out = .int32(a)
        case (.int64(let d), .int64(var a)): out = .int64([]); gather(d, indices, &a); out = .int64(a)
        case (.float(let d), .float(var a)): out = .float([]); gather(d, indices, &a); out = .float(a)
        case (.double(let d), .double(var a)): out = .double([]); gather(d, indices, &a); out = .double(a)
        case (.boolean(let d), .boolean(var a)): out = .boolean([]); gather(d, indices, &a); out = .boolean(a)
        case (.byteArray(let d), .byteArray(var b)):
            out = .boolean([])
            d.bytes.withUnsafeBytes { src in
                for i in indices { b.append(UnsafeRawBufferPointer(rebasing: src[d.range(Int(i))])) }
            }
            out = .byteArray(b)
        case (.fixed(let d), .fixed(var f)):
            out = .boolean([])
            let w = d.width
            f.bytes.reserveCapacity(f.bytes.count + indices.count * w)
            d.bytes.withUnsafeBytes { src in
                for i in indices { f.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: src[(Int(i) * w)..<((Int(i) + 1) * w)])) }
            }
            out = .fixed(f)
        default:
            throw DecodeError("dictionary type does not match column", at: r.pos)
        }
    }

    @inline(__always) private static func gather<T>(_ d: [T], _ idx: [UInt32], _ a: inout [T]) {
        a.reserveCapacity(a.count + idx.count)
        d.withUnsafeBufferPointer { dp in for i in idx { a.append(dp[Int(i)]) } }
    }

    /// RLE-encoded booleans (4-byte length prefix, bit width 1).
    static func rleBoolean(_ r: inout ByteReader, count: Int, into out: inout ColumnValues) throws {
        let len = Int(try r.u32())
        let range = try r.take(len)
        var tmp: [UInt32] = []
        try RLEHybrid.decode(r.buf, start: range.lowerBound, end: range.upperBound, bitWidth: 1, count: count, into: &tmp)
        guard case var .boolean(a) = out else { return }
        out = .int32([])
        a.reserveCapacity(a.count + count)
        for v in tmp { a.append(v != 0) }
        out = .boolean(a)
    }

    /// BYTE_STREAM_SPLIT for fixed-width types.
    static func byteStreamSplit(_ r: inout ByteReader, count: Int, width: Int, into out: inout ColumnValues) throws {
        let (total, o) = count.multipliedReportingOverflow(by: width)
        guard !o else { throw DecodeError("value count overflow", at: r.pos) }
        let range = try r.take(total)
        var joined = [UInt8](repeating: 0, count: total)
        for i in 0..<count {
            for k in 0..<width { joined[i * width + k] = r.buf[range.lowerBound + k * count + i] }
        }
        try joined.withUnsafeBytes { jb in
            var jr = ByteReader(jb)
            let storage = out.storage
            try plain(&jr, storage: storage, count: count, into: &out)
        }
    }
}
