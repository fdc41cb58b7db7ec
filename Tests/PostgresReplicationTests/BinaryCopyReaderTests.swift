import TestSupport
import XCTest
@testable import PostgresReplication

/// Builds binary COPY streams for tests.
enum BinaryCopyFixtures {
    static let signature = hex("50 47 43 4F 50 59 0A FF 0D 0A 00")

    static func header(flags: UInt32 = 0, extensionBytes: [UInt8] = []) -> [UInt8] {
        signature + bigEndian(flags) + bigEndian(UInt32(extensionBytes.count)) + extensionBytes
    }

    static func row(_ fields: [[UInt8]?]) -> [UInt8] {
        var bytes = bigEndian(UInt16(fields.count))
        for field in fields {
            if let field {
                bytes += bigEndian(UInt32(field.count)) + field
            } else {
                bytes += [0xFF, 0xFF, 0xFF, 0xFF]
            }
        }
        return bytes
    }

    static let trailer: [UInt8] = [0xFF, 0xFF]

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// id int8, name text (NULL every 3rd row, empty every 5th), amount numeric 12.3400.
    static func rows(_ count: Int) -> [[[UInt8]?]] {
        let amount = hex("0002000000000004000C0D48")
        return (0..<count).map { (index: Int) -> [[UInt8]?] in
            let name: String = index % 5 == 0 ? "" : "name-\(index)-ü"
            let nameField: [UInt8]? = index % 3 == 0 ? nil : Array(name.utf8)
            return [bigEndian(Int64(index)), nameField, amount]
        }
    }

    static func stream(_ rows: [[[UInt8]?]], extensionBytes: [UInt8] = []) -> [UInt8] {
        header(extensionBytes: extensionBytes) + rows.flatMap(row) + trailer
    }
}

final class BinaryCopyReaderTests: XCTestCase {
    /// Feeds `stream` in chunks of the given sizes (cycled) and collects every row's fields.
    private func decode(_ stream: [UInt8], chunkSizes: [Int], reader: inout BinaryCopyReader) throws -> [[[UInt8]?]] {
        var rows: [[[UInt8]?]] = []
        var offset = 0
        var sizeIndex = 0
        while offset < stream.count {
            let size = min(chunkSizes[sizeIndex % chunkSizes.count], stream.count - offset)
            reader.feed(Array(stream[offset..<offset + size]))
            offset += size
            sizeIndex += 1
            while try reader.nextRow() {
                rows.append((0..<reader.fieldCount).map { reader.field($0).map(Array.init) })
            }
        }
        try reader.finish()
        return rows
    }

    private func decode(_ stream: [UInt8], chunkSizes: [Int] = [1 << 16]) throws -> [[[UInt8]?]] {
        var reader = BinaryCopyReader()
        return try decode(stream, chunkSizes: chunkSizes, reader: &reader)
    }

    func testDecodesRowsAcrossAnyChunking() throws {
        let rows = BinaryCopyFixtures.rows(50)
        let stream = BinaryCopyFixtures.stream(rows)
        XCTAssertEqual(try decode(stream), rows)
        XCTAssertEqual(try decode(stream, chunkSizes: [1]), rows)
        XCTAssertEqual(try decode(stream, chunkSizes: [7, 1, 13, 2, 64]), rows)
        var random = SeededRandom(seed: 7)
        for _ in 0..<20 {
            let sizes = (0..<8).map { _ in Int.random(in: 1...200, using: &random) }
            XCTAssertEqual(try decode(stream, chunkSizes: sizes), rows)
        }
    }

    func testNullEmptyAndValues() throws {
        var reader = BinaryCopyReader()
        reader.feed(BinaryCopyFixtures.stream([[nil, [], hex("0000002A")]]))
        XCTAssertTrue(try reader.nextRow())
        XCTAssertEqual(reader.fieldCount, 3)
        XCTAssertTrue(reader.isNull(0))
        XCTAssertNil(reader.field(0))
        XCTAssertFalse(reader.isNull(1))
        XCTAssertEqual(reader.field(1).map(Array.init), [])
        XCTAssertEqual(try reader.withField(2) { try BinaryValueParser.parseInt32($0!) }, 42)
        XCTAssertEqual(try reader.withField(2) { try BinaryValueParser.value(typeOID: TypeOID.int4, bytes: $0!) }, .int32(42))
        XCTAssertTrue(reader.withField(0) { $0 == nil })
        XCTAssertFalse(try reader.nextRow())
        XCTAssertTrue(reader.isFinished)
        XCTAssertEqual(reader.rowCount, 1)
        XCTAssertEqual(reader.columnCount, 3)
        XCTAssertNoThrow(try reader.finish())
    }

