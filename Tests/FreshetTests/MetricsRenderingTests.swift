import Foundation
@testable import Freshet
import TestSupport
import XCTest

/// The exposition renderer, the health rules and the HTTP server, without PostgreSQL.
final class MetricsRenderingTests: XCTestCase {
    func testLabelAndHelpEscaping() throws {
        let text = PrometheusText.render([
            MetricFamily("freshet_x_total", .counter, help: "back\\slash and\nnewline", samples: [
                MetricSample(labels: [MetricLabel("table", "a\"b\\c\nd"), MetricLabel("operation", "insert")], value: 3)])
        ])
        XCTAssertEqual(text, """
            # HELP freshet_x_total back\\\\slash and\\nnewline
            # TYPE freshet_x_total counter
            freshet_x_total{table="a\\"b\\\\c\\nd",operation="insert"} 3

            """)
        let parsed = try Exposition(text)
        XCTAssertEqual(parsed.value("freshet_x_total", ["table": "a\"b\\c\nd", "operation": "insert"]), 3)
    }

    func testHistogramBucketsAreCumulativeWithInfSumAndCount() throws {
        var h = HistogramCounts(bounds: [0.1, 1, 10])
        for v in [0.05, 0.1, 0.5, 2, 50] { h.observe(v) }
        XCTAssertEqual(h.counts, [2, 1, 1, 1])
        XCTAssertEqual(h.cumulative, [2, 3, 4, 5])
        let text = PrometheusText.render([.histogram("freshet_lag_seconds", help: "h", h)])
        XCTAssertTrue(text.contains("freshet_lag_seconds_bucket{le=\"0.1\"} 2\n"), text)
        XCTAssertTrue(text.contains("freshet_lag_seconds_bucket{le=\"1\"} 3\n"), text)
        XCTAssertTrue(text.contains("freshet_lag_seconds_bucket{le=\"10\"} 4\n"), text)
        XCTAssertTrue(text.contains("freshet_lag_seconds_bucket{le=\"+Inf\"} 5\n"), text)
        XCTAssertTrue(text.contains("freshet_lag_seconds_sum 52.65\n"), text)
        XCTAssertTrue(text.contains("freshet_lag_seconds_count 5\n"), text)
        let parsed = try Exposition(text)
        XCTAssertEqual(parsed.types["freshet_lag_seconds"], "histogram")
    }

