/// An exact Postgres `numeric`: sign, decimal digits and display scale, or NaN / ±Infinity.
///
/// The value is `(isNegative ? -1 : 1) × digits × 10^-scale` where `digits` is the unscaled magnitude.
/// Display scale is kept, so `12.3400` and `12.34` are different values here (as their text differs),
/// and text and binary forms of the same datum decode to equal values.
public struct PostgresNumeric: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case finite, nan, positiveInfinity, negativeInfinity
    }

    public let kind: Kind
    /// True for negative finite values (never for zero).
    public let isNegative: Bool
    /// Decimal digits 0–9 of the unscaled magnitude, most significant first, no leading zeros; empty for zero.
    public let digits: [UInt8]
    /// Display scale: digits after the decimal point.
    public let scale: Int

    public static let nan = PostgresNumeric(kind: .nan)
    public static let positiveInfinity = PostgresNumeric(kind: .positiveInfinity)
    public static let negativeInfinity = PostgresNumeric(kind: .negativeInfinity)

    private init(kind: Kind) {
        self.kind = kind
        self.isNegative = kind == .negativeInfinity
        self.digits = []
        self.scale = 0
    }

    /// A finite value; leading zeros are dropped and zero is never negative.
    init(isNegative: Bool, digits: some Collection<UInt8>, scale: Int) {
        let significant = digits.drop { $0 == 0 }
        self.kind = .finite
        self.isNegative = isNegative && !significant.isEmpty
        self.digits = Array(significant)
        self.scale = scale
    }

    /// Parses the Postgres text form (`-12.3400`, `NaN`, `Infinity`); nil when it is not one.
    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ try? TextValueParser.parseNumeric(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    /// The Postgres text form: plain decimal with `scale` fraction digits, `NaN`, `Infinity`, `-Infinity`.
    public var description: String {
        switch kind {
        case .nan: return "NaN"
        case .positiveInfinity: return "Infinity"
        case .negativeInfinity: return "-Infinity"
        case .finite: break
        }
        let characters = digits.map { Character(Unicode.Scalar($0 + 0x30)) }
        let integerCount = digits.count - scale
        var text = isNegative ? "-" : ""
        text += integerCount > 0 ? String(characters[..<integerCount]) : "0"
        if scale > 0 {
            text += "."
            if integerCount < 0 { text += String(repeating: "0", count: -integerCount) }
            text += String(characters[max(integerCount, 0)...])
        }
        return text
    }

    /// The value × 10^`scale` as an `Int64` (e.g. a Parquet DECIMAL(18, scale)).
    /// Throws when not finite, when non-zero digits would be dropped, or when it does not fit.
    public func unscaledInt64(scale targetScale: Int) throws(ValueParseError) -> Int64 {
        try unscaled(as: Int64.self, scale: targetScale)
    }

    /// The value × 10^`scale` as an `Int128` (e.g. a Parquet DECIMAL(38, scale)).
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
    public func unscaledInt128(scale targetScale: Int) throws(ValueParseError) -> Int128 {
        try unscaled(as: Int128.self, scale: targetScale)
    }

    private func unscaled<T: FixedWidthInteger & SignedInteger>(as: T.Type, scale targetScale: Int) throws(ValueParseError) -> T {
        guard kind == .finite else { throw .notFinite }
        var accumulator = UnscaledAccumulator<T>(scale: targetScale)
        let integerCount = digits.count - scale
        for _ in 0..<max(0, -integerCount) { try accumulator.append(0, fractional: true) }
        for (index, digit) in digits.enumerated() { try accumulator.append(digit, fractional: index >= integerCount) }
        return try accumulator.finish(isNegative: isNegative)
    }
}

/// Receives the decimal digits of a numeric, integer part first, as a parser walks its text or binary form.
protocol DecimalDigitSink {
    mutating func append(_ digit: UInt8, fractional: Bool) throws(ValueParseError)
}

/// Builds the unscaled integer value × 10^scale from digits, without allocating.
struct UnscaledAccumulator<T: FixedWidthInteger & SignedInteger>: DecimalDigitSink {
    let scale: Int
    /// Accumulated as a negative number so `T.min` is reachable.
    private var negativeValue: T = 0
    private var fractionDigits = 0

    init(scale: Int) { self.scale = scale }

    mutating func append(_ digit: UInt8, fractional: Bool) throws(ValueParseError) {
        if fractional {
            fractionDigits += 1
            if fractionDigits > scale {
                guard digit == 0 else { throw .wouldLoseDigits(scale: scale) }
                return
            }
        }
        try push(T(digit))
    }

    private mutating func push(_ digit: T) throws(ValueParseError) {
        let (shifted, overflow1) = negativeValue.multipliedReportingOverflow(by: 10)
        let (next, overflow2) = shifted.subtractingReportingOverflow(digit)
        guard !overflow1, !overflow2 else { throw .doesNotFit(bits: T.bitWidth, scale: scale) }
        negativeValue = next
    }

    func finish(isNegative: Bool) throws(ValueParseError) -> T {
        var result = self
        guard scale >= 0 else { throw .wouldLoseDigits(scale: scale) }
        guard negativeValue != 0 else { return 0 }
        for _ in fractionDigits..<max(fractionDigits, scale) { try result.push(0) }
        if isNegative { return result.negativeValue }
        guard result.negativeValue != T.min else { throw .doesNotFit(bits: T.bitWidth, scale: scale) }
        return -result.negativeValue
    }
}

/// Collects digits for a `PostgresNumeric` (slow path: allocates the digit array).
struct DigitCollector: DecimalDigitSink {
    var digits: [UInt8] = []
    var fractionDigits = 0

    mutating func append(_ digit: UInt8, fractional: Bool) throws(ValueParseError) {
        if fractional { fractionDigits += 1 }
        if digit != 0 || !digits.isEmpty { digits.append(digit) }
    }
}

/// What a numeric parser found before (or instead of) digits.
enum NumericHeader {
    case finite(isNegative: Bool)
    case special(PostgresNumeric)
}
