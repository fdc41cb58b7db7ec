import Foundation
import XCTest

/// Where the test suite finds its real helpers: the sandbox PostgreSQL started by `Tools/test`
/// (`FRESHET_TEST_PG`) and the Python interpreter with DuckDB and pyarrow (`FRESHET_PYTHON`).
///
/// Outside CI a missing helper skips the test; with `CI=true` it fails, so CI can never go green
/// by skipping the integration tests.
public enum TestEnvironment {
    /// True when running in CI (`CI=true`).
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"].map { $0 == "true" || $0 == "1" } ?? false
    }

    /// The sandbox PostgreSQL URL, or a skip (a failure in CI) when `Tools/test` did not provide one.
    public static func postgresURL(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if let url = ProcessInfo.processInfo.environment["FRESHET_TEST_PG"], !url.isEmpty { return url }
        return try missing("FRESHET_TEST_PG is not set: run the tests through Tools/test", file: file, line: line)
    }

    /// The sandbox ClickHouse URL (`http://freshet:PASSWORD@127.0.0.1:PORT/`, from `Tools/clickhouse-sandbox`), or a
    /// skip (a failure in CI) when `Tools/test` did not provide one.
    public static func clickhouseURL(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if let url = ProcessInfo.processInfo.environment["FRESHET_TEST_CLICKHOUSE"], !url.isEmpty { return url }
        return try missing("FRESHET_TEST_CLICKHOUSE is not set: run the tests through Tools/test", file: file, line: line)
    }

    /// The Python interpreter that has `duckdb` and `pyarrow`.
    public static func python(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if let py = ProcessInfo.processInfo.environment["FRESHET_PYTHON"], !py.isEmpty { return py }
        return try missing("FRESHET_PYTHON is not set: run the tests through Tools/test", file: file, line: line)
    }

    /// The repository's `Tools/` directory (for pg-sandbox restarts and helper scripts).
    public static var toolsDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["FRESHET_TOOLS"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tools")
    }

    /// An external program found on PATH (chromium, promtool, prometheus, …), or a skip (a failure in CI):
    /// `Tools/install-deps` installs them.
    public static func executable(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/bin:/usr/sbin:/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return try missing("\(name) is not installed: run Tools/install-deps", file: file, line: line)
    }

    private static func missing(_ why: String, file: StaticString, line: UInt) throws -> String {
        try unavailable(why, file: file, line: line)
    }

    /// A test that cannot run here: a skip outside CI, a failure with `CI=true`. Always throws.
    public static func unavailable(_ why: String, file: StaticString = #filePath, line: UInt = #line) throws -> Never {
        if isCI {
            XCTFail("CI=true and " + why, file: file, line: line)
            throw XCTSkip("failed: " + why)
        }
        throw XCTSkip(why)
    }
}

extension TestEnvironment {
    /// The directory holding the built products (`freshet`, helper executables): the test bundle's directory.
    public static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// A built executable of this package, e.g. `freshet`. `FRESHET_BIN` (set by Tools/test to a release build)
    /// overrides the path of `freshet`, so the end-to-end tests run the optimised binary.
    public static func product(_ name: String) -> String {
        if name == "freshet", let bin = ProcessInfo.processInfo.environment["FRESHET_BIN"], !bin.isEmpty { return bin }
        return productsDirectory.appendingPathComponent(name).path
    }
}

/// A test that ran but did not get what it waited for (a timeout, a missing log line): thrown, it fails the test
/// (never a skip), with `description` as the message.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
