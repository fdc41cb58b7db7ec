import PostgresReplication
import TestSupport
import XCTest

final class ConnectionTests: XCTestCase {
    func testQueriesParametersAndTypedErrors() throws {
        let pg = try PostgresFixture()
        let r = try pg.sql.query("SELECT $1::int + 1 AS x, $2::text AS y, NULL::text AS z", ["41", "it's"])
        XCTAssertEqual(r.columns, ["x", "y", "z"])
        XCTAssertEqual(r.rows, [["42", "it's", nil]])
        XCTAssertEqual(r.columnTypes, [23, 25, 25])
        XCTAssertGreaterThanOrEqual(pg.sql.serverVersion, 150000)
        XCTAssertThrowsError(try pg.sql.execute("SELECT * FROM no_such_table_here")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42P01")
            XCTAssertTrue("\(error)".contains("no_such_table_here"))
        }
        // The session settings that make value text forms stable.
        XCTAssertEqual(try pg.sql.execute("SHOW TimeZone").scalar, "UTC")
        XCTAssertEqual(try pg.sql.execute("SHOW extra_float_digits").scalar, "3")
        XCTAssertEqual(try pg.sql.execute("SHOW bytea_output").scalar, "hex")
    }

    func testQuotingRoundTripsThroughTheServer() throws {
        let pg = try PostgresFixture()
        for text in ["plain", "it's", "back\\slash", "quote\"d", "ünïcødé ✓", "a\nb"] {
            XCTAssertEqual(try pg.sql.execute("SELECT \(SQLQuoting.literal(text))").scalar, text)
        }
        let table = pg.name("Weird \"Name\"")
        try pg.sql.execute("CREATE TABLE \(SQLQuoting.identifier(table)) (\"select\" int)")
        defer { _ = try? pg.sql.execute("DROP TABLE \(SQLQuoting.identifier(table))") }
        try pg.sql.execute("INSERT INTO \(SQLQuoting.identifier(table)) VALUES (7)")
        XCTAssertEqual(try pg.sql.execute("SELECT \"select\" FROM \(SQLQuoting.identifier(table))").scalar, "7")
    }

    func testWrongPasswordErrorNeverContainsThePassword() throws {
        let url = try TestEnvironment.postgresURL()
        var settings = try ConnectionSettings(url)
        let secret = "Sup3r-Secret-Pw-\(UUID().uuidString.prefix(6))"
        settings.set("password", secret)
        XCTAssertThrowsError(try Connection(settings: settings)) { error in
            let text = "\(error)" + String(reflecting: error)
            XCTAssertFalse(text.contains(secret), "password leaked: \(text)")
            XCTAssertTrue(text.contains("password authentication failed"), text)
            XCTAssertTrue(text.contains("***") || !text.contains("Sup3r"))
        }
        XCTAssertFalse(settings.redacted.contains(secret))
        XCTAssertTrue(settings.redacted.contains(":***@"))
        // A real password never shows in the redacted form either.
        XCTAssertFalse(try ConnectionSettings(url).redacted.contains(try XCTUnwrap(ConnectionSettings(url)["password"])))
    }

    func testAnUnencodedAtSignInThePasswordIsNeitherPrintedNorTakenForTheHost() throws {
        let s = try ConnectionSettings("postgresql://u:p@ss@127.0.0.1:5432/db?sslmode=disable")
        XCTAssertEqual(s["password"], "p@ss")
        XCTAssertEqual(s["host"], "127.0.0.1")
        XCTAssertEqual(s["user"], "u")
        XCTAssertEqual(s.redacted, "postgresql://u:***@127.0.0.1:5432/db")
        XCTAssertEqual(s.redact("host ss@127.0.0.1 said p@ss"), "host ss@127.0.0.1 said ***")
        // Encoded, several, and '@' only in the query or path: left as libpq reads them.
        XCTAssertEqual(try ConnectionSettings("postgresql://u:p%40ss@h/db")["password"], "p@ss")
        XCTAssertEqual(try ConnectionSettings("postgresql://u:a@b@c@h/db")["password"], "a@b@c")
        XCTAssertEqual(try ConnectionSettings("postgresql://u@h/db?application_name=a@b")["host"], "h")
        XCTAssertEqual(try ConnectionSettings("postgresql://h/db@x")["dbname"], "db@x")
        XCTAssertEqual(try ConnectionSettings("host=h password=a@b")["password"], "a@b")

        // Against the sandbox: a role whose password holds '@' connects with the unencoded URL.
        let pg = try PostgresFixture()
        let role = pg.name("at_role")
        let password = "x@y" + pg.prefix
        try pg.sql.execute("CREATE ROLE \(SQLQuoting.identifier(role)) LOGIN PASSWORD \(SQLQuoting.literal(password))")
        defer { _ = try? pg.sql.execute("DROP ROLE IF EXISTS \(SQLQuoting.identifier(role))") }
        let base = try ConnectionSettings(pg.url)
        let url = "postgresql://\(role):\(password)@\(base["host"] ?? "127.0.0.1"):\(base["port"] ?? "5432")/\(base["dbname"] ?? "")"
        let conn = try Connection(url)
        XCTAssertEqual(try conn.execute("SELECT current_user").scalar, role)
        conn.close()
        // A wrong one: the error shows neither half of it.
        let wrong = "postgresql://\(role):bad@half\(pg.prefix)@\(base["host"] ?? "127.0.0.1"):\(base["port"] ?? "5432")/\(base["dbname"] ?? "")"
        XCTAssertThrowsError(try Connection(wrong)) { error in
            let text = "\(error)" + String(reflecting: error)
            XCTAssertFalse(text.contains("half"), text)
            XCTAssertFalse(text.contains("bad@"), text)
            XCTAssertTrue(text.contains("password authentication failed"), text)
        }
    }

    func testCopyOutStreamsChunks() throws {
        let pg = try PostgresFixture()
        var bytes = 0
        var chunks = 0
        let rows = try pg.sql.copyOut("COPY (SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g) TO STDOUT") {
            bytes += $0.count; chunks += 1
        }
        XCTAssertEqual(rows, 20000)
        XCTAssertGreaterThan(chunks, 1)
        XCTAssertGreaterThan(bytes, 20000 * 100)
        // The connection is usable afterwards.
        XCTAssertEqual(try pg.sql.execute("SELECT 1").scalar, "1")
    }
}
