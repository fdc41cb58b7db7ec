import TestSupport
import XCTest
@testable import Parquet

/// `DictionaryMemory`: a column that dropped its dictionary skips it in the next chunks (of the same file and of files
/// sharing the memory) and tries again after `retryChunks`; a column whose dictionary pays keeps it in every chunk.
final class DictionaryMemoryTests: XCTestCase {
    func testSkipsAfterADropThenRetries() {
        let m = DictionaryMemory()
        XCTAssertTrue(m.startChunk("u"))
        m.dropped("u")
        for _ in 0..<DictionaryMemory.retryChunks { XCTAssertFalse(m.startChunk("u")) }
        XCTAssertTrue(m.startChunk("u"))
        XCTAssertTrue(m.startChunk("other"))
    }

    /// Many row groups in two files sharing one memory: every value reads back; the repeating column stays
    /// dictionary-encoded in every chunk (its chunks stay tiny), the distinct one is remembered as dropped.
    func testSharedAcrossFilesAndRowGroups() throws {
        let dir = TempDir()
        let memory = DictionaryMemory()
        let schema = Schema([Column("u", .string, nullable: true), Column("r", .string, nullable: false)])
        let rowsPerGroup = 20_000
        for file in 0..<2 {
            var o = WriterOptions()
            o.durable = false
            o.dictionaryMemory = memory
            let path = dir.file("f\(file).parquet")
            let w = try ParquetFileWriter(path: path, schema: schema, options: o)
            var expected: [[ColumnBuffer]] = []
            for g in 0..<10 {
                var u = ByteArrayBuffer(), r = ByteArrayBuffer()
                var valid = [Bool]()
                for i in 0..<rowsPerGroup {
                    let n = (file * 10 + g) * rowsPerGroup + i
                    u.append("distinct value number \(n) " + String(repeating: "x", count: n % 17))
                    valid.append(n % 13 != 0)
                    r.append("status-\(n % 5)")
                }
                let batch = [ColumnBuffer(.byteArray(u), validity: valid), ColumnBuffer(.byteArray(r))]
                expected.append(batch)
                try w.write(batch)
                try w.flushRowGroup()
            }
            _ = try w.close()
            let reader = try ParquetFileReader(path: path)
            XCTAssertEqual(reader.rowGroups.count, 10)
            for g in 0..<10 {
                let back = try reader.readRowGroup(g)
                XCTAssertEqual(back[1].values, expected[g][1].values)
                for i in 0..<rowsPerGroup where expected[g][0].validity![i] {
                    XCTAssertEqual(back[0].values.bytes(at: i), expected[g][0].values.bytes(at: i), "file \(file) group \(g) row \(i)")
                }
                XCTAssertEqual(back[0].nullCount, expected[g][0].nullCount)
                // 20,000 values of "status-N" take 240 kB as PLAIN, 7.5 kB as 3-bit dictionary indices.
                XCTAssertLessThan(reader.rowGroups[g].columns[1].uncompressedSize, 16_384, "file \(file) group \(g)")
            }
        }
        XCTAssertFalse(memory.startChunk("u"), "the distinct column's drop is remembered")
        XCTAssertTrue(memory.startChunk("r"))
    }
}

private extension ColumnValues {
    func bytes(at i: Int) -> [UInt8] {
        guard case let .byteArray(b) = self else { return [] }
        return Array(b[i])
    }
}
