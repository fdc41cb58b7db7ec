/// PostgreSQL's output text of binary `inet`, `cidr`, `macaddr` and `macaddr8` values (`inet_out`, `cidr_out`,
/// `macaddr_out`, `macaddr8_out`), so the snapshot can read these types in binary.
public enum NetworkText {
    /// `inet` / `cidr` send form: family (2 = IPv4, 3 = IPv6), mask bits, is-cidr flag, address length (4 / 16), address.
    /// Printed as `pg_inet_net_ntop` does: IPv4 as four octets, IPv6 with the longest run (≥ 2) of zero groups as `::`
    /// and an embedded IPv4 tail where PostgreSQL prints one; `/bits` unless the mask is full — except that `cidr`
    /// always has its `/bits`.
    public static func appendInet(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) throws(ValueParseError) {
        guard raw.count >= 4 else { throw .invalidLength(type: "inet", expected: 4, actual: raw.count) }
        let family = raw[0], bits = Int(raw[1]), isCIDR = raw[2] != 0, length = Int(raw[3])
        let fullBits: Int
        switch (family, length) {
        case (2, 4): fullBits = 32
        case (3, 16): fullBits = 128
        default: throw .invalidBinary(type: "inet", reason: "family \(family) with \(length) address bytes")
        }
        guard raw.count == 4 + length else { throw .invalidLength(type: "inet", expected: 4 + length, actual: raw.count) }
        guard bits <= fullBits else { throw .invalidBinary(type: "inet", reason: "\(bits) mask bits") }
        let address = UnsafeRawBufferPointer(rebasing: raw[4...])
        if length == 4 {
            appendDottedQuad(address, to: &out)
        } else {
            appendIPv6(address, to: &out)
        }
        if bits != fullBits || isCIDR {
            out.append(UInt8(ascii: "/"))
            appendDecimal(bits, to: &out)
        }
    }

    /// `macaddr` (6 bytes) or `macaddr8` (8 bytes) as lowercase hex pairs separated by `:`.
    public static func appendMacaddr(_ raw: UnsafeRawBufferPointer, length: Int, to out: inout [UInt8]) throws(ValueParseError) {
        guard raw.count == length else {
            throw .invalidLength(type: length == 6 ? "macaddr" : "macaddr8", expected: length, actual: raw.count)
        }
        for (index, byte) in raw.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ":")) }
            appendHex(UInt16(byte), minimumDigits: 2, to: &out)
        }
    }

    private static func appendDottedQuad(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        for (index, byte) in bytes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ".")) }
            appendDecimal(Int(byte), to: &out)
        }
    }

    /// BIND's `inet_net_ntop_ipv6`, as PostgreSQL ships it.
    private static func appendIPv6(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        func word(_ i: Int) -> UInt16 { bytes.loadBigEndian(fromByteOffset: 2 * i, as: UInt16.self) }
        // The longest run of zero words (the first of equal ones), if at least two long.
        var best = (base: -1, length: 0), current = (base: -1, length: 0)
        for i in 0..<8 {
            if word(i) == 0 {
                if current.base == -1 { current = (i, 1) } else { current.length += 1 }
            } else if current.base != -1 {
                if best.base == -1 || current.length > best.length { best = current }
                current.base = -1
            }
        }
        if current.base != -1, best.base == -1 || current.length > best.length { best = current }
        if best.base != -1 && best.length < 2 { best.base = -1 }
        for i in 0..<8 {
            if best.base != -1 && i >= best.base && i < best.base + best.length {
                if i == best.base { out.append(UInt8(ascii: ":")) }
                continue
            }
            if i != 0 { out.append(UInt8(ascii: ":")) }
            // An encapsulated IPv4 address: ::a.b.c.d (not ::1), ::ffff:a.b.c.d.
            if i == 6 && best.base == 0
                && (best.length == 6 || (best.length == 7 && word(7) != 1) || (best.length == 5 && word(5) == 0xFFFF)) {
                appendDottedQuad(UnsafeRawBufferPointer(rebasing: bytes[12..<16]), to: &out)
                return
            }
            appendHex(word(i), minimumDigits: 1, to: &out)
        }
        if best.base != -1 && best.base + best.length == 8 { out.append(UInt8(ascii: ":")) }
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        DecimalText.appendPadded(value, width: 1, to: &out)
    }

    private static func appendHex(_ value: UInt16, minimumDigits: Int, to out: inout [UInt8]) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = UInt8(truncatingIfNeeded: value >> UInt16(shift)) & 0xF
            if digit != 0 || started || shift < 4 * minimumDigits {
                out.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") - 10 + digit)
                started = true
            }
        }
    }
}
