import Foundation
@testable import Freshet
import TestSupport
import XCTest

/// The spool of streamed in-progress transactions: interleaved blocks, messages longer than a read chunk, aborted
/// subtransactions and whole transactions, and stale files of an earlier process.
final class StreamedTransactionsTests: XCTestCase {
    private func directory() -> URL {
        URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("freshet-spool-\(UUID().uuidString)")
    }

    private func message(_ tag: UInt8, _ length: Int) -> [UInt8] { [UInt8](repeating: tag, count: length) }

    func testInterleavedBlocksReplayInOrderAndAbortsDropTheirSpool() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A file an earlier process left behind is deleted.
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: dir.appendingPathComponent("99.spool"))
        let spool = try StreamedTransactions(directory: dir)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("99.spool").path))

        // Transaction 10: small messages and one larger than a read chunk (and than the write buffer); 11 and 12 interleave.
        var expected: [[UInt8]] = []
        try spool.startBlock(xid: 10, firstSegment: true)
        for i in 0..<1000 { let m = message(UInt8(i % 200), 1 + i % 300); expected.append(m); try spool.append(m) }
        try spool.endBlock()
        try spool.startBlock(xid: 11, firstSegment: true)
        try spool.append(message(7, 100))
        try spool.endBlock()
        try spool.startBlock(xid: 12, firstSegment: true)
        try spool.append(message(8, 100))
        try spool.endBlock()
        try spool.startBlock(xid: 10, firstSegment: false)
        let big = message(9, StreamedTransactions.readBytes + 12345)
        expected.append(big); try spool.append(big)
        for i in 0..<10 { let m = message(UInt8(i), 5); expected.append(m); try spool.append(m) }
        try spool.endBlock()
        XCTAssertEqual(spool.openCount, 3)

        try spool.abort(xid: 10, subxid: 15)   // a subtransaction: recorded, the spool stays
        try spool.abort(xid: 11, subxid: 11)   // the whole transaction
        XCTAssertEqual(spool.openCount, 2)
        XCTAssertEqual(spool.spooledBytes(11), 0)

        var replayed: [[UInt8]] = []
        try spool.replay(xid: 10) { payload, aborted in
            XCTAssertEqual(aborted, [15])
            replayed.append(Array(payload))
        }
        XCTAssertEqual(replayed.count, expected.count)
        XCTAssertTrue(replayed == expected)
        XCTAssertEqual(spool.openCount, 1)
        // A committed transaction that never streamed a block replays nothing.
        try spool.replay(xid: 77) { _, _ in XCTFail("no spool") }
        spool.removeAll()
        XCTAssertEqual(spool.openCount, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }
}
