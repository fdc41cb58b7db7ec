/// Why a Postgres value could not be parsed or converted. `type` is the Postgres type name (`"int8"`),
/// `input` a printable excerpt of the offending bytes (at most 64 characters).
public enum ValueParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text form does not follow the type's output syntax.
    case invalidText(type: String, input: String)
    /// A binary value has the wrong number of bytes.
    case invalidLength(type: String, expected: Int, actual: Int)
    /// A binary value is malformed (bad sign word, digit out of range, unknown version…).
    case invalidBinary(type: String, reason: String)
    /// The value is outside the type's range (or Int64 microseconds).
    case outOfRange(type: String, input: String)
    /// NaN or ±Infinity cannot become an integer.
    case notFinite
    /// Converting to `scale` fraction digits would drop non-zero digits.
    case wouldLoseDigits(scale: Int)
    /// The unscaled value at `scale` does not fit `bits` bits.
    case doesNotFit(bits: Int, scale: Int)

    public var description: String {
        switch self {
        case .invalidText(let type, let input): return "invalid \(type) text \"\(input)\""
        case .invalidLength(let type, let expected, let actual):
            return "invalid \(type) binary value: \(actual) bytes, expected \(expected)"
        case .invalidBinary(let type, let reason): return "invalid \(type) binary value: \(reason)"
        case .outOfRange(let type, let input): return "\(type) value \"\(input)\" out of range"
        case .notFinite: return "NaN or infinity cannot be converted to an integer"
        case .wouldLoseDigits(let scale): return "value has more than \(scale) non-zero fraction digits"
        case .doesNotFit(let bits, let scale): return "value at scale \(scale) does not fit \(bits) bits"
        }
    }

    /// A printable excerpt of `raw` for error messages.
    static func excerpt(_ raw: UnsafeRawBufferPointer) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw.prefix(64)), as: UTF8.self)
    }
}