    /// Every `freshet_` metric name written in Sources/ (the families `/metrics` can emit) is in README.md's list by
    /// its full name, so the documentation cannot fall behind the code.
    func testEveryMetricInSourcesIsDocumentedInTheREADME() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let documented = Set(readme.matches(of: /freshet_[a-z0-9_]*[a-z0-9]/).map { String($0.output) })
        var emitted = Set<String>()
        let sources = root.appendingPathComponent("Sources")
        let files = try XCTUnwrap(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: /"(freshet_[a-z0-9_]+)"/) { emitted.insert(String(match.output.1)) }
        }
        XCTAssertGreaterThan(emitted.count, 40, "metric names found in \(sources.path)")
        XCTAssertTrue(emitted.contains("freshet_unresolved_key_moves_total"))
        let missing = emitted.subtracting(documented).sorted()
        XCTAssertEqual(missing, [], "metrics emitted but not documented in README.md")
    }

    /// Every option `freshet run` accepts (`Run.options`) is in README.md as `--option`.
    func testEveryRunOptionIsDocumentedInTheREADME() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let run = try String(contentsOf: root.appendingPathComponent("Sources/freshet/Commands/Run.swift"), encoding: .utf8)
        let declaration = try XCTUnwrap(run.firstMatch(of: /static let options: Set<String> = \[([^\]]*)\]/)).output.1
        let options = declaration.matches(of: /"([a-z-]+)"/).map { String($0.output.1) }
        XCTAssertGreaterThan(options.count, 15)
        let missing = options.filter { !readme.contains("`--\($0)") && !readme.contains(" --\($0)") }
        XCTAssertEqual(missing, [], "freshet run options not documented in README.md")
    }

    func testNumbers() {
        XCTAssertEqual(PrometheusText.number(3), "3")
        XCTAssertEqual(PrometheusText.number(0.25), "0.25")
        XCTAssertEqual(PrometheusText.number(-1), "-1")
        XCTAssertEqual(PrometheusText.number(.infinity), "+Inf")
        XCTAssertEqual(PrometheusText.number(-.infinity), "-Inf")
        XCTAssertEqual(PrometheusText.number(.nan), "NaN")
        XCTAssertEqual(Double(PrometheusText.number(1e-7)), 1e-7)
        XCTAssertEqual(Double(PrometheusText.number(1.5e18)), 1.5e18)
    }

    func testTheParserRejectsInvalidExposition() {
        for bad in ["x 1", "# TYPE x gauge\nx 1\n", "# HELP x h\n# TYPE x gauge\nx{a=\"b} 1\n", "# HELP x h\n# TYPE x gauge\nx one\n",
                    "# HELP x h\n# TYPE x gauge\nx{a=\"\\q\"} 1\n", "# HELP 1x h\n"] {
            XCTAssertThrowsError(try Exposition(bad), bad)
        }
    }

    func testFamiliesOfAStreamingSnapshotAreValidAndHealthy() throws {
        var s = Self.snapshot()
        s.streamedCommitted = 3
        s.streamedAborted = 1
        s.streamOpen = 2
        s.streamSpoolBytes = 4096
        s.settlesHeld = true
        let parsed = try Exposition(PrometheusText.render(FreshetMetrics.families(s)))
        XCTAssertEqual(parsed.value("freshet_streaming"), 1)
        XCTAssertEqual(parsed.value("freshet_streamed_transactions_total", ["outcome": "committed"]), 3)
        XCTAssertEqual(parsed.value("freshet_streamed_transactions_total", ["outcome": "aborted"]), 1)
        XCTAssertEqual(parsed.value("freshet_stream_open_transactions"), 2)
        XCTAssertEqual(parsed.value("freshet_stream_spool_bytes"), 4096)
        XCTAssertEqual(parsed.value("freshet_settles_held"), 1)
        XCTAssertEqual(parsed.value("freshet_rows_applied_total", ["table": "s.t\"x", "operation": "insert"]), 5)
        XCTAssertEqual(parsed.value("freshet_wal_behind_bytes"), 100)
        XCTAssertEqual(parsed.value("freshet_slot_wal_status", ["status": "reserved"]), 1)
        XCTAssertEqual(parsed.value("freshet_snapshot_rows_expected", ["table": "s.t\"x"]), 12)
        XCTAssertEqual(HealthCheck.evaluate(s), HealthCheck.Verdict(healthy: true, reason: "ok"))
        let json = try JSONSerialization.jsonObject(with: StatusReport(s).json()) as? [String: Any]
        XCTAssertEqual(json?["committedLSN"] as? String, "0/3E8")
        let table = (json?["tables"] as? [[String: Any]])?.first
        XCTAssertEqual(table?["snapshotRows"] as? Int, 10)
        XCTAssertEqual(table?["snapshotExpectedRows"] as? Int, 12)
    }

    func testHealthReasons() {
        var s = Self.snapshot()
        s.state = .reconnecting
        s.stateReason = "connection lost: server closed the connection"
        XCTAssertEqual(HealthCheck.evaluate(s).reason, "not streaming: reconnecting: connection lost: server closed the connection")
        s = Self.snapshot()
        s.lastCommitLag = 45
        s.lastCommitLagAt = s.now
        XCTAssertEqual(HealthCheck.evaluate(s).reason, "lag 45.0s exceeds 30s")
        // Heartbeats newer than the last commit show the idle lag.
        s.heartbeatArrival = s.now.addingTimeInterval(1)
        XCTAssertTrue(HealthCheck.evaluate(s).healthy)
        s = Self.snapshot()
        s.heartbeatArrival = s.now.addingTimeInterval(-60)
        s.lastStoreCommit = s.now.addingTimeInterval(-60)
        s.stateSince = s.now.addingTimeInterval(-120)
        XCTAssertTrue(HealthCheck.evaluate(s).reason.hasPrefix("no heartbeat or commit for 60.0s"), HealthCheck.evaluate(s).reason)
    }

    func testRequestLineParsing() {
        XCTAssertEqual(HTTPRequest.parse(head: "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"),
                       HTTPRequest(method: "GET", path: "/metrics", query: "x=1"))
        XCTAssertEqual(HTTPRequest.parse(head: "GET /healthz HTTP/1.0\n\n"), HTTPRequest(method: "GET", path: "/healthz"))
        XCTAssertNil(HTTPRequest.parse(head: "GET metrics HTTP/1.1\r\n\r\n"))
        XCTAssertNil(HTTPRequest.parse(head: "garbage\r\n\r\n"))
    }

    func testServerAnswersGetOnlyCapsRequestsAndPicksAFreePort() throws {
        let server = HTTPServer()
        try server.start(address: "127.0.0.1:0") { r in r.path == "/hi" ? .text(200, "hello") : .text(404, "nope") }
        defer { server.stop() }
        XCTAssertGreaterThan(server.port, 0)
        XCTAssertEqual(server.boundAddress, "127.0.0.1:\(server.port)")
        let ok = try HTTPClient.get("http://\(server.boundAddress)/hi")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(String(decoding: ok.body, as: UTF8.self), "hello\n")
        XCTAssertEqual(try HTTPClient.get("http://\(server.boundAddress)/other").status, 404)
        XCTAssertEqual(try Self.rawRequest(port: server.port, "POST /hi HTTP/1.1\r\nContent-Length: 0\r\n\r\n").prefix(12), "HTTP/1.1 405")
        XCTAssertEqual(try Self.rawRequest(port: server.port, "GET /hi HTTP/1.1\r\nX: " + String(repeating: "a", count: 40_000)).prefix(12),
                       "HTTP/1.1 431")
        XCTAssertEqual(try Self.rawRequest(port: server.port, "nonsense\r\n\r\n").prefix(12), "HTTP/1.1 400")
        // A second server cannot take the same port: a clear error.
        XCTAssertThrowsError(try HTTPServer().start(address: server.boundAddress) { _ in .text(200, "") }) { error in
            XCTAssertTrue("\(error)".contains("cannot listen"), "\(error)")
        }
        XCTAssertThrowsError(try HTTPServer.parseAddress("9187"))
        XCTAssertEqual(try HTTPServer.parseAddress("[::1]:80").host, "::1")
    }

    func testOpsConfigFieldsParseAndMatchTheSchema() throws {
        let json = #"{"source": "postgresql://h/db", "metrics": {"listen": "127.0.0.1:0", "healthMaxLagSeconds": 12}, "slotWarnBytes": 1000}"#
        let c = try Config.parse(json: Data(json.utf8), environment: [:])
        XCTAssertEqual(c.metricsAddress, "127.0.0.1:0")
        XCTAssertEqual(c.healthMaxLagSeconds, 12)
        XCTAssertEqual(c.slotWarnBytes, 1000)
        let d = try Config.parse(json: Data(#"{"source": "x"}"#.utf8), environment: [:])
        XCTAssertEqual(d.metricsAddress, "127.0.0.1:9187")
        XCTAssertEqual(d.healthMaxLagSeconds, 30)
        XCTAssertEqual(d.slotWarnBytes, 1 << 30)
        XCTAssertThrowsError(try Config.parse(json: Data(#"{"source": "x", "metrics": {"healthMaxLagSeconds": 0}}"#.utf8), environment: [:]))
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schemas/config.schema.json").path
        let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.validate(json.loads(sys.argv[2]), schema)
        for bad in [{"source": "x", "slotWarnBytes": 0}, {"source": "x", "metrics": {"healthMaxLagSeconds": 0}}, {"source": "x", "metrics": {"lag": 1}}]:
            try:
                jsonschema.validate(bad, schema); print("accepted", bad); sys.exit(1)
            except jsonschema.ValidationError:
                pass
        print("ok")
        """
        XCTAssertEqual(try Subprocess.python(script, [schema, json]).trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }

    func testStatusCommandSaysClearlyWhenNothingListens() throws {
        let server = HTTPServer()
        try server.start(address: "127.0.0.1:0") { _ in .text(200, "") }
        let port = server.port
        server.stop()   // the port is now free: nothing listens there
        let r = try runFreshet(["status", "--url", "http://127.0.0.1:\(port)"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot reach a replicator at http://127.0.0.1:\(port)/status"), r.stderr)
    }

    // MARK: helpers

    static func snapshot() -> OperationsSnapshot {
        let now = Date()
        var h = HistogramCounts(bounds: ReplicatorStats.lagBuckets)
        h.observe(0.2)
        return OperationsSnapshot(
            now: now, slotName: "freshet", publication: "freshet", state: .streaming, stateReason: "", stateSince: now.addingTimeInterval(-10),
            tables: [.init(name: "s.t\"x", applied: ["insert": 5, "snapshot": 10], parts: 2, storedRows: 15, bytes: 1000, bytesCommitted: 1200, pendingMerges: 0,
                           lastCommit: now, snapshotExpectedRows: 12)],
            transactions: 5, commits: 1, storeCommits: 3, rowsCommitted: 5, spills: 0, reconnects: 0, errors: [:], lagHistogram: h,
            storeCommitHistogram: HistogramCounts(bounds: ReplicatorStats.storeCommitBuckets),
            lastCommitLag: 0.2, lastCommitLagAt: now.addingTimeInterval(-1), heartbeats: 3, heartbeatLag: 0.01,
            heartbeatArrival: now.addingTimeInterval(-0.5), heartbeatInterval: 5, committedLSN: 1000, serverWALEnd: 1100,
            lastCommit: now, lastStoreCommit: now.addingTimeInterval(-1),
            slot: SlotInfo(name: "freshet", plugin: "pgoutput", database: "db", active: true, confirmedFlush: .zero,
                           walStatus: "reserved", retainedBytes: 4096),
            slotCheckedAt: now, slotWarning: false, slotWarnBytes: 1 << 30, healthMaxLag: 30)
    }

    /// Sends raw bytes and returns the raw response (for what the client cannot send).
    static func rawRequest(port: UInt16, _ text: String) throws -> String {
        let r = try Subprocess.run("/usr/bin/python3", ["-c", """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            try:
                s.sendall(sys.argv[2].encode())
            except OSError:
                pass
            data = b""
            while True:
                try:
                    b = s.recv(4096)
                except OSError:
                    break
                if not b: break
                data += b
            sys.stdout.write(data.decode())
            """, String(port), text])
        return r.stdout
    }
}
