import Foundation
@testable import Freshet
import TestSupport
import XCTest

/// The status page at `/` in a real browser: Debian's `chromium`, headless, loads the page of a `freshet run` while a
/// workload runs (shipping to the sandbox ClickHouse as well), dumps the DOM it rendered and takes a screenshot. `FRESHET_SCREENSHOT=PATH` keeps the screenshot
/// (that is how docs/status-page.png is made).
final class StatusPageBrowserTests: XCTestCase {
    func testChromiumRendersTheStatusPageUnderLoad() throws {
        let chromium = try TestEnvironment.executable("chromium")
        let scenario = try EndToEndTests.Scenario(rows: 2000)
        defer { scenario.cleanup() }
        // With the ClickHouse sink shipping to the sandbox server: the page shows its lag too.
        let clickhouse = try TestEnvironment.clickhouseURL() + "?database=" + scenario.pg.prefix + "_page"
        let process = try scenario.start(["--metrics", "127.0.0.1:0", "--clickhouse", clickhouse])
        defer { process.signal(SIGKILL) }
        let base = try MetricsTests.endpoint(process)
        try MetricsTests.waitFor("streaming") { process.log.contains("stream.started") }
        let workload = EndToEndTests.Workload(url: scenario.url, schema: scenario.schema)
        workload.start(seed: 21)
        defer { workload.stop() }
        // Commits in at least three 10-second intervals: the sparkline has lines, not only dots.
        try MetricsTests.waitFor("three lag intervals", timeout: 90) {
            let (_, body) = try HTTPClient.get(base + "/status")
            return try JSONDecoder().decode(StatusReport.self, from: body).lagHistory?.count ?? 0 >= 3
        }

        // `freshet status` draws the same history with Unicode blocks: 90 columns of 10 s.
        let human = try runFreshet(["status", "--url", base])
        XCTAssertEqual(human.status, 0, human.stderr)
        let spark = try XCTUnwrap(human.stdout.split(separator: "\n").first { $0.hasPrefix("lag p99 |") }, human.stdout)
        let bar = spark.dropFirst("lag p99 |".count).prefix { $0 != "|" }
        XCTAssertEqual(bar.count, 90, String(spark))
        XCTAssertGreaterThanOrEqual(bar.filter { "▁▂▃▄▅▆▇█".contains($0) }.count, 3, String(spark))

        let profile = NSTemporaryDirectory() + "freshet-chromium-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let common = ["60", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                      "--user-data-dir=\(profile)", "--window-size=1000,1000"]
        let dump = try Subprocess.run("/usr/bin/timeout", common + ["--dump-dom", base + "/"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let dom = dump.stdout
        XCTAssertTrue(dom.contains("<svg id=\"lag-sparkline\""), dom)
        var coordinates = 0
        for cls in ["p99", "p50"] {
            let lines = Self.attributeValues(dom, element: "polyline class=\"\(cls)\"", attribute: "points")
            XCTAssertFalse(lines.isEmpty, "no \(cls) polyline in\n\(dom)")
            for points in lines {
                let pairs = points.split(separator: " ")
                XCTAssertGreaterThanOrEqual(pairs.count, 2)
                for pair in pairs {
                    let xy = pair.split(separator: ",").compactMap { Double($0) }
                    XCTAssertEqual(xy.count, 2, String(pair))
                    XCTAssertTrue(xy.allSatisfy { $0 >= 0 && $0 <= StatusPage.plotWidth }, String(pair))
                }
                coordinates += pairs.count
            }
        }
        XCTAssertGreaterThanOrEqual(coordinates, 6)
        for table in scenario.tables {
            XCTAssertTrue(dom.contains("<tr data-table=\"\(table)\"><td>\(table)</td>"), "no row for \(table)")
        }
        XCTAssertTrue(dom.contains("id=\"state\" class=\"badge ok\">streaming<"), dom)
        XCTAssertTrue(dom.contains("id=\"wal-behind\""))
        XCTAssertTrue(dom.contains("id=\"slot-retained\""))
        XCTAssertTrue(dom.contains("id=\"clickhouse-lag\""), dom)
        XCTAssertTrue(dom.contains("ClickHouse 18.") || dom.contains("ClickHouse 2"), "no server version on the ClickHouse card")

        let png = profile + "/status.png"
        let shot = try Subprocess.run("/usr/bin/timeout", common + ["--screenshot=\(png)", base + "/"])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertEqual(Array(image.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertGreaterThan(image.count, 20_000, "a blank page compresses to a few KiB")
        if let keep = ProcessInfo.processInfo.environment["FRESHET_SCREENSHOT"], !keep.isEmpty {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: png, toPath: keep)
        }
    }

    /// The inline script reloads the page's content: chromium runs 12 s of virtual time against a server whose page
    /// changes with every request, and the DOM it ends with is a later rendering than the first.
    func testThePageRefreshesItself() throws {
        let chromium = try TestEnvironment.executable("chromium")
        let renders = RenderCounter()
        let server = HTTPServer()
        try server.start(address: "127.0.0.1:0") { request in
            guard request.path == "/" else { return .text(404, "not found") }
            var s = MetricsRenderingTests.snapshot()
            s.stateReason = "rendering \(renders.next())"
            return HTTPResponse(status: 200, contentType: StatusPage.contentType, body: Data(StatusPage.render(StatusReport(s)).utf8))
        }
        defer { server.stop() }
        let profile = NSTemporaryDirectory() + "freshet-chromium-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let dump = try Subprocess.run("/usr/bin/timeout", ["60", chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                                           "--user-data-dir=\(profile)", "--virtual-time-budget=12000",
                                                           "--dump-dom", "http://\(server.boundAddress)/"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        XCTAssertGreaterThanOrEqual(renders.count, 3, "the page was not fetched again")
        XCTAssertFalse(dump.stdout.contains("rendering 1<"), "still the first rendering")
        XCTAssertTrue(dump.stdout.contains("<main id=\"page\">"), dump.stdout)
        XCTAssertEqual(dump.stdout.components(separatedBy: "<main id=\"page\">").count, 2, "the content was nested, not replaced")
    }

    /// The values of `attribute` on every `<element …>` start tag in `html`.
    static func attributeValues(_ html: String, element: String, attribute: String) -> [String] {
        var result: [String] = []
        var rest = html[...]
        while let start = rest.range(of: "<" + element) {
            let tagEnd = rest[start.upperBound...].firstIndex(of: ">") ?? rest.endIndex
            let tag = rest[start.upperBound..<tagEnd]
            if let a = tag.range(of: " \(attribute)=\""), let close = tag[a.upperBound...].firstIndex(of: "\"") {
                result.append(String(tag[a.upperBound..<close]))
            }
            rest = rest[tagEnd...]
        }
        return result
    }
}

/// Counts requests across the server's threads.
private final class RenderCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
    var count: Int { lock.lock(); defer { lock.unlock() }; return n }
}
