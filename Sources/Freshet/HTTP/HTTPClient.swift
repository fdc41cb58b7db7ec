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

/// A minimal HTTP/1.1 GET over a plain socket, enough for `freshet status` (no TLS, no redirects).
public enum HTTPClient {
    /// GETs `url` (`http://host:port/path`); returns the status code and body. Connects and reads within `timeout`.
    public static func get(_ url: String, timeout: Double = 5) throws -> (status: Int, body: Data) {
        guard url.hasPrefix("http://") else { throw HTTPClientError.invalidURL(url) }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
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
        defer { close(fd) }

        let request = Data("GET \(path) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\nUser-Agent: freshet\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { throw HTTPClientError.io(url: url, reason: "send: \(String(cString: strerror(errno)))") }
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
        let statusLine = String(decoding: response[..<end.lowerBound].prefix(while: { $0 != 13 }), as: UTF8.self)
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else {
            throw HTTPClientError.badResponse(url: url)
        }
        return (status, Data(response[end.upperBound...]))
    }
}
