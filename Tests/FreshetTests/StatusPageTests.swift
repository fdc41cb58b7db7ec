import Foundation
@testable import Freshet
import TestSupport
import XCTest

/// The lag history ring, the sparklines and the status page's HTML, without PostgreSQL.
final class StatusPageTests: XCTestCase {
    func testLagHistorySummarisesPerIntervalAndForgetsAfterFifteenMinutes() {
        var h = LagHistory()
        let t0 = Date(timeIntervalSince1970: 1_000_000)   // a multiple of 10
        h.observe((1...100).map { Double($0) / 100 }, at: t0)
        h.observe([5], at: t0.addingTimeInterval(9))
        h.observe([0.2, 0.4], at: t0.addingTimeInterval(30))
        let points = h.points(now: t0.addingTimeInterval(35))
        XCTAssertEqual(points.count, 2)
        XCTAssertEqual(points[0].start, 1_000_000)
        XCTAssertEqual(points[0].count, 101)
        XCTAssertEqual(points[0].p50, 0.51, accuracy: 0.011)
        XCTAssertEqual(points[0].p99, 1.0, accuracy: 0.011)
        XCTAssertEqual(points[0].max, 5)
        XCTAssertEqual(points[1].start, 1_000_030)
        XCTAssertEqual(points[1].max, 0.4)
        // 15 minutes later only the newest interval is left; the ring never holds more than 90 summaries.
        XCTAssertEqual(h.points(now: t0.addingTimeInterval(30 + 899)).map(\.start), [1_000_030])
        XCTAssertEqual(h.points(now: t0.addingTimeInterval(30 + 900)), [])
        for i in 0..<500 { h.observe([Double(i)], at: t0.addingTimeInterval(40 + Double(i) * 10)) }
        XCTAssertEqual(h.points(now: t0.addingTimeInterval(40 + 499 * 10)).count, 90)
    }

    func testLagHistoryKeepsBoundedSamplesButExactMaxAndCount() {
        var h = LagHistory()
        let t0 = Date(timeIntervalSince1970: 2_000_000)
        for i in 0..<30_000 { h.observe([i == 12_345 ? 99 : 0.1], at: t0) }
        let p = h.points(now: t0)
        XCTAssertEqual(p.first?.count, 30_000)
        XCTAssertEqual(p.first?.max, 99)
        XCTAssertEqual(p.first?.p50, 0.1)
    }

    func testSparklineSlotsBlocksAndSVGSegments() {
        let pts = [LagHistory.Point(start: 100, p50: 1, p99: 2, max: 2, count: 1),
                   LagHistory.Point(start: 120, p50: 0, p99: 4, max: 4, count: 1)]
        let slots = Sparkline.slots(pts, now: 125, count: 4)
        XCTAssertEqual(slots.map { $0?.start }, [nil, 100, nil, 120])
        XCTAssertEqual(Sparkline.blocks(slots.map { $0?.p99 }), " ▅ █")
        XCTAssertEqual(Sparkline.blocks([0, nil, 0]), "▁ ▁")
        let segments = Sparkline.svgSegments([1, 2, nil, 4], maximum: 4, width: 30, height: 40)
        XCTAssertEqual(segments, ["0.0,30.0 10.0,20.0", "26.7,0.0 30.0,0.0"])
    }

