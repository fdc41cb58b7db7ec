import Foundation
import PostgresReplication
import TestSupport
import XCTest

/// The type matrix: one column per PostgreSQL type family, with edge values (NaN and ±Infinity numerics, char(n)
/// padding, BC dates, infinities, the ends of the timestamp range, NULL array elements, quoting, several dimensions,
/// enums, domains, composites). Rows inserted before the snapshot and the same values inserted while streaming must
/// read back through `freshet scan` exactly as PostgreSQL's output functions print them (session settings of
/// `Connection`: DateStyle ISO, TimeZone UTC, extra_float_digits 3, bytea_output hex, IntervalStyle postgres), and
/// through DuckDB over `freshet sql` (text as it is, DuckDB's own types brought to PostgreSQL's notation, floats compared
/// by their bits). Also a resync of the table, and pgbench's `pgbench_accounts` (its char(84) filler).
///
/// The one representational difference by design: `freshet scan` prints bool as `true`/`false` (PostgreSQL `t`/`f`).
final class TypeMatrixTests: XCTestCase {
    /// A column of the matrix: its name, its SQL type, its values as PostgreSQL input text (nil = NULL), and whether the
    /// store keeps it as PostgreSQL's output text (rather than as a typed value: numbers, bool, bytes, dates, timestamps).
    struct MatrixColumn {
        var name: String
        var type: String
        var values: [String?]
        var storedAsText = true
    }

