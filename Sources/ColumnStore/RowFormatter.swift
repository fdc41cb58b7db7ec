import Foundation

/// Renders rows as CSV (RFC 4180, header line, NULL = empty field, empty string = `""`) or JSON lines
/// (NULL = null; bool and integers as JSON literals; decimals, dates, timestamps, strings as strings; bytes as `\x…`).
public enum RowFormat: String, Sendable, CaseIterable {
    case csv, jsonl

    /// The header line (CSV) or nil.
    public func header(_ columns: [ColumnDefinition]) -> String? {
        guard self == .csv else { return nil }
        return columns.map { RowFormat.csvField($0.name) }.joined(separator: ",")
    }

    /// One line per row of `batch`, appended to `out`.
    public func render(_ batch: RowBatch, into out: inout String) {
        for r in 0..<batch.count {
            switch self {
            case .csv:
                for c in 0..<batch.columns.count {
                    if c > 0 { out += "," }
                    if let t = ValueText.render(batch, r, c) { out += RowFormat.csvField(t, quoteEmpty: true) }
                }
            case .jsonl:
                out += "{"
                for (c, col) in batch.columns.enumerated() {
                    if c > 0 { out += "," }
                    out += RowFormat.jsonString(col.name) + ":"
                    guard let t = ValueText.render(batch, r, c) else { out += "null"; continue }
                    switch col.type {
                    case .bool, .int16, .int32, .int64: out += t
                    case .float32, .float64:
                        let d = batch.double(r, c)
                        out += d.isFinite ? t : RowFormat.jsonString(t)
                    default: out += RowFormat.jsonString(t)
                    }
                }
                out += "}"
            }
            out += "\n"
        }
    }

    static func csvField(_ s: String, quoteEmpty: Bool = false) -> String {
        if s.isEmpty { return quoteEmpty ? "\"\"" : "" }
        // By UTF-8 byte, not by Character: no grapheme breaking per field, and a "\r\n" pair (one Character, equal
        // to neither "\r" nor "\n") is quoted too.
        if s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
            // Quotes doubled byte by byte (Foundation's replacingOccurrences took half of `freshet scan`'s CPU).
            var bytes = [UInt8]()
            bytes.reserveCapacity(s.utf8.count + 8)
            bytes.append(0x22)
            for b in s.utf8 {
                if b == 0x22 { bytes.append(0x22) }
                bytes.append(b)
            }
            bytes.append(0x22)
            return String(decoding: bytes, as: UTF8.self)
        }
        return s
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `s` as a JSON string literal (quotes, escapes, control characters as \\u00XX), built by UTF-8 byte (appending
    /// scalar by scalar took 40% of `freshet scan --format jsonl`'s CPU).
    public static func jsonString(_ s: String) -> String {
        let hex = hexDigits
        var bytes = [UInt8]()
        bytes.reserveCapacity(s.utf8.count + 8)
        bytes.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)                 // \"
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)                 // \\
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)                 // \n
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)                 // \r
            case 0x09: bytes.append(0x5C); bytes.append(0x74)                 // \t
            case ..<0x20: bytes += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]]   // \u00XX
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
        return String(decoding: bytes, as: UTF8.self)
    }
}
