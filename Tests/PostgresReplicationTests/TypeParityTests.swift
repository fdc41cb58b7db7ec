import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// The same rows read through binary COPY and through pgoutput (text form) decode to identical values,
/// for every type of the mapping, including edge values.
final class TypeParityTests: XCTestCase {
    func testBinaryCopyAndPgOutputAgreeOnEveryType() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        let t = pg.name("types"), e = pg.name("color")
        let qt = SQLQuoting.identifier(t), qe = SQLQuoting.identifier(e)
        try pg.sql.execute("CREATE TYPE \(qe) AS ENUM ('red', 'green')")
        defer { _ = try? pg.sql.execute("DROP TABLE IF EXISTS \(qt); DROP TYPE IF EXISTS \(qe)") }
        try pg.sql.execute("""
            CREATE TABLE \(qt) (id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
              n numeric, n12 numeric(12,2), n30 numeric(38,10), t text, vc varchar(20), bp char(5), u uuid, d date,
              ts timestamp, tz timestamptz, j json, jb jsonb, by bytea, arr int[], tarr text[], en \(qe), iv interval)
            """)
        let rows = [
            "(1, true, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 1.7976931348623157e308, 123456789012345678901234567890.123, 1234567890.12, 1234567890123456789012345678.0123456789, 'héllo ✓ 日本', 'abc', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+05:30', '{\"a\": [1, 2]}', '{\"b\": {\"c\": null}, \"a\": 1}', '\\x00ff10', '{1,2,NULL}', '{\"a b\",\"\",NULL,\"x\\\\\\\\y\"}', 'green', '1 day 02:03:04')",
            "(2, false, -32768, -2147483648, -9223372036854775808, 'NaN', '-Infinity', 'NaN', -0.01, -0.0000000001, '', '', '', '00000000-0000-0000-0000-000000000000', '-infinity', 'infinity', '-infinity', '[]', 'null', '\\x', '{}', '{}', 'red', '-1 mons')",
            "(3, NULL, 0, 0, 0, '-0', 'Infinity', 'Infinity', 0, 0, NULL, NULL, NULL, NULL, '0044-03-15 BC', '0001-01-01 00:00:00 BC', '294276-12-31 23:59:59.999999+00', NULL, NULL, NULL, '{{1,2},{3,4}}', NULL, NULL, NULL)",
            "(4, true, 1, 1, 1, 1.5e-45, 5e-324, '-Infinity', 99999999.99, 0.5, 'tab\tnew\nline \"q\" \\\\ back', 'x', 'y', NULL, '5874897-12-31', '2000-01-01 00:00:00', '1999-12-31 23:59:59.999999-00:00:01', '\"s\"', '[1, \"two\", 3.0]', NULL, '[0:1]={7,8}', '{\"NULL\",null}', NULL, NULL)",
        ]
        let cap = try PgOutputStreamTests.Capture(pg, tables: [t])
        try pg.sql.execute("INSERT INTO \(qt) VALUES " + rows.joined(separator: ", "))

        // pgoutput text form.
        let msgs = try cap.transactions(1)
        var found: RelationMessage?
        for case let .relation(r) in msgs where r.name == t { found = r }
        guard let relation = found else { return XCTFail("no relation") }
        var streamed: [[PostgresValue]] = []
        for case let .insert(i) in msgs {
            streamed.append(try relation.columns.indices.map { c in
                try XCTUnwrap(i.newTuple.value(at: c, typeOID: relation.columns[c].typeOID,
                                                typeModifier: relation.columns[c].typeModifier))
            })
        }
        // Binary COPY of the same rows; types without a native binary mapping are selected as text.
        let native: Set<UInt32> = [TypeOID.bool, TypeOID.int2, TypeOID.int4, TypeOID.int8, TypeOID.float4, TypeOID.float8,
                                   TypeOID.numeric, TypeOID.text, TypeOID.varchar, TypeOID.bpchar, TypeOID.uuid, TypeOID.date,
                                   TypeOID.timestamp, TypeOID.timestamptz, TypeOID.json, TypeOID.jsonb, TypeOID.bytea]
        let select = relation.columns.map { native.contains($0.typeOID) ? SQLQuoting.identifier($0.name)
                                                                         : SQLQuoting.identifier($0.name) + "::text" }
        var reader = BinaryCopyReader()
        var copied: [[PostgresValue]] = []
        try pg.sql.copyOut("COPY (SELECT \(select.joined(separator: ", ")) FROM \(qt) ORDER BY id) TO STDOUT (FORMAT binary)") { chunk in
            reader.feed(chunk)
            while try reader.nextRow() {
                copied.append(try relation.columns.indices.map { c in
                    let oid = native.contains(relation.columns[c].typeOID) ? relation.columns[c].typeOID : TypeOID.text
                    return try reader.withField(c) { raw in
                        guard let raw else { return PostgresValue.null }
                        return try BinaryValueParser.value(typeOID: oid, bytes: raw)
                    }
                })
            }
        }
        try reader.finish()
        XCTAssertEqual(copied.count, 4)
        XCTAssertEqual(streamed.count, 4)
        for (r, (a, b)) in zip(copied, streamed).enumerated() {
            for c in a.indices where a[c] != b[c] {
                XCTFail("row \(r + 1) column \(relation.columns[c].name): COPY \(a[c]) vs pgoutput \(b[c])")
            }
        }
        // Spot checks against known values, so both paths cannot be wrong the same way.
        XCTAssertEqual(streamed[0][7].description, "123456789012345678901234567890.123")
        XCTAssertEqual(streamed[1][9].description, "-0.0000000001")
        XCTAssertEqual(streamed[0][1], .bool(true))
        XCTAssertEqual(streamed[1][4], .int64(.min))
        XCTAssertEqual(streamed[0][10], .text("héllo ✓ 日本"))
        XCTAssertEqual(streamed[1][10], .text(""))      // empty string …
        XCTAssertEqual(streamed[2][10], .null)          // … is not NULL
        XCTAssertEqual(streamed[1][14], .date(PostgresValue.dateNegativeInfinity))
        XCTAssertEqual(streamed[1][15], .timestamp(PostgresValue.timestampInfinity))
        // 2024-01-02 03:04:05.123456+05:30 = 2024-01-01 21:34:05.123456 UTC
        XCTAssertEqual(streamed[0][16], .timestamptz(757_460_045_123_456))
        XCTAssertEqual(streamed[0][19], .bytea([0x00, 0xff, 0x10]))
        XCTAssertEqual(streamed[1][20], .text("{}"))
        XCTAssertEqual(streamed[0][22], .text("green"))
        XCTAssertEqual(streamed[0][18], .jsonb(#"{"a": 1, "b": {"c": null}}"#))
    }
}
