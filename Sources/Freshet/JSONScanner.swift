import Foundation

/// A JSON syntax problem at a position of the text (1-based line and column, columns counted in characters).
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var problem: String
    public var description: String { "line \(line), column \(column): \(problem)" }
}

/// Checks JSON text (RFC 8259) before it is decoded: reports the first syntax error with its line and column, and
/// a key that appears twice in one object (Foundation's `JSONSerialization` silently keeps one of the two).
/// It builds no values; `JSONSerialization` decodes the text once this check passed. Nesting is limited to 512
/// levels so hostile input cannot exhaust the stack.
struct JSONScanner {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private static let maxDepth = 512

    /// Throws `JSONSyntaxError` for the first problem in `data`.
    static func check(_ data: Data) throws {
        var scanner = JSONScanner(bytes: [UInt8](data))
        // A UTF-8 byte order mark is tolerated, as JSONSerialization does.
        if scanner.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { scanner.index = 3; scanner.lineStart = 3 }
        scanner.skipWhitespace()
        try scanner.value(path: "", depth: 0)
        scanner.skipWhitespace()
        if scanner.index < scanner.bytes.count { throw scanner.error("unexpected text after the JSON value") }
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func error(_ problem: String, at position: Int? = nil) -> JSONSyntaxError {
        let at = position ?? index
        // Columns count characters: skip UTF-8 continuation bytes.
        let column = bytes[lineStart..<min(at, bytes.count)].filter { $0 & 0xC0 != 0x80 }.count + 1
        return JSONSyntaxError(line: line, column: column, problem: problem)
    }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
            index += 1
            if c == 0x0A { line += 1; lineStart = index }
        }
    }

    private mutating func expect(_ c: UInt8, _ what: String) throws {
        guard current == c else { throw error(current == nil ? "unexpected end of text, expected \(what)" : "expected \(what)") }
        index += 1
    }

    private mutating func value(path: String, depth: Int) throws {
        guard depth < JSONScanner.maxDepth else { throw error("nested deeper than \(JSONScanner.maxDepth) levels") }
        switch current {
        case UInt8(ascii: "{")?: try object(path: path, depth: depth)
        case UInt8(ascii: "[")?: try array(path: path, depth: depth)
        case UInt8(ascii: "\"")?: _ = try string()
        case UInt8(ascii: "t")?: try literal("true")
        case UInt8(ascii: "f")?: try literal("false")
        case UInt8(ascii: "n")?: try literal("null")
        case let c? where c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39): try number()
        case nil: throw error("unexpected end of text, expected a value")
        default: throw error("expected a value (object, array, string, number, true, false or null)")
        }
    }

    private mutating func object(path: String, depth: Int) throws {
        index += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") { index += 1; return }
        var keys = Set<String>()
        while true {
            skipWhitespace()
            let keyStart = index
            guard current == UInt8(ascii: "\"") else {
                throw error(current == nil ? "unexpected end of text, expected a key" : "expected a key in double quotes")
            }
            let key = try string()
            let field = path.isEmpty ? key : path + "." + key
            if !keys.insert(key).inserted { throw error("duplicate key \"\(field)\"", at: keyStart) }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a key")
            skipWhitespace()
            try value(path: field, depth: depth + 1)
            skipWhitespace()
            if current == UInt8(ascii: ",") { index += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}'")
            return
        }
    }

    private mutating func array(path: String, depth: Int) throws {
        index += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") { index += 1; return }
        var n = 0
        while true {
            skipWhitespace()
            try value(path: "\(path)[\(n)]", depth: depth + 1)
            n += 1
            skipWhitespace()
            if current == UInt8(ascii: ",") { index += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']'")
            return
        }
    }

    /// A string at `index` (which is at its opening quote); returns its decoded text.
    private mutating func string() throws -> String {
        let start = index
        index += 1
        var raw: [UInt8] = []
        var escaped = false
        while let c = current {
            if c == UInt8(ascii: "\"") {
                index += 1
                guard escaped else { return String(decoding: raw, as: UTF8.self) }
                // Decode escapes with Foundation: the text is known to be a valid JSON string.
                let quoted = Data(bytes[start..<index])
                return (try? JSONSerialization.jsonObject(with: quoted, options: .fragmentsAllowed) as? String) ?? ""
            }
            if c < 0x20 { throw error("control character in a string (escape it)") }
            if c == UInt8(ascii: "\\") {
                escaped = true
                index += 1
                guard let e = current else { break }
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    for _ in 0..<4 {
                        guard let h = current, (h >= 0x30 && h <= 0x39) || (h | 0x20 >= 0x61 && h | 0x20 <= 0x66) else {
                            throw error("\\u needs four hexadecimal digits")
                        }
                        index += 1
                    }
                default:
                    throw error("invalid escape \\\(String(UnicodeScalar(e)))")
                }
                continue
            }
            raw.append(c)
            index += 1
        }
        throw error("unterminated string", at: start)
    }

    private mutating func literal(_ word: String) throws {
        for b in word.utf8 {
            guard current == b else { throw error("expected \(word)") }
            index += 1
        }
    }

    private mutating func number() throws {
        func digits() -> Int {
            var n = 0
            while let c = current, c >= 0x30 && c <= 0x39 { index += 1; n += 1 }
            return n
        }
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
            if let c = current, c >= 0x30 && c <= 0x39 { throw error("numbers do not start with 0") }
        } else if digits() == 0 {
            throw error("expected digits")
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("expected digits in the exponent") }
        }
    }
}
