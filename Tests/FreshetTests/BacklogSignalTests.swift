import Foundation
import XCTest
@testable import Freshet

/// `BacklogSignal`: when the stream applier holds the store's settles.
final class BacklogSignalTests: XCTestCase {
    func testQueuedEventsForASecondMeanBehind() {
        var s = BacklogSignal()
        let t0 = Date()
        XCTAssertNil(s.update(caughtUp: true, spooledBytes: 0, spoolLimit: 100, stagingLargeTransaction: false, now: t0))
        // A steady load empties the queue between bursts: never behind.
        for i in 1...20 {
            let t = t0.addingTimeInterval(Double(i) * 0.1)
            XCTAssertNil(s.update(caughtUp: i % 3 == 0, spooledBytes: 0, spoolLimit: 100, stagingLargeTransaction: false, now: t))
        }
        // Queued at every tick for a second: behind, until a tick finds the queue empty.
        let t1 = t0.addingTimeInterval(2.0)
        XCTAssertNil(s.update(caughtUp: false, spooledBytes: 0, spoolLimit: 100, stagingLargeTransaction: false, now: t1.addingTimeInterval(0.5)))
        XCTAssertEqual(s.update(caughtUp: false, spooledBytes: 0, spoolLimit: 100, stagingLargeTransaction: false, now: t1.addingTimeInterval(0.95)), true)
        XCTAssertNil(s.update(caughtUp: false, spooledBytes: 0, spoolLimit: 100, stagingLargeTransaction: false, now: t1.addingTimeInterval(3)))
        XCTAssertEqual(s.update(caughtUp: true, spooledBytes: 0, spoolLimit: 100, stagingLargeTransaction: false, now: t1.addingTimeInterval(3.1)), false)
        XCTAssertFalse(s.behind)
    }

    func testLargeTransactionsMeanBehind() {
        var s = BacklogSignal()
        let t = Date()
        XCTAssertNil(s.update(caughtUp: true, spooledBytes: 99, spoolLimit: 100, stagingLargeTransaction: false, now: t))
        XCTAssertEqual(s.update(caughtUp: true, spooledBytes: 100, spoolLimit: 100, stagingLargeTransaction: false, now: t), true, "a streamed transaction past the batch limit")
        XCTAssertEqual(s.update(caughtUp: true, spooledBytes: 0, spoolLimit: 100, stagingLargeTransaction: false, now: t), false, "committed")
        XCTAssertEqual(s.update(caughtUp: true, spooledBytes: 0, spoolLimit: 100, stagingLargeTransaction: true, now: t), true, "staged in chunks")
    }
}
