/// Errors of the running replicator, with the table and what went wrong. Never contains a password.
public enum ReplicatorError: Error, CustomStringConvertible {
    case tupleMismatch(table: String, expected: Int, got: Int)
    case unknownRelation(oid: UInt32)
    case badValue(table: String, column: String, reason: String)
    case protocolState(String)
    case snapshotFailed(table: String, reason: String)

    public var description: String {
        switch self {
        case let .tupleMismatch(table, expected, got):
            return "table \(table): tuple has \(got) columns, the relation has \(expected)"
        case let .unknownRelation(oid):
            return "change for relation \(oid) before its Relation message"
        case let .badValue(table, column, reason):
            return "table \(table) column \(column): \(reason)"
        case let .protocolState(message):
            return "unexpected stream state: \(message)"
        case let .snapshotFailed(table, reason):
            return "snapshot of \(table) failed: \(reason)"
        }
    }
}
