import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `OutputText` formats binary send forms exactly as PostgreSQL's output functions print them: each value is copied in
/// binary next to `format('%s', value)` (which calls the type's output function), for edge values and for thousands
/// of random ones.
final class OutputTextTests: XCTestCase {
    /// Each case: a type and a SQL query returning one column `v` of that type.
    static let cases: [(type: String, oid: UInt32, values: String)] = [
        ("inet", 869, """
            SELECT v::inet FROM unnest(ARRAY['::1', '::', '::2', '::ffff:1.2.3.4', '::1.2.3.4', '1::', '1:0:0:1::', '0:0:1::',
              '1:0:0:2:0:0:0:3', '2001:db8::1/64', '::ffff:0:0/96', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '0.0.0.0/0', '10.0.0.1',
              '192.168.0.1/24', '255.255.255.255/32', '::/0', '1:0:1:0:1:0:1:0', '::0:1:0', '::ffff:0.0.0.0', '::ffff:1:2',
              '0:0:0:0:0:1:2:3']) v
            UNION ALL SELECT set_masklen(array_to_string(ARRAY(SELECT CASE WHEN random() < 0.6 THEN '0' ELSE to_hex((random() * 65535)::int) END
                FROM generate_series(1, 8) w WHERE g > 0), ':')::inet, (random() * 128)::int) FROM generate_series(1, 3000) g
            UNION ALL SELECT set_masklen(((random() * 255)::int || '.' || (random() * 255)::int || '.0.' || (random() * 255)::int)::inet,
                (random() * 32)::int) FROM generate_series(1, 500) g
            """),
        ("cidr", 650, """
            SELECT v::cidr FROM unnest(ARRAY['10.0.0.0/8', '::/0', '192.168.1.0/24', '2001:db8::/32', '10.1.2.3/32', '::1/128',
              '::ffff:1.2.3.0/120', '0.0.0.0/0']) v
            UNION ALL SELECT network(set_masklen(array_to_string(ARRAY(SELECT CASE WHEN random() < 0.5 THEN '0' ELSE to_hex((random() * 65535)::int) END
                FROM generate_series(1, 8) w WHERE g > 0), ':')::inet, (random() * 128)::int))::cidr FROM generate_series(1, 1000) g
            """),
        ("macaddr", 829, "SELECT v::macaddr FROM unnest(ARRAY['08:00:2b:01:02:03', 'FF-FF-FF-FF-FF-FF', '000000000000']) v"),
        ("macaddr8", 774, "SELECT v::macaddr8 FROM unnest(ARRAY['08:00:2b:01:02:03:04:05', '08002b010203', '00:00:00:00:00:00:00:00']) v"),
        ("time", 1083, """
            SELECT v::time FROM unnest(ARRAY['00:00:00', '23:59:59.999999', '24:00:00', '12:34:56.5', '00:00:00.000001', '10:00:00.12']) v
            UNION ALL SELECT make_time((random() * 23)::int, (random() * 59)::int, (random() * 59.999999)::numeric(8,6)::float8)
                FROM generate_series(1, 1000) g
            """),
        ("timetz", 1266, """
            SELECT v::timetz FROM unnest(ARRAY['00:00:00+00', '23:59:59.999999-14:59', '12:00:00+05:30', '24:00:00-15:59',
              '01:02:03+00:00:01', '01:02:03-01:00:30', '04:05:06.5+13']) v
            """),
        ("interval", 1186, """
            SELECT v::interval FROM unnest(ARRAY['0', '1 year 2 mons 3 days 04:05:06.789', '-1 days +02:00:00', '178000000 years',
              '-00:00:00.000001', '1 mon -1 days', '-1 mons', '1 day', '-1 year -2 mons +3 days -04:05:06', '100 hours',
              '-100 hours', '1 year', '-1 years 1 mon', '2 days -1 seconds', '2147483647 days', '-2147483648 days',
              '-178000000 years', '00:00:00.5', '1 mon 00:00:01']) v
            UNION ALL SELECT make_interval(years => (random() * 20 - 10)::int * (random() < 0.5)::int,
                months => (random() * 30 - 15)::int * (random() < 0.5)::int, days => (random() * 60 - 30)::int * (random() < 0.5)::int,
                secs => ((random() * 200000 - 100000) * (random() < 0.6)::int)::numeric(14,6)::float8) FROM generate_series(1, 3000) g
            """),
        ("bit", 1560, "SELECT v::bit(12) FROM unnest(ARRAY['101010101010', '000000000000', '111111111111']) v"),
        ("varbit", 1562, "SELECT v::varbit FROM unnest(ARRAY['', '1', '10101010', '101010101', '1111111111111111111']) v UNION ALL SELECT (g::bit(31))::varbit FROM generate_series(1, 500) g"),
        ("varbit[]", 1563, "SELECT v::varbit[] FROM unnest(ARRAY['{1,0101,\"\"}']) v"),
        ("int4range", 3904, "SELECT v::int4range FROM unnest(ARRAY['[1,10)', 'empty', '(,5]', '[3,)', '(,)', '[-5,-5]']) v"),
        ("int8range", 3926, "SELECT v::int8range FROM unnest(ARRAY['[-9223372036854775808,9223372036854775807)', '(0,1)']) v"),
        ("numrange", 3906, "SELECT v::numrange FROM unnest(ARRAY['[1.50,NaN)', '(-Infinity,0.001]', '(,1e-20)', 'empty']) v"),
        ("daterange", 3912, "SELECT v::daterange FROM unnest(ARRAY['[2024-01-01,2024-02-01)', '[\"4714-11-24 BC\",infinity)', '(-infinity,2024-01-01]']) v"),
        ("tsrange", 3908, "SELECT v::tsrange FROM unnest(ARRAY['[\"2024-01-01 00:00:00\",\"2024-02-01 00:00:00.5\")', '(,\"0044-03-15 10:00:00 BC\"]']) v"),
        ("tstzrange", 3910, "SELECT v::tstzrange FROM unnest(ARRAY['[\"2024-01-01 00:00:00+00\",\"2024-02-01 00:00:00+00\")', '(,)', '[-infinity,infinity]']) v"),
        ("int4multirange", 4451, "SELECT v::int4multirange FROM unnest(ARRAY['{[1,3),[5,8)}', '{}', '{(,1),[3,)}']) v"),
        ("tstzmultirange", 4534, "SELECT v::tstzmultirange FROM unnest(ARRAY['{[\"2024-01-01 00:00:00+00\",\"2024-02-01 00:00:00+00\")}']) v"),
        ("nummultirange", 4532, "SELECT v::nummultirange FROM unnest(ARRAY['{[1.5,2.25]}']) v"),
        ("datemultirange", 4535, "SELECT v::datemultirange FROM unnest(ARRAY['{[2024-01-01,2024-01-05)}']) v"),
        ("int8multirange", 4536, "SELECT v::int8multirange FROM unnest(ARRAY['{[1,2)}']) v"),
        ("tsmultirange", 4533, "SELECT v::tsmultirange FROM unnest(ARRAY['{[\"2024-01-01 00:00:00\",)}']) v"),
        ("int4range[]", 3905, "SELECT v::int4range[] FROM unnest(ARRAY['{\"[1,2)\",empty,NULL}']) v"),
        ("tstzrange[]", 3911, "SELECT v::tstzrange[] FROM unnest(ARRAY['{\"[\\\"2024-01-01 00:00:00+00\\\",)\"}']) v"),
        ("int4[]", 1007, "SELECT v::int[] FROM unnest(ARRAY['{1,NULL,3}', '{}', '[0:1]={5,6}', '{{1,2},{3,4}}', '{{{1,2},{3,4}},{{5,6},{7,8}}}', '[-3:-2][1:1]={{1},{2}}', '{-2147483648}']) v"),
        ("int8[]", 1016, "SELECT v::int8[] FROM unnest(ARRAY['{9223372036854775807,-9223372036854775808,0}']) v"),
        ("int2[]", 1005, "SELECT v::int2[] FROM unnest(ARRAY['{1,-1,NULL}']) v"),
        ("text[]", 1009, """
            SELECT v::text[] FROM unnest(ARRAY['{"a b","NULL",NULL,"q\\"x","back\\\\slash",""}', '{{a,b},{c,d}}', '{"nUlL","{}",",",x}',
              E'{"tab\\there","nl\\nx","v\\u000bx"}', '{ä,日本}']) v
            """),
        ("varchar[]", 1015, "SELECT v::varchar[] FROM unnest(ARRAY['{a,\" b \"}']) v"),
        ("char(3)[]", 1014, "SELECT v::char(3)[] FROM unnest(ARRAY['{a,bb,NULL}']) v"),
        ("name[]", 1003, "SELECT v::name[] FROM unnest(ARRAY['{pg,\"x y\"}']) v"),
        ("bool[]", 1000, "SELECT v::bool[] FROM unnest(ARRAY['{t,f,NULL}']) v"),
        ("numeric[]", 1231, "SELECT v::numeric[] FROM unnest(ARRAY['{1.50,NaN,-Infinity,0.0001,-12345678901234567890.5}']) v"),
        ("uuid[]", 2951, "SELECT v::uuid[] FROM unnest(ARRAY['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}']) v"),
        ("json[]", 199, "SELECT v::json[] FROM unnest(ARRAY['{\"{\\\"a\\\": 1}\",null,\"[1, 2]\"}']) v"),
        ("jsonb[]", 3807, "SELECT v::jsonb[] FROM unnest(ARRAY['{\"{\\\"a\\\": 1}\",\"\\\"s\\\"\"}']) v"),
        ("date[]", 1182, "SELECT v::date[] FROM unnest(ARRAY['{2024-02-29,\"0044-03-15 BC\",infinity,-infinity,5874897-12-31,\"4714-11-24 BC\"}']) v"),
        ("timestamp[]", 1115, "SELECT v::timestamp[] FROM unnest(ARRAY['{\"2024-01-02 03:04:05.5\",\"0044-03-15 10:00:00 BC\",infinity,\"294276-12-31 23:59:59.999999\"}']) v"),
        ("timestamptz[]", 1185, "SELECT v::timestamptz[] FROM unnest(ARRAY['{\"2024-01-02 03:04:05.5+02\",-infinity,\"4714-11-24 00:00:00+00 BC\"}']) v"),
        ("inet[]", 1041, "SELECT v::inet[] FROM unnest(ARRAY['{::1,10.0.0.1/8,NULL}']) v"),
        ("cidr[]", 651, "SELECT v::cidr[] FROM unnest(ARRAY['{10.0.0.0/8}']) v"),
        ("macaddr[]", 1040, "SELECT v::macaddr[] FROM unnest(ARRAY['{08:00:2b:01:02:03}']) v"),
        ("macaddr8[]", 775, "SELECT v::macaddr8[] FROM unnest(ARRAY['{08:00:2b:01:02:03:04:05}']) v"),
        ("interval[]", 1187, "SELECT v::interval[] FROM unnest(ARRAY['{\"1 day\",\"-1 days +02:00:00\",0}']) v"),
        ("time[]", 1183, "SELECT v::time[] FROM unnest(ARRAY['{12:00:00.5,24:00:00}']) v"),
        ("timetz[]", 1270, "SELECT v::timetz[] FROM unnest(ARRAY['{12:00:00+05:30}']) v"),
    ]

