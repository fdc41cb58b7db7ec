/// Why a pgoutput message could not be decoded.
///
/// Every case names the message kind byte (`B`, `I`, …, as a `UInt8`; 0 when the message was empty)
/// and the byte offset within the message where decoding stopped, so a log line points at the bad byte.
public enum PgOutputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The payload had no bytes at all.
    case emptyMessage
    /// The first byte is not a pgoutput message kind.
    case unknownMessageKind(kind: UInt8)
    /// The message ended before `expected` (e.g. "Int32 relation OID") could be read.
    case truncated(kind: UInt8, offset: Int, expected: String)
    /// A marker byte was not one of the allowed values (tuple column kind, `K`/`O`/`N`, replica identity…).
    case unexpectedByte(kind: UInt8, offset: Int, found: UInt8, expected: String)
    /// A count or length is negative or larger than the bytes left could possibly hold.
    case invalidCount(kind: UInt8, offset: Int, field: String, count: Int)
    /// A NUL-terminated string has no terminator before the end of the message.
    case unterminatedString(kind: UInt8, offset: Int, field: String)
    /// A string field is not valid UTF-8.
    case invalidUTF8(kind: UInt8, offset: Int, field: String)
    /// The message is complete but `count` bytes follow it.
    case trailingBytes(kind: UInt8, offset: Int, count: Int)
    /// The message needs a newer protocol version than the decoder was configured with.
    case requiresProtocolVersion(kind: UInt8, required: Int, configured: Int)
    /// A Stream Start inside a streamed block, or a Stream Stop outside one.
    case unexpectedStreamState(kind: UInt8, insideStreamedBlock: Bool)

    public var description: String {
        switch self {
        case .emptyMessage:
            return "pgoutput: empty message"
        case .unknownMessageKind(let kind):
            return "pgoutput: unknown message kind \(Self.name(kind))"
        case .truncated(let kind, let offset, let expected):
            return "pgoutput \(Self.name(kind)): message ends at offset \(offset), expected \(expected)"
        case .unexpectedByte(let kind, let offset, let found, let expected):
            return "pgoutput \(Self.name(kind)): byte \(Self.name(found)) at offset \(offset), expected \(expected)"
        case .invalidCount(let kind, let offset, let field, let count):
            return "pgoutput \(Self.name(kind)): invalid \(field) \(count) at offset \(offset)"
        case .unterminatedString(let kind, let offset, let field):
            return "pgoutput \(Self.name(kind)): \(field) at offset \(offset) has no NUL terminator"
        case .invalidUTF8(let kind, let offset, let field):
            return "pgoutput \(Self.name(kind)): \(field) at offset \(offset) is not valid UTF-8"
        case .trailingBytes(let kind, let offset, let count):
            return "pgoutput \(Self.name(kind)): \(count) unexpected bytes after the message at offset \(offset)"
        case .requiresProtocolVersion(let kind, let required, let configured):
            return "pgoutput \(Self.name(kind)): needs protocol version \(required), decoder configured for \(configured)"
        case .unexpectedStreamState(let kind, let inside):
            return "pgoutput \(Self.name(kind)): not allowed \(inside ? "inside" : "outside") a streamed block"
        }
    }

    /// `'B' (0x42)`: the byte as a character when printable, always with its hex value.
    static func name(_ byte: UInt8) -> String {
        let hex = "0x" + String(byte, radix: 16, uppercase: true)
        return (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))' (\(hex))" : hex
    }
}
