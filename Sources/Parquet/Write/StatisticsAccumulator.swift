/// Running min/max/null count of one column chunk, in the column's sort order.
struct StatisticsAccumulator {
    enum Order { case signedInt, float, double, boolean, unsignedBytes, signedBigEndian }

    let order: Order
    /// Byte width of PLAIN min/max for integers (4 or 8).
    let intWidth: Int
    var nullCount: Int64 = 0
    var nanCount: Int64 = 0
    private(set) var hasValue = false
    private var minI = Int64.max, maxI = Int64.min
    private var minD = Double.infinity, maxD = -Double.infinity
    private var minB: [UInt8] = [], maxB: [UInt8] = []

    init(physical: PhysicalType, type: ColumnType) {
        switch physical {
        case .boolean: order = .boolean; intWidth = 1
        case .int32: order = .signedInt; intWidth = 4
        case .int64: order = .signedInt; intWidth = 8
        case .float: order = .float; intWidth = 4
        case .double: order = .double; intWidth = 8
        case .byteArray, .int96: order = .unsignedBytes; intWidth = 0
        case .fixedLenByteArray:
            if case .decimal = type { order = .signedBigEndian } else { order = .unsignedBytes }
            intWidth = 0
        }
    }

    @inline(__always) mutating func update(int v: Int64) {
        if v < minI { minI = v }
        if v > maxI { maxI = v }
        hasValue = true
    }

    @inline(__always) mutating func update(double v: Double) {
        if v.isNaN { nanCount += 1; return }
        if v < minD || (v == 0 && v.sign == .minus && minD == 0) { minD = v }
        if v > maxD || (v == 0 && v.sign == .plus && maxD == 0) { maxD = v }
        hasValue = true
    }

    @inline(__always) private func less(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        if order == .signedBigEndian, a.count > 0, b.count > 0, a[0] != b[0] {
            return Int8(bitPattern: a[0]) < Int8(bitPattern: b[0])
        }
        return compareBytes(a, b) < 0
    }

    mutating func update(bytes v: UnsafeRawBufferPointer) {
        if !hasValue {
            minB = Array(v); maxB = Array(v); hasValue = true
            return
        }
        if minB.withUnsafeBytes({ less(v, $0) }) { minB = Array(v) }
        else if maxB.withUnsafeBytes({ less($0, v) }) { maxB = Array(v) }
    }

    /// The Thrift Statistics (null_count always; min/max when there is a non-NaN value and `minMax`).
    func statistics(minMax: Bool) -> Statistics {
        var s = Statistics()
        s.nullCount = nullCount
        guard minMax, hasValue else {
            if order == .float || order == .double, nanCount > 0 { s.nanCount = nanCount }
            return s
        }
        switch order {
        case .signedInt, .boolean:
            s.minValue = Self.le(minI, intWidth)
            s.maxValue = Self.le(maxI, intWidth)
        case .float:
            var lo = Float(minD), hi = Float(maxD)
            if lo == 0 { lo = -0.0 }
            if hi == 0 { hi = 0.0 }
            s.minValue = Self.le(Int64(lo.bitPattern), 4)
            s.maxValue = Self.le(Int64(hi.bitPattern), 4)
            s.nanCount = nanCount
        case .double:
            var lo = minD, hi = maxD
            if lo == 0 { lo = -0.0 }
            if hi == 0 { hi = 0.0 }
            s.minValue = Self.le(Int64(bitPattern: lo.bitPattern), 8)
            s.maxValue = Self.le(Int64(bitPattern: hi.bitPattern), 8)
            s.nanCount = nanCount
        case .unsignedBytes, .signedBigEndian:
            s.minValue = minB
            s.maxValue = maxB
        }
        return s
    }

    private static func le(_ v: Int64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: v >> (8 * Int64($0))) }
    }
}