    static let columns: [MatrixColumn] = [
        MatrixColumn(name: "n", type: "numeric", values: ["1.500", "NaN", "Infinity", "-Infinity", "-0.000001", "123456789012345678901234567890.5"]),
        MatrixColumn(name: "nc", type: "numeric(10,2)", values: ["12345678.90", "NaN", "-0.01", "0"], storedAsText: false),
        MatrixColumn(name: "nc30", type: "numeric(30,4)", values: ["-12345678901234567890.1234", "NaN", "0.5"], storedAsText: false),
        MatrixColumn(name: "f4", type: "float4", values: ["1.5", "1e+06", "123456", "1e-05", "3.4028235e+38", "1e-45", "NaN",
                                                          "-Infinity", "-0", "0.1"], storedAsText: false),
        MatrixColumn(name: "f8", type: "float8", values: ["100", "1e+15", "123456789012345", "0.0001", "1e-05", "5e-324",
                                                          "1.7976931348623157e+308", "Infinity", "-0", "0.1", "-1.5e-07"], storedAsText: false),
        MatrixColumn(name: "mon", type: "money", values: ["1234.56", "-0.01", "92233720368547758.07", "0"]),
        MatrixColumn(name: "c5", type: "char(5)", values: ["ab", "", "abcde", " x ", "ä"]),
        MatrixColumn(name: "c1", type: "\"char\"", values: ["a", "\u{7f}"]),
        MatrixColumn(name: "vc", type: "varchar(10)", values: ["ab  ", "", "ä ö", "q\"\\,{}"]),
        MatrixColumn(name: "t", type: "text", values: ["plain", "tab\tnl\ncr\r", "quote\"comma,", "back\\slash", ""]),
        MatrixColumn(name: "nm", type: "name", values: ["pg_name", " lead", "UPPER"]),
        MatrixColumn(name: "b", type: "bytea", values: ["\\x00ff10", "\\x", "\\x5c", "\\xdeadbeef"], storedAsText: false),
        MatrixColumn(name: "bo", type: "bool", values: ["true", "false"], storedAsText: false),
        MatrixColumn(name: "d", type: "date", values: ["2024-02-29", "0006-01-01 BC", "0100-03-01 BC", "5874897-12-31",
                                                        "infinity", "-infinity", "4714-11-24 BC", "0001-01-01", "0001-12-31 BC"], storedAsText: false),
        MatrixColumn(name: "tm", type: "time", values: ["00:00:00", "23:59:59.999999", "24:00:00", "12:34:56.5"]),
        MatrixColumn(name: "tmz", type: "timetz", values: ["00:00:00+00", "23:59:59.999999-14:59", "12:00:00+05:30", "24:00:00-15:59"]),
        MatrixColumn(name: "ts", type: "timestamp", values: [
            "2024-01-02 03:04:05.123456", "294276-12-31 23:59:59.999999", "294247-01-10 04:00:54.775807",
            "4714-11-24 00:00:00 BC", "infinity", "-infinity", "0044-03-15 10:00:00.5 BC", "294247-01-10 04:00:54.775806",
            "294276-12-31 23:59:59"], storedAsText: false),
        MatrixColumn(name: "tstz", type: "timestamptz", values: [
            "2024-01-02 03:04:05.123456+02", "294276-12-31 23:59:59.999999+00", "294247-01-10 04:00:54.775807+00",
            "4714-11-24 00:00:00+00 BC", "infinity", "-infinity", "0044-03-15 10:00:00+00 BC"], storedAsText: false),
        MatrixColumn(name: "iv", type: "interval", values: ["1 year 2 mons 3 days 04:05:06.789", "-1 days +02:00:00", "0",
                                                            "178000000 years", "-00:00:00.000001", "1 mon -1 days"]),
        MatrixColumn(name: "u", type: "uuid", values: ["A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "00000000-0000-0000-0000-000000000000"]),
        MatrixColumn(name: "js", type: "json", values: ["{\"b\": 1,  \"a\": [1, 2]}", "\"str\"", "null", "[]"]),
        MatrixColumn(name: "jb", type: "jsonb", values: ["{\"b\": 1, \"a\": [1, 2.50]}", "\"\\u00e4\"", "123.4500", "null"]),
        MatrixColumn(name: "x", type: "xml", values: ["<a b=\"1\">t</a>", "<?xml version=\"1.0\"?><r/>", "text &amp; more"]),
        MatrixColumn(name: "ip", type: "inet", values: ["::1", "192.168.0.1/24", "10.0.0.1", "2001:db8::1/64", "::ffff:1.2.3.4", "0.0.0.0/0"]),
        MatrixColumn(name: "cd", type: "cidr", values: ["10.0.0.0/8", "::/0", "192.168.1.0/24", "2001:db8::/32", "10.1.2.3/32"]),
        MatrixColumn(name: "mac", type: "macaddr", values: ["08:00:2b:01:02:03", "FF-FF-FF-FF-FF-FF"]),
        MatrixColumn(name: "mac8", type: "macaddr8", values: ["08:00:2b:01:02:03:04:05", "08002b010203"]),
        MatrixColumn(name: "bt", type: "bit(4)", values: ["1010", "0000"]),
        MatrixColumn(name: "vb", type: "varbit", values: ["1", "", "101010101010101"]),
        MatrixColumn(name: "pt", type: "point", values: ["(1.5,-2)", "(0,0)", "(1e+300,-1e-300)"]),
        MatrixColumn(name: "ln", type: "line", values: ["{1,-1,0}"]),
        MatrixColumn(name: "ls", type: "lseg", values: ["[(0,0),(1,1)]"]),
        MatrixColumn(name: "bx", type: "box", values: ["(0,0),(1,1)"]),
        MatrixColumn(name: "pth", type: "path", values: ["[(0,0),(1,1),(2,0)]", "((0,0),(1,1))"]),
        MatrixColumn(name: "pg", type: "polygon", values: ["((0,0),(1,1),(1,0))"]),
        MatrixColumn(name: "ci", type: "circle", values: ["<(0,0),1.5>"]),
        MatrixColumn(name: "tsv", type: "tsvector", values: ["a fat cat:2A sat", "'quoted '' word'"]),
        MatrixColumn(name: "r", type: "int4range", values: ["[1,10)", "empty", "(,5]", "[3,)"]),
        MatrixColumn(name: "tr", type: "tstzrange", values: ["[\"2024-01-01 00:00:00+00\",\"2024-02-01 00:00:00+00\")", "(,)"]),
        MatrixColumn(name: "mr", type: "int4multirange", values: ["{[1,3),[5,8)}", "{}"]),
        MatrixColumn(name: "ai", type: "int[]", values: ["{1,NULL,3}", "{}", "[0:1]={5,6}"]),
        MatrixColumn(name: "at", type: "text[]", values: ["{\"a b\",\"NULL\",NULL,\"q\\\"x\",\"back\\\\slash\",\"\"}", "{{a,b},{c,d}}"]),
        MatrixColumn(name: "ac", type: "char(3)[]", values: ["{\"a\",\"bb\"}", "{NULL,\" x\"}"]),
        MatrixColumn(name: "a3", type: "int[]", values: ["{{{1,2},{3,4}},{{5,6},{7,8}}}"]),
        MatrixColumn(name: "e", type: "mood", values: ["happy", "sad"]),
        MatrixColumn(name: "dc", type: "ch3", values: ["a", "abc"]),
        MatrixColumn(name: "comp", type: "pair", values: ["(\"a\",::1)", "(,)", "(\"x y\",10.0.0.0/8)"]),
        MatrixColumn(name: "da", type: "ch3[]", values: ["{a,NULL}"]),
        // Extension types: output functions outside pg_catalog (the snapshot selects `format('%s', col)`).
        MatrixColumn(name: "hs", type: "hstore", values: ["a=>1, b=>NULL, \"x y\"=>\"q\\\"\"", ""]),
        MatrixColumn(name: "cit", type: "citext", values: ["MiXeD", "  pad "]),
    ]

    /// Rows 1...valueRows take value k of each column (its first value when it has fewer), one more row is all NULL.
    static var valueRows: Int { columns.map(\.values.count).max() ?? 0 }
    /// Streamed rows repeat the snapshot rows' values with ids offset by this.
    static let streamedOffset = 1000

    func testSnapshotAndStreamEqualPostgresOutputText() throws {
        try runMatrix(options: nil)
    }

    /// With session settings the client-side formatters do not print by (a connection string's `options` override
    /// Freshet's), the snapshot takes the server's output text: snapshot, stream and resync still agree with
    /// PostgreSQL under the same settings, for every column stored as text.
    func testSessionSettingsOverriddenInTheConnectionString() throws {
        try runMatrix(options: "-c TimeZone=Asia/Kolkata -c IntervalStyle=sql_standard")
    }

    /// Creates the matrix table, runs `freshet run` (with `options` added to the connection string), checks snapshot,
    /// stream and resync rows against PostgreSQL; with the standard settings every column and pgbench_accounts too.
    private func runMatrix(options: String?) throws {
        let pg = try PostgresFixture()
        let python = try TestEnvironment.python()
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.")
        let url = options.map { pg.url + "?options=" + ($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") } ?? pg.url
        // PostgreSQL's text under the same session settings as Freshet's connections.
        let sql = try Connection(url)
        defer { sql.close() }
        let schema = pg.name("matrix"), slot = pg.name("slot"), publication = pg.name("pub")
        let store = NSTemporaryDirectory() + "freshet-matrix-" + pg.prefix
        let s = SQLQuoting.identifier(schema)
        let table = "\(s).\(SQLQuoting.identifier("m"))"
        pg.trackSlot(slot)
        defer {
            _ = try? pg.sql.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(publication))")
            _ = try? pg.sql.execute("DROP SCHEMA IF EXISTS \(s) CASCADE")
            pg.cleanup()
            removeTemporaryFiles(store)   // the store, its log and its view
        }
        try pg.sql.execute("""
            CREATE SCHEMA \(s);
            SET search_path = \(s);
            CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
            CREATE DOMAIN ch3 AS char(3);
            CREATE TYPE pair AS (a char(3), b inet);
            CREATE EXTENSION hstore SCHEMA \(s);
            CREATE EXTENSION citext SCHEMA \(s);
            CREATE TABLE \(table) (id int PRIMARY KEY, \(Self.columns.map { "\(SQLQuoting.identifier($0.name)) \($0.type)" }.joined(separator: ", ")));
            RESET search_path;
            """)
        try insertRows(pg.sql, table: table, idOffset: 0)
        if options == nil {
            // pgbench's accounts table: filler is char(84), 84 spaces in every row.
            let pgbench = try Subprocess.run("/usr/bin/env", ["pgbench", "-i", "-s", "1", "-q", "-n", pg.url],
                                             environment: ["PGOPTIONS": "-c search_path=\(schema)"])
            XCTAssertEqual(pgbench.status, 0, "pgbench -i failed: \(pgbench.stderr)")
        }

        let process = try FreshetProcess(["run", "--source", url, "--store", store, "--slot", slot, "--publication", publication,
                                          "--schema", schema, "--exclude", "\(schema).pgbench_history", "--metrics", "off", "--heartbeat-seconds", "1", "--max-age-ms", "100"],
                                         logPath: store + ".log")
        defer { process.signal(SIGTERM); _ = process.wait(timeout: 30) }
        try waitCaughtUp(pg.sql, store: store, process: process)
        try insertRows(pg.sql, table: table, idOffset: Self.streamedOffset)
        try waitCaughtUp(pg.sql, store: store, process: process)

        // Typed date/time columns print in UTC and ISO whatever the session: compared only under the standard settings.
        let textOnly = options != nil
        try assertStoreEqualsPostgres(sql, table: table, storeTable: "\(schema).m", store: store, python: python,
                                      phase: "snapshot + stream", textOnly: textOnly)

        // Resync copies every row again (the same COPY as the snapshot) while the stream goes on.
        let resync = try runFreshet(["resync", "\(schema).m", "--source", url, "--store", store, "--wait"])
        XCTAssertEqual(resync.status, 0, resync.stdout + resync.stderr + process.log)
        XCTAssertTrue(resync.stdout.contains("done: switched"), resync.stdout)
        try waitCaughtUp(pg.sql, store: store, process: process)
        try assertStoreEqualsPostgres(sql, table: table, storeTable: "\(schema).m", store: store, python: python,
                                      phase: "resync", textOnly: textOnly)
        guard options == nil else { return }

        // pgbench_accounts: the snapshot keeps char(84)'s padding.
        let accounts = try runFreshet(["scan", "\(schema).pgbench_accounts", "--store", store, "--columns", "aid,filler", "--format", "jsonl"])
        XCTAssertEqual(accounts.status, 0, accounts.stderr)
        let fillers = try accounts.stdout.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["filler"] as? String
        }
        XCTAssertEqual(fillers.count, 100_000)
        XCTAssertEqual(fillers.filter { $0 == String(repeating: " ", count: 84) }.count, 100_000,
                       "pgbench_accounts.filler is not 84 spaces in every row: \(fillers.prefix(1))")
    }

    /// Compares the store table with PostgreSQL's output text of `table`, through `freshet scan` (every column) and
    /// DuckDB over `freshet sql` (the `storedAsText` columns).
    private func assertStoreEqualsPostgres(_ sql: Connection, table sourceTable: String, storeTable: String, store: String, python: String,
                                           phase: String, textOnly: Bool) throws {
        // PostgreSQL's output text, row by row.
        let names = ["id"] + Self.columns.map(\.name)
        let source = try sql.query("SELECT \(names.map(SQLQuoting.identifier).joined(separator: ", ")) FROM \(sourceTable) ORDER BY id")
        let expected = source.rows
        XCTAssertEqual(expected.count, 2 * (Self.valueRows + 1))
        // The snapshot row and the streamed row of the same values print alike in PostgreSQL itself.
        let half = expected.count / 2
        for r in 0..<half { XCTAssertEqual(Array(expected[r].dropFirst()), Array(expected[r + half].dropFirst()), "row \(r + 1)") }

        // freshet scan, as CSV: every value as printed (JSON lines would turn floats into JSON numbers).
        let scan = try runFreshet(["scan", storeTable, "--store", store, "--format", "csv"])
        XCTAssertEqual(scan.status, 0, scan.stderr)
        let table = Self.parseCSV(scan.stdout)
        XCTAssertEqual(table.first?.map { $0 ?? "" }, names)
        let scanned = table.dropFirst().sorted { Int($0[0] ?? "") ?? 0 < Int($1[0] ?? "") ?? 0 }
        XCTAssertEqual(scanned.count, expected.count)
        let textColumns = Set(["id"] + Self.columns.filter(\.storedAsText).map(\.name))
        compare(expected, Array(scanned), names: names, reader: "\(phase): freshet scan") { !textOnly || textColumns.contains($0) }

        // DuckDB over `freshet sql`. Text columns as they are; DuckDB's own types in PostgreSQL's notation (bool `t`/`f`,
        // BLOB as `\x` and lowercase hex, a BC date with ` BC`); floats as their bits (DuckDB prints floats its own way).
        let view = try runFreshet(["sql", storeTable, "--store", store, "--dialect", "duckdb"])
        XCTAssertEqual(view.status, 0, view.stderr)
        let viewPath = store + ".view.sql"
        try Data(view.stdout.utf8).write(to: URL(fileURLWithPath: viewPath))
        let duck = try Subprocess.run(python, ["-c", """
            import duckdb, json, math, struct, sys
            con = duckdb.connect(); con.execute("SET enable_progress_bar = false")
            view = "(" + open(sys.argv[1]).read() + ")"
            names = json.loads(sys.argv[2])
            types = {row[0]: row[1] for row in con.execute("DESCRIBE SELECT * FROM " + view).fetchall()}
            def expr(n):
                q = '"%s"' % n
                t = types[n]
                if t == "BOOLEAN": return "CASE WHEN %s THEN 't' WHEN NOT %s THEN 'f' END" % (q, q)
                if t == "BLOB": return "'" + chr(92) + "x' || lower(hex(%s))" % q
                if t == "DATE": return "replace(CAST(%s AS VARCHAR), ' (BC)', ' BC')" % q
                if t in ("FLOAT", "DOUBLE"): return q
                return "CAST(%s AS VARCHAR)" % q
            rows = con.execute("SELECT " + ", ".join(expr(n) for n in names) + " FROM " + view + " ORDER BY id").fetchall()
            def bits(v, t):
                if v is None: return None
                if math.isnan(v): return "NaN"
                return struct.pack(">f" if t == "FLOAT" else ">d", v).hex()
            print(json.dumps([[bits(v, types[n]) if types[n] in ("FLOAT", "DOUBLE") else v for v, n in zip(row, names)] for row in rows]))
            """, viewPath, String(decoding: try JSONSerialization.data(withJSONObject: names), as: UTF8.self)])
        XCTAssertEqual(duck.status, 0, duck.stderr)
        let duckRows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(duck.stdout.utf8)) as? [[Any]]).map { $0.map(Self.text) }
        XCTAssertEqual(duckRows.count, expected.count)
        // PostgreSQL's float text as the same bits.
        let floatBits: [String: (String) -> String?] = [
            "f4": { text in Float(text).map { $0.isNaN ? "NaN" : String(format: "%08x", $0.bitPattern) } },
            "f8": { text in Double(text).map { $0.isNaN ? "NaN" : String(format: "%016llx", $0.bitPattern) } },
        ]
        let expectedForDuckDB = expected.map { row in
            zip(names, row).map { name, value in value.flatMap { floatBits[name]?($0) ?? $0 } }
        }
        compare(expectedForDuckDB, duckRows, names: names, reader: "\(phase): DuckDB", boolAsText: false) { !textOnly || textColumns.contains($0) }
    }

