import TestSupport
import XCTest
@testable import Parquet

final class ThriftCompactTests: XCTestCase {
    private func hex(_ s: String) -> [UInt8] {
        s.split(separator: " ").filter { $0 != "|" }.map { UInt8($0, radix: 16)! }
    }

    func testVarintAndZigzag() {
        var e = CompactEncoder()
        e.writeVarint(50399)
        XCTAssertEqual(e.bytes, [0xDF, 0x89, 0x03])
        for (v, bytes) in [(Int64(0), [UInt8(0)]), (-1, [1]), (1, [2]), (300, [0xD8, 0x04])] {
            var z = CompactEncoder()
            z.writeZigzag(v)
            XCTAssertEqual(z.bytes, bytes, "zigzag \(v)")
            var d = CompactDecoder(z.bytes)
            XCTAssertEqual(try d.readZigzag(), v)
        }
        for v in [Int64.min, Int64.max, -123456789, 0] {
            var z = CompactEncoder()
            z.writeZigzag(v)
            var d = CompactDecoder(z.bytes)
            XCTAssertEqual(try d.readZigzag(), v)
        }
    }

    func testPageHeaderExample() throws {
        var h = PageHeader(type: .dataPage, uncompressedPageSize: 100, compressedPageSize: 100)
        h.dataPageHeader = DataPageHeader(numValues: 10, encoding: .plain)
        let expected = hex("15 00 | 15 C8 01 | 15 C8 01 | 2C | 15 14 15 00 15 06 15 06 00 | 00")
        XCTAssertEqual(h.thriftBytes(), expected)
        var d = CompactDecoder(expected)
        let back = try PageHeader(from: &d)
        XCTAssertEqual(back.uncompressedPageSize, 100)
        XCTAssertEqual(back.dataPageHeader?.numValues, 10)
        XCTAssertEqual(d.position, expected.count)
    }

    func testColumnMetaDataPrefixExample() {
        var m = ColumnMetaData()
        m.type = .int64
        m.encodings = [0, 3]
        m.pathInSchema = ["id"]
        m.codec = 0
        m.numValues = 5
        m.totalUncompressedSize = 61
        m.totalCompressedSize = 61
        m.dataPageOffset = 4
        XCTAssertEqual(m.thriftBytes(), hex("15 04 | 19 25 00 06 | 19 18 02 69 64 | 15 00 | 16 0A | 16 7A | 16 7A | 26 08 | 00"))
    }

    func testStatisticsExample() throws {
        var s = Statistics()
        s.nullCount = 1
        s.maxValue = [7, 0, 0, 0]
        s.minValue = [1, 0, 0, 0]
        let expected = hex("36 02 | 28 04 07 00 00 00 | 18 04 01 00 00 00 | 00")
        XCTAssertEqual(s.thriftBytes(), expected)
        var d = CompactDecoder(expected)
        XCTAssertEqual(try Statistics(from: &d), s)
    }

    func testLongFormFieldHeader() {
        var e = CompactEncoder()
        e.beginStruct()
        e.field(1, i32: 1)
        e.field(20, i32: 7)
        e.endStruct()
        XCTAssertEqual(e.bytes, hex("15 02 | 05 28 0E | 00"))
    }

    func testLogicalTypeExamples() throws {
        let cases: [(LogicalType, String)] = [
            (.string, "1C 00 00"), (.date, "6C 00 00"), (.json, "CC 00 00"), (.uuid, "EC 00 00"),
            (.integer(bitWidth: 16, signed: true), "AC 13 10 11 00 00"),
            (.decimal(scale: 2, precision: 18), "5C 15 04 15 24 00 00"),
            (.timestamp(utc: true, unit: .micros), "8C 11 1C 2C 00 00 00 00"),
        ]
        for (lt, bytes) in cases {
            // The examples are the union as field 10 of a SchemaElement-like struct, minus the outer header.
            var e = CompactEncoder()
            e.beginStruct()
            lt.encodeFields(&e)
            e.endStruct()
            let expected = hex(bytes)
            // expected = field header of the member + member struct + stop of the union
            XCTAssertEqual(e.bytes, expected, "\(lt)")
            var d = CompactDecoder(expected)
            XCTAssertEqual(try LogicalType(from: &d), lt)
        }
    }

    func testSchemaElementExample() throws {
        let e = SchemaElement(type: .int64, repetition: .optional, name: "ts", convertedType: .timestampMicros,
                              logicalType: .timestamp(utc: true, unit: .micros))
        let expected = hex("15 04 25 02 18 02 74 73 25 14 4C 8C 11 1C 2C 00 00 00 00 00")
        XCTAssertEqual(e.thriftBytes(), expected)
        var d = CompactDecoder(expected)
        let back = try SchemaElement(from: &d)
        XCTAssertEqual(back.name, "ts")
        XCTAssertEqual(back.logicalType, .timestamp(utc: true, unit: .micros))
        XCTAssertEqual(back.convertedType, 10)
    }

