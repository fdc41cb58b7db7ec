import PostgresReplication

/// Why Freshet cannot start on this source or store. Each message says how to fix it; none contains a password.
public enum SetupError: Error, Equatable, CustomStringConvertible {
    case walLevel(current: String)
    case noReplicationPrivilege(user: String)
    case tableWithoutKey(table: String)
    case keyColumnMissing(table: String, column: String)
    case noTables(scope: String)
    case storeBelongsToAnotherSource(expected: String, found: String)
    case slotInUse(slot: String)
    case slotWrongPlugin(slot: String, plugin: String)
    case slotLost(slot: String)
    case storeUnusable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .walLevel(current):
            return "wal_level is '\(current)', logical replication needs 'logical'. Fix: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL."
        case let .noReplicationPrivilege(user):
            return "role \(user) may not replicate. Fix: ALTER ROLE \(SQLQuoting.identifier(user)) REPLICATION; (or connect as a role that has it)."
        case let .tableWithoutKey(table):
            // The config key as JSON spells it (a quoted table name holds quotes).
            let jsonKey = "\"" + table.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            return "table \(table) has no primary key, so its updates and deletes cannot be replicated. Fix: add a primary key, or set REPLICA IDENTITY FULL on it and give its key columns in the config (tableSettings.\(jsonKey).key), or exclude it."
        case let .keyColumnMissing(table, column):
            return "table \(table): configured key column \(column) does not exist."
        case let .noTables(scope):
            return "no tables to replicate in \(scope). Fix: check `schemas` / `tables` in the config."
        case let .storeBelongsToAnotherSource(expected, found):
            return "the store belongs to another source (\(found)); this source is \(expected). Use another --store directory, or delete the store to start over."
        case let .slotInUse(slot):
            return "replication slot \(slot) is in use by another process (is another freshet running?)."
        case let .slotWrongPlugin(slot, plugin):
            return "replication slot \(slot) uses plugin \(plugin), not pgoutput. Choose another slot name or drop it."
        case let .slotLost(slot):
            return "replication slot \(slot) has lost WAL it needs (wal_status = lost). Fix: freshet drop, then start again to take a new snapshot."
        case let .storeUnusable(path, reason):
            return "store \(path): \(reason)"
        }
    }
}
