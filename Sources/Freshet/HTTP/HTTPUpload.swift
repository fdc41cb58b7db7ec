#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One HTTP request whose body is sent while it is being produced (`Transfer-Encoding: chunked`): each `write` goes
/// out as one chunk at once, so the server reads and processes the body while the next part is made (the ClickHouse
/// sink streams an INSERT this way). One request per connection; not for concurrent use.
final class HTTPUpload {
    private let url: String
    private let timeout: Double
    private var fd: Int32

    /// Connects and sends the request head (`method` with `headers` and `Transfer-Encoding: chunked`).
    init(_ method: String, _ url: String, headers: [(String, String)], timeout: Double) throws {
        self.url = url
        self.timeout = timeout
        let (fd, head) = try HTTPClient.open(method, url, headers: headers, timeout: timeout)
        self.fd = fd
        do { try HTTPClient.sendAll(fd, Array((head + "Transfer-Encoding: chunked\r\n\r\n").utf8), url: url) } catch {
            close(fd)
            throw error
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends `bytes` as one chunk (nothing for an empty array: an empty chunk would end the body).
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Sends `bytes` as one chunk (nothing when empty).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        try HTTPClient.sendAll(fd, Array((String(bytes.count, radix: 16) + "\r\n").utf8), url: url)
        try HTTPClient.sendAll(fd, bytes, url: url)
        try HTTPClient.sendAll(fd, [13, 10], url: url)
    }

    /// Ends the body and returns the response's status and body; the connection is closed.
    func finish() throws -> (status: Int, body: Data) {
        defer { close(fd); fd = -1 }
        try HTTPClient.sendAll(fd, Array("0\r\n\r\n".utf8), url: url)
        return try HTTPClient.readResponse(fd, url: url, timeout: timeout)
    }

    /// After a failed `write` (the server may have answered early, e.g. with an error, and closed): the response, if
    /// one can be read; the connection is closed.
    func earlyResponse() -> (status: Int, body: Data)? {
        defer { close(fd); fd = -1 }
        shutdown(fd, Int32(SHUT_WR))
        return try? HTTPClient.readResponse(fd, url: url, timeout: min(timeout, 5))
    }
}