    func testStatusPageIsSelfContainedAndShowsEverything() throws {
        var s = MetricsRenderingTests.snapshot()
        let now = s.now.timeIntervalSince1970
        s.lagHistory = (0..<6).map { LagHistory.Point(start: (now / 10).rounded(.down) * 10 - Double(5 - $0) * 10,
                                                      p50: 0.1, p99: 0.2 + Double($0) / 10, max: 0.9, count: 10) }
        s.slotWarning = true
        s.slot?.retainedBytes = 3 << 30
        s.resyncs = [ResyncLedger.Entry(request: ResyncRequest(tables: ["s.t\"x"], all: false), state: .copying, snapshotLSN: "0/1",
                                        rowsCopied: 50, estimatedRows: 200, message: nil, updated: s.now)]
        s.unreplicable = [UnreplicableTable(table: "s.nokey", reason: "it has no primary key", fix: "add one <or exclude it>")]
        let html = StatusPage.render(StatusReport(s))
        XCTAssertTrue(html.hasPrefix("<!doctype html>"))
        // Self-contained: no external scripts, styles, images or fonts.
        for external in ["src=", "<link", "@import", "url("] { XCTAssertFalse(html.contains(external), external) }
        XCTAssertTrue(html.contains("<svg id=\"lag-sparkline\""))
        XCTAssertEqual(html.components(separatedBy: "<polyline class=\"p99\" points=\"").count - 1, 1)
        XCTAssertEqual(html.components(separatedBy: "<polyline class=\"p50\" points=\"").count - 1, 1)
        XCTAssertTrue(html.contains("<tr data-table=\"s.t&quot;x\"><td>s.t&quot;x</td><td class=\"num\">15</td>"), html)
        XCTAssertTrue(html.contains("copying 50 of ~200 rows (25%)"), html)
        XCTAssertTrue(html.contains("<tr data-table=\"s.nokey\"><td>s.nokey</td><td>it has no primary key</td><td>add one &lt;or exclude it&gt;</td></tr>"), html)
        XCTAssertTrue(html.contains("3.0 GiB"))
        XCTAssertTrue(html.contains("above the warning level"))
        XCTAssertTrue(html.contains("id=\"wal-behind\" class=\"value\">100 B<"), html)
        XCTAssertTrue(html.contains(">streaming<"))
        XCTAssertTrue(html.contains("setInterval("))
        XCTAssertFalse(html.contains("ClickHouse lag"), "no sink, no card")
    }

    func testStatusPageShowsTheClickHouseSinkLag() throws {
        var s = MetricsRenderingTests.snapshot()
        var ch = ClickHouseStats.Reading()
        ch.lagSeconds = 75
        ch.backlogRows = 12_345
        ch.rowsShipped = 99
        ch.errors = 3
        ch.lastError = "Code: 516 <auth>"
        ch.serverVersion = "18.16.1"
        ch.destination = "127.0.0.1:8123/shop"
        ch.healthMaxLag = 60
        s.clickhouse = ch
        let html = StatusPage.render(StatusReport(s))
        XCTAssertTrue(html.contains("<div id=\"clickhouse-lag\" class=\"value bad-text\">75 s</div>"), html)
        XCTAssertTrue(html.contains("<span id=\"clickhouse-backlog\">12345</span> rows behind · 99 shipped · 3 errors · limit 60 s"), html)
        XCTAssertTrue(html.contains("127.0.0.1:8123/shop · ClickHouse 18.16.1"), html)
        XCTAssertTrue(html.contains("last error: Code: 516 &lt;auth&gt;"), html)
        ch.lagSeconds = 0.25
        ch.lastError = nil
        s.clickhouse = ch
        let healthy = StatusPage.render(StatusReport(s))
        XCTAssertTrue(healthy.contains("<div id=\"clickhouse-lag\" class=\"value \">250 ms</div>"), healthy)
        XCTAssertFalse(healthy.contains("clickhouse-error"))
    }

    func testStatusReportDecodesWithoutTheNewFields() throws {
        let s = MetricsRenderingTests.snapshot()
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: try StatusReport(s).json()) as? [String: Any])
        for key in ["lagHistory", "unixTime", "healthMaxLagSeconds", "resyncs"] { json.removeValue(forKey: key) }
        let old = try JSONDecoder().decode(StatusReport.self, from: try JSONSerialization.data(withJSONObject: json))
        XCTAssertNil(old.lagHistory)
        XCTAssertTrue(StatusPage.render(old).contains("no commits in the last 15 minutes"))
    }
}
