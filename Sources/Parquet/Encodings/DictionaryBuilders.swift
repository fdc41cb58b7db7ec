/// Dictionary of fixed-width numeric values keyed by bit pattern (INT32, INT64, FLOAT, DOUBLE): insertion order
/// gives the index. Open addressing with linear probing.
struct NumericDictionary {
    /// Byte width of one value in the PLAIN dictionary page (4 or 8).
    let width: Int
    private(set) var values: [UInt64] = []
    private var table: [Int32]
    private var mask: Int
    private var shift: UInt64

    init(width: Int) {
        self.width = width
        table = [Int32](repeating: -1, count: 1024)
        mask = 1023
        shift = 64 - 10
    }

    var count: Int { values.count }
    var plainBytes: Int { values.count * width }

    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Index of `key`, inserting it when new.
    @inline(__always) mutating func insert(_ key: UInt64) -> (index: UInt32, isNew: Bool) {
        var s = slot(key)
        while true {
            let e = table[s]
            if e < 0 { break }
            if values[Int(e)] == key { return (UInt32(e), false) }
            s = (s + 1) & mask
        }
        let idx = values.count
        values.append(key)
        table[s] = Int32(idx)
        if values.count * 2 > table.count { grow() }
        return (UInt32(idx), true)
    }

    private mutating func grow() {
        let newSize = table.count * 2
        table = [Int32](repeating: -1, count: newSize)
        mask = newSize - 1
        shift -= 1
        for (i, v) in values.enumerated() {
            var s = slot(v)
            while table[s] >= 0 { s = (s + 1) & mask }
            table[s] = Int32(i)
        }
    }

    /// Appends the PLAIN encoding of entry `i`.
    @inline(__always) func appendPlain(_ i: Int, to out: inout [UInt8]) {
        let v = values[i]
        if width == 4 {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
    }

    /// PLAIN encoding of all entries (the dictionary page body).
    func plainPage() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(plainBytes)
        if width == 4 {
            let narrow = values.map { UInt32(truncatingIfNeeded: $0).littleEndian }
            narrow.withUnsafeBytes { out.append(contentsOf: $0) }
        } else {
            values.map { $0.littleEndian }.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        return out
    }
}

/// Dictionary of byte strings (BYTE_ARRAY, or FIXED_LEN_BYTE_ARRAY when `fixedWidth` is set).
struct BytesDictionary {
    let fixedWidth: Int?
    private(set) var entries = ByteArrayBuffer()
    private var hashes: [UInt64] = []
    private var table: [Int32]
    private var mask: Int
    private(set) var plainBytes = 0

    init(fixedWidth: Int?) {
        self.fixedWidth = fixedWidth
        table = [Int32](repeating: -1, count: 1024)
        mask = 1023
    }

    var count: Int { entries.count }

    @inline(__always) static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(p.count)
        var i = 0
        let n = p.count
        while n - i >= 8 {
            h = (h ^ UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n { tail |= UInt64(p[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        return h
    }

    /// Index of `value`, inserting it when new.
    mutating func insert(_ value: UnsafeRawBufferPointer) -> (index: UInt32, isNew: Bool) {
        let h = BytesDictionary.hash(value)
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = table[s]
            if e < 0 { break }
            let ei = Int(e)
            if hashes[ei] == h {
                let r = entries.range(ei)
                if r.count == value.count {
                    let same = entries.bytes.withUnsafeBytes { all -> Bool in
                        value.count == 0 || memcmpEqual(all.baseAddress! + r.lowerBound, value.baseAddress!, value.count)
                    }
                    if same { return (UInt32(ei), false) }
                }
            }
            s = (s + 1) & mask
        }
        let idx = entries.count
        entries.append(value)
        hashes.append(h)
        table[s] = Int32(idx)
        plainBytes += value.count + (fixedWidth == nil ? 4 : 0)
        if entries.count * 2 > table.count { grow() }
        return (UInt32(idx), true)
    }

    private mutating func grow() {
        let newSize = table.count * 2
        table = [Int32](repeating: -1, count: newSize)
        mask = newSize - 1
        for (i, h) in hashes.enumerated() {
            var s = Int(truncatingIfNeeded: h) & mask
            while table[s] >= 0 { s = (s + 1) & mask }
            table[s] = Int32(i)
        }
    }

    /// Appends the PLAIN encoding of entry `i`.
    @inline(__always) func appendPlain(_ i: Int, to out: inout [UInt8]) {
        let r = entries.range(i)
        if fixedWidth == nil {
            withUnsafeBytes(of: UInt32(r.count).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: entries.bytes[r])
    }

    /// PLAIN encoding of all entries (the dictionary page body).
    func plainPage() -> [UInt8] {
        if fixedWidth != nil { return entries.bytes }
        var out = [UInt8]()
        out.reserveCapacity(plainBytes)
        for i in 0..<entries.count { appendPlain(i, to: &out) }
        return out
    }
}

@inline(__always) func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    memcmpBytes(a, b, n) == 0
}

/// Unsigned lexicographic comparison of two byte ranges (-1, 0, 1), shorter-is-smaller on a common prefix.
@inline(__always) func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = memcmpBytes(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return c < 0 ? -1 : 1 }
    }
    return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
}
