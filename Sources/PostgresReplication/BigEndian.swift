/// Big-endian integers, the byte order of every PostgreSQL wire format (pgoutput, COPY binary, binary
/// values, the replication sub-protocol). The one reader and the one writer of the module.
///
/// Readers check their input's length first and throw their own typed error (with offsets) when it is short;
/// after that check they call `loadBigEndian`, which checks bounds once more with a single comparison and
/// traps on a read past the end (a bug in the caller, never bad input).
extension UnsafeRawBufferPointer {
    /// The big-endian `T` at `offset` (any alignment).
    @inline(__always)
    func loadBigEndian<T: FixedWidthInteger>(fromByteOffset offset: Int = 0, as type: T.Type = T.self) -> T {
        precondition(offset >= 0 && offset <= count &- MemoryLayout<T>.size, "big-endian read past the end")
        return T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension Array where Element == UInt8 {
    /// The big-endian `T` at index `offset` (see `UnsafeRawBufferPointer.loadBigEndian`).
    @inline(__always)
    func loadBigEndian<T: FixedWidthInteger>(fromByteOffset offset: Int, as type: T.Type = T.self) -> T {
        withUnsafeBytes { $0.loadBigEndian(fromByteOffset: offset, as: T.self) }
    }

    /// Appends `value` in big-endian byte order.
    @inline(__always)
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
