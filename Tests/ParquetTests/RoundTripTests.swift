import TestSupport
import XCTest
@testable import Parquet

final class RoundTripTests: XCTestCase {
    func testEveryTypeWithNullsAndBothCodecs() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 7)
        for compression in [Compression.none, .lz4Raw] {
            for rows in [0, 1, 2, 1000] {
                var cols: [Column] = []
                var data: [ColumnBuffer] = []
                for (i, t) in TestData.allTypes.enumerated() {
                    cols.append(Column("c\(i)_opt", t, nullable: true))
                    data.append(TestData.column(t, rows: rows, nullRate: 0.3, rng: &rng))
                    cols.append(Column("c\(i)_req", t, nullable: false))
                    data.append(TestData.column(t, rows: rows, nullRate: 0, rng: &rng))
                    cols.append(Column("c\(i)_dict", t, nullable: true))
                    data.append(TestData.column(t, rows: rows, nullRate: 0.1, rng: &rng, distinct: 5))
                }
                var o = WriterOptions()
                o.compression = compression
                let (w, r, back) = try roundTrip(Schema(cols), data, options: o, dir: dir, name: "all-\(rows)-\(compression).parquet")
                XCTAssertEqual(r.schema, Schema(cols))
                XCTAssertEqual(r.rowCount, Int64(rows))
                XCTAssertEqual(w.rowCount, Int64(rows))
                for i in cols.indices { assertSameColumn(back[i], data[i], "\(cols[i].name) rows=\(rows) \(compression)") }
                if rows > 0 {
                    XCTAssertEqual(r.rowGroups.first?.columns.first?.codec, compression == .lz4Raw ? 7 : 0)
                }
            }
        }
    }

    func testExtremeValues() throws {
        let dir = TempDir()
        let long = String(repeating: "x€", count: 50_000)
        let schema = Schema([
            Column("i64", .int64), Column("i32", .int32), Column("i16", .int16), Column("f", .float), Column("d", .double),
            Column("s", .string), Column("b", .bytes, nullable: false),
        ])
        let i64: [Int64] = [.min, .max, 0, -1, 1, 0]
        let i32: [Int32] = [.min, .max, 0, -1, 1, 0]
        let i16: [Int32] = [Int32(Int16.min), Int32(Int16.max), 0, -1, 1, 0]
        let f: [Float] = [.nan, .infinity, -.infinity, -0.0, .greatestFiniteMagnitude, 0]
        let d: [Double] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, 0]
        let s = ByteArrayBuffer(["", long, "a", "zz", "\u{0}", ""])
        var b = ByteArrayBuffer()
        for x in [[], [0], [255, 0, 255], Array(repeating: UInt8(7), count: 100_000), [], [1]] { b.append(contentsOf: x) }
        let validity: [Bool] = [true, true, true, true, true, false]
        let data = [ColumnBuffer(.int64(i64), validity: validity), ColumnBuffer(.int32(i32), validity: validity),
                    ColumnBuffer(.int32(i16), validity: validity), ColumnBuffer(.float(f), validity: validity),
                    ColumnBuffer(.double(d), validity: validity), ColumnBuffer(.byteArray(s), validity: validity),
                    ColumnBuffer(.byteArray(b))]
        var o = WriterOptions()
        o.dictionary = false
        for dict in [false, true] {
            o.dictionary = dict
            let (_, r, back) = try roundTrip(schema, data, options: o, dir: dir, name: "x\(dict).parquet")
            for i in data.indices { assertSameColumn(back[i], data[i], "column \(i) dict=\(dict)") }
            let st = r.rowGroups[0].columns
            XCTAssertEqual(st[0].statistics?.min, .int64(.min))
            XCTAssertEqual(st[0].statistics?.max, .int64(.max))
            XCTAssertEqual(st[0].statistics?.nullCount, 1)
            XCTAssertEqual(st[1].statistics?.min, .int32(.min))
            XCTAssertEqual(st[3].statistics?.min, .float(-.infinity))
            XCTAssertEqual(st[3].statistics?.max, .float(.infinity))
            XCTAssertEqual(st[4].statistics?.max, .double(.infinity))
            XCTAssertEqual(st[5].statistics?.min, .bytes([]))
            XCTAssertEqual(st[5].statistics?.max, .bytes(Array("zz".utf8)))
            XCTAssertEqual(st[6].statistics?.nullCount, 0)
            XCTAssertEqual(st[6].statistics?.max, .bytes([255, 0, 255]))
        }
    }

    func testZeroRowsHasNoRowGroups() throws {
        let dir = TempDir()
        let (w, r, back) = try roundTrip(Schema([Column("a", .int64)]), [ColumnBuffer(.int64([]))], dir: dir)
        XCTAssertEqual(w.rowGroupCount, 0)
        XCTAssertEqual(r.rowGroups.count, 0)
        XCTAssertEqual(back[0].count, 0)
    }

    func testFloatStatisticsZeroAndNaNRules() throws {
        let dir = TempDir()
        let data = [ColumnBuffer(.double([0.0, 0.0, .nan])), ColumnBuffer(.float([.nan, .nan])),
                    ColumnBuffer(.double([-0.0, 5]))]
        let schema = Schema([Column("a", .double), Column("b", .float), Column("c", .double)])
        var o = WriterOptions(); o.dictionary = false
        let (_, r0, _) = try roundTrip(Schema([schema.columns[0]]), [data[0]], options: o, dir: dir, name: "a.parquet")
        guard case let .double(lo)? = r0.rowGroups[0].columns[0].statistics?.min,
              case let .double(hi)? = r0.rowGroups[0].columns[0].statistics?.max else { return XCTFail("no stats") }
        XCTAssertEqual(lo.sign, .minus); XCTAssertEqual(lo, 0)
        XCTAssertEqual(hi.sign, .plus); XCTAssertEqual(hi, 0)
        let (_, r1, _) = try roundTrip(Schema([schema.columns[1]]), [data[1]], options: o, dir: dir, name: "b.parquet")
        XCTAssertNil(r1.rowGroups[0].columns[0].statistics?.min)
        XCTAssertNil(r1.rowGroups[0].columns[0].statistics?.max)
    }

    func testManyRowGroupsAndPagesAndBatches() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 99)
        let types: [ColumnType] = [.int64, .string, .decimal(precision: 12, scale: 2), .boolean, .uuid]
        let rows = 50_000
        let cols = types.enumerated().map { Column("c\($0.offset)", $0.element, nullable: $0.offset % 2 == 0) }
        let data = cols.map { TestData.column($0.type, rows: rows, nullRate: $0.nullable ? 0.2 : 0, rng: &rng,
                                              distinct: $0.type == .string ? 300 : nil) }
        var o = WriterOptions()
        o.rowGroupRows = 7_000
        o.pageRowLimit = 1_000
        o.pageSizeBytes = 4096
        let (w, r, back) = try roundTrip(Schema(cols), data, options: o, batches: 13, dir: dir)
        XCTAssertEqual(w.rowGroupCount, 8)
        XCTAssertEqual(r.rowGroups.map(\.rowCount).reduce(0, +), Int64(rows))
        for i in cols.indices { assertSameColumn(back[i], data[i], cols[i].name) }
        // Projection and per-row-group reads.
        let g = try r.readRowGroup(3, columns: [1])
        assertSameColumn(g[0], data[1].slice(21_000..<28_000), "row group 3 column 1")
        // Statistics of every row group bound its values.
        for (gi, rg) in r.rowGroups.enumerated() {
            let part = data[0].slice((gi * 7000)..<min(rows, (gi + 1) * 7000))
            guard case let .int64(v) = part.values else { return XCTFail() }
            let present = v.indices.filter { !part.isNull($0) }.map { v[$0] }
            XCTAssertEqual(rg.columns[0].statistics?.min, .int64(present.min()!))
            XCTAssertEqual(rg.columns[0].statistics?.max, .int64(present.max()!))
            XCTAssertEqual(rg.columns[0].statistics?.nullCount, Int64(part.nullCount))
        }
    }

    func testRowGroupsAreBoundedByBytes() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 8)
        let data = [TestData.column(.bytes, rows: 100_000, nullRate: 0.1, rng: &rng),
                    TestData.column(.int64, rows: 100_000, nullRate: 0, rng: &rng)]
        var o = WriterOptions()
        o.rowGroupRows = 10_000_000
        o.rowGroupBytes = 256 * 1024
        o.compression = .none
        let (w, r, back) = try roundTrip(Schema([Column("b", .bytes), Column("i", .int64, nullable: false)]), data,
                                         options: o, batches: 1, dir: dir)
        XCTAssertGreaterThan(w.rowGroupCount, 5, "a byte-bounded row group must be flushed before the row limit")
        for g in r.rowGroups { XCTAssertLessThan(g.columns.reduce(0) { $0 + $1.compressedSize }, 256 * 1024 + 200 * 1024) }
        assertSameColumn(back[0], data[0], "b")
        assertSameColumn(back[1], data[1], "i")
    }

    func testLongRepeatedStringsSplitPagesByBytes() throws {
        let dir = TempDir()
        let pool = (0..<8).map { String(repeating: Character(UnicodeScalar(UInt8(97 + $0))), count: 60_000) }
        var s = ByteArrayBuffer()
        for i in 0..<150 { s.append(pool[(i * 7) % pool.count]) }
        var o = WriterOptions()
        o.pageSizeBytes = 256 * 1024
        let (_, r, back) = try roundTrip(Schema([Column("s", .string, nullable: false)]), [ColumnBuffer(.byteArray(s))],
                                         options: o, dir: dir)
        XCTAssertEqual(back[0].values, .byteArray(s))
        XCTAssertEqual(r.rowGroups[0].columns[0].statistics?.max, .bytes(Array(pool[7].utf8)))
    }

    func testDictionaryFallbackMidChunk() throws {
        let dir = TempDir()
        // Repetitive first, then unique values: the dictionary pays at first and overflows later.
        var s = ByteArrayBuffer()
        for i in 0..<60_000 { s.append(i < 20_000 ? "v\(i % 10)" : "unique-value-\(i)-" + String(repeating: "p", count: 20)) }
        var o = WriterOptions()
        o.dictionaryPageSizeLimit = 64 * 1024
        o.pageRowLimit = 5_000
        let (_, r, back) = try roundTrip(Schema([Column("s", .string, nullable: false)]), [ColumnBuffer(.byteArray(s))],
                                         options: o, dir: dir)
        XCTAssertEqual(back[0].values, .byteArray(s))
        XCTAssertEqual(r.rowGroups[0].columns[0].statistics?.min, .bytes(Array("unique-value-20000-pppppppppppppppppppp".utf8)))
        XCTAssertEqual(r.rowGroups[0].columns[0].statistics?.max, .bytes(Array("v9".utf8)))
    }

    func testRandomisedProperty() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 2024)
        for round in 0..<25 {
            let ncols = Int.random(in: 1...6, using: &rng)
            let rows = [0, 1, 7, 100, 3000, 20_001].randomElement(using: &rng)!
            var cols: [Column] = []
            var data: [ColumnBuffer] = []
            for c in 0..<ncols {
                let t = TestData.allTypes.randomElement(using: &rng)!
                let nullable = Bool.random(using: &rng)
                cols.append(Column("c\(c)", t, nullable: nullable))
                data.append(TestData.column(t, rows: rows, nullRate: nullable ? Double.random(in: 0...1, using: &rng) : 0, rng: &rng,
                                            distinct: Bool.random(using: &rng) ? Int.random(in: 1...50, using: &rng) : nil))
            }
            var o = WriterOptions()
            o.compression = Bool.random(using: &rng) ? .lz4Raw : .none
            o.dictionary = Bool.random(using: &rng)
            o.pageRowLimit = Int.random(in: 1...5000, using: &rng)
            o.rowGroupRows = Int.random(in: 1...30_000, using: &rng)
            o.pageSizeBytes = Int.random(in: 100...100_000, using: &rng)
            let (_, _, back) = try roundTrip(Schema(cols), data, options: o, batches: Int.random(in: 1...4, using: &rng),
                                             dir: dir, name: "p\(round).parquet")
            for i in cols.indices { assertSameColumn(back[i], data[i], "round \(round) \(cols[i])") }
        }
    }

    func testFileIsDurableWithModeAndChecksum() throws {
        let dir = TempDir()
        let path = dir.file("d.parquet")
        var o = WriterOptions()
        o.keyValueMetadata = [("freshet.table", "public.orders"), ("freshet.lsn", "0/16B3748")]
        let w = try ParquetFileWriter(path: path, schema: Schema([Column("a", .int32)]), options: o)
        try w.write([ColumnBuffer(.int32([1, 2, 3]))])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "file appears only on close")
        let info = try w.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(info.byteCount, Int64(bytes.count))
        XCTAssertEqual(info.crc32, CRC32.checksum(bytes))
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o640)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["d.parquet"], "no temp file left")
        let r = try ParquetFileReader(path: path)
        XCTAssertEqual(r.keyValueMetadata["freshet.table"], "public.orders")
        XCTAssertEqual(r.createdBy, "freshet version 0.1.0 (build dev)")
    }

    func testAbortLeavesNothing() throws {
        let dir = TempDir()
        let w = try ParquetFileWriter(path: dir.file("x.parquet"), schema: Schema([Column("a", .int32)]))
        try w.write([ColumnBuffer(.int32([1]))])
        w.abort()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testInvalidBatchesAreRejected() throws {
        let dir = TempDir()
        let w = try ParquetFileWriter(path: dir.file("x.parquet"), schema: Schema([Column("a", .int32, nullable: false), Column("b", .string)]))
        XCTAssertThrowsError(try w.write([ColumnBuffer(.int64([1])), ColumnBuffer(.byteArray(ByteArrayBuffer(["a"])))]))
        XCTAssertThrowsError(try w.write([ColumnBuffer(.int32([1, 2])), ColumnBuffer(.byteArray(ByteArrayBuffer(["a"])))]))
        XCTAssertThrowsError(try w.write([ColumnBuffer(.int32([1]), validity: [false]), ColumnBuffer(.byteArray(ByteArrayBuffer(["a"])))]))
        w.abort()
    }
}

