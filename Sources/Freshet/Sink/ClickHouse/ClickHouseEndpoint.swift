import Foundation

/// Where and as whom the sink talks to ClickHouse: parsed from `http://[user[:password]@]host:port/[?database=NAME]`,
/// with the password from `CLICKHOUSE_PASSWORD` when the URL has none.
public struct ClickHouseEndpoint: Sendable, Equatable {
    /// `http://host:port`, without credentials.
    public let base: String
    public let user: String
    let password: String
    /// The database the sink's tables go to.
    public let database: String

    /// Parses `settings.url`; `settings.database` overrides the URL's `database=`.
    public init(_ settings: ClickHouseSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let redacted = settings.redactedURL
        func bad(_ reason: String) -> ClickHouseError { .badURL(url: redacted, reason: reason) }
        let url = settings.url
        if url.hasPrefix("https://") { throw bad("https is not supported; use http:// on a trusted network or a local TLS proxy") }
        guard url.hasPrefix("http://") else { throw bad("expected http://[user[:password]@]host:port/[?database=NAME]") }
        var rest = Substring(url.dropFirst("http://".count))
        var query = Substring("")
        if let q = rest.firstIndex(of: "?") { query = rest[rest.index(after: q)...]; rest = rest[..<q] }
        var authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard path.isEmpty || path == "/" else { throw bad("no path expected after host:port (the database goes in ?database=)") }
        var user = "default", password: String? = nil
        if let at = authority.lastIndex(of: "@") {
            let info = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                user = String(info[..<colon]).removingPercentEncoding ?? String(info[..<colon])
                let p = info[info.index(after: colon)...]
                password = String(p).removingPercentEncoding ?? String(p)
            } else {
                user = String(info).removingPercentEncoding ?? String(info)
            }
        }
        guard !authority.isEmpty, authority.last != ":", !authority.hasPrefix(":") else { throw bad("missing host:port") }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else { throw bad("bad port") }
        }
        var database = "default"
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let value = kv.count == 2 ? (kv[1].removingPercentEncoding ?? kv[1]) : ""
            switch kv[0] {
            case "database": database = value
            case "user": user = value
            case "password": password = value
            default: throw bad("unknown parameter \(kv[0]) (allowed: database, user, password)")
            }
        }
        if let d = settings.database { database = d }
        guard !database.isEmpty, !user.isEmpty else { throw bad("empty database or user") }
        base = "http://" + authority
        self.user = user
        self.password = password ?? environment["CLICKHOUSE_PASSWORD"] ?? ""
        self.database = database
    }

    /// The `Authorization: Basic` header.
    var authorization: (String, String) {
        ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
    }
}
