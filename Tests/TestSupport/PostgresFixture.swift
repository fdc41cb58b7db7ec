import Foundation
import PostgresReplication

/// Per-test names and connections on the sandbox PostgreSQL: a unique prefix for tables, publications and slots,
/// and cleanup of the slots and publications a test created (even when it failed).
public final class PostgresFixture: @unchecked Sendable {
    /// The sandbox URL (contains the password: never print it; use `redactedURL`).
    public let url: String
    /// A prefix unique to this fixture, e.g. `t1a2b3c4`, safe in identifiers.
    public let prefix: String
    /// A normal connection for setup SQL.
    public let sql: Connection
    private var slots: [String] = []
    private var publications: [String] = []

    public init() throws {
        url = try TestEnvironment.postgresURL()
        prefix = "t" + UUID().uuidString.prefix(8).lowercased().replacingOccurrences(of: "-", with: "")
        sql = try Connection(url)
    }

    public var redactedURL: String { (try? ConnectionSettings(url).redacted) ?? "postgresql://***" }

    /// A unique name with this fixture's prefix.
    public func name(_ base: String) -> String { "\(prefix)_\(base)" }

    /// Creates a publication for the given tables (or all tables of the fixture) and remembers it for cleanup.
    @discardableResult
    public func createPublication(_ base: String, tables: [String]) throws -> String {
        let pub = name(base)
        try sql.execute("CREATE PUBLICATION \(SQLQuoting.identifier(pub)) FOR TABLE "
                        + tables.map { SQLQuoting.identifier($0) }.joined(separator: ", "))
        publications.append(pub)
        return pub
    }

    /// Remembers a slot name for cleanup.
    public func trackSlot(_ slot: String) { slots.append(slot) }

    /// Drops tracked slots (terminating their walsenders first) and publications.
    public func cleanup() {
        for slot in slots {
            _ = try? sql.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", [slot])
            for _ in 0..<50 {
                if (try? sql.query("SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1", [slot])) != nil,
                   (try? sql.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot]).rows.isEmpty) == true { break }
                usleep(100_000)
            }
        }
        for pub in publications { _ = try? sql.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(pub))") }
        slots = []; publications = []
    }

    deinit { cleanup() }
}

/// A second, short-lived sandbox cluster started by `Tools/pg-sandbox` with its own directory and settings
/// (e.g. `wal_level=replica` to test the error Freshet gives). Stopped and deleted by `destroy`.
public final class ExtraSandbox: @unchecked Sendable {
    public let directory: String
    public let url: String
    private let environment: [String: String]

    public init(walLevel: String = "logical") throws {
        _ = try TestEnvironment.postgresURL()   // only where a sandbox can run at all
        directory = NSTemporaryDirectory() + "freshet-extra-" + UUID().uuidString.prefix(8)
        environment = ["FRESHET_SANDBOX_DIR": directory, "FRESHET_SANDBOX_WAL_LEVEL": walLevel]
        let tool = TestEnvironment.toolsDirectory.appendingPathComponent("pg-sandbox").path
        let result = try Subprocess.run(tool, ["start"], environment: environment)
        guard result.status == 0 else {
            throw SubprocessError.failed(command: "pg-sandbox start", status: result.status, stderr: result.stderr)
        }
        url = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a pg-sandbox subcommand (`stop`, `start`, `restart`) on this cluster.
    @discardableResult
    public func control(_ command: String) throws -> ProcessResult {
        try Subprocess.run(TestEnvironment.toolsDirectory.appendingPathComponent("pg-sandbox").path, [command], environment: environment)
    }

    public func destroy() { _ = try? control("destroy") }
}
