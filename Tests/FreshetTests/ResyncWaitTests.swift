import Foundation
import Freshet
import TestSupport
import XCTest

/// `freshet resync --wait --status-url`: follows the request on the replicator's `/status`, without the store
/// (as from another host), and the status page shows it.
final class ResyncWaitTests: XCTestCase {
    func testResyncWaitFollowsTheStatusEndpointWithoutTheStore() throws {
        let scenario = try EndToEndTests.Scenario(rows: 1000)
        defer { scenario.cleanup() }
        let process = try scenario.start(["--metrics", "127.0.0.1:0"])
        defer { process.signal(SIGKILL) }
        let base = try MetricsTests.endpoint(process)
        try MetricsTests.waitFor("streaming") { process.log.contains("stream.started") }

        let table = "\(scenario.schema).items"
        // No store: neither --store nor FRESHET_STORE.
        let resync = try runFreshet(["resync", table, "--source", scenario.url, "--wait", "--status-url", base],
                                    environment: ["FRESHET_STORE": ""])
        XCTAssertEqual(resync.status, 0, resync.stdout + resync.stderr + process.log)
        XCTAssertTrue(resync.stdout.contains("done: switched \(table)"), resync.stdout)
        let id = try XCTUnwrap(resync.stdout.components(separatedBy: "resync requested: id ").last?.prefix { $0 != " " })

        let (_, body) = try HTTPClient.get(base + "/status")
        let report = try JSONDecoder().decode(StatusReport.self, from: body)
        let entry = try XCTUnwrap(report.resyncs?.first { $0.id == String(id) })
        XCTAssertEqual(entry.state, "done")
        XCTAssertEqual(entry.tables, [table])
        let (_, page) = try HTTPClient.get(base + "/")
        XCTAssertTrue(String(decoding: page, as: UTF8.self).contains("title=\"\(id)\">\(id.prefix(8))</td>"))

        // --status-url and --store together are a usage error.
        let both = try runFreshet(["resync", table, "--source", scenario.url, "--wait", "--status-url", base, "--store", scenario.store])
        XCTAssertEqual(both.status, 2, both.stderr)
        try scenario.waitCaughtUp()
        try scenario.compare()
    }
}
