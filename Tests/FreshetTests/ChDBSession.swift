import Foundation
import TestSupport

/// chDB (ClickHouse 26.x in-process, from the test venv) for the sink's tests: one session in a temporary directory
/// of its own. Fails under CI (skips elsewhere) when chdb is not installed.
struct ChDBSession {
    let python: String
    /// The session's directory; tests may put input files (e.g. RowBinary) there.
    let dir: String

    init(_ name: String) throws {
        python = try TestEnvironment.python()
        guard try Subprocess.run(python, ["-c", "import chdb"]).status == 0 else {
            try TestEnvironment.unavailable("chdb is not installed in \(python) (Tools/install-deps --python --clickhouse)")
        }
        dir = NSTemporaryDirectory() + "freshet-\(name)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs `statements` in the session, then prints each query's result in its output format (e.g. `CSV`, `TSV`),
    /// one after the other.
    func run(_ statements: [String], queries: [(sql: String, format: String)]) throws -> ProcessResult {
        let input: [String: Any] = ["statements": statements, "queries": queries.map { [$0.sql, $0.format] }]
        try JSONSerialization.data(withJSONObject: input).write(to: URL(fileURLWithPath: dir + "/chdb.json"))
        let script = """
            import json, sys
            from chdb import session
            s = session.Session(sys.argv[1] + "/db")
            work = json.load(open(sys.argv[1] + "/chdb.json"))
            for st in work["statements"]:
                s.query(st)
            for sql, fmt in work["queries"]:
                print(s.query(sql, fmt), end="")
            """
        return try Subprocess.run(python, ["-c", script, dir])
    }
}