    func testEmptyTableAndHeaderExtension() throws {
        XCTAssertEqual(try decode(BinaryCopyFixtures.stream([])), [])
        let rows = BinaryCopyFixtures.rows(3)
        let stream = BinaryCopyFixtures.stream(rows, extensionBytes: Array(repeating: 0xAB, count: 300))
        XCTAssertEqual(try decode(stream, chunkSizes: [5]), rows)
        // Non-critical flag bits (17–31) are allowed.
        XCTAssertEqual(try decode(BinaryCopyFixtures.header(flags: 1 << 20) + BinaryCopyFixtures.trailer), [])
    }

    func testMemoryIsBoundedByRowPlusChunk() throws {
        let rows = BinaryCopyFixtures.rows(5_000)
        let stream = BinaryCopyFixtures.stream(rows)
        let largestRow = rows.map { BinaryCopyFixtures.row($0).count }.max()!
        var reader = BinaryCopyReader()
        var offset = 0
        var maximum = 0
        while offset < stream.count {
            let size = min(1_000, stream.count - offset)
            reader.feed(Array(stream[offset..<offset + size]))
            offset += size
            maximum = max(maximum, reader.bufferedByteCount)
            while try reader.nextRow() {}
        }
        try reader.finish()
        XCTAssertEqual(reader.rowCount, 5_000)
        XCTAssertLessThanOrEqual(maximum, largestRow + 1_000)
    }

    func testHeaderErrors() {
        XCTAssertThrowsError(try decode(hex("50 47 43 4F 50 58"))) { XCTAssertEqual($0 as? BinaryCopyError, .invalidSignature) }
        XCTAssertThrowsError(try decode(BinaryCopyFixtures.header(flags: 1) + BinaryCopyFixtures.trailer)) {
            XCTAssertEqual($0 as? BinaryCopyError, .unsupportedFlags(1))
        }
        XCTAssertThrowsError(try decode(BinaryCopyFixtures.header(flags: 1 << 16) + BinaryCopyFixtures.trailer)) {
            XCTAssertEqual($0 as? BinaryCopyError, .unsupportedFlags(1 << 16))
        }
        XCTAssertThrowsError(try decode(BinaryCopyFixtures.signature + hex("00000000 FFFFFFFF"))) {
            XCTAssertEqual($0 as? BinaryCopyError, .invalidHeaderExtensionLength(-1))
        }
    }

    func testRowErrors() {
        let header = BinaryCopyFixtures.header()
        XCTAssertThrowsError(try decode(header + hex("FFFE"))) {
            XCTAssertEqual($0 as? BinaryCopyError, .invalidFieldCount(-2, row: 0, offset: 19))
        }
        XCTAssertThrowsError(try decode(header + hex("0001 FFFFFFFE"))) {
            XCTAssertEqual($0 as? BinaryCopyError, .invalidFieldLength(-2, row: 0, field: 0, offset: 21))
        }
        XCTAssertThrowsError(try decode(header + hex("0001 7FFFFFFF 00"))) {
            XCTAssertEqual($0 as? BinaryCopyError, .invalidFieldLength(.max, row: 0, field: 0, offset: 21), "fails fast, no buffering")
        }
        XCTAssertThrowsError(try decode(header + BinaryCopyFixtures.row([nil]) + BinaryCopyFixtures.row([nil, nil]))) {
            XCTAssertEqual($0 as? BinaryCopyError, .fieldCountChanged(expected: 1, found: 2, row: 1, offset: 25))
        }
        XCTAssertThrowsError(try decode(BinaryCopyFixtures.stream([]) + [0])) {
            XCTAssertEqual($0 as? BinaryCopyError, .dataAfterTrailer(offset: 21))
        }
        XCTAssertThrowsError(try decode(header + BinaryCopyFixtures.row([[1, 2]]))) {
            XCTAssertEqual($0 as? BinaryCopyError, .truncated(offset: 27, bufferedBytes: 0))
        }
        XCTAssertThrowsError(try decode(header + hex("0001 00000004 0102"))) {
            XCTAssertEqual($0 as? BinaryCopyError, .truncated(offset: 19, bufferedBytes: 8))
        }
        XCTAssertThrowsError(try decode([])) { XCTAssertEqual($0 as? BinaryCopyError, .truncated(offset: 0, bufferedBytes: 0)) }
    }

    func testSmallFieldLimit() {
        var reader = BinaryCopyReader(maxFieldBytes: 4)
        reader.feed(BinaryCopyFixtures.stream([[[1, 2, 3, 4, 5]]]))
        XCTAssertThrowsError(try reader.nextRow()) {
            XCTAssertEqual($0 as? BinaryCopyError, .invalidFieldLength(5, row: 0, field: 0, offset: 21))
        }
    }
}
