import Foundation

/// Text renderings of stored values (CSV/JSON output, retyped columns that widen to string, predicate literals).
enum ValueText {
    /// Civil date (year, month, day) of a day number since 1970-01-01 (proleptic Gregorian).
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Day number of a civil date.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Day numbers the replicator stores for date ±infinity (DuckDB's date infinities).
    static let dateInfinity = Int64(Int32.max), dateNegativeInfinity = -Int64(Int32.max)
    /// Microsecond values the replicator stores for timestamp ±infinity (DuckDB's timestamp infinities).
    static let timestampInfinity = Int64.max, timestampNegativeInfinity = -Int64.max

    /// `YYYY-MM-DD` as PostgreSQL prints it under DateStyle ISO, and whether the year is BC (years before 1 are
    /// printed as `1 - year` with a ` BC` suffix: year 0 is 1 BC).
    static func isoDate(_ days: Int64) -> (text: String, isBC: Bool) {
        let (y, m, d) = civil(days: days)
        let isBC = y <= 0
        return ("\(pad(isBC ? 1 - y : y, 4))-\(pad(m, 2))-\(pad(d, 2))", isBC)
    }

    /// A date as PostgreSQL prints it (DateStyle ISO): `2024-01-02`, `0044-03-15 BC`, `infinity`, `-infinity`.
    static func date(_ days: Int64) -> String {
        if days == dateInfinity { return "infinity" }
        if days == dateNegativeInfinity { return "-infinity" }
        let (text, isBC) = isoDate(days)
        return isBC ? text + " BC" : text
    }

    /// A timestamp as PostgreSQL prints it (DateStyle ISO, TimeZone UTC for `utc`): `2024-01-02 03:04:05.5`,
    /// `+00` after the time when `utc`, ` BC` last, `infinity`, `-infinity`.
    static func timestamp(_ micros: Int64, utc: Bool) -> String {
        if micros == timestampInfinity { return "infinity" }
        if micros == timestampNegativeInfinity { return "-infinity" }
        let perDay: Int64 = 86_400_000_000
        var days = micros / perDay, rem = micros % perDay
        if rem < 0 { rem += perDay; days -= 1 }
        let secs = rem / 1_000_000, frac = rem % 1_000_000
        let (dateText, isBC) = isoDate(days)
        var s = dateText + " \(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2))"
        if frac != 0 {
            var f = pad(frac, 6)
            while f.hasSuffix("0") { f.removeLast() }
            s += "." + f
        }
        if utc { s += "+00" }
        return isBC ? s + " BC" : s
    }

    static func decimal<T: BinaryInteger>(_ unscaled: T, scale: Int) -> String {
        let negative = unscaled < 0
        var digits = String(unscaled.magnitude)
        if scale > 0 {
            if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return negative ? "-" + digits : digits
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(2 + bytes.count * 2)
        out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "x"))
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// A float as PostgreSQL prints it with extra_float_digits > 0: the shortest text that round-trips (the digits of
    /// Swift's `description`), fixed-point when the decimal exponent is in -4 ..< 15 (float4: ..< 6), else `1.5e+20`
    /// (at least two exponent digits); `NaN`, `Infinity`, `-Infinity`, `-0`.
    static func double(_ v: Double, float32: Bool) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v < 0 ? "-Infinity" : "Infinity" }
        let sign = v.sign == .minus ? "-" : ""
        if v == 0 { return sign + "0" }
        // Swift prints the shortest round-trip digits as `123.45`, `1e+16`, `1.5e-05` or `5e-324`.
        let text = float32 ? Float(v).magnitude.description : v.magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        var exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        var digits = Array(mantissa.filter { $0 != "." })
        exponent += (mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count) - 1
        while digits.first == "0" { digits.removeFirst(); exponent -= 1 }
        while digits.last == "0" { digits.removeLast() }
        if exponent >= -4 && exponent < (float32 ? 6 : 15) {
            if exponent < 0 { return sign + "0." + String(repeating: "0", count: -exponent - 1) + String(digits) }
            if digits.count <= exponent + 1 { return sign + String(digits) + String(repeating: "0", count: exponent + 1 - digits.count) }
            return sign + String(digits[...exponent]) + "." + String(digits[(exponent + 1)...])
        }
        let fraction = digits.count > 1 ? "." + String(digits[1...]) : ""
        let magnitude = String(abs(exponent))
        return sign + String(digits[0]) + fraction + "e" + (exponent < 0 ? "-" : "+") + (magnitude.count < 2 ? "0" : "") + magnitude
    }

    /// The text of column `c` in `row` (nil when NULL or unchanged).
    static func render(_ batch: RowBatch, _ row: Int, _ c: Int) -> String? {
        if batch.isNull(row, c) || batch.isUnchanged(row, c) { return nil }
        switch batch.columns[c].type {
        case .bool: return batch.int64(row, c) != 0 ? "true" : "false"
        case .int16, .int32, .int64: return String(batch.int64(row, c))
        case .float32: return double(batch.double(row, c), float32: true)
        case .float64: return double(batch.double(row, c), float32: false)
        case let .decimal(p, s): return p <= 18 ? decimal(batch.int64(row, c), scale: s) : decimal(batch.int128(row, c), scale: s)
        case .string: return String(decoding: batch.bytes(row, c), as: UTF8.self)
        case .bytes: return hex(batch.bytes(row, c))
        case .date: return date(batch.int64(row, c))
        case .timestamp: return timestamp(batch.int64(row, c), utc: false)
        case .timestamptz: return timestamp(batch.int64(row, c), utc: true)
        }
    }

    static func pow10(_ n: Int) -> Int128 {
        var r: Int128 = 1
        for _ in 0..<max(0, n) { r *= 10 }
        return r
    }

    /// Parses a literal into a one-row, one-column batch of `type` (for predicates). Nil when it does not parse.
    static func parse(_ text: String, as column: ColumnDefinition) -> RowBatch? {
        var b = RowBatch(columns: [column])
        let t = text.trimmingCharacters(in: .whitespaces)
        switch column.type {
        case .bool:
            guard let v = ["true": true, "t": true, "1": true, "false": false, "f": false, "0": false][t.lowercased()] else { return nil }
            b.append(v, column: 0)
        case .int16, .int32, .int64:
            guard let v = Int64(t) else { return nil }
            b.append(v, column: 0)
        case .float32, .float64:
            guard let v = Double(t) else { return nil }
            b.append(v, column: 0)
        case let .decimal(p, s):
            guard let v = parseDecimal(t, scale: s) else { return nil }
            if p <= 18 {
                guard let v64 = Int64(exactly: v) else { return nil }
                b.append(v64, column: 0)
            } else { b.append(decimal128: v, column: 0) }
        case .string: b.append(t, column: 0)
        case .bytes: return nil
        case .date:
            guard let d = parseDate(t) else { return nil }
            b.append(d, column: 0)
        case .timestamp, .timestamptz:
            guard let v = parseTimestamp(t) else { return nil }
            b.append(v, column: 0)
        }
        b.finishRow(version: 0)
        return b
    }

    static func parseDecimal(_ t: String, scale: Int) -> Int128? {
        var s = Substring(t), neg = false
        if s.hasPrefix("-") { neg = true; s = s.dropFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int128(parts[0].isEmpty ? "0" : String(parts[0])) else { return nil }
        var frac = parts.count == 2 ? String(parts[1]) : ""
        guard frac.count <= scale, frac.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        frac += String(repeating: "0", count: scale - frac.count)
        let v = whole * pow10(scale) + (Int128(frac.isEmpty ? "0" : frac) ?? 0)
        return neg ? -v : v
    }

    static func parseDate(_ t: String) -> Int64? {
        let p = t.prefix(10).split(separator: "-")
        guard p.count == 3, let y = Int64(p[0]), let m = Int64(p[1]), let d = Int64(p[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        return days(year: y, month: m, day: d)
    }

    static func parseTimestamp(_ t: String) -> Int64? {
        guard let d = parseDate(t) else { return nil }
        var micros = d * 86_400_000_000
        var rest = t.dropFirst(10)
        if rest.hasSuffix("Z") { rest = rest.dropLast() }
        if rest.hasSuffix("+00") { rest = rest.dropLast(3) }
        rest = rest.drop { $0 == " " || $0 == "T" }
        if rest.isEmpty { return micros }
        let hms = rest.split(separator: ".", maxSplits: 1)
        let f = hms[0].split(separator: ":")
        guard f.count >= 2, let h = Int64(f[0]), let mi = Int64(f[1]) else { return nil }
        let s = f.count > 2 ? Int64(f[2]) ?? 0 : 0
        micros += ((h * 60 + mi) * 60 + s) * 1_000_000
        if hms.count == 2 {
            let frac = String(hms[1].prefix(6))
            guard let fv = Int64(frac + String(repeating: "0", count: 6 - frac.count)) else { return nil }
            micros += fv
        }
        return micros
    }
}
