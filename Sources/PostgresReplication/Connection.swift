import CLibPQ
import Foundation

/// One PostgreSQL connection through libpq: simple and parameterised queries, COPY OUT streams,
/// and (with `replication: true`) the walsender commands of `ReplicationConnection`.
///
/// A `Connection` is not thread-safe: one thread uses it at a time (it is `Sendable` so it can be handed over).
/// Sessions are set up so value text forms are stable: `TimeZone=UTC`, `DateStyle=ISO`,
/// `extra_float_digits=3`, `bytea_output=hex`, `IntervalStyle=postgres`, client encoding UTF-8.
public final class Connection: @unchecked Sendable {
    /// The connection target, with the password kept only for libpq and for scrubbing messages.
    public let settings: ConnectionSettings
    /// True for a logical walsender connection (`replication=database`).
    public let isReplication: Bool
    let handle: OpaquePointer
    private var closed = false

    /// Session options that make text output of values deterministic (see pg-replication reference §8).
    static let sessionOptions = "-c TimeZone=UTC -c DateStyle=ISO -c extra_float_digits=3 -c bytea_output=hex -c IntervalStyle=postgres"

    /// Connects. `connectionString` is a `postgresql://` URL or `key=value` pairs.
    public convenience init(_ connectionString: String, replication: Bool = false,
                            applicationName: String = "freshet") throws {
        try self.init(settings: ConnectionSettings(connectionString), replication: replication,
                      applicationName: applicationName)
    }

    /// Connects with parsed settings.
    public init(settings: ConnectionSettings, replication: Bool = false, applicationName: String = "freshet") throws {
        var settings = settings
        if settings["application_name"] == nil { settings.set("application_name", applicationName) }
        settings.set("client_encoding", "UTF8")
        let userOptions = settings["options"].map { " " + $0 } ?? ""
        settings.set("options", Connection.sessionOptions + userOptions)
        if settings["connect_timeout"] == nil { settings.set("connect_timeout", "10") }
        if replication { settings.set("replication", "database") }
        self.settings = settings
        self.isReplication = replication

        let keys = settings.parameters.map { strdup($0.key) }
        let values = settings.parameters.map { strdup($0.value) }
        defer { keys.forEach { free($0) }; values.forEach { free($0) } }
        var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        let conn = keyPointers.withUnsafeMutableBufferPointer { k in
            valuePointers.withUnsafeMutableBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 0)
            }
        }
        guard let conn else {
            throw PostgresError.connectionFailed(target: settings.redacted, message: "out of memory")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = settings.redact(String(cString: PQerrorMessage(conn)).trimmingTrailingNewlines)
            PQfinish(conn)
            throw PostgresError.connectionFailed(target: settings.redacted, message: message)
        }
        self.handle = conn
    }

    deinit { close() }

    /// Closes the connection (idempotent).
    public func close() {
        if !closed { closed = true; PQfinish(handle) }
    }

    /// The server version as an integer, e.g. 150018.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// The backend process id serving this connection.
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// Runs one or more SQL commands with the simple query protocol; returns the last result.
    /// Works on replication connections too (replication commands and plain SQL).
    @discardableResult
    public func execute(_ sql: String) throws -> QueryResult {
        guard let result = PQexec(handle, sql) else { throw lostError() }
        return try QueryResult.checked(result, connection: self, command: sql)
    }

    /// Runs one SQL command with `$1`, `$2`... parameters sent separately in text form (`nil` is NULL).
    /// Not available on replication connections (they accept only the simple query protocol).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        guard !isReplication else {
            throw PostgresError.wrongConnectionKind("parameterised queries are not available on a replication connection")
        }
        let cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeMutableBufferPointer { p in
            PQexecParams(handle, sql, Int32(parameters.count), nil, p.baseAddress, nil, nil, 0)
        }
        guard let result else { throw lostError() }
        return try QueryResult.checked(result, connection: self, command: sql)
    }

    /// Starts `COPY ... TO STDOUT` (any format) and hands each chunk of raw COPY data to `body`
    /// as it arrives. Chunks are not aligned to rows. Memory is bounded by one chunk.
    /// Returns the number of rows the server reported.
    @discardableResult
    public func copyOut(_ sql: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        guard let start = PQexec(handle, sql) else { throw lostError() }
        let status = PQresultStatus(start)
        guard status == PGRES_COPY_OUT else {
            _ = try QueryResult.checked(start, connection: self, command: sql)
            throw PostgresError.protocolViolation("expected COPY OUT for: \(sql.prefix(100))")
        }
        PQclear(start)
        var bodyError: Error?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(handle, &buffer, 0)
            if n > 0, let buffer {
                if bodyError == nil {
                    do { try body(UnsafeRawBufferPointer(start: buffer, count: Int(n))) } catch { bodyError = error }
                }
                PQfreemem(buffer)
                // On a body error keep draining: the connection must reach a clean state.
            } else if n == -1 {
                break
            } else {
                throw lostError()
            }
        }
        var rows = 0
        var serverError: Error?
        while let result = PQgetResult(handle) {
            do {
                let r = try QueryResult.checked(result, connection: self, command: sql)
                rows = r.affectedRows
            } catch { serverError = error }
        }
        if let bodyError { throw bodyError }
        if let serverError { throw serverError }
        return rows
    }

    /// Quotes an identifier for SQL (`"my ""table"""`). Same rules as `quote_ident`, always quoting.
    public static func quoteIdentifier(_ name: String) -> String { SQLQuoting.identifier(name) }

    /// Quotes a string literal for SQL (`'it''s'`), with `E''` form when it holds backslashes.
    public static func quoteLiteral(_ value: String) -> String { SQLQuoting.literal(value) }

    func lostError() -> PostgresError {
        .connectionLost(message: settings.redact(String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines))
    }
}
