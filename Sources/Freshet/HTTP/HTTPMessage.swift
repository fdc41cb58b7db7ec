import Foundation

/// A parsed HTTP/1.1 request line (headers and body are not used by Freshet's endpoints).
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The path without the query string, e.g. `/metrics`.
    public var path: String
    /// The raw query string after `?` (empty when none).
    public var query: String

    public init(method: String, path: String, query: String = "") {
        self.method = method; self.path = path; self.query = query
    }

    /// Parses the request line of `head` (`GET /metrics?x=1 HTTP/1.1`); nil when it is malformed.
    public static func parse(head: String) -> HTTPRequest? {
        // By bytes: in a Swift String "\r\n" is one Character.
        let line = String(decoding: head.utf8.prefix(while: { $0 != 10 && $0 != 13 }), as: UTF8.self)
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), !parts[0].isEmpty, parts[1].hasPrefix("/") else { return nil }
        let target = parts[1]
        if let q = target.firstIndex(of: "?") {
            return HTTPRequest(method: String(parts[0]), path: String(target[..<q]), query: String(target[target.index(after: q)...]))
        }
        return HTTPRequest(method: String(parts[0]), path: String(target))
    }
}

/// A complete response: status, content type and body; sent with `Connection: close`.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: Data

    public init(status: Int, contentType: String, body: Data) {
        self.status = status; self.contentType = contentType; self.body = body
    }

    /// A `text/plain` response; a trailing newline is added when missing.
    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// The bytes on the wire; `includeBody` is false for HEAD.
    func serialized(includeBody: Bool = true) -> Data {
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        if status == 405 { head += "Allow: GET, HEAD\r\n" }
        head += "\r\n"
        var data = Data(head.utf8)
        if includeBody { data.append(body) }
        return data
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status \(status)"
        }
    }
}
