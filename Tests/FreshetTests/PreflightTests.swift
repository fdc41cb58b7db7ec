import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// `freshet check` against the sandbox PostgreSQL: each prerequisite's verdict, the exit status, the JSON, and that
/// the check creates nothing (no slot, no publication, no store directory).
final class PreflightTests: XCTestCase {
    struct Report: Decodable {
        struct Check: Decodable { var name: String; var verdict: String; var detail: String; var fix: String? }
        var verdict: String
        var checks: [Check]
        func check(_ name: String) -> Check? { checks.first { $0.name == name } }
    }

    func check(_ args: [String]) throws -> (status: Int32, report: Report, text: String) {
        let json = try runFreshet(["check"] + args + ["--json"])
        let text = try runFreshet(["check"] + args)
        XCTAssertEqual(json.status, text.status, text.stderr)
        let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
        return (json.status, report, text.stdout)
    }

    /// Slots, publications and roles that exist: the check must leave them as they were.
    static func sourceObjects(_ sql: Connection) throws -> [String] {
        try sql.execute("""
            SELECT 'slot ' || slot_name FROM pg_replication_slots UNION ALL SELECT 'publication ' || pubname FROM pg_publication
            ORDER BY 1
            """).rows.compactMap { $0[0] }
    }

    func testProblemsAreReportedWithFixesAndNothingIsCreated() throws {
        let pg = try PostgresFixture()
        let schema = pg.name("pre"), role = pg.name("role"), password = "pw-" + pg.prefix
        let s = SQLQuoting.identifier(schema), r = SQLQuoting.identifier(role)
        try pg.sql.execute("""
            CREATE SCHEMA \(s);
            CREATE TABLE \(s).good (id int PRIMARY KEY, v text);
            CREATE TABLE \(s).nokey (a int, b text);
            CREATE TABLE \(s).nothing (id int PRIMARY KEY); ALTER TABLE \(s).nothing REPLICA IDENTITY NOTHING;
            CREATE TABLE \(s).parted (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
            CREATE TABLE \(s).parted_2024 PARTITION OF \(s).parted FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
            CREATE TABLE \(s).parted_2025 PARTITION OF \(s).parted FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE \(s)."a/b" (id int PRIMARY KEY);
            CREATE TABLE \(s)."dot.ted" (id int PRIMARY KEY);
            CREATE TABLE \(s).reserved (id int PRIMARY KEY, _version bigint);
            INSERT INTO \(s).good SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g;
            CREATE ROLE \(r) LOGIN PASSWORD '\(password)';
            GRANT USAGE ON SCHEMA \(s) TO \(r);
            GRANT SELECT ON \(s).good TO \(r);
            """)
        defer {
            _ = try? pg.sql.execute("DROP SCHEMA \(s) CASCADE; DROP OWNED BY \(r); DROP ROLE \(r)")
        }
        let before = try Self.sourceObjects(pg.sql)
        let store = NSTemporaryDirectory() + "freshet-check-" + pg.prefix + "/store"
        let slot = pg.name("slot"), publication = pg.name("pub")

        // As the sandbox superuser: the table problems.
        let admin = try check(["--source", pg.url, "--store", store, "--schema", schema, "--slot", slot, "--publication", publication])
        XCTAssertEqual(admin.status, 1, admin.text)
        XCTAssertEqual(admin.report.verdict, "warn")
        XCTAssertEqual(admin.report.check("wal_level")?.verdict, "pass")
        XCTAssertEqual(admin.report.check("postgresql_version")?.verdict, "pass")
        XCTAssertEqual(admin.report.check("replication_role")?.verdict, "pass")
        XCTAssertEqual(admin.report.check("replication_slots")?.verdict, "pass")
        XCTAssertEqual(admin.report.check("wal_senders")?.verdict, "pass")
        XCTAssertEqual(admin.report.check("tls")?.verdict, "pass")
        XCTAssertEqual(admin.report.check("max_slot_wal_keep_size")?.verdict, "warn")
        // Tables found in a schema that cannot be replicated (no key, a reserved column, REPLICA IDENTITY NOTHING) are
        // left out and reported: a warning.
        let keys = try XCTUnwrap(admin.report.check("keys"))
        XCTAssertEqual(keys.verdict, "warn", admin.text)
        XCTAssertTrue(keys.detail.contains("\(schema).nokey (it has no primary key"), keys.detail)
        XCTAssertTrue(keys.detail.contains("\(schema).reserved (column \"_version\" is reserved"), keys.detail)
        XCTAssertFalse(keys.detail.contains("\(schema).good"), keys.detail)
        XCTAssertTrue(keys.detail.contains("\(schema).nothing (its REPLICA IDENTITY is NOTHING"), keys.detail)
        XCTAssertEqual(admin.report.check("partitioned_tables")?.verdict, "pass")
        XCTAssertTrue(admin.report.check("partitioned_tables")?.detail.contains("\(schema).parted (2 partitions)") == true)
        XCTAssertEqual(admin.report.check("names")?.verdict, "warn")
        XCTAssertEqual(admin.report.check("select_rights")?.verdict, "pass")
        XCTAssertEqual(admin.report.check("disk")?.verdict, "pass")
        XCTAssertTrue(admin.report.check("disk")?.detail.contains("the store needs about") == true)
        for c in admin.report.checks where c.verdict == "fail" || c.verdict == "warn" {
            XCTAssertFalse(c.fix?.isEmpty ?? true, "\(c.name) has no fix")
        }
        // The text form: one line per check, the verdict first.
        let lines = admin.text.split(separator: "\n")
        XCTAssertEqual(lines.count, admin.report.checks.count + 1)
        XCTAssertTrue(lines.contains { $0.hasPrefix("WARN  keys") && $0.contains("fix: ") }, admin.text)
        XCTAssertEqual(lines.last, "result: warn")
        XCTAssertFalse(admin.text.contains(try XCTUnwrap(ConnectionSettings(pg.url)["password"])), "password printed")

        // Names the store escapes: a warning that says how to write them.
        let escaped = try check(["--source", pg.url, "--store", store, "--table", "\(schema).a/b", "--table", "\(schema).\"dot.ted\"",
                                 "--slot", slot, "--publication", publication])
        XCTAssertEqual(escaped.report.check("tables")?.detail.hasPrefix("2 in scope"), true, escaped.text)
        XCTAssertEqual(escaped.report.check("names")?.verdict, "warn", escaped.text)
        XCTAssertTrue(escaped.report.check("names")?.detail.contains("\(schema).a/b (directory \(schema).a%2Fb)") == true, escaped.text)
        XCTAssertTrue(escaped.report.check("names")?.detail.contains("\(schema).\"dot.ted\"") == true, escaped.text)

        // As a plain role: no REPLICATION, no SELECT on most tables, and no right to create the publication.
        let settings = try ConnectionSettings(pg.url)
        let plainURL = "host=\(settings["host"] ?? "127.0.0.1") port=\(settings["port"] ?? "5432") dbname=\(settings["dbname"] ?? "") "
            + "user=\(role) password=\(password)"
        let plain = try check(["--source", plainURL, "--store", store, "--table", "\(schema).good", "--table", "\(schema).nokey",
                               "--slot", slot, "--publication", publication])
        XCTAssertEqual(plain.status, 2, plain.text)
        XCTAssertEqual(plain.report.check("replication_role")?.verdict, "fail")
        XCTAssertEqual(plain.report.check("keys")?.verdict, "fail", "a table named with --table that cannot be replicated stops the run")
        XCTAssertTrue(plain.report.check("replication_role")?.fix?.contains("ALTER ROLE \(r) REPLICATION") == true, plain.text)
        XCTAssertEqual(plain.report.check("select_rights")?.verdict, "fail")
        XCTAssertTrue(plain.report.check("select_rights")?.detail.contains("\(schema).nokey") == true, plain.text)
        XCTAssertFalse(plain.report.check("select_rights")?.detail.contains("\(schema).good") == true, plain.text)
        XCTAssertEqual(plain.report.check("publication")?.verdict, "fail", plain.text)
        XCTAssertFalse(plain.text.contains(password), "password printed")

        // A source that cannot be reached: one failing line, exit 2.
        let down = try check(["--source", "postgresql://nobody:secret@127.0.0.1:1/x", "--store", store])
        XCTAssertEqual(down.status, 2)
        XCTAssertEqual(down.report.checks.map(\.name), ["connection"])
        XCTAssertFalse(down.text.contains("secret"))

        // Nothing was created: no slot, no publication, no store directory.
        XCTAssertEqual(try Self.sourceObjects(pg.sql), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store))
        XCTAssertFalse(FileManager.default.fileExists(atPath: (store as NSString).deletingLastPathComponent))
    }

    func testAReadySourcePassesWithExitZeroOrWarnsWithExitOne() throws {
        let pg = try PostgresFixture()
        let schema = pg.name("ready")
        let s = SQLQuoting.identifier(schema)
        try pg.sql.execute("CREATE SCHEMA \(s); CREATE TABLE \(s).t (id int PRIMARY KEY, v text); INSERT INTO \(s).t VALUES (1, 'a')")
        defer { _ = try? pg.sql.execute("DROP SCHEMA \(s) CASCADE") }
        let args = ["--source", pg.url, "--store", NSTemporaryDirectory() + "freshet-check-" + pg.prefix,
                    "--schema", schema, "--slot", pg.name("slot"), "--publication", pg.name("pub")]
        // The sandbox keeps unlimited WAL for slots: a warning, exit 1.
        let warned = try check(args)
        XCTAssertEqual(warned.status, 1, warned.text)
        XCTAssertEqual(warned.report.checks.filter { $0.verdict == "warn" }.map(\.name), ["max_slot_wal_keep_size"], warned.text)
        // Bounded: every check passes, exit 0.
        try pg.sql.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '10GB'")
        try pg.sql.execute("SELECT pg_reload_conf()")
        defer {
            _ = try? pg.sql.execute("ALTER SYSTEM RESET max_slot_wal_keep_size")
            _ = try? pg.sql.execute("SELECT pg_reload_conf()")
        }
        var passed = try check(args)
        for _ in 0..<20 where passed.status != 0 { usleep(100_000); passed = try check(args) }   // the reload is asynchronous
        XCTAssertEqual(passed.status, 0, passed.text)
        XCTAssertEqual(passed.report.verdict, "pass")
        XCTAssertEqual(passed.report.check("max_slot_wal_keep_size")?.detail, "10240 MB")
        XCTAssertTrue(passed.text.hasSuffix("result: pass\n"))
    }
}
