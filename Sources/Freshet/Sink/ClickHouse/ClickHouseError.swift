import Foundation

/// What went wrong talking to ClickHouse. Never contains the password.
public enum ClickHouseError: Error, CustomStringConvertible, Equatable {
    /// The `--clickhouse` URL or config cannot be used.
    case badURL(url: String, reason: String)
    /// No connection (refused, reset, timed out).
    case unreachable(url: String, reason: String)
    /// The server refused the user or password.
    case authentication(url: String, message: String)
    /// The server answered a statement with an error; `statement` is its first line.
    case server(status: Int, statement: String, message: String)
    /// The user may not do what the sink needs (create databases or tables, insert).
    case privilege(statement: String, message: String)
    /// The server's answer is not what the sink expected.
    case unexpected(statement: String, reason: String)
    /// The configured `cluster` cannot take `ON CLUSTER` DDL on this server.
    case cluster(name: String, reason: String)
    /// A store column the sink cannot represent (should not happen: every store type has a mapping).
    case unsupported(table: String, reason: String)

    public var description: String {
        switch self {
        case let .badURL(u, r): return "clickhouse: bad URL \(u): \(r)"
        case let .unreachable(u, r): return "clickhouse: cannot reach \(u): \(r)"
        case let .authentication(u, m): return "clickhouse: \(u) refused the credentials: \(m) (user and password go in the URL, or the password in CLICKHOUSE_PASSWORD)"
        case let .server(s, st, m): return "clickhouse: HTTP \(s) for `\(st)`: \(m)"
        case let .privilege(st, m): return "clickhouse: missing privilege for `\(st)`: \(m) (the sink's user must create databases and tables and insert)"
        case let .unexpected(st, r): return "clickhouse: unexpected answer to `\(st)`: \(r)"
        case let .cluster(n, r): return "clickhouse: cluster \(n): \(r)"
        case let .unsupported(t, r): return "clickhouse: table \(t): \(r)"
        }
    }

    /// Errors that a retry may cure (the server down or overloaded); the rest need someone to act.
    var isTransient: Bool {
        switch self {
        case .unreachable: return true
        case let .server(status, _, _): return status >= 500 || status == 429
        default: return false
        }
    }
}
