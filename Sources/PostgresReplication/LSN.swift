// Placeholder until the pgoutput branch lands its LSN.swift.
public struct LSN: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let hi = UInt32(parts[0], radix: 16), let lo = UInt32(parts[1], radix: 16) else { return nil }
        value = UInt64(hi) << 32 | UInt64(lo)
    }
    public static let zero = LSN(0)
    public static func < (a: LSN, b: LSN) -> Bool { a.value < b.value }
    public var description: String {
        String(UInt32(value >> 32), radix: 16, uppercase: true) + "/" + String(UInt32(truncatingIfNeeded: value), radix: 16, uppercase: true)
    }
}
