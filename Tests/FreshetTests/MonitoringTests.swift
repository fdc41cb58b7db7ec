import Foundation
import TestSupport
import XCTest

/// Tools/monitoring: the alert rules pass `promtool check rules` and their unit tests, and a real Prometheus on
/// loopback scrapes a running `freshet run`, loads the rules, and answers `freshet_lag_seconds` and every query of the
/// Grafana dashboard through its HTTP API.
final class MonitoringTests: XCTestCase {
    static var monitoring: URL { TestEnvironment.toolsDirectory.appendingPathComponent("monitoring") }

    func testRulesPassPromtoolCheckAndTheirUnitTests() throws {
        let promtool = try TestEnvironment.executable("promtool")
        let rules = Self.monitoring.appendingPathComponent("freshet.rules.yml").path
        let check = try Subprocess.run(promtool, ["check", "rules", rules])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        let count = try Self.alertCount()
        XCTAssertGreaterThanOrEqual(count, 7)
        XCTAssertTrue((check.stdout + check.stderr).contains("SUCCESS: \(count) rules found"), check.stdout + check.stderr)
        // `promtool test rules` resolves rule_files relative to the test file.
        let test = try Subprocess.run(promtool, ["test", "rules", Self.monitoring.appendingPathComponent("freshet.rules.test.yml").path])
        XCTAssertEqual(test.status, 0, test.stdout + test.stderr)
    }

