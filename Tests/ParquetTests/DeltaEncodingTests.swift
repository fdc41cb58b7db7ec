import Foundation
import XCTest
import TestSupport
@testable import Parquet

/// DELTA_BINARY_PACKED integer pages (`WriterOptions.deltaIntegers`): every block and miniblock boundary, widths from
/// 0 to 64 bits, wrapping deltas at both integer widths, and nulls, read back by Freshet's reader, DuckDB and pyarrow.
final class DeltaEncodingTests: XCTestCase {
    /// One column per pattern; each file holds `rows` rows in one page.
    private func patterns(rows: Int, rng: inout SeededRandom) -> (Schema, [ColumnBuffer]) {
        func i64(_ f: (Int) -> Int64) -> [Int64] { (0..<rows).map(f) }
        var r = rng
        let columns: [(String, ColumnType, ColumnValues, [Bool]?)] = [
            ("seq", .int64, .int64(i64 { Int64($0) + 1 }), nil),
            ("constant", .int64, .int64(i64 { _ in 42 }), nil),
            ("extremes", .int64, .int64(i64 { $0 % 3 == 0 ? .min : ($0 % 3 == 1 ? .max : 0) }), nil),
            ("random64", .int64, .int64(i64 { _ in Int64(bitPattern: r.next()) }), nil),
            ("small", .int64, .int64(i64 { _ in Int64(r.next(1000)) - 500 }), nil),
            ("stamps", .timestamp(utc: true), .int64(i64 { 1_700_000_000_000_000 + Int64($0) * 1_000_003 }), nil),
            ("nullable", .int64, .int64(i64 { Int64($0) * 7 }), (0..<rows).map { $0 % 5 != 2 }),
            ("extremes32", .int32, .int32((0..<rows).map { $0 % 2 == 0 ? Int32.min : Int32.max }), nil),
            ("random32", .int32, .int32((0..<rows).map { _ in Int32(truncatingIfNeeded: r.next()) }), nil),
            ("date", .date, .int32((0..<rows).map { Int32(19000 + $0 / 3) }), nil),
            ("short", .int16, .int32((0..<rows).map { Int32(Int16(truncatingIfNeeded: $0 * 977)) }), (0..<rows).map { $0 % 7 != 0 }),
        ]
        rng = r
        let schema = Schema(columns.map { Column($0.0, $0.1, nullable: $0.3 != nil) })
        let data = columns.map { c in
            ColumnBuffer(c.2, validity: c.3.map { v in v.allSatisfy { $0 } ? nil : v } ?? nil)
        }
        return (schema, data)
    }

    func testBlockBoundariesRoundTripAndIndependentReadersAgree() throws {
        let python = try TestEnvironment.python()
        let dir = TempDir()
        var rng = SeededRandom(seed: 29)
        var options = WriterOptions()
        options.dictionary = false   // every integer page is a delta candidate
        var files: [String] = []
        var expected: [String: [String: [String?]]] = [:]
        for rows in [0, 1, 2, 31, 32, 33, 127, 128, 129, 130, 257, 1000, 19_999] {
            let (schema, data) = patterns(rows: rows, rng: &rng)
            let name = "delta-\(rows).parquet"
            let (_, _, back) = try roundTrip(schema, data, options: options, dir: dir, name: name)
            for (i, c) in schema.columns.enumerated() {
                XCTAssertEqual(Canonical.column(c.type, back[i]), Canonical.column(c.type, data[i]), "\(rows) rows, \(c.name)")
            }
            files.append(dir.file(name))
            expected[dir.file(name)] = Dictionary(uniqueKeysWithValues: schema.columns.enumerated().map {
                ($0.element.name, Canonical.column($0.element.type, data[$0.offset]))
            })
        }
        let script = PythonScripts.canon + """
        import duckdb, pyarrow.parquet as pq
        out = {}
        for path in sys.argv[1:]:
            pf = pq.ParquetFile(path)
            t = pf.read()
            encodings = sorted({e for g in range(pf.metadata.num_row_groups) for c in range(pf.metadata.num_columns)
                                for e in pf.metadata.row_group(g).column(c).encodings})
            con = duckdb.connect()
            names = t.column_names
            sel = ', '.join('epoch_us("%s")' % n if n == 'stamps' else ("(\\"%s\\" - DATE '1970-01-01')" % n if n == 'date' else '"%s"' % n) for n in names)
            rows = con.execute('SELECT %s FROM read_parquet(?)' % sel, [path]).fetchall()
            out[path] = {'encodings': encodings,
                         'pyarrow': {n: [canon(v) for v in t.column(n).to_pylist()] for n in names if n not in ('stamps', 'date')},
                         'duckdb': {n: [canon(r[i]) for r in rows] for i, n in enumerate(names)}}
        print(json.dumps(out))
        """
        _ = python
        let text = try Subprocess.python(script, files)
        let out = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        for path in files {
            let file = out[path] as? [String: Any] ?? [:]
            let duck = Canonical.parseColumns(file["duckdb"]), arrow = Canonical.parseColumns(file["pyarrow"])
            for (name, values) in expected[path] ?? [:] {
                XCTAssertEqual(duck[name], values, "DuckDB \(path) \(name)")
                if name != "stamps" && name != "date" { XCTAssertEqual(arrow[name], values, "pyarrow \(path) \(name)") }
            }
            if !path.hasSuffix("delta-0.parquet") && !path.hasSuffix("delta-1.parquet") {
                XCTAssertTrue((file["encodings"] as? [String] ?? []).contains("DELTA_BINARY_PACKED"), "\(path): \(file["encodings"] ?? "")")
            }
        }
    }

    /// Sequential keys take a few bytes per page instead of eight per value; random 64-bit values stay PLAIN (their
    /// deltas need every bit), and `deltaIntegers = false` keeps PLAIN.
    func testDeltaOnlyWhereItIsSmaller() throws {
        let dir = TempDir()
        let rows = 10_000
        var rng = SeededRandom(seed: 3)
        let seq = ColumnBuffer(.int64((0..<rows).map { Int64($0) }), validity: nil)
        let random = ColumnBuffer(.int64((0..<rows).map { _ in Int64(bitPattern: rng.next()) }), validity: nil)
        func size(_ c: ColumnBuffer, delta: Bool) throws -> Int64 {
            var options = WriterOptions()
            options.dictionary = false
            options.compression = .none
            options.deltaIntegers = delta
            let name = "\(delta)-\(c.count)-\(UInt32.random(in: 0...UInt32.max)).parquet"
            let (written, _, back) = try roundTrip(Schema([Column("v", .int64, nullable: false)]), [c], options: options, dir: dir, name: name)
            XCTAssertEqual(back.map(\.values), [c.values])
            return written.byteCount
        }
        XCTAssertLessThan(try size(seq, delta: true), 1_000, "10,000 sequential keys")
        XCTAssertGreaterThan(try size(seq, delta: false), 80_000)
        XCTAssertEqual(try size(random, delta: true), try size(random, delta: false), "random values stay PLAIN")
    }
}
