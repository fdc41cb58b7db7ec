import ColumnStore
import Foundation
import PostgresReplication

/// `freshet resync`: asks the replicator of `source` to copy tables afresh, through the WAL.
public enum ResyncTrigger {
    /// Checks the tables exist, then emits the request as a transactional logical message. Returns it (its `id`
    /// identifies it in the store's `resync.json`). With `slot`, only the replicator of that slot performs it;
    /// without, every replicator of the database does, each for the tables it replicates.
    public static func request(source: String, tables: [String], all: Bool, slot: String? = nil) throws -> ResyncRequest {
        let sql = try Connection(source, applicationName: "freshet-resync-request")
        defer { sql.close() }
        if !all {
            let catalog = SourceCatalog(connection: sql)
            let found = try catalog.tables(schemas: [], tables: tables, exclude: []).map(\.qualifiedName)
            let missing = tables.filter { !found.contains($0) }
            for name in missing {
                if let parsed = try? TableName(parsing: name), let root = try catalog.partitionRoot(of: parsed) {
                    throw ReplicatorError.snapshotFailed(table: name, reason: "it is a partition of \(root.qualifiedName), which Freshet replicates as one table: resync \(root.qualifiedName)")
                }
            }
            guard missing.isEmpty else {
                throw ReplicatorError.snapshotFailed(table: missing.joined(separator: ","), reason: "no such table in the source")
            }
        }
        let request = ResyncRequest(tables: tables, all: all, slot: slot)
        try sql.query("SELECT pg_logical_emit_message(true, $1, $2)", [Heartbeat.prefix, request.messageContent])
        return request
    }

    /// The resync ledger of a store directory (read-only; empty when there is none yet).
    public static func ledger(store: String) -> ResyncLedger {
        ResyncLedger.decode(FileManager.default.contents(atPath: URL(fileURLWithPath: store).appendingPathComponent(ResyncLedger.fileName).path))
    }
}
