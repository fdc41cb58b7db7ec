#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Why the HTTP endpoint could not start.
public enum HTTPServerError: Error, CustomStringConvertible, Equatable {
    case invalidAddress(String)
    case resolve(address: String, reason: String)
    case bind(address: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidAddress(a): return "metrics address \(a): expected HOST:PORT (e.g. 127.0.0.1:9187, [::1]:9187) or off"
        case let .resolve(a, r): return "metrics address \(a): cannot resolve: \(r)"
        case let .bind(a, r): return "metrics address \(a): cannot listen: \(r) (choose another with --metrics HOST:PORT, or --metrics off)"
        }
    }
}

/// A minimal HTTP/1.1 server for the operations endpoints: one request per connection (`Connection: close`).
/// An accept thread hands each connection to a thread of its own, at most `maxConnections` at once (more get an
/// immediate 503), so an idle or slow client never delays another. GET and HEAD only; each request head is capped
/// at `maxRequestBytes` (431 beyond) and must arrive within `readTimeout` seconds (408 after).
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    /// Largest request head accepted (bytes).
    public static let maxRequestBytes = 16 * 1024
    /// Time a client gets to send its request.
    public static let readTimeout: Double = 5
    /// Connections answered at the same time; one more is told 503 at once and closed.
    public static let maxConnections = 8

    private var handler: Handler = { _ in .text(503, "starting") }
    private var listenFD: Int32 = -1
    private let stopped = AtomicFlag()
    private let done = DispatchSemaphore(value: 0)
    /// Connections being answered (each on its own thread).
    private let active = DispatchGroup()
    private let activeLock = NSLock()
    private var activeCount = 0
    /// The bound address, `host:port` (the real port when 0 was asked for).
    public private(set) var boundAddress = ""
    /// The bound port.
    public private(set) var port: UInt16 = 0

    public init() {}

    /// Splits `HOST:PORT` / `[IPv6]:PORT`.
    public static func parseAddress(_ address: String) throws -> (host: String, port: UInt16) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw HTTPServerError.invalidAddress(address)
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw HTTPServerError.invalidAddress(address) }
        return (host, port)
    }

    /// Binds `address` (`HOST:PORT`; port 0 picks a free one) and serves `handler` on a background thread.
    public func start(address: String, handler: @escaping Handler) throws {
        self.handler = handler
        let (host, requestedPort) = try HTTPServer.parseAddress(address)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(requestedPort), &hints, &list)
        guard rc == 0, let first = list else {
            throw HTTPServerError.resolve(address: address, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let ai = candidate {
            candidate = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 && listen(fd, 16) == 0 {
                listenFD = fd
                break
            }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        guard listenFD >= 0 else { throw HTTPServerError.bind(address: address, reason: lastError) }
        port = HTTPServer.localPort(listenFD) ?? requestedPort
        boundAddress = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let thread = Thread { [self] in
            defer { done.signal() }
            serve()
        }
        thread.name = "freshet-http"
        thread.start()
    }

    /// Stops accepting, waits for the serving thread and closes the socket.
    public func stop() {
        guard listenFD >= 0, !stopped.isSet else { return }
        stopped.set()
        done.wait()
        // A connection still reading its request ends within a second; one being answered within its send timeout.
        active.wait()
        close(listenFD)
        listenFD = -1
    }

    deinit { stop() }

    private static func localPort(_ fd: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) } }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) } }
        default:
            return nil
        }
    }

    private func serve() {
        while !stopped.isSet {
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) > 0 else { continue }
            let client = accept(listenFD, nil, nil)
            guard client >= 0 else { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            // A client that stops reading must not hang its thread.
            var timeout = timeval(tv_sec: Int(HTTPServer.readTimeout), tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            activeLock.lock()
            let admitted = activeCount < HTTPServer.maxConnections
            if admitted { activeCount += 1 }
            activeLock.unlock()
            guard admitted else {
                send(client, .text(503, "busy: \(HTTPServer.maxConnections) connections open"))
                close(client)
                continue
            }
            active.enter()
            let thread = Thread { [self] in
                answer(client)
                close(client)
                activeLock.lock(); activeCount -= 1; activeLock.unlock()
                active.leave()
            }
            thread.name = "freshet-http-conn"
            thread.start()
        }
    }

    /// Reads one request head (bounded in size and time), answers it, and returns.
    private func answer(_ fd: Int32) {
        var head = [UInt8]()
        let deadline = Date().addingTimeInterval(HTTPServer.readTimeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = HTTPServer.endOfHead(head) {
                if end > HTTPServer.maxRequestBytes { return send(fd, .text(431, "request head over 16 KiB")) }
                break
            }
            if head.count > HTTPServer.maxRequestBytes { return send(fd, .text(431, "request head over 16 KiB")) }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return send(fd, .text(408, "request timeout")) }
            if stopped.isSet { return send(fd, .text(503, "stopping")) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(min(left, 1) * 1000) + 1) >= 0 else { return }
            if pfd.revents == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head.append(contentsOf: buffer[0..<n])
        }
        guard let request = HTTPRequest.parse(head: String(decoding: head, as: UTF8.self)) else {
            return send(fd, .text(400, "bad request"))
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return send(fd, .text(405, "method not allowed: only GET"))
        }
        send(fd, handler(request), includeBody: request.method == "GET")
    }

    /// The length of the request head (through its blank line) when `bytes` holds all of it.
    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        // Tolerate bare LF line ends from hand-written clients.
        for i in 0..<(bytes.count - 1) where bytes[i] == 10 {
            if bytes[i + 1] == 10 { return i + 2 }
            if bytes[i + 1] == 13 && i + 2 < bytes.count && bytes[i + 2] == 10 { return i + 3 }
        }
        return nil
    }

    private func send(_ fd: Int32, _ response: HTTPResponse, includeBody: Bool = true) {
        let data = response.serialized(includeBody: includeBody)
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            let deadline = Date().addingTimeInterval(HTTPServer.readTimeout)
            while offset < raw.count && Date() < deadline {
                let n = Glibc.send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n > 0 { offset += n; continue }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                return
            }
        }
        shutdown(fd, Int32(SHUT_WR))
    }
}