    func testBinaryFormsFormatAsTheOutputFunctionsPrint() throws {
        let pg = try PostgresFixture(); defer { pg.cleanup() }
        var checked = 0
        for c in Self.cases {
            XCTAssertTrue(OutputText.formats(c.oid), c.type)
            var reader = BinaryCopyReader()
            try pg.sql.copyOut("COPY (SELECT v, format('%s', v) FROM (\(c.values)) s(v)) TO STDOUT (FORMAT binary)") { chunk in
                reader.feed(chunk)
                while try reader.nextRow() {
                    var formatted: String?, expected: String?
                    try reader.forEachField { index, raw in
                        guard let raw else { return }
                        if index == 0 {
                            var out: [UInt8] = []
                            try OutputText.append(raw, typeOID: c.oid, to: &out)
                            formatted = String(decoding: out, as: UTF8.self)
                        } else {
                            expected = String(decoding: raw, as: UTF8.self)
                        }
                    }
                    XCTAssertEqual(formatted, expected, c.type)
                    checked += 1
                }
            }
            try reader.finish()
        }
        XCTAssertGreaterThan(checked, 8000)
    }

    /// Malformed send forms throw a `ValueParseError`; none traps.
    func testMalformedBinaryFormsThrowInsteadOfTrapping() {
        var rng = SeededRandom(seed: 11)
        for c in Self.cases {
            for _ in 0..<400 {
                let bytes = (0..<Int(rng.next(40))).map { _ in UInt8(truncatingIfNeeded: rng.next(256)) }
                var out: [UInt8] = []
                bytes.withUnsafeBytes { raw in
                    do { try OutputText.append(raw, typeOID: c.oid, to: &out) } catch {}
                }
            }
        }
        // A well-formed header with absurd dimensions.
        let header: [UInt8] = [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1]
        var out: [UInt8] = []
        let threw = header.withUnsafeBytes { raw -> Bool in
            do { try OutputText.append(raw, typeOID: 1007, to: &out); return false } catch { return true }
        }
        XCTAssertTrue(threw)
    }

    /// PostgreSQL 17 sends infinite intervals with every field at its maximum (minimum); 15 has none to copy.
    func testInfiniteIntervalsOfPostgreSQL17() throws {
        func text(_ time: Int64, _ days: Int32, _ months: Int32) throws -> String {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: time.bigEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: days.bigEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: months.bigEndian) { bytes.append(contentsOf: $0) }
            var out: [UInt8] = []
            try bytes.withUnsafeBytes { raw in try OutputText.append(raw, typeOID: 1186, to: &out) }
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(try text(.max, .max, .max), "infinity")
        XCTAssertEqual(try text(.min, .min, .min), "-infinity")
        XCTAssertEqual(try text(0, 0, 14), "1 year 2 mons")
    }
}
