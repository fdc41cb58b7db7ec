/// Why a binary COPY stream could not be decoded. `offset` is the byte offset in the whole stream.
public enum BinaryCopyError: Error, Equatable, Sendable {
    /// The stream does not start with `PGCOPY\n\377\r\n\0`.
    case invalidSignature
    /// A critical header flag (bits 0–15) or the obsolete OIDs flag (bit 16) is set.
    case unsupportedFlags(UInt32)
    /// The header extension length is negative.
    case invalidHeaderExtensionLength(Int32)
    /// A tuple's field count is negative (other than the -1 trailer).
    case invalidFieldCount(Int16, row: Int, offset: Int)
    /// A row has a different number of fields than the first row.
    case fieldCountChanged(expected: Int, found: Int, row: Int, offset: Int)
    /// A field length is below -1 or above the reader's `maxFieldBytes`.
    case invalidFieldLength(Int32, row: Int, field: Int, offset: Int)
    /// Bytes follow the `-1` trailer.
    case dataAfterTrailer(offset: Int)
    /// The input ended (`finish()`) before the trailer; `bufferedBytes` were left undecoded.
    case truncated(offset: Int, bufferedBytes: Int)
}
