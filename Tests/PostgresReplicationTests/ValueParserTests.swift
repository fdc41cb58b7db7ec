import Foundation
import XCTest
@testable import PostgresReplication

final class ValueParserTests: XCTestCase {
    private func text(_ value: String, _ oid: UInt32) throws -> PostgresValue {
        var value = value
        return try value.withUTF8 { try TextValueParser.value(typeOID: oid, bytes: UnsafeRawBufferPointer($0)) }
    }

    private func binary(_ bytes: [UInt8], _ oid: UInt32) throws -> PostgresValue {
        try bytes.withUnsafeBytes { try BinaryValueParser.value(typeOID: oid, bytes: $0) }
    }

    /// Asserts that the text form and the binary form decode to `expected`.
    private func assertBoth(_ textForm: String, _ binaryHex: String, _ oid: UInt32, _ expected: PostgresValue,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try text(textForm, oid), expected, "text \(textForm)", file: file, line: line)
        XCTAssertEqual(try binary(hex(binaryHex), oid), expected, "binary \(binaryHex)", file: file, line: line)
    }

    private func assertTextFails(_ textForm: String, _ oid: UInt32, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try text(textForm, oid), textForm, file: file, line: line) { XCTAssertTrue($0 is ValueParseError) }
    }

    private func assertBinaryFails(_ binaryHex: String, _ oid: UInt32, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try binary(hex(binaryHex), oid), binaryHex, file: file, line: line) { XCTAssertTrue($0 is ValueParseError) }
    }

    func testBoolAndIntegers() {
        assertBoth("t", "01", TypeOID.bool, .bool(true))
        assertBoth("f", "00", TypeOID.bool, .bool(false))
        assertBoth("-32768", "8000", TypeOID.int2, .int16(.min))
        assertBoth("2147483647", "7FFFFFFF", TypeOID.int4, .int32(.max))
        assertBoth("-9223372036854775808", "8000000000000000", TypeOID.int8, .int64(.min))
        assertBoth("9223372036854775807", "7FFFFFFFFFFFFFFF", TypeOID.int8, .int64(.max))
        assertBoth("0", "0000000000000000", TypeOID.int8, .int64(0))
        for bad in ["", "-", "+1", "1.0", " 1", "1 ", "9223372036854775808", "x"] { assertTextFails(bad, TypeOID.int8) }
        assertTextFails("32768", TypeOID.int2)
        assertTextFails("true", TypeOID.bool)
        assertBinaryFails("000000", TypeOID.int4)
        assertBinaryFails("", TypeOID.bool)
    }

    func testFloats() {
        assertBoth("0.1", "3FB999999999999A", TypeOID.float8, .float64(0.1))
        assertBoth("1e+100", "54B249AD2594C37D", TypeOID.float8, .float64(1e100))
        assertBoth("-0", "8000000000000000", TypeOID.float8, .float64(-0.0))
        assertBoth("NaN", "7FF8000000000000", TypeOID.float8, .float64(.nan))
        assertBoth("Infinity", "7FF0000000000000", TypeOID.float8, .float64(.infinity))
        assertBoth("-Infinity", "FFF0000000000000", TypeOID.float8, .float64(-.infinity))
        assertBoth("1.17549435e-38", "00800000", TypeOID.float4, .float32(.leastNormalMagnitude))
        assertBoth("0.1", "3DCCCCCD", TypeOID.float4, .float32(0.1))
        assertBoth("NaN", "7FC00000", TypeOID.float4, .float32(.nan))
        XCTAssertNotEqual(PostgresValue.float64(0.0), .float64(-0.0), "compared by bit pattern")
        for bad in ["", "inf", "nan", "0x1p3", "1,5", " 1"] { assertTextFails(bad, TypeOID.float8) }
    }

    func testNumericTextAndBinaryAgree() {
        let cases: [(String, String)] = [
            ("12.3400", "0002000000000004000C0D48"),
            ("1234.5678", "000200000000000404D2162E"),
            ("0.01", "0001FFFF000000020064"),
            ("-0.000001", "0001FFFE400000060064"),
            ("0", "0000000000000000"),
            ("0.00", "0000000000000002"),
            ("123456789012345678901234567890.123", "0009000700000003000C0D801ED204D2162E23340D801ED204CE"),
            ("10000000000000000000000000000000000000000", "0001000A000000000001"),
            ("-92233720368547758.08", "0006000440000002000908B91C231AC61E4E0320"),
            ("99999999999999999999999999999999999999", "000A0009000000000063270F270F270F270F270F270F270F270F270F"),
            ("NaN", "00000000C0000000"),
            ("Infinity", "00000000D0000000"),
            ("-Infinity", "00000000F0000000"),
        ]
        for (textForm, binaryHex) in cases {
            guard case .numeric(let numeric)? = try? text(textForm, TypeOID.numeric) else { XCTFail(textForm); continue }
            XCTAssertEqual(numeric.description, textForm, "description is the Postgres text form")
            assertBoth(textForm, binaryHex, TypeOID.numeric, .numeric(numeric))
            var arena: [UInt8] = [0x7C]
            XCTAssertNoThrow(try hex(binaryHex).withUnsafeBytes { try BinaryValueParser.appendNumericText($0, to: &arena) })
            XCTAssertEqual(String(decoding: arena, as: UTF8.self), "|" + textForm, "binary numeric as text")
        }
        XCTAssertNotEqual(PostgresNumeric("12.34"), PostgresNumeric("12.3400"), "display scale is part of the value")
        XCTAssertEqual(PostgresNumeric("-0.00")?.description, "0.00", "zero is never negative")
        XCTAssertEqual(PostgresNumeric("-0.5")?.description, "-0.5")
        // Binary digits beyond dscale are dropped, as numeric_recv does: 1.23456 with dscale 2.
        XCTAssertEqual(try binary(hex("000300000000000200010920 1360"), TypeOID.numeric), .numeric(PostgresNumeric("1.23")!))
        for bad in ["", "-", ".", "1.2.3", "1e5", "nan", "+1", "1,0"] { assertTextFails(bad, TypeOID.numeric) }
        assertBinaryFails("0001000000000000", TypeOID.numeric)          // 1 digit announced, none present
        assertBinaryFails("00010000000000002710", TypeOID.numeric)      // digit 10000
        assertBinaryFails("0000000012340000", TypeOID.numeric)          // bad sign word
        assertBinaryFails("000000000000C000", TypeOID.numeric)          // dscale out of range
        assertBinaryFails("FFFF000000000000", TypeOID.numeric)          // negative ndigits
        assertBinaryFails("000000", TypeOID.numeric)
        var arena: [UInt8] = [1, 2]
        XCTAssertThrowsError(try hex("00010000000000002710").withUnsafeBytes { try BinaryValueParser.appendNumericText($0, to: &arena) })
        XCTAssertEqual(arena, [1, 2], "a failed append leaves the buffer as it was")
    }

    func testNumericUnscaledConversions() throws {
        func text64(_ value: String, _ scale: Int) throws -> Int64 {
            var value = value
            return try value.withUTF8 { try TextValueParser.parseNumericUnscaledInt64(UnsafeRawBufferPointer($0), scale: scale) }
        }
        func binary64(_ value: String, _ scale: Int) throws -> Int64 {
            try hex(value).withUnsafeBytes { try BinaryValueParser.parseNumericUnscaledInt64($0, scale: scale) }
        }
        XCTAssertEqual(try text64("12.34", 2), 1234)
        XCTAssertEqual(try text64("12.34", 4), 123_400)
        XCTAssertEqual(try text64("12.3400", 2), 1234)
        XCTAssertEqual(try text64("-0.01", 2), -1)
        XCTAssertEqual(try text64("0", 3), 0)
        XCTAssertEqual(try text64("-92233720368547758.08", 2), .min)
        XCTAssertEqual(try binary64("0006000440000002000908B91C231AC61E4E0320", 2), .min)
        XCTAssertEqual(try binary64("0002000000000004000C0D48", 2), 1234)
        XCTAssertEqual(try binary64("0001FFFE400000060064", 6), -1)
    }

    func testNumericUnscaledErrors() {
        XCTAssertThrowsError(try PostgresNumeric("12.345")!.unscaledInt64(scale: 2)) {
            XCTAssertEqual($0 as? ValueParseError, .wouldLoseDigits(scale: 2))
        }
        XCTAssertThrowsError(try PostgresNumeric("92233720368547758.08")!.unscaledInt64(scale: 2)) {
            XCTAssertEqual($0 as? ValueParseError, .doesNotFit(bits: 64, scale: 2))
        }
        XCTAssertThrowsError(try PostgresNumeric("NaN")!.unscaledInt64(scale: 0)) { XCTAssertEqual($0 as? ValueParseError, .notFinite) }
        XCTAssertThrowsError(try PostgresNumeric("Infinity")!.unscaledInt64(scale: 0)) { XCTAssertEqual($0 as? ValueParseError, .notFinite) }
        XCTAssertThrowsError(try hex("0001000A000000000001").withUnsafeBytes { try BinaryValueParser.parseNumericUnscaledInt64($0, scale: 0) }) {
            XCTAssertEqual($0 as? ValueParseError, .doesNotFit(bits: 64, scale: 0))
        }
        XCTAssertEqual(try PostgresNumeric("0.05")!.unscaledInt64(scale: 2), 5)
        XCTAssertEqual(try PostgresNumeric("-12.3400")!.unscaledInt64(scale: 3), -12_340)
    }

    func testNumericTypeModifier() {
        XCTAssertNil(TypeOID.numericPrecisionAndScale(typeModifier: -1))
        XCTAssertEqual(TypeOID.numericPrecisionAndScale(typeModifier: (12 << 16 | 2) + 4)?.precision, 12)
        XCTAssertEqual(TypeOID.numericPrecisionAndScale(typeModifier: (12 << 16 | 2) + 4)?.scale, 2)
        XCTAssertEqual(TypeOID.numericPrecisionAndScale(typeModifier: (38 << 16) + 4)?.scale, 0)
        XCTAssertEqual(TypeOID.numericPrecisionAndScale(typeModifier: (2 << 16 | 0x7FD) + 4)?.scale, -3, "numeric(2, -3)")
    }

    func testNumericInt128() throws {
        guard #available(macOS 15.0, *) else { return }
        let value = PostgresNumeric("123456789012345678901234567890.123")!
        XCTAssertEqual(try value.unscaledInt128(scale: 3), Int128("123456789012345678901234567890123"))
        XCTAssertEqual(try value.unscaledInt128(scale: 8), Int128("12345678901234567890123456789012300000"))
        XCTAssertThrowsError(try value.unscaledInt128(scale: 10)) { XCTAssertEqual($0 as? ValueParseError, .doesNotFit(bits: 128, scale: 10)) }
        let binary = try hex("0009000700000003000C0D801ED204D2162E23340D801ED204CE").withUnsafeBytes {
            try BinaryValueParser.parseNumericUnscaledInt128($0, scale: 3)
        }
        XCTAssertEqual(binary, Int128("123456789012345678901234567890123"))
    }

    func testDates() {
        assertBoth("2000-01-01", "00000000", TypeOID.date, .date(0))
        assertBoth("2024-01-02", "0000223F", TypeOID.date, .date(8767))
        assertBoth("2024-02-29", "00002279", TypeOID.date, .date(8825))
        assertBoth("0001-01-01", "FFF4DBF9", TypeOID.date, .date(-730_119))
        assertBoth("0001-12-31 BC", "FFF4DBF8", TypeOID.date, .date(-730_120))
        assertBoth("0044-03-15 BC", "FFF49D7B", TypeOID.date, .date(-746_117))
        assertBoth("4713-01-01 BC", "FFDA97CD", TypeOID.date, .date(-2_451_507))
        assertBoth("10000-01-01", "002C95D4", TypeOID.date, .date(2_921_940))
        assertBoth("5874897-12-31", "7FDA970C", TypeOID.date, .date(2_145_031_948))
        assertBoth("infinity", "7FFFFFFF", TypeOID.date, .date(PostgresValue.dateInfinity))
        assertBoth("-infinity", "80000000", TypeOID.date, .date(PostgresValue.dateNegativeInfinity))
        for bad in ["", "2024-1-02", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "0000-01-01",
                    "2024-01-02 AD", "2024-01-02 BC ", "Infinity", "24-01-02", "2024/01/02", "2024-01-02 03:04:05"] {
            assertTextFails(bad, TypeOID.date)
        }
        assertBinaryFails("000000", TypeOID.date)
    }

    func testTimestamps() {
        assertBoth("2024-01-02 03:04:05.123456", "0002B0EC8517D580", TypeOID.timestamp, .timestamp(757_479_845_123_456))
        assertBoth("2024-01-02 03:04:05.5", "0002B0EC851D9460", TypeOID.timestamp, .timestamp(757_479_845_500_000))
        assertBoth("2000-01-01 00:00:00", "0000000000000000", TypeOID.timestamp, .timestamp(0))
        assertBoth("infinity", "7FFFFFFFFFFFFFFF", TypeOID.timestamp, .timestamp(.max))
        assertBoth("-infinity", "8000000000000000", TypeOID.timestamp, .timestamp(.min))
        XCTAssertEqual(try text("2024-01-02 03:04:05.123456+00", TypeOID.timestamptz), .timestamptz(757_479_845_123_456))
        XCTAssertEqual(try binary(hex("0002B0EC8517D580"), TypeOID.timestamptz), .timestamptz(757_479_845_123_456))
        XCTAssertEqual(try text("2024-01-02 03:04:05+05:30", TypeOID.timestamptz), .timestamptz(757_460_045_000_000))
        XCTAssertEqual(try text("2024-01-02 03:04:05-03", TypeOID.timestamptz), .timestamptz(757_490_645_000_000))
        XCTAssertEqual(try text("2024-01-02 03:04:05+01:02:03", TypeOID.timestamptz), .timestamptz(757_476_122_000_000))
        XCTAssertEqual(try text("0044-03-15 12:00:00+00 BC", TypeOID.timestamptz),
                       .timestamptz(-746_117 * 86_400_000_000 + 12 * 3_600_000_000))
        XCTAssertEqual(try text("0044-03-15 12:00:00 BC", TypeOID.timestamp), .timestamp(-746_117 * 86_400_000_000 + 12 * 3_600_000_000))
        XCTAssertEqual(try text("12345-06-07 00:00:00.000001+00", TypeOID.timestamptz), .timestamptz(3_778_591 * 86_400_000_000 + 1))
        XCTAssertEqual(try text("-infinity", TypeOID.timestamptz), .timestamptz(.min))
        for bad in ["", "2024-01-02", "2024-01-02T03:04:05+00", "2024-01-02 03:04:05", "2024-01-02 24:00:00+00",
                    "2024-01-02 03:04:05.1234567+00", "2024-01-02 03:04:05.+00", "2024-01-02 03:04:05+5",
                    "2024-01-02 03:04:05+00 BC x", "2024-01-02 03:04:60+00", "300000-01-01 00:00:00+00"] {
            assertTextFails(bad, TypeOID.timestamptz)
        }
        assertTextFails("2024-01-02 03:04:05+00", TypeOID.timestamp)
        assertBinaryFails("00", TypeOID.timestamptz)
    }

    func testUUIDByteaJSONAndText() throws {
        let uuid = PostgresValue.uuid(UUID(uuidString: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")!)
        assertBoth("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC999C0B4EF8BB6D6BB9BD380A11", TypeOID.uuid, uuid)
        XCTAssertEqual(try text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", TypeOID.uuid), uuid)
        XCTAssertEqual(uuid.description, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        var uuidText: [UInt8] = []
        try hex("A0EEBC999C0B4EF8BB6D6BB9BD380A11").withUnsafeBytes { try BinaryValueParser.appendUUIDText($0, to: &uuidText) }
        XCTAssertEqual(String(decoding: uuidText, as: UTF8.self), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        for bad in ["", "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"] {
            assertTextFails(bad, TypeOID.uuid)
        }
        assertBinaryFails("00", TypeOID.uuid)

        assertBoth(#"\x00ff"#, "00FF", TypeOID.bytea, .bytea([0x00, 0xFF]))
        assertBoth(#"\x"#, "", TypeOID.bytea, .bytea([]))
        XCTAssertEqual(PostgresValue.bytea([0x00, 0xFF, 0x0A]).description, #"\x00ff0a"#)
        for bad in ["", #"\x0"#, #"\xzz"#, "00ff", #"\000"#] { assertTextFails(bad, TypeOID.bytea) }
        var arena: [UInt8] = [9]
        try Array(#"\xabCD"#.utf8).withUnsafeBytes { try TextValueParser.appendBytea($0, to: &arena) }
        XCTAssertEqual(arena, [9, 0xAB, 0xCD])

        let jsonb = #"{"a": 1, "b": [1, 2]}"#
        assertBoth(jsonb, "01" + Array(jsonb.utf8).map { String(format: "%02X", $0) }.joined(), TypeOID.jsonb, .jsonb(jsonb))
        assertBinaryFails("02 7B7D", TypeOID.jsonb)
        assertBinaryFails("", TypeOID.jsonb)
        assertBoth(#"{"a":1,  "a":2}"#, "7B2261223A312C20202261223A327D", TypeOID.json, .json(#"{"a":1,  "a":2}"#))

        assertBoth("ü€😀", "C3BCE282ACF09F9880", TypeOID.text, .text("ü€😀"))
        assertBoth("", "", TypeOID.varchar, .text(""))
        assertBoth("ab  ", "61622020", TypeOID.bpchar, .text("ab  "))
        assertBinaryFails("C328", TypeOID.text)
        // Arrays, enums and other types: their text form (binary COPY selects them ::text).
        assertBoth("{1,2,NULL}", "7B312C322C4E554C4C7D", TypeOID.int4Array, .text("{1,2,NULL}"))
        assertBoth("happy", "6861707079", 16_640, .text("happy"))
    }

    func testTupleValuesDistinguishNullUnchangedAndEmpty() throws {
        var decoder = PgOutputDecoder()
        let bytes = hex(#"49 00004000 4E 0004 6E 75 74 00000000 62 00000004 0000002A"#)
        guard case .insert(let insert) = try decoder.decode(bytes) else { return XCTFail() }
        let row = insert.newTuple
        XCTAssertEqual(try row.value(at: 0, typeOID: TypeOID.text), .null)
        XCTAssertNil(try row.value(at: 1, typeOID: TypeOID.text))
        XCTAssertEqual(try row.value(at: 2, typeOID: TypeOID.text), .text(""))
        XCTAssertEqual(try row.value(at: 3, typeOID: TypeOID.int4), .int32(42))
        XCTAssertThrowsError(try row.value(at: 2, typeOID: TypeOID.int4))
    }
}
