import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `freshet run` over TLS with `sslmode=verify-full`: a cluster of its own with `ssl = on` and a certificate signed by
/// a CA the test makes (openssl); both of Freshet's connections are encrypted, and a row replicates. A server whose
/// certificate another CA signed is refused.
final class TLSTests: XCTestCase {
    func testVerifyFullReplicatesOverTLSAndRefusesAnUnknownCA() throws {
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else { try TestEnvironment.unavailable("\(openssl) is missing") }
        let sandbox = try ExtraSandbox()
        defer { sandbox.destroy() }
        let dir = sandbox.directory
        func run(_ args: [String]) throws {
            let r = try Subprocess.run(openssl, args)
            guard r.status == 0 else { throw TestFailure("openssl \(args.first ?? ""): \(r.stderr)") }
        }
        // A CA, and a server certificate it signs for 127.0.0.1 (the host in the sandbox URL).
        try run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=freshet test CA",
                 "-keyout", dir + "/ca.key", "-out", dir + "/ca.crt"])
        try run(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                 "-keyout", dir + "/server.key", "-out", dir + "/server.csr"])
        try "subjectAltName = IP:127.0.0.1, DNS:localhost\n".write(toFile: dir + "/san.ext", atomically: true, encoding: .utf8)
        try run(["x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.crt", "-CAkey", dir + "/ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", dir + "/san.ext", "-out", dir + "/server.crt"])
        // Another CA that signed nothing here.
        try run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=some other CA",
                 "-keyout", dir + "/other.key", "-out", dir + "/other.crt"])
        chmod(dir + "/server.key", 0o600)
        if getuid() == 0 { _ = try Subprocess.run("/bin/chown", ["postgres", dir + "/server.key", dir + "/server.crt"]) }

        let sql = try Connection(sandbox.url)
        defer { sql.close() }
        try sql.execute("ALTER SYSTEM SET ssl_cert_file = \(SQLQuoting.literal(dir + "/server.crt"))")
        try sql.execute("ALTER SYSTEM SET ssl_key_file = \(SQLQuoting.literal(dir + "/server.key"))")
        try sql.execute("ALTER SYSTEM SET ssl = on")
        _ = try sql.execute("SELECT pg_reload_conf()")
        var ssl = ""
        for _ in 0..<50 {
            let probe = try Connection(sandbox.url)
            ssl = try probe.execute("SHOW ssl").scalar ?? ""
            probe.close()
            if ssl == "on" { break }
            usleep(100_000)
        }
        XCTAssertEqual(ssl, "on", (try? String(contentsOfFile: dir + "/server.log", encoding: .utf8)) ?? "")
        try sql.execute("CREATE TABLE public.secure (id int PRIMARY KEY, v text); INSERT INTO public.secure VALUES (1, 'before')")

        let store = NSTemporaryDirectory() + "freshet-tls-" + UUID().uuidString.prefix(8)
        defer { removeTemporaryFiles(store) }
        let separator = sandbox.url.contains("?") ? "&" : "?"
        // An unknown CA: refused before anything is created.
        let refused = try runFreshet(["run", "--store", store, "--schema", "public", "--metrics", "off"], environment: [
            "FRESHET_SOURCE": sandbox.url + separator + "sslmode=verify-full&sslrootcert=" + dir + "/other.crt"])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("certificate verify failed"), refused.stderr)

        // The source in FRESHET_SOURCE, as the README shows: no password on the command line.
        let process = try FreshetProcess(["run", "--store", store, "--schema", "public", "--metrics", "off",
                                          "--heartbeat-seconds", "0", "--max-age-ms", "100"], logPath: store + ".log",
                                         environment: ["FRESHET_SOURCE": sandbox.url + separator + "sslmode=verify-full&sslrootcert=" + dir + "/ca.crt"])
        defer { process.signal(SIGTERM); process.wait(timeout: 30) }
        try MetricsTests.waitFor("stream.started") { process.log.contains("stream.started") }
        try sql.execute("INSERT INTO public.secure VALUES (2, 'over TLS')")
        var rows = ""
        try MetricsTests.waitFor("the row in the store") {
            rows = try runFreshet(["scan", "public.secure", "--store", store, "--format", "csv"]).stdout
            return rows.contains("over TLS")
        }
        XCTAssertEqual(rows, "id,v\n1,before\n2,over TLS\n")
        // Every connection of Freshet to the source is encrypted (not this test's own, opened before `ssl = on`).
        let encrypted = try sql.query("""
            SELECT a.application_name, s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
            WHERE a.application_name LIKE 'freshet%' AND a.pid <> pg_backend_pid() ORDER BY 1
            """).rows.map { "\($0[0] ?? "")=\($0[1] ?? "")" }
        XCTAssertTrue(encrypted.contains("freshet=t"), "\(encrypted)")
        XCTAssertTrue(encrypted.allSatisfy { $0.hasSuffix("=t") }, "\(encrypted)")
        XCTAssertFalse(process.log.contains(try XCTUnwrap(ConnectionSettings(sandbox.url)["password"])))
    }
}
