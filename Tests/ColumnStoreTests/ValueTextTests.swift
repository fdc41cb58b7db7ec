import XCTest
@testable import ColumnStore

/// `ValueText` prints values as PostgreSQL's output functions do (DateStyle ISO, TimeZone UTC, extra_float_digits 3);
/// the expected strings are PostgreSQL 15's output for the same values. TypeMatrixTests checks the same end to end.
final class ValueTextTests: XCTestCase {
    func testDatesAndTimestampsPrintBCYearsAndInfinitiesAsPostgreSQL() {
        func days(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 { ValueText.days(year: y, month: m, day: d) }
        XCTAssertEqual(ValueText.date(days(2024, 2, 29)), "2024-02-29")
        XCTAssertEqual(ValueText.date(days(-5, 1, 1)), "0006-01-01 BC")      // astronomical year -5 = 6 BC
        XCTAssertEqual(ValueText.date(days(-99, 3, 1)), "0100-03-01 BC")
        XCTAssertEqual(ValueText.date(days(0, 12, 31)), "0001-12-31 BC")
        XCTAssertEqual(ValueText.date(days(-4713, 11, 24)), "4714-11-24 BC")
        XCTAssertEqual(ValueText.date(days(5_874_897, 12, 31)), "5874897-12-31")
        XCTAssertEqual(ValueText.date(Int64(Int32.max)), "infinity")
        XCTAssertEqual(ValueText.date(-Int64(Int32.max)), "-infinity")
        let bc = days(-43, 3, 15) * 86_400_000_000 + 36_000_500_000
        XCTAssertEqual(ValueText.timestamp(bc, utc: false), "0044-03-15 10:00:00.5 BC")
        XCTAssertEqual(ValueText.timestamp(bc, utc: true), "0044-03-15 10:00:00.5+00 BC")
        XCTAssertEqual(ValueText.timestamp(.max, utc: true), "infinity")
        XCTAssertEqual(ValueText.timestamp(-.max, utc: false), "-infinity")
        XCTAssertEqual(ValueText.timestamp(Int64.max - 1, utc: false), "294247-01-10 04:00:54.775806")
    }

    func testFloatsPrintAsPostgreSQLWithExtraFloatDigits() {
        let float8: [(Double, String)] = [
            (100, "100"), (1e15, "1e+15"), (123_456_789_012_345, "123456789012345"), (0.0001, "0.0001"), (1e-5, "1e-05"),
            (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (-1.5e-7, "-1.5e-07"), (0.1, "0.1"),
            (-0.0, "-0"), (0, "0"), (.nan, "NaN"), (.infinity, "Infinity"), (-.infinity, "-Infinity"), (123.456, "123.456"),
            (1e100, "1e+100"), (12_345.678_9, "12345.6789"),
        ]
        for (value, text) in float8 { XCTAssertEqual(ValueText.double(value, float32: false), text, "\(value)") }
        let float4: [(Float, String)] = [
            (1.5, "1.5"), (1e6, "1e+06"), (123_456, "123456"), (1e-5, "1e-05"), (3.4028235e38, "3.4028235e+38"),
            (1e-45, "1e-45"), (0.1, "0.1"), (-0.0, "-0"),
        ]
        for (value, text) in float4 { XCTAssertEqual(ValueText.double(Double(value), float32: true), text, "\(value)") }
    }
}
