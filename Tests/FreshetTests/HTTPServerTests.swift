#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import XCTest
@testable import Freshet

/// The operations endpoint's HTTP server under slow and hostile clients: concurrency, its connection bound, the read
/// timeout and the 16 KiB request head cap.
final class HTTPServerTests: XCTestCase {
    private var server: HTTPServer!

    override func setUpWithError() throws {
        server = HTTPServer()
        try server.start(address: "127.0.0.1:0") { r in .text(200, "ok \(r.path)") }
    }

    override func tearDown() {
        server.stop()
    }

    /// A connected socket that sends nothing (an idle client).
    private func idleConnection() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = server.port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw TestFailure("connect failed: errno \(errno)") }
        return fd
    }

    /// Everything the server sends on `fd` until it closes (or `timeout` passes).
    private func readAll(_ fd: Int32, timeout: Double) -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) >= 0 else { break }
            if pfd.revents == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    func testAnIdleConnectionDoesNotDelayOtherRequests() throws {
        let idle = try idleConnection()
        defer { close(idle) }
        Thread.sleep(forTimeInterval: 0.2)   // the server has accepted it and waits for its request
        let started = Date()
        let r = try HTTPClient.get("http://\(server.boundAddress)/healthz", timeout: 3)
        XCTAssertEqual(r.status, 200)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "an idle connection delayed /healthz")
    }

    func testConnectionsOverTheBoundGet503AndTheServerRecovers() throws {
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        for _ in 0..<HTTPServer.maxConnections { idle.append(try idleConnection()) }
        Thread.sleep(forTimeInterval: 0.3)
        let started = Date()
        let extra = try HTTPClient.get("http://\(server.boundAddress)/healthz", timeout: 3)
        XCTAssertEqual(extra.status, 503)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        idle.forEach { close($0) }
        idle = []
        // Closed clients free their slots at once.
        let deadline = Date().addingTimeInterval(3)
        var status = 0
        while Date() < deadline {
            status = try HTTPClient.get("http://\(server.boundAddress)/healthz", timeout: 3).status
            if status == 200 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(status, 200)
    }

    func testAClientThatSendsNothingGets408AfterTheReadTimeout() throws {
        let idle = try idleConnection()
        defer { close(idle) }
        let started = Date()
        let response = readAll(idle, timeout: HTTPServer.readTimeout + 3)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 408"), response)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), HTTPServer.readTimeout - 0.5)
    }

    func testARequestHeadOver16KiBIsRefusedEvenWhenComplete() throws {
        let fd = try idleConnection()
        defer { close(fd) }
        let request = "GET /metrics HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 20_000) + "\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        let response = readAll(fd, timeout: 5)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 431"), String(response.prefix(100)))
        // Just under the cap is served.
        let small = try idleConnection()
        defer { close(small) }
        let ok = "GET /metrics HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 15_000) + "\r\n\r\n"
        _ = ok.withCString { send(small, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        XCTAssertTrue(readAll(small, timeout: 5).hasPrefix("HTTP/1.1 200"))
    }

    func testStopDoesNotWaitForTheReadTimeoutOfAnIdleClient() throws {
        let idle = try idleConnection()
        defer { close(idle) }
        Thread.sleep(forTimeInterval: 0.2)
        let started = Date()
        server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5)
    }

    func testEndOfHead() {
        XCTAssertEqual(HTTPServer.endOfHead(Array("GET / HTTP/1.1\r\n\r\n".utf8)), 18)
        XCTAssertEqual(HTTPServer.endOfHead(Array("GET / HTTP/1.1\n\nrest".utf8)), 16)
        XCTAssertNil(HTTPServer.endOfHead(Array("GET / HTTP/1.1\r\nX: y\r\n".utf8)))
    }
}
