import Foundation
import TestSupport
import XCTest
@testable import Parquet

/// Corrupt input must end in a typed `ParquetError`: never a crash, a trap or a hang.
final class CorruptionTests: XCTestCase {
    private func sampleFile(_ dir: TempDir, compression: Compression) throws -> [UInt8] {
        var rng = SeededRandom(seed: 3)
        let types: [ColumnType] = [.int64, .string, .boolean, .decimal(precision: 30, scale: 2), .double, .int16, .uuid]
        let cols = types.enumerated().map { Column("c\($0.offset)", $0.element, nullable: $0.offset % 2 == 0) }
        let data = cols.enumerated().map { TestData.column($0.element.type, rows: 600, nullRate: $0.element.nullable ? 0.2 : 0, rng: &rng,
                                                           distinct: $0.offset == 1 ? 20 : nil) }
        var o = WriterOptions()
        o.compression = compression
        o.pageRowLimit = 150
        o.rowGroupRows = 400
        let name = "sample-\(compression).parquet"
        _ = try roundTrip(Schema(cols), data, options: o, dir: dir, name: name)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.file(name))))
    }

    /// Opens and fully reads `bytes`; returns the error, failing the test when it is not a ParquetError.
    @discardableResult
    private func readExpectingTypedError(_ bytes: [UInt8], _ dir: TempDir, _ what: String,
                                         file: StaticString = #filePath, line: UInt = #line) -> ParquetError? {
        let path = dir.file("corrupt.parquet")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), file: file, line: line)
        do {
            let r = try ParquetFileReader(path: path)
            for g in r.rowGroups.indices { _ = try r.readRowGroup(g) }
            return nil
        } catch let e as ParquetError {
            return e
        } catch {
            XCTFail("\(what): untyped error \(error)", file: file, line: line)
            return nil
        }
    }

    func testTruncatedFiles() throws {
        let dir = TempDir()
        let bytes = try sampleFile(dir, compression: .lz4Raw)
        var cuts = Array(0..<64) + Array(stride(from: 64, to: bytes.count, by: 97)) + Array((bytes.count - 64)..<bytes.count)
        cuts = cuts.filter { $0 < bytes.count }
        for cut in cuts {
            let e = readExpectingTypedError(Array(bytes[0..<cut]), dir, "cut \(cut)")
            XCTAssertNotNil(e, "truncated at \(cut) must fail")
        }
    }

    func testBadMagicAndFooterLength() throws {
        let dir = TempDir()
        let bytes = try sampleFile(dir, compression: .none)
        var b = bytes; b[0] = 0x51
        XCTAssertEqual(readExpectingTypedError(b, dir, "head magic"), .badMagic(path: dir.file("corrupt.parquet")))
        b = bytes; b[b.count - 1] = 0x30
        XCTAssertEqual(readExpectingTypedError(b, dir, "tail magic"), .badMagic(path: dir.file("corrupt.parquet")))
        for len: UInt32 in [0, UInt32(bytes.count), UInt32(bytes.count - 11), 0xFFFF_FFFF] {
            b = bytes
            for k in 0..<4 { b[b.count - 8 + k] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(k))) }
            let e = readExpectingTypedError(b, dir, "footer length \(len)")
            guard case .badFooterLength? = e else { return XCTFail("footer length \(len): \(String(describing: e))") }
        }
        // A footer length that fits but points at page bytes: corrupt metadata, not a crash.
        b = bytes
        let len = UInt32(bytes.count - 12)
        for k in 0..<4 { b[b.count - 8 + k] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(k))) }
        XCTAssertNotNil(readExpectingTypedError(b, dir, "footer covering everything"))
        XCTAssertNotNil(readExpectingTypedError(Array("PAR1PAR1PAR1".utf8), dir, "tiny"))
        XCTAssertNotNil(readExpectingTypedError([], dir, "empty"))
    }

    func testRandomByteFlipsNeverCrash() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 77)
        for compression in [Compression.none, .lz4Raw] {
            let bytes = try sampleFile(dir, compression: compression)
            var failures = 0
            for round in 0..<400 {
                var b = bytes
                let flips = Int.random(in: 1...4, using: &rng)
                for _ in 0..<flips {
                    let at = Int.random(in: 4..<(b.count - 8), using: &rng)
                    b[at] = UInt8.random(in: 0...255, using: &rng)
                }
                if readExpectingTypedError(b, dir, "round \(round)") != nil { failures += 1 }
            }
            // Most flips hit page data or headers and must be detected somewhere; a few only change values.
            XCTAssertGreaterThan(failures, 50, "\(compression)")
        }
    }

    func testGarbagePageBodiesAndLZ4() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 5)
        let bytes = try sampleFile(dir, compression: .lz4Raw)
        let r = try ParquetFileReader(path: dir.file("sample-lz4Raw.parquet"))
        _ = r
        // Overwrite spans inside the data area with random garbage (page headers, LZ4 blocks).
        let dataEnd = bytes.count - 8 - Int(UInt32(bytes[bytes.count - 8]) | UInt32(bytes[bytes.count - 7]) << 8 | UInt32(bytes[bytes.count - 6]) << 16)
        var sawDecompression = false
        for round in 0..<300 {
            var b = bytes
            let start = Int.random(in: 4..<(dataEnd - 40), using: &rng)
            for k in 0..<Int.random(in: 8...40, using: &rng) { b[start + k] = UInt8.random(in: 0...255, using: &rng) }
            let e = readExpectingTypedError(b, dir, "garbage \(round)")
            if case .decompressionFailed? = e { sawDecompression = true }
        }
        XCTAssertTrue(sawDecompression, "LZ4 garbage should be reported as a decompression failure")
    }

    func testCountsThatDoNotAddUp() throws {
        // Chunk metadata claims more values than the pages hold.
        let dir = TempDir()
        let w = try ParquetFileWriter(path: dir.file("a.parquet"), schema: Schema([Column("a", .int64)]),
                                      options: { var o = WriterOptions(); o.durable = false; return o }())
        try w.write([ColumnBuffer(.int64([1, 2, 3]))])
        _ = try w.close()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.file("a.parquet"))))
        // Find the DataPageHeader num_values (field 1 = 3 → 0x15 0x06) after the first page header's struct marker 0x2C.
        if let i = (4..<bytes.count - 2).first(where: { bytes[$0] == 0x2C && bytes[$0 + 1] == 0x15 && bytes[$0 + 2] == 0x06 }) {
            bytes[i + 2] = 0x04  // num_values 2 instead of 3
            let e = readExpectingTypedError(bytes, dir, "short page")
            guard case .corruptPage? = e else { return XCTFail("expected corruptPage, got \(String(describing: e))") }
        } else {
            XCTFail("page header not found")
        }
    }
}
