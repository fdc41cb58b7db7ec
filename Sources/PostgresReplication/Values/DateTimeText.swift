/// PostgreSQL's output text of binary `timestamp` / `timestamptz` values, as `timestamp_out` / `timestamptz_out`
/// print them under the session settings of `Connection` (DateStyle ISO, TimeZone UTC): `2024-01-02 03:04:05.5`,
/// `294276-12-31 23:59:59.999999+00`, `0044-03-15 10:00:00 BC`, `infinity`, `-infinity`.
public enum DateTimeText {
    /// Appends the text of `micros` (µs since 2000-01-01, `Int64.max`/`Int64.min` = ±infinity) to `out`;
    /// `withZone` adds the UTC offset `+00` after the time (timestamptz).
    public static func appendTimestamp(_ micros: Int64, withZone: Bool, to out: inout [UInt8]) {
        if micros == PostgresValue.timestampInfinity { out.append(contentsOf: "infinity".utf8); return }
        if micros == PostgresValue.timestampNegativeInfinity { out.append(contentsOf: "-infinity".utf8); return }
        let perDay: Int64 = 86_400_000_000
        var days = micros / perDay, time = micros % perDay
        if time < 0 { time += perDay; days -= 1 }
        let date = CivilDate(daysSince2000: days)
        let isBC = date.year <= 0
        appendPadded(isBC ? 1 - date.year : date.year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(date.month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(date.day, width: 2, to: &out)
        out.append(UInt8(ascii: " "))
        let seconds = Int(time / 1_000_000), fraction = Int(time % 1_000_000)
        appendPadded(seconds / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(seconds / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(seconds % 60, width: 2, to: &out)
        if fraction != 0 {
            // Six digits without trailing zeros, as PostgreSQL prints fractional seconds.
            var digits = 6, value = fraction
            while value % 10 == 0 { value /= 10; digits -= 1 }
            out.append(UInt8(ascii: "."))
            appendPadded(value, width: digits, to: &out)
        }
        if withZone { out.append(contentsOf: "+00".utf8) }
        if isBC { out.append(contentsOf: " BC".utf8) }
    }

    /// `value` (≥ 0) in decimal, left-padded with zeros to `width` digits.
    static func appendPadded(_ value: Int, width: Int, to out: inout [UInt8]) {
        var digits: [UInt8] = []
        var rest = value
        repeat { digits.append(UInt8(ascii: "0") + UInt8(rest % 10)); rest /= 10 } while rest > 0
        for _ in digits.count..<max(width, digits.count) { out.append(UInt8(ascii: "0")) }
        out.append(contentsOf: digits.reversed())
    }
}

extension CivilDate {
    /// The proleptic Gregorian date `days` after 2000-01-01; `year` is astronomical (0 = 1 BC).
    init(daysSince2000 days: Int64) {
        // Howard Hinnant's civil_from_days, shifted from 1970-01-01 to 2000-01-01.
        let z = Int(days) + 10_957 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: dayOfYear - (153 * mp + 2) / 5 + 1)
    }
}