    /// Inserts the matrix rows with ids `idOffset + 1 ... idOffset + valueRows + 1` (the last one all NULL).
    private func insertRows(_ sql: Connection, table: String, idOffset: Int) throws {
        var statements: [String] = []
        for r in 0..<Self.valueRows {
            let values = Self.columns.map { column -> String in
                let value = r < column.values.count ? column.values[r] : column.values[0]
                return value.map(SQLQuoting.literal) ?? "NULL"
            }
            statements.append("INSERT INTO \(table) VALUES (\(idOffset + r + 1), \(values.joined(separator: ", ")))")
        }
        statements.append("INSERT INTO \(table) (id) VALUES (\(idOffset + Self.valueRows + 1))")
        try sql.execute(statements.joined(separator: ";\n"))
    }

    /// Asserts `actual` equals `expected` in every row and in the columns `checked` selects, naming each difference.
    /// `boolAsText`: the reader prints bool as `true` / `false` (freshet scan) rather than PostgreSQL's `t` / `f`.
    private func compare(_ expected: [[String?]], _ actual: [[String?]], names: [String], reader: String, boolAsText: Bool = true,
                         checked: (String) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        for (r, row) in expected.enumerated() where r < actual.count {
            for (c, name) in names.enumerated() where checked(name) {
                let want = name == "bo" && boolAsText ? row[c].map { $0 == "t" ? "true" : "false" } : row[c]
                XCTAssertEqual(actual[r][c], want, "\(reader): row id \(row[0] ?? "?"), column \(name)", file: file, line: line)
            }
        }
    }

