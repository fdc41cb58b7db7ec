import Foundation

/// A `freshet` child process for end-to-end tests: output goes to a log file (never a pipe the child could block on).
public final class FreshetProcess: @unchecked Sendable {
    public let process = Process()
    public let logPath: String

    /// Starts `freshet` with `arguments`.
    public init(_ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.product("freshet"))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends a signal (SIGKILL, SIGTERM, SIGINT).
    public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Kills the process (SIGKILL) and reaps it, waiting at most 10 s: a test's cleanup, whatever state it is in.
    public func killAndWait() {
        signal(SIGKILL)
        _ = wait(timeout: 10)
    }

    /// Waits up to `timeout` seconds for the process to exit; returns its exit status, or nil if still running.
    @discardableResult
    public func wait(timeout: Double) -> Int32? {
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < end { usleep(20_000) }
        if process.isRunning { return nil }
        return process.terminationStatus
    }

    /// Peak resident set size so far (VmHWM), in bytes; nil when the process is gone.
    public var peakRSS: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return nil
    }

    /// The log so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit { if process.isRunning { signal(SIGKILL); process.waitUntilExit() } }
}

/// Runs freshet as a one-shot command (scan, sql, status ...) and returns its result.
public func runFreshet(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    try Subprocess.run(TestEnvironment.product("freshet"), arguments, environment: environment)
}
