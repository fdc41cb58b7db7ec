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
