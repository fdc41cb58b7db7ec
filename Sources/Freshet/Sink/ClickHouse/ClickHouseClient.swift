import Foundation

/// Statements and RowBinary inserts over ClickHouse's HTTP interface: one POST per statement, with
/// `Content-Length`, basic authentication, and the database named in the URL (or not, to create it).
public struct ClickHouseClient: Sendable {
    public let endpoint: ClickHouseEndpoint
    /// Seconds each send and read may wait.
    public var timeout: Double = 60
    /// ClickHouse settings sent with every request, as URL parameters (name, value).
    public var settings: [(name: String, value: String)] = []

    public init(endpoint: ClickHouseEndpoint) { self.endpoint = endpoint }

    private static let queryAllowed: CharacterSet = {
        var s = CharacterSet.alphanumerics
        s.insert(charactersIn: "-._~")
        return s
    }()

    func url(query: String?, inDatabase: Bool) -> String {
        var params: [String] = []
        if inDatabase { params.append("database=" + (endpoint.database.addingPercentEncoding(withAllowedCharacters: Self.queryAllowed) ?? "")) }
        for s in settings { params.append(s.name + "=" + (s.value.addingPercentEncoding(withAllowedCharacters: Self.queryAllowed) ?? "")) }
        if let query { params.append("query=" + (query.addingPercentEncoding(withAllowedCharacters: Self.queryAllowed) ?? "")) }
        return endpoint.base + "/" + (params.isEmpty ? "" : "?" + params.joined(separator: "&"))
    }

    /// Runs one statement and returns the answer's text. `inDatabase: false` leaves the database out of the URL
    /// (ClickHouse answers 404 to everything while the URL's database is missing).
    ///
    /// A statement up to 4 KiB goes in the URL with an empty body: a server that refuses the request at once (wrong
    /// password) and closes the connection with body bytes unread would reset it, losing its answer.
    @discardableResult
    public func execute(_ sql: String, inDatabase: Bool = true) throws -> String {
        let short = sql.utf8.count <= 4096
        let body = try send(url(query: short ? sql : nil, inDatabase: inDatabase), body: short ? [] : Array(sql.utf8), statement: sql)
        return String(decoding: body, as: UTF8.self)
    }

    /// Inserts `rows` (RowBinary for `columns`, in order) into `table` of the sink's database.
    public func insertRowBinary(table: String, columns: [String], rows: [UInt8]) throws {
        let sql = Self.insertStatement(database: endpoint.database, table: table, columns: columns)
        _ = try send(url(query: sql, inDatabase: true), body: rows, statement: sql)
    }

    /// Starts an INSERT of RowBinary rows whose bytes are sent as they are encoded (see `ClickHouseInsert`).
    func beginInsert(table: String, columns: [String]) throws -> ClickHouseInsert {
        try ClickHouseInsert(client: self, statement: Self.insertStatement(database: endpoint.database, table: table, columns: columns))
    }

    static func insertStatement(database: String, table: String, columns: [String]) -> String {
        "INSERT INTO \(ClickHouseSQL.table(database, table)) (\(columns.map(ClickHouseSQL.identifier).joined(separator: ", "))) FORMAT RowBinary"
    }

    private func send(_ url: String, body: [UInt8], statement: String) throws -> Data {
        let response: (status: Int, body: Data)
        do {
            response = try HTTPClient.request("POST", url, headers: [endpoint.authorization], body: body, timeout: timeout)
        } catch let e as HTTPClientError {
            throw transportError(e)
        }
        return try checked(response, statement: statement)
    }

    /// The sink's error for a failed connection, send or read.
    func transportError(_ e: HTTPClientError) -> ClickHouseError {
        switch e {
        case let .connect(_, reason), let .io(_, reason): return .unreachable(url: endpoint.base, reason: reason)
        case .badResponse: return .unreachable(url: endpoint.base, reason: "connection closed before an HTTP answer")
        case let .invalidURL(u): return .badURL(url: u, reason: "not an http:// URL")
        }
    }

    /// The body of a 200 answer; else the error it means (credentials, privilege, or the server's message).
    func checked(_ response: (status: Int, body: Data), statement: String) throws -> Data {
        guard response.status == 200 else {
            let first = ClickHouseSQL.firstLine(statement)
            let message = String(decoding: response.body.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            // Code 193 wrong password, 192 unknown user, 516 authentication failed (newer servers).
            if response.status == 401 || message.contains("Code: 193") || message.contains("Code: 192") || message.contains("Code: 516") {
                throw ClickHouseError.authentication(url: endpoint.base, message: message)
            }
            // Code 164 readonly, 497 access denied (newer servers).
            if message.contains("Code: 164") || message.contains("Code: 497") {
                throw ClickHouseError.privilege(statement: first, message: message)
            }
            throw ClickHouseError.server(status: response.status, statement: first, message: message)
        }
        return response.body
    }
}
