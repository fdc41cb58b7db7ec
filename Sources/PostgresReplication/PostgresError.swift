/// An error from PostgreSQL or from talking to it. Messages never contain the connection password:
/// every text that came from libpq passes through `ConnectionSettings.redact` first.
public enum PostgresError: Error, Sendable, CustomStringConvertible {
    /// The connection could not be opened (bad host, refused, authentication failed, ...).
    case connectionFailed(target: String, message: String)
    /// The server answered a command with an error.
    case server(ServerError)
    /// The connection broke while in use (server gone, network error).
    case connectionLost(message: String)
    /// The server sent something this client does not understand.
    case protocolViolation(String)
    /// A connection string that libpq cannot parse.
    case invalidConnectionString(String)
    /// A command that needs a replication connection was sent on a normal one, or the reverse.
    case wrongConnectionKind(String)

    public var description: String {
        switch self {
        case let .connectionFailed(target, message): return "could not connect to \(target): \(message)"
        case let .server(error): return error.description
        case let .connectionLost(message): return "connection to PostgreSQL lost: \(message)"
        case let .protocolViolation(message): return "replication protocol violation: \(message)"
        case let .invalidConnectionString(message): return "invalid connection string: \(message)"
        case let .wrongConnectionKind(message): return message
        }
    }

    /// The SQLSTATE code when the server reported one (e.g. "42704" undefined object).
    public var sqlState: String? {
        if case let .server(error) = self { return error.sqlState }
        return nil
    }
}

/// The fields of a server error report (ErrorResponse).
public struct ServerError: Sendable, CustomStringConvertible, Equatable {
    public var severity: String
    public var sqlState: String
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The start of the command that failed, for context (at most 200 characters).
    public var command: String?

    public init(severity: String, sqlState: String, message: String, detail: String? = nil,
                hint: String? = nil, command: String? = nil) {
        self.severity = severity; self.sqlState = sqlState; self.message = message
        self.detail = detail; self.hint = hint; self.command = command
    }

    public var description: String {
        var s = "\(severity) \(sqlState): \(message)"
        if let detail { s += " (detail: \(detail))" }
        if let hint { s += " (hint: \(hint))" }
        if let command { s += " [in: \(command)]" }
        return s
    }
}