    func testUnknownFieldsOfEveryTypeAreSkipped() throws {
        var e = CompactEncoder()
        e.beginStruct()
        e.field(1, i32: 2)                     // type = INT64... (known)
        e.field(2, i32: 9)                     // uncompressed
        e.field(3, i32: 9)                     // compressed
        e.field(20, bool: true)
        e.field(21, i8: -3)
        e.field(22, i16: 300)
        e.field(23, i64: Int64.min)
        e.field(24, double: 1.5)
        e.field(25, string: "unknown")
        e.field(26, i32List: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
        e.field(27, struct: { n in
            n.field(1, stringList: ["a", "b"])
            n.field(2, struct: { $0.field(5, bool: false) })
        })
        // a map<i32,string> with 2 entries
        e.fieldHeader(28, .map)
        e.writeVarint(2)
        e.bytes.append(0x58)
        e.writeZigzag(1); e.writeString("x"); e.writeZigzag(2); e.writeString("y")
        e.fieldHeader(29, .map); e.writeVarint(0)
        // list of bools
        e.fieldHeader(30, .list); e.listHeader(3, .boolTrue); e.bytes += [1, 2, 1]
        e.field(32767, binary: [1, 2, 3])
        e.endStruct()
        var d = CompactDecoder(e.bytes)
        let h = try PageHeader(from: &d)
        XCTAssertEqual(h.type, 2)
        XCTAssertEqual(h.compressedPageSize, 9)
        XCTAssertEqual(d.position, e.bytes.count)
    }

    func testTruncatedAndGarbageThriftThrows() {
        var h = PageHeader(type: .dataPage, uncompressedPageSize: 100, compressedPageSize: 100)
        h.dataPageHeader = DataPageHeader(numValues: 10, encoding: .plain)
        let bytes = h.thriftBytes()
        for cut in 0..<bytes.count {
            var d = CompactDecoder(Array(bytes[0..<cut]))
            XCTAssertThrowsError(try PageHeader(from: &d), "cut at \(cut)")
        }
        // Deeply nested structs must not overflow the stack.
        var deep = [UInt8]()
        for _ in 0..<10_000 { deep.append(0x1C) }
        var d = CompactDecoder(deep)
        XCTAssertThrowsError(try PageHeader(from: &d))
        // Huge list sizes are rejected, not allocated.
        var d2 = CompactDecoder([0x19, 0xF5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        XCTAssertThrowsError(try PageHeader(from: &d2))
    }

    func testRLEHybridExamples() throws {
        var out: [UInt8] = []
        [UInt32](repeating: 1, count: 10).withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 1, into: &out) }
        XCTAssertEqual(out, [0x14, 0x01])
        out = []
        [UInt32]([1, 1, 0, 1, 1, 1, 1, 1, 1, 1]).withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 1, into: &out) }
        XCTAssertEqual(out, [0x05, 0xFB, 0x03])
        out = []
        [UInt32]([0, 1, 2, 1]).withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 2, into: &out) }
        XCTAssertEqual(out, [0x03, 0x64, 0x00])
        var decoded: [UInt32] = []
        try out.withUnsafeBytes { try RLEHybrid.decode($0, start: 0, end: $0.count, bitWidth: 2, count: 4, into: &decoded) }
        XCTAssertEqual(decoded, [0, 1, 2, 1])
    }

    func testRLEHybridRandomRoundTrip() throws {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<300 {
            let width = Int.random(in: 1...20, using: &rng)
            let n = Int.random(in: 0...3000, using: &rng)
            let maxV = UInt32((1 << width) - 1)
            var values: [UInt32] = []
            while values.count < n {
                let v = UInt32.random(in: 0...maxV, using: &rng)
                let run = Bool.random(using: &rng) ? Int.random(in: 1...40, using: &rng) : 1
                values.append(contentsOf: repeatElement(v, count: min(run, n - values.count)))
            }
            var enc: [UInt8] = []
            values.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: width, into: &enc) }
            var dec: [UInt32] = []
            try enc.withUnsafeBytes { try RLEHybrid.decode($0, start: 0, end: $0.count, bitWidth: width, count: n, into: &dec) }
            XCTAssertEqual(dec, values)
        }
    }

    func testCRC32() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
        let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var c = CRC32()
        c.update(Array(long[0..<333]))
        c.update(Array(long[333...]))
        XCTAssertEqual(c.value, CRC32.checksum(long))
    }

    /// The table kernel against the bit-at-a-time definition, for every length around its 16-byte step and for
    /// inputs fed in uneven pieces.
    func testCRC32MatchesBitwiseReference() {
        func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
            }
            return c ^ 0xFFFF_FFFF
        }
        var rng = SystemRandomNumberGenerator()
        let data = (0..<4099).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for n in Array(0...70) + [255, 256, 257, 1023, 4099] {
            XCTAssertEqual(CRC32.checksum(Array(data[0..<n])), reference(data[0..<n]), "length \(n)")
        }
        var c = CRC32()
        var start = 0
        for piece in [1, 15, 16, 17, 3, 100, 33, 7] where start + piece <= data.count {
            c.update(Array(data[start..<(start + piece)]))
            start += piece
        }
        XCTAssertEqual(c.value, reference(data[0..<start]))
    }
}

