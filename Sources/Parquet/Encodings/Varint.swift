/// ULEB128 varints and zigzag integers, as Thrift's compact protocol and the DELTA encodings write them (the readers
/// are `ByteReader.varint`/`zigzag` and `decodeVarint`).
extension Array where Element == UInt8 {
    /// Appends `v` as a ULEB128 varint (7 bits per byte, low first).
    @inline(__always)
    mutating func appendVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    /// Appends `v` zigzag-encoded as a varint (small magnitudes of either sign take few bytes).
    @inline(__always)
    mutating func appendZigzag(_ v: Int64) {
        appendVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }
}
