/// A PostgreSQL write-ahead-log position (`pg_lsn`): a byte offset into the WAL.
///
/// The text form is `%X/%X` — the high and low 32 bits in uppercase hex without padding,
/// e.g. `16/B374D848` is `0x16_B374_D848`. `0/0` means "no position" (`InvalidXLogRecPtr`).
public struct LSN: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The WAL byte offset.
    public var value: UInt64

    /// The position `0/0`.
    public static let zero = LSN(0)
    /// `InvalidXLogRecPtr`, which Postgres also spells `0/0`; also the "none yet" position.
    public static let invalid = LSN(0)

    /// Wraps a raw WAL byte offset.
    public init(_ value: UInt64) {
        self.value = value
    }

    /// Parses the `X/Y` text form (either hex case, 1–8 digits each side); nil for anything else.
    public init?(_ text: String) {
        var utf8 = text.utf8[...]
        guard let high = LSN.parseHexHalf(&utf8), utf8.first == UInt8(ascii: "/") else { return nil }
        utf8 = utf8.dropFirst()
        guard let low = LSN.parseHexHalf(&utf8), utf8.isEmpty else { return nil }
        self.value = UInt64(high) << 32 | UInt64(low)
    }

    /// True unless this is `0/0`.
    public var isValid: Bool { value != 0 }

    /// `%X/%X`, as Postgres prints it.
    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.value < rhs.value }

    /// The position `bytes` further on; saturates at `UInt64.max` instead of trapping.
    public static func + (lhs: LSN, bytes: UInt64) -> LSN {
        let (sum, overflow) = lhs.value.addingReportingOverflow(bytes)
        return LSN(overflow ? .max : sum)
    }

    /// The distance in bytes from `rhs` up to `lhs`, like `pg_wal_lsn_diff` but saturating:
    /// 0 when `rhs` is ahead of `lhs`.
    public static func - (lhs: LSN, rhs: LSN) -> UInt64 {
        lhs.value >= rhs.value ? lhs.value - rhs.value : 0
    }

    /// Reads 1–8 hex digits from the front of `utf8`, leaving the rest.
    private static func parseHexHalf(_ utf8: inout Substring.UTF8View) -> UInt32? {
        var result: UInt32 = 0
        var digits = 0
        while let byte = utf8.first, let digit = hexDigitValue(byte) {
            guard digits < 8 else { return nil }
            result = result << 4 | UInt32(digit)
            digits += 1
            utf8 = utf8.dropFirst()
        }
        return digits > 0 ? result : nil
    }
}

/// The value of one ASCII hex digit (either case), or nil.
@inline(__always)
func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte &- UInt8(ascii: "a") &+ 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte &- UInt8(ascii: "A") &+ 10
    default: return nil
    }
}
