#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Why a request to a replicator's endpoint failed.
public enum HTTPClientError: Error, CustomStringConvertible, Equatable {
    case invalidURL(String)
    case connect(url: String, reason: String)
    case io(url: String, reason: String)
    case badResponse(url: String)

    public var description: String {
        switch self {
        case let .invalidURL(u): return "\(u): expected http://HOST:PORT[/path]"
        case let .connect(u, r): return "cannot reach a replicator at \(u): \(r) (is `freshet run` running with its metrics endpoint there?)"
        case let .io(u, r): return "\(u): \(r)"
        case let .badResponse(u): return "\(u): not an HTTP response"
        }
    }
}

/// A minimal HTTP/1.1 client over a plain socket, enough for `freshet status` and the ClickHouse sink (no TLS, no
/// redirects, one request per connection).
public enum HTTPClient {
    /// GETs `url` (`http://host:port/path`); returns the status code and body. Connects and reads within `timeout`.
    public static func get(_ url: String, timeout: Double = 5) throws -> (status: Int, body: Data) {
        let r = try request("GET", url, timeout: timeout)
        return (r.status, r.body)
    }

    /// Sends one request to `url` (`http://host:port/path?query`) with `headers` and `body` (a POST carries
    /// `Content-Length`), and returns the status code and the body (chunked bodies decoded). Each send and read waits
    /// at most `timeout` seconds.
    public static func request(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8] = [],
                               timeout: Double = 5) throws -> (status: Int, body: Data) {
        let (fd, head) = try open(method, url, headers: headers, timeout: timeout)
        defer { close(fd) }
        var text = head
        if method != "GET" || !body.isEmpty { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        try sendAll(fd, Array(text.utf8), url: url)
        if !body.isEmpty { try sendAll(fd, body, url: url) }
        return try readResponse(fd, url: url, timeout: timeout)
    }

    /// Connects to `url`'s host with send and read timeouts; returns the socket and the request head without its
    /// final empty line (request line, Host, Connection: close, User-Agent, `headers`).
    static func open(_ method: String, _ url: String, headers: [(String, String)], timeout: Double) throws -> (Int32, String) {
        guard url.hasPrefix("http://") else { throw HTTPClientError.invalidURL(url) }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = String(rest[..<slash])
        var path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if path.hasPrefix("?") { path = "/" + path }
        let (host, port) = (try? HTTPServer.parseAddress(authority)) ?? (authority, 80)
        guard !host.isEmpty else { throw HTTPClientError.invalidURL(url) }

        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { throw HTTPClientError.connect(url: url, reason: String(cString: gai_strerror(rc))) }
        defer { freeaddrinfo(list) }
        var fd: Int32 = -1
        var reason = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let ai = candidate, fd < 0 {
            candidate = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            guard s >= 0 else { reason = String(cString: strerror(errno)); continue }
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { fd = s } else {
                reason = String(cString: strerror(errno))
                close(s)
            }
        }
        guard fd >= 0 else { throw HTTPClientError.connect(url: url, reason: reason) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\nUser-Agent: freshet\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return (fd, head)
    }

    /// Reads the whole response (the server closes the connection) and returns its status and decoded body.
    static func readResponse(_ fd: Int32, url: String, timeout: Double) throws -> (status: Int, body: Data) {
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR && Date() < deadline { continue }
                throw HTTPClientError.io(url: url, reason: "read: \(String(cString: strerror(errno)))")
            }
            response.append(contentsOf: buffer[0..<n])
        }
        guard let end = response.range(of: Data("\r\n\r\n".utf8)) else { throw HTTPClientError.badResponse(url: url) }
        let headText = String(decoding: response[..<end.lowerBound], as: UTF8.self)
        let statusLine = headText.prefix(while: { $0 != "\r" })
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else {
            throw HTTPClientError.badResponse(url: url)
        }
        let payload = Data(response[end.upperBound...])
        let chunked = headText.lowercased().contains("\r\ntransfer-encoding: chunked")
        return (status, chunked ? try dechunk(payload, url: url) : payload)
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8], url: String) throws {
        try bytes.withUnsafeBytes { try sendAll(fd, $0, url: url) }
    }

    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, url: String) throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HTTPClientError.io(url: url, reason: "send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Decodes a `Transfer-Encoding: chunked` body.
    static func dechunk(_ data: Data, url: String) throws -> Data {
        let bytes = [UInt8](data)
        var out = Data()
        var i = 0
        while i < bytes.count {
            guard let lineEnd = (i..<bytes.count - 1).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else {
                throw HTTPClientError.badResponse(url: url)
            }
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw HTTPClientError.badResponse(url: url)
            }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { throw HTTPClientError.badResponse(url: url) }
            out.append(contentsOf: bytes[start..<start + size])
            i = start + size + 2
        }
        return out
    }
}
