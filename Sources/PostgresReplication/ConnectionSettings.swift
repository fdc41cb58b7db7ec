import Foundation
import CLibPQ

/// A parsed connection target: a `postgresql://` URL or a libpq `key=value` string.
///
/// It keeps the parameters libpq understands, knows the password so it can scrub it from any message,
/// and renders a redacted form (`postgresql://user:***@host:port/db`) for logs, errors, status and metrics.
public struct ConnectionSettings: Sendable, CustomStringConvertible {
    /// libpq keyword → value, as parsed by `PQconninfoParse` (only keywords that were given).
    public private(set) var parameters: [(key: String, value: String)]

    /// Parses a URL or key/value connection string with libpq's own parser. A URL whose password holds an
    /// unencoded `@` (`postgresql://u:p@ss@host/db`) is read as the user meant it (password `p@ss`, host `host`);
    /// libpq alone would take `ss@host` as the host and print it.
    public init(_ connectionString: String) throws {
        let connectionString = ConnectionSettings.encodingAtSignsInUserInfo(connectionString)
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "unparseable"
            if let errorMessage { PQfreemem(errorMessage) }
            // libpq's parse errors quote the offending option, never the whole string; scrub anyway.
            // libpq's parse errors name the offending option, never the whole string (or the password).
            throw PostgresError.invalidConnectionString(message.trimmingTrailingNewlines)
        }
        defer { PQconninfoFree(options) }
        var parameters: [(String, String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parameters.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        self.parameters = parameters
    }

    /// The value of a libpq keyword (`host`, `port`, `dbname`, `user`, `password`, ...).
    public subscript(key: String) -> String? {
        parameters.last(where: { $0.key == key })?.value
    }

    /// Sets or replaces a libpq keyword.
    public mutating func set(_ key: String, _ value: String) {
        parameters.removeAll { $0.key == key }
        parameters.append((key, value))
    }

    /// In a `postgresql://` or `postgres://` URL, the user info ends at the last `@` before the query: every `@`
    /// before that one becomes `%40`. Left alone when that user info would contain a `/` (then the `@` is in the
    /// path, not in a password).
    static func encodingAtSignsInUserInfo(_ url: String) -> String {
        guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://"),
              let scheme = url.range(of: "://") else { return url }
        let beforeQuery = url[scheme.upperBound...].prefix(while: { $0 != "?" })
        guard let lastAt = beforeQuery.lastIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<lastAt]
        guard userInfo.contains("@"), !userInfo.contains("/") else { return url }
        return String(url[..<scheme.upperBound]) + String(userInfo).replacingAll("@", with: "%40") + String(url[lastAt...])
    }

    /// The password, if the string carried one (it may also come from PGPASSWORD or ~/.pgpass).
    var password: String? { self["password"] }

    /// `postgresql://user:***@host:port/dbname`: safe to print.
    public var redacted: String {
        var s = "postgresql://"
        if let user = self["user"] { s += user + (password != nil ? ":***@" : "@") }
        s += self["host"] ?? self["hostaddr"] ?? "localhost"
        if let port = self["port"] { s += ":" + port }
        s += "/" + (self["dbname"] ?? "")
        return s
    }

    public var description: String { redacted }

    /// Removes the password from a message that came from libpq or the server.
    public func redact(_ message: String) -> String {
        guard let password, !password.isEmpty else { return message }
        return message.replacingAll(password, with: "***")
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.last == "\n" || s.last == "\r" || s.last == " " { s.removeLast() }
        return s
    }

    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
