import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// Tools/install into a temporary prefix: the binary, the systemd unit, the example config and the 0600 environment
/// file with the source; a second run keeps what the operator edited. The unit passes `systemd-analyze verify` where
/// that exists, and the installed binary reads the installed config.
final class InstallTests: XCTestCase {
    func testInstallIntoATemporaryPrefix() throws {
        let url = try TestEnvironment.postgresURL()
        let prefix = NSTemporaryDirectory() + "freshet-install-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("install").path
        // The test hands it the binary it runs: a build of its own would wait for ever on the lock that `swift test`
        // holds on .build. The source goes in FRESHET_SOURCE, never on a command line (`ps` shows those).
        let binary = TestEnvironment.product("freshet")
        let first = try Subprocess.run(tool, ["--prefix", prefix, "--no-user", "--binary", binary],
                                       environment: ["FRESHET_SOURCE": url])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertFalse((first.stdout + first.stderr).contains(try XCTUnwrap(ConnectionSettings(url)["password"])), "password printed")

        let fm = FileManager.default
        func mode(_ path: String) throws -> Int { (try fm.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1 }
        let bin = prefix + "/bin/freshet", etc = prefix + "/etc/freshet", unitPath = prefix + "/lib/systemd/system/freshet.service"
        XCTAssertTrue(fm.isExecutableFile(atPath: bin))
        XCTAssertEqual(try mode(etc + "/freshet.env"), 0o600)
        XCTAssertEqual(try mode(etc), 0o755, "the service user reads freshet.json")
        XCTAssertEqual(try mode(etc + "/freshet.json"), 0o644)
        XCTAssertEqual(try String(contentsOfFile: etc + "/freshet.env", encoding: .utf8).split(separator: "\n").last.map(String.init),
                       "FRESHET_SOURCE=\(url)")

        let unit = try String(contentsOfFile: unitPath, encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        for expected in ["Restart=on-failure", "EnvironmentFile=\(etc)/freshet.env", "ExecStart=\(bin) run --config \(etc)/freshet.json",
                         "KillSignal=SIGTERM", "StateDirectory=freshet", "User=freshet", "WantedBy=multi-user.target"] {
            XCTAssertTrue(lines.contains(expected), "unit lacks \(expected):\n\(unit)")
        }
        let stop = try XCTUnwrap(lines.first { $0.hasPrefix("TimeoutStopSec=") }.flatMap { Int($0.dropFirst("TimeoutStopSec=".count)) })
        XCTAssertGreaterThanOrEqual(stop, 120, "the final commit needs time")
        XCTAssertFalse(unit.contains("@"), "an unreplaced placeholder:\n\(unit)")
        if let analyze = try? TestEnvironment.executable("systemd-analyze") {
            let verify = try Subprocess.run(analyze, ["verify", unitPath])
            XCTAssertEqual(verify.status, 0, verify.stderr)
            XCTAssertFalse(verify.stderr.contains("freshet.service:"), verify.stderr)
        }

        // The example config matches the schema, and the installed binary reads it (check prints its JSON report).
        let schema = TestEnvironment.toolsDirectory.deletingLastPathComponent().appendingPathComponent("Schemas/config.schema.json").path
        _ = try Subprocess.python("""
            import json, sys, jsonschema
            jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))
            """, [etc + "/freshet.json", schema])
        let check = try Subprocess.run(bin, ["check", "--config", etc + "/freshet.json", "--store", prefix + "/store", "--json"],
                                       environment: ["FRESHET_SOURCE": url])
        let report = try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(report?["checks"], check.stdout + check.stderr)
        // The service runs as its own user: the config must be readable without root (the environment file is read
        // by systemd as root and stays 0600).
        if getuid() == 0, let runuser = try? TestEnvironment.executable("runuser") {
            let asNobody = try Subprocess.run(runuser, ["-u", "nobody", "--", "/usr/bin/env", "FRESHET_SOURCE=\(url)", bin, "check",
                                                        "--config", etc + "/freshet.json", "--store", prefix + "/store", "--json"])
            XCTAssertNotNil((try? JSONSerialization.jsonObject(with: Data(asNobody.stdout.utf8))) as? [String: Any],
                            asNobody.stdout + asNobody.stderr)
            let env = try Subprocess.run(runuser, ["-u", "nobody", "--", "/bin/cat", etc + "/freshet.env"])
            XCTAssertNotEqual(env.status, 0, "freshet.env is readable by another user")
        }

        // Again, without --source: the operator's config and environment file stay.
        try "{\"schemas\": [\"mine\"]}\n".write(toFile: etc + "/freshet.json", atomically: true, encoding: .utf8)
        let second = try Subprocess.run(tool, ["--prefix", prefix, "--no-user", "--binary", binary])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(try String(contentsOfFile: etc + "/freshet.json", encoding: .utf8), "{\"schemas\": [\"mine\"]}\n")
        XCTAssertTrue(try String(contentsOfFile: etc + "/freshet.env", encoding: .utf8).contains("FRESHET_SOURCE=\(url)"))
        XCTAssertEqual(try mode(etc + "/freshet.env"), 0o600)
        XCTAssertTrue(fm.fileExists(atPath: etc + "/freshet.json.example"))
    }
}
