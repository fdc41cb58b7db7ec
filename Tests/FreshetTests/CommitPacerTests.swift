import XCTest
@testable import Freshet

/// The commit pacing: a caught-up batch waits `spacing` before its commit while recent commits leave room under the
/// lag target (fewer, larger commits), and none when they are slow.
final class CommitPacerTests: XCTestCase {
    private let limits = Config.BatchLimits()   // maxAge 100 ms

    func testSpacingIsZeroUntilACommitFinished() {
        let pacer = CommitPacer(limits: limits)
        XCTAssertEqual(pacer.spacing, 0)
        XCTAssertEqual(pacer.goal, 0.07, accuracy: 1e-9)
        XCTAssertEqual(pacer.maxSpacing, 0.04, accuracy: 1e-9)
    }

    func testSpacingIsTheGoalLessAHighRecentOverheadWithinBounds() {
        var pacer = CommitPacer(limits: limits)
        for _ in 0..<10 { pacer.record(overhead: 0.040) }
        XCTAssertEqual(pacer.spacing, 0.030, accuracy: 1e-9)          // 70 ms goal − 40 ms overhead
        pacer.record(overhead: 0.055)
        XCTAssertEqual(pacer.spacing, 0.030, accuracy: 1e-9)          // one slow commit: the second largest counts
        pacer.record(overhead: 0.065)
        XCTAssertEqual(pacer.spacing, 0.015, accuracy: 1e-9)          // two: 70 − 55
        for _ in 0..<2 { pacer.record(overhead: 0.2) }
        XCTAssertEqual(pacer.spacing, 0)                               // slow commits (busy disk): plain group commit
        for _ in 0..<CommitPacer.window { pacer.record(overhead: 0.001) }
        XCTAssertEqual(pacer.spacing, 0.040, accuracy: 1e-9)          // fast again, once they left the window: capped
        pacer.record(overhead: -1)                                      // a clock step back: no overhead
        XCTAssertEqual(pacer.spacing, 0.040, accuracy: 1e-9)
    }

    func testSpacingNeverExceeds50MsWhateverTheMaxAge() {
        var limits = Config.BatchLimits()
        limits.maxAge = 600
        var pacer = CommitPacer(limits: limits)
        pacer.record(overhead: 0.01)
        XCTAssertEqual(pacer.spacing, 0.05, accuracy: 1e-9)
        limits.maxAge = 0.01                                             // a tight target: at most 4 ms
        pacer = CommitPacer(limits: limits)
        pacer.record(overhead: 0)
        XCTAssertEqual(pacer.spacing, 0.004, accuracy: 1e-9)
    }

    func testCaughtUpBatchWaitsForTheSpacingOnlyWhenTheCommitterIsFree() {
        XCTAssertFalse(CommitPolicy.commitsNow(age: 0.01, caughtUp: true, committerBusy: false, limits: limits, spacing: 0.03))
        XCTAssertTrue(CommitPolicy.commitsNow(age: 0.03, caughtUp: true, committerBusy: false, limits: limits, spacing: 0.03))
        XCTAssertFalse(CommitPolicy.commitsNow(age: 0.5, caughtUp: true, committerBusy: true, limits: limits, spacing: 0.03))
        // Behind: the behind age rules, whatever the spacing.
        XCTAssertFalse(CommitPolicy.commitsNow(age: 0.5, caughtUp: false, committerBusy: false, limits: limits, spacing: 0.03))
        XCTAssertTrue(CommitPolicy.commitsNow(age: CommitPolicy.behindAge(limits), caughtUp: false, committerBusy: false,
                                              limits: limits, spacing: 0.03))
    }
}
