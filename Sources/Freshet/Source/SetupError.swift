import PostgresReplication

/// Why Freshet cannot start on this source or store. Each message says how to fix it; none contains a password.
public enum SetupError: Error, Equatable, CustomStringConvertible {
    case walLevel(current: String)
    case noReplicationPrivilege(user: String)
    case keyColumnMissing(table: String, column: String)
    case noTables(scope: String)
    case storeBelongsToAnotherSource(expected: String, found: String)
    case slotInUse(slot: String)
    case slotWrongPlugin(slot: String, plugin: String)
    case slotLost(slot: String)
    case storeUnusable(path: String, reason: String)
    case slotNotOwned(slot: String, reason: String)
    case slotInOtherDatabase(slot: String, slotDatabase: String, database: String)
    case storeForAnotherDatabase(store: String, database: String)
    case unreplicable(UnreplicableTable)

    public var description: String {
        switch self {
        case let .walLevel(current):
            return "wal_level is '\(current)', logical replication needs 'logical'. Fix: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL."
        case let .noReplicationPrivilege(user):
            return "role \(user) may not replicate. Fix: ALTER ROLE \(SQLQuoting.identifier(user)) REPLICATION; (or connect as a role that has it)."
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
        case let .slotNotOwned(slot, reason):
            return "replication slot \(slot) exists, but this store cannot prove it created it: \(reason). Freshet never drops or uses another's slot. Fix: choose another slot name (--slot), or, if no one uses it, drop it: SELECT pg_drop_replication_slot(\(SQLQuoting.literal(slot)));"
        case let .slotInOtherDatabase(slot, slotDatabase, database):
            return "replication slot \(slot) belongs to database \(slotDatabase), not \(database). Fix: connect to \(slotDatabase), or use another slot name (--slot) and another store for \(database)."
        case let .storeForAnotherDatabase(store, database):
            return "the store copies database \(store), but the source URL names database \(database). A store copies one database. Fix: connect to \(store), or use another --store directory for \(database)."
        case let .unreplicable(t):
            return t.description
        }
    }
}
