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
            defer { out = .byteArray(b) }
            // Pass 1: validate the lengths and compute the offsets; pass 2: copy the bytes into the resized arena.
            let start = r.pos
            let base = b.bytes.count
            let oBase = b.offsets.count
            b.offsets.append(contentsOf: repeatElement(0, count: count))
            var total = base
            try b.offsets.withUnsafeMutableBufferPointer { op in
                for k in 0..<count {
                    let n = Int(try r.u32())
                    _ = try r.take(n)
                    total += n
                    op[oBase + k] = total
                }
            }
            b.bytes.append(contentsOf: repeatElement(0, count: total - base))
            b.bytes.withUnsafeMutableBytes { dst in
                var p = start
                var at = base
                for _ in 0..<count {
                    let n = Int(UInt32(littleEndian: r.buf.loadUnaligned(fromByteOffset: p, as: UInt32.self)))
                    if n > 0 { (dst.baseAddress! + at).copyMemory(from: r.buf.baseAddress! + p + 4, byteCount: n) }
                    p += 4 + n
                    at += n
                }
            }
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
        _ = out.modify(Int32.self) { appendRaw(src, &$0) } || out.modify(Int64.self) { appendRaw(src, &$0) }
            || out.modify(Float.self) { appendRaw(src, &$0) } || out.modify(Double.self) { appendRaw(src, &$0) }
    }

    /// Appends the values stored in `src` (PLAIN, little-endian host: the bytes are the in-memory representation).
    @inline(__always) static func appendRaw<T: ColumnElement>(_ src: UnsafeRawBufferPointer, _ a: inout [T]) {
        let n = src.count / MemoryLayout<T>.stride
        guard n > 0 else { return }
        let old = a.count
        a.append(contentsOf: repeatElement(T.zeroValue, count: n))
        a.withUnsafeMutableBytes { dst in
            (dst.baseAddress! + old * MemoryLayout<T>.stride).copyMemory(from: src.baseAddress!, byteCount: n * MemoryLayout<T>.stride)
        }
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
        let mismatch = DecodeError("dictionary type does not match column", at: r.pos)
        switch dictionary {
        case let .int32(d): guard out.modify(Int32.self, { gather(d, indices, &$0) }) else { throw mismatch }
        case let .int64(d): guard out.modify(Int64.self, { gather(d, indices, &$0) }) else { throw mismatch }
        case let .float(d): guard out.modify(Float.self, { gather(d, indices, &$0) }) else { throw mismatch }
        case let .double(d): guard out.modify(Double.self, { gather(d, indices, &$0) }) else { throw mismatch }
        case let .boolean(d): guard out.modify(Bool.self, { gather(d, indices, &$0) }) else { throw mismatch }
        case let .byteArray(d):
            guard case var .byteArray(b) = out else { throw mismatch }
            out = .boolean([])
            // Two passes: offsets first (gives the total size), then one copy per value into the resized arena.
            let base = b.bytes.count
            let oBase = b.offsets.count
            b.offsets.append(contentsOf: repeatElement(0, count: indices.count))
            var total = base
            d.offsets.withUnsafeBufferPointer { dof in
                b.offsets.withUnsafeMutableBufferPointer { op in
                    for (k, i) in indices.enumerated() {
                        total += dof[Int(i) + 1] - dof[Int(i)]
                        op[oBase + k] = total
                    }
                }
            }
            b.bytes.append(contentsOf: repeatElement(0, count: total - base))
            b.bytes.withUnsafeMutableBytes { dst in
                d.bytes.withUnsafeBytes { src in
                    d.offsets.withUnsafeBufferPointer { dof in
                        var at = base
                        for i in indices {
                            let lo = dof[Int(i)], len = dof[Int(i) + 1] - lo
                            if len > 0 { (dst.baseAddress! + at).copyMemory(from: src.baseAddress! + lo, byteCount: len) }
                            at += len
                        }
                    }
                }
            }
            out = .byteArray(b)
        case let .fixed(d):
            guard case var .fixed(f) = out else { throw mismatch }
            out = .boolean([])
            let w = d.width
            f.bytes.reserveCapacity(f.bytes.count + indices.count * w)
            d.bytes.withUnsafeBytes { src in
                for i in indices { f.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: src[(Int(i) * w)..<((Int(i) + 1) * w)])) }
            }
            out = .fixed(f)
        }
    }

    /// Appends `d[i]` for every index (indices were validated against the dictionary size).
    @inline(__always) private static func gather<T: ColumnElement>(_ d: [T], _ idx: [UInt32], _ a: inout [T]) {
        let n = idx.count
        let old = a.count
        a.append(contentsOf: repeatElement(T.zeroValue, count: n))
        a.withUnsafeMutableBufferPointer { ap in
            d.withUnsafeBufferPointer { dp in
                idx.withUnsafeBufferPointer { ip in
                    for k in 0..<n { ap[old + k] = dp[Int(ip[k])] }
                }
            }
        }
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
