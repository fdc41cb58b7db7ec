/// Decimal integers appended to a byte buffer without allocating (the text formatters of `OutputText`).
enum DecimalText {
    /// `value` in decimal, left-padded with zeros to `width` digits.
    static func appendPadded<T: BinaryInteger>(_ value: T, width: Int, to out: inout [UInt8]) {
        let value = UInt64(value)
        var divisor: UInt64 = 1, digits = 1
        while divisor <= value / 10 { divisor *= 10; digits += 1 }
        for _ in digits..<max(width, digits) { out.append(UInt8(ascii: "0")) }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// `value` in decimal with a leading `-` when negative.
    static func appendSigned(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendPadded(value.magnitude, width: 1, to: &out)
    }
}