    /// The alerts in Tools/monitoring/freshet.rules.yml (its `- alert:` lines).
    static func alertCount() throws -> Int {
        let text = try String(contentsOf: monitoring.appendingPathComponent("freshet.rules.yml"), encoding: .utf8)
        return text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("- alert:") }.count
    }

    func testGrafanaDashboardIsValidJSONOverFreshetMetrics() throws {
        let dashboard = try Self.dashboardQueries()
        XCTAssertGreaterThanOrEqual(dashboard.count, 15)
        for q in dashboard { XCTAssertTrue(q.contains("freshet_"), q) }
    }

    func testPrometheusScrapesARunningFreshet() throws {
        let prometheusBinary = try TestEnvironment.executable("prometheus")
        let scenario = try EndToEndTests.Scenario(rows: 500)
        defer { scenario.cleanup() }
        let freshet = try scenario.start(["--metrics", "127.0.0.1:0"])
        defer { freshet.signal(SIGKILL) }
        let target = try MetricsTests.endpoint(freshet).dropFirst("http://".count)
        try MetricsTests.waitFor("streaming") { freshet.log.contains("stream.started") }

        let dir = NSTemporaryDirectory() + "freshet-prometheus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try Self.freePort()
        try """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - \(Self.monitoring.appendingPathComponent("freshet.rules.yml").path)
            scrape_configs:
              - job_name: freshet
                static_configs:
                  - targets: ["\(target)"]
            """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: prometheusBinary)
        prometheus.arguments = ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                "--web.listen-address=127.0.0.1:\(port)"]
        FileManager.default.createFile(atPath: dir + "/prometheus.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/prometheus.log"))
        prometheus.standardOutput = log
        prometheus.standardError = log
        try prometheus.run()
        defer { prometheus.terminate(); prometheus.waitUntilExit() }
        let api = "http://127.0.0.1:\(port)"
        var prometheusLog: String { (try? String(contentsOfFile: dir + "/prometheus.log", encoding: .utf8)) ?? "" }

        try MetricsTests.waitFor("Prometheus ready", timeout: 60) { try MetricsTests.curl(api + "/-/ready").status == 200 }
        // freshet_lag_seconds, scraped from freshet, through the query API.
        var lag: [[String: Any]] = []
        try MetricsTests.waitFor("freshet_lag_seconds in Prometheus", timeout: 60) {
            lag = try Self.query(api, "freshet_lag_seconds")
            return !lag.isEmpty
        }
        XCTAssertEqual(lag.count, 1, "\(lag)\n\(prometheusLog)")
        let labels = try XCTUnwrap(lag.first?["metric"] as? [String: String])
        XCTAssertEqual(labels["job"], "freshet")
        XCTAssertEqual(labels["instance"], String(target))
        let value = try XCTUnwrap((lag.first?["value"] as? [Any])?.last as? String)
        let seconds = try XCTUnwrap(Double(value))
        XCTAssertTrue(seconds >= 0 && seconds < 60, value)
        XCTAssertEqual(try Self.query(api, "freshet_streaming == 1").count, 1)
        XCTAssertEqual(try Self.query(api, "up{job=\"freshet\"} == 1").count, 1)

        // The rules loaded and evaluate without errors; nothing fires on a healthy replicator.
        let expectedRules = try Self.alertCount()
        try MetricsTests.waitFor("rules evaluated", timeout: 30) {
            let groups = try Self.api(api, "/api/v1/rules")["groups"] as? [[String: Any]] ?? []
            let rules = groups.flatMap { $0["rules"] as? [[String: Any]] ?? [] }
            return rules.count == expectedRules && rules.allSatisfy { $0["health"] as? String == "ok" && $0["lastEvaluation"] as? String != "0001-01-01T00:00:00Z" }
        }
        let firing = (try Self.api(api, "/api/v1/alerts")["alerts"] as? [[String: Any]] ?? []).filter { $0["state"] as? String == "firing" }
        XCTAssertEqual(firing.count, 0, "\(firing)")

        // Every metric the rules and the dashboard name exists, and every dashboard query runs.
        let known = Set(try Self.apiArray(api, "/api/v1/label/__name__/values"))
        let rulesText = try String(contentsOf: Self.monitoring.appendingPathComponent("freshet.rules.yml"), encoding: .utf8)
        let dashboard = try Self.dashboardQueries()
        let named = Self.metricNames(in: ([rulesText] + dashboard).joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(named.count, 15, "\(named)")
        for name in named {
            XCTAssertTrue(known.contains(name), "\(name) is not exported by freshet (known: \(known.sorted()))")
        }
        for q in dashboard {
            let concrete = q.replacingOccurrences(of: "$job", with: "freshet").replacingOccurrences(of: "$instance", with: ".*")
                .replacingOccurrences(of: "$__rate_interval", with: "30s")
            XCTAssertNoThrow(try Self.query(api, concrete), q)
        }
    }

    /// Every `expr` of the Grafana dashboard's panels and the queries of its variables.
    static func dashboardQueries() throws -> [String] {
        let data = try Data(contentsOf: monitoring.appendingPathComponent("freshet.grafana.json"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(json["title"] as? String, "Freshet")
        let panels = try XCTUnwrap(json["panels"] as? [[String: Any]])
        var ids = Set<Int>()
        var queries: [String] = []
        for p in panels {
            let id = try XCTUnwrap(p["id"] as? Int)
            XCTAssertTrue(ids.insert(id).inserted, "duplicate panel id \(id)")
            for t in try XCTUnwrap(p["targets"] as? [[String: Any]]) { queries.append(try XCTUnwrap(t["expr"] as? String)) }
        }
        return queries
    }

    /// The `freshet_*` metric names in `text` (histogram series names included).
    static func metricNames(in text: String) -> Set<String> {
        var names = Set<String>()
        var rest = text[...]
        while let r = rest.range(of: "freshet_") {
            let name = rest[r.lowerBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.hasSuffix("_") { names.insert(String(name)) }
            rest = rest[r.upperBound...]
        }
        return names
    }

    /// An instant query; returns `data.result`. Throws unless Prometheus answers `status: success`.
    static func query(_ api: String, _ promql: String) throws -> [[String: Any]] {
        let data = try self.api(api, "/api/v1/query?query=" + (promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        return data["result"] as? [[String: Any]] ?? []
    }

    /// GETs an API path; returns `data` as an object. Throws unless `status` is `success`.
    static func api(_ api: String, _ path: String) throws -> [String: Any] {
        let json = try apiJSON(api, path)
        return json["data"] as? [String: Any] ?? [:]
    }

    static func apiArray(_ api: String, _ path: String) throws -> [String] {
        try apiJSON(api, path)["data"] as? [String] ?? []
    }

    private static func apiJSON(_ api: String, _ path: String) throws -> [String: Any] {
        let (status, body) = try MetricsTests.curl(api + path)
        guard status == 200, let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              json["status"] as? String == "success" else {
            throw PrometheusAPIError(description: "\(path) answered \(status): \(body.prefix(500))")
        }
        return json
    }

    struct PrometheusAPIError: Error, CustomStringConvertible { let description: String }

    /// A TCP port free on 127.0.0.1 right now (the kernel picks it).
    static func freePort() throws -> Int {
        let r = try Subprocess.run("/usr/bin/python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try XCTUnwrap(Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}
