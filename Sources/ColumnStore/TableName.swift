import Foundation

/// A source table's name, (schema, table), and the two texts made of it:
///
/// - `qualifiedName`, the text that identifies the table in the config, the CLI, logs, metrics and the store's API:
///   `schema.table`, with a part written in double quotes when it holds a `.` or a `"` (a quote doubled inside), as
///   SQL quotes identifiers: schema `public.dotted` table `name` is `"public.dotted".name`, schema `public` table
///   `dotted.name` is `public."dotted.name"`. Plain names stay `public.orders`. Unquoted parts are taken as written
///   (not folded to lower case, unlike SQL).
/// - `directoryName`, the table's directory under `STORE/tables/`: each part percent-encoded (see `encode`) and the two
///   joined with `.`, so a plain name keeps the layout older stores have (`public.orders`). Names whose encoding
///   exceeds `BoundedName.maxPlainBytes` are cut and end in `~` and a 64-bit hash (see `directoryName`).
public struct TableName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The schema's name as PostgreSQL has it (no quoting).
    public let schema: String
    /// The table's name as PostgreSQL has it (no quoting).
    public let table: String

    /// The name of `schema`.`table`, each as PostgreSQL has it.
    public init(schema: String, table: String) {
        self.schema = schema
        self.table = table
    }

    /// Why a text is not a table name.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The text given.
        public let text: String
        /// What is wrong with it (`unterminated quote`, `more than two parts`, ...).
        public let reason: String
        public var description: String {
            "table names are schema.table, a part in double quotes when it contains a dot or a quote (\"public.dotted\".name, public.\"dotted.name\"); got \(text) (\(reason))"
        }
    }

    /// Parses `schema.table`, either part plain (no `.` or `"` in it) or in double quotes with `""` for a quote.
    public init(parsing text: String) throws {
        var rest = Substring(text)
        func fail(_ reason: String) -> ParseError { ParseError(text: text, reason: reason) }
        func part() throws -> String {
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var out = ""
                while true {
                    guard let c = rest.first else { throw fail("unterminated quote") }
                    rest = rest.dropFirst()
                    if c == "\"" {
                        guard rest.first == "\"" else { break }
                        rest = rest.dropFirst()
                    }
                    out.append(c)
                }
                guard !out.isEmpty else { throw fail("empty name") }
                return out
            }
            let end = rest.firstIndex { $0 == "." || $0 == "\"" } ?? rest.endIndex
            let out = String(rest[..<end])
            rest = rest[end...]
            guard !out.isEmpty else { throw fail("empty name") }
            return out
        }
        let schema = try part()
        guard rest.first == "." else { throw fail(rest.isEmpty ? "no table part" : "unexpected \(rest.prefix(1))") }
        rest = rest.dropFirst()
        let table = try part()
        guard rest.isEmpty else { throw fail(rest.first == "." ? "more than two parts" : "unexpected \(rest.prefix(1))") }
        self.init(schema: schema, table: table)
    }

    /// The canonical text of the table name that `text` spells (`"public"."orders"` → `public.orders`).
    public static func canonical(_ text: String) throws -> String { try TableName(parsing: text).qualifiedName }

    /// `schema.table`, a part quoted when it holds `.` or `"` (or is empty); `init(parsing:)` reads it back.
    public var qualifiedName: String { Self.quotedIfNeeded(schema) + "." + Self.quotedIfNeeded(table) }

    public var description: String { qualifiedName }

    public static func < (a: TableName, b: TableName) -> Bool { (a.schema, a.table) < (b.schema, b.table) }

    static func quotedIfNeeded(_ part: String) -> String {
        guard part.isEmpty || part.contains(where: { $0 == "." || $0 == "\"" }) else { return part }
        return "\"" + part.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: directory names

    /// The table's directory under `STORE/tables/`: `encode(schema) + "." + encode(table)`; when that is longer than
    /// 240 bytes, its first ≤ 232 bytes (cut between characters) + `~` + 16 hex digits of FNV-1a-64 over
    /// `qualifiedName` (241–249 bytes). Only the plain form reads back (`init(directoryName:)`); a hashed directory is
    /// named by its manifest's `table`.
    public var directoryName: String {
        let plain = Self.encode(schema) + "." + Self.encode(table)
        return BoundedName.bounded(plain, identity: qualifiedName)
    }

    /// Reads a plain directory name back; nil for a hashed one or any text `directoryName` would not produce.
    public init?(directoryName: String) {
        let parts = directoryName.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let s = Self.decode(parts[0]), let t = Self.decode(parts[1]), !s.isEmpty, !t.isEmpty else {
            return nil
        }
        self.init(schema: s, table: t)
        guard self.directoryName == directoryName else { return nil }
    }

    /// Percent-encodes (`%` + two upper-case hex digits per UTF-8 byte) what may not appear in one part of a directory
    /// name: `.` (the separator, and a leading dot would hide the directory), `/`, `%`, control characters, and the
    /// glob characters `* ? [ ] { } , \` (DuckDB's `read_parquet` and ClickHouse's `file()` expand them in paths).
    /// Everything else, unicode included, is kept as it is.
    static func encode(_ part: String) -> String {
        var out = ""
        for scalar in part.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || "./%*?[]{},\\".unicodeScalars.contains(scalar) {
                for b in String(scalar).utf8 { out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true) }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func decode(_ part: Substring) -> String? {
        var bytes = [UInt8]()
        var u = Array(part.utf8)[...]
        while let b = u.first {
            u = u.dropFirst()
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard u.count >= 2, let v = UInt8(String(decoding: u.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(v)
            u = u.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
