import Foundation
import XCTest
@testable import PostgresReplication

final class CaptureFileTests: XCTestCase {
    func testWriteThenReadAndDecode() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("capture-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let messages = PgOutputFixtures.plain
        let writer = try CaptureFile.Writer(path: path)
        for message in messages { try writer.write(message) }
        try writer.close()

        var reader = try CaptureFile.Reader(contentsOf: path)
        var decoder = PgOutputDecoder()
        var read: [[UInt8]] = []
        while let payload = try reader.next() {
            read.append(Array(payload))
            XCTAssertNoThrow(try decoder.decode(payload))
        }
        XCTAssertEqual(read, messages)
        XCTAssertEqual(reader.bytes.count, messages.reduce(0) { $0 + 4 + $1.count })
    }

    func testRecordLayoutAndCorruptRecords() throws {
        var bytes: [UInt8] = []
        CaptureFile.appendRecord([0x45], to: &bytes)
        CaptureFile.appendRecord([UInt8](), to: &bytes)
        XCTAssertEqual(bytes, hex("00000001 45 00000000"))
        var reader = CaptureFile.Reader(bytes: bytes)
        XCTAssertEqual(try reader.next().map(Array.init), [0x45])
        XCTAssertEqual(try reader.next().map(Array.init), [])
        XCTAssertNil(try reader.next())

        var truncated = CaptureFile.Reader(bytes: hex("00000001 45 000000"))
        _ = try truncated.next()
        XCTAssertThrowsError(try truncated.next()) { XCTAssertEqual($0 as? CaptureFile.Failure, .truncatedRecord(offset: 5)) }
        var short = CaptureFile.Reader(bytes: hex("00000005 45"))
        XCTAssertThrowsError(try short.next()) { XCTAssertEqual($0 as? CaptureFile.Failure, .truncatedRecord(offset: 0)) }
        var huge = CaptureFile.Reader(bytes: hex("FFFFFFFF 45"))
        XCTAssertThrowsError(try huge.next()) {
            XCTAssertEqual($0 as? CaptureFile.Failure, .recordTooLarge(offset: 0, length: 0xFFFF_FFFF))
        }
        XCTAssertThrowsError(try CaptureFile.Reader(contentsOf: "/nonexistent/capture")) {
            guard case .io? = $0 as? CaptureFile.Failure else { return XCTFail("\($0)") }
        }
    }
}
