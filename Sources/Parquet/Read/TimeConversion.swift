/// Converts timestamps stored in other units (TIMESTAMP(MILLIS), TIMESTAMP(NANOS), legacy INT96) to the
/// microseconds of `ColumnType.timestamp`. Millisecond values convert exactly; nanoseconds are floored to µs.
enum TimeConversion: Equatable {
    case none, millis, nanos, int96

    init(_ e: SchemaElement) {
        switch (e.type, e.logicalType) {
        case (.int96?, _): self = .int96
        case (.int64?, .timestamp(_, .millis)?): self = .millis
        case (.int64?, .timestamp(_, .nanos)?): self = .nanos
        case (.int64?, nil) where e.convertedType == ConvertedType.timestampMillis.rawValue: self = .millis
        default: self = .none
        }
    }

    /// One INT64 value in microseconds (nil on overflow).
    func micros(_ v: Int64) -> Int64? {
        switch self {
        case .none, .int96: return v
        case .millis:
            let (r, o) = v.multipliedReportingOverflow(by: 1000)
            return o ? nil : r
        case .nanos:
            return v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1
        }
    }

    /// Converts a decoded chunk (INT64 values, or 12-byte INT96 values) to microseconds.
    func convert(_ values: ColumnValues) throws -> ColumnValues {
        switch (self, values) {
        case (.none, _): return values
        case let (.int96, .fixed(f)) where f.width == 12:
            var out = [Int64]()
            out.reserveCapacity(f.count)
            for i in 0..<f.count {
                let b = f[i]
                var nanos: UInt64 = 0
                for k in 0..<8 { nanos |= UInt64(b[b.startIndex + k]) << (8 * UInt64(k)) }
                var day: UInt32 = 0
                for k in 0..<4 { day |= UInt32(b[b.startIndex + 8 + k]) << (8 * UInt32(k)) }
                let days = Int64(day) - 2_440_588
                let (dayMicros, o1) = days.multipliedReportingOverflow(by: 86_400_000_000)
                let (sum, o2) = dayMicros.addingReportingOverflow(Int64(truncatingIfNeeded: nanos / 1000))
                guard !o1, !o2 else { throw DecodeError("INT96 timestamp out of range", at: 0) }
                out.append(sum)
            }
            return .int64(out)
        case let (_, .int64(a)):
            var out = [Int64]()
            out.reserveCapacity(a.count)
            for v in a {
                guard let m = micros(v) else { throw DecodeError("timestamp \(v) out of range", at: 0) }
                out.append(m)
            }
            return .int64(out)
        default:
            throw DecodeError("timestamp conversion on \(values.storage)", at: 0)
        }
    }
}