    /// The records of `freshet scan --format csv` output (RFC 4180): an empty unquoted field is NULL (nil), `""` the
    /// empty string.
    static func parseCSV(_ text: String) -> [[String?]] {
        var records: [[String?]] = [], record: [String?] = [], field = "", quoted = false, wasQuoted = false
        var chars = Array(text)[...]
        func endField() { record.append(field.isEmpty && !wasQuoted ? nil : field); field = ""; wasQuoted = false }
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" {
                quoted = true; wasQuoted = true
            } else if c == "," {
                endField()
            } else if c == "\n" || c == "\r\n" {
                endField(); records.append(record); record = []
            } else { field.append(c) }
        }
        if !record.isEmpty || !field.isEmpty { endField(); records.append(record) }
        return records
    }

    /// A JSON value as text: nil for null, numbers and booleans as printed.
    static func text(_ value: Any?) -> String? {
        switch value {
        case nil, is NSNull: return nil
        case let s as String: return s
        case let n as NSNumber:
            // JSON true/false decode as boolean NSNumbers (Objective-C type `c`), JSON numbers as integers or doubles.
            if String(cString: n.objCType) == "c" { return n.boolValue ? "true" : "false" }
            return n.stringValue
        default: return value.map { "\($0)" }
        }
    }

    /// Waits until the store's checkpoint passes PostgreSQL's current WAL position.
    private func waitCaughtUp(_ sql: Connection, store: String, process: FreshetProcess, timeout: Double = 180) throws {
        let target = try XCTUnwrap(LSN(try XCTUnwrap(sql.execute("SELECT pg_current_wal_lsn()::text").scalar)))
        let end = Date().addingTimeInterval(timeout)
        while true {
            if let data = FileManager.default.contents(atPath: store + "/store.json"),
               let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let value = json["checkpointLSN"] as? NSNumber, value.uint64Value >= target.value { return }
            guard Date() < end, process.isRunning else {
                XCTFail("store did not catch up to \(target); log:\n" + process.log)
                throw XCTSkip("not caught up")
            }
            usleep(100_000)
        }
    }
}