final class ColumnBuilderTests: XCTestCase {
    func testBuilderProducesBuffersTheWriterAccepts() throws {
        let dir = TempDir()
        var id = ColumnBuilder(.int64)
        var name = ColumnBuilder(.string)
        var price = ColumnBuilder(.decimal(precision: 30, scale: 2))
        var day = ColumnBuilder(.date)
        for i in 0..<100 {
            id.append(Int64(i))
            if i % 3 == 0 { name.appendNull() } else { name.append("n\(i)") }
            if i % 5 == 0 { price.appendNull() } else { price.appendDecimal(high: i % 2 == 0 ? -1 : 0, low: UInt64(bitPattern: Int64(i % 2 == 0 ? -i : i))) }
            day.append(Int32(19_000 + i))
        }
        let cols = [id.finish(), name.finish(), price.finish(), day.finish()]
        XCTAssertEqual(id.count, 0)
        XCTAssertNil(cols[0].validity)
        XCTAssertEqual(cols[1].nullCount, 34)
        XCTAssertEqual(cols[1].isNull(3), true)
        XCTAssertEqual(cols[2].count, 100)
        let schema = Schema([Column("id", .int64, nullable: false), Column("name", .string),
                             Column("price", .decimal(precision: 30, scale: 2)), Column("day", .date)])
        let (_, r, back) = try roundTrip(schema, cols, dir: dir)
        for i in cols.indices { assertSameColumn(back[i], cols[i], schema.columns[i].name) }
        guard case let .byteArray(b) = back[1].values else { return XCTFail() }
        XCTAssertEqual(b.string(at: 4), "n4")
        guard case let .fixed(f) = back[2].values else { return XCTFail() }
        XCTAssertEqual(Canonical.int128(bigEndian: f[4]), -4)
        XCTAssertEqual(r.rowGroups[0].columns[2].statistics?.min, .bytes(f[98].map { $0 }))
    }
}
