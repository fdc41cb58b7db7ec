/// A growable bit set, one bit per row (validity, deleted and unchanged markers).
struct Bitmap: Sendable, Equatable {
    fileprivate(set) var words: [UInt64] = []
    fileprivate(set) var count = 0
    /// True when at least one bit is set (lets readers skip the per-row check).
    fileprivate(set) var any = false

    init() {}
    init(repeating value: Bool, count: Int) {
        for _ in 0..<count { append(value) }
    }

    mutating func append(_ bit: Bool) {
        if count & 63 == 0 { words.append(0) }
        if bit { words[count >> 6] |= 1 << UInt64(count & 63); any = true }
        count += 1
    }

    subscript(i: Int) -> Bool {
        words[i >> 6] & (1 << UInt64(i & 63)) != 0
    }

    mutating func reserve(_ n: Int) { words.reserveCapacity((n + 63) / 64) }

    /// Clears every bit and the count.
    mutating func removeAll(keepingCapacity: Bool) {
        words.removeAll(keepingCapacity: keepingCapacity)
        count = 0
        any = false
    }
}

extension Bitmap {
    /// A bitmap over `count` bits stored in `words` (as written by a part file).
    init(words: [UInt64], count: Int) {
        self.init()
        var w = words
        let needed = (count + 63) / 64
        if w.count > needed { w.removeLast(w.count - needed) }
        while w.count < needed { w.append(0) }
        if count & 63 != 0, let last = w.indices.last { w[last] &= (1 << UInt64(count & 63)) - 1 }
        self.words = w
        self.count = count
        self.any = w.contains { $0 != 0 }
    }
}
