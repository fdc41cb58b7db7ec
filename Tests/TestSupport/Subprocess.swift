import Foundation

/// The result of a finished child process.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs external programs for tests: the independent Python readers (DuckDB, pyarrow), psql, helper executables.
public enum Subprocess {
    /// Runs `executable` with `arguments`, optional stdin text and extra environment; waits for it to finish.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], stdin: String? = nil,
                           environment: [String: String] = [:]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    /// Runs a Python script with the test venv's interpreter (duckdb and pyarrow installed); `args` become sys.argv[1...].
    /// Throws when the script exits non-zero, with its stderr in the message.
    public static func python(_ script: String, _ args: [String] = []) throws -> String {
        let py = try TestEnvironment.python()
        let result = try run(py, ["-c", script] + args)
        guard result.status == 0 else {
            throw SubprocessError.failed(command: "python", status: result.status, stderr: result.stderr)
        }
        return result.stdout
    }
}

public enum SubprocessError: Error, CustomStringConvertible {
    case failed(command: String, status: Int32, stderr: String)
    public var description: String {
        switch self {
        case let .failed(command, status, stderr): return "\(command) exited \(status): \(stderr)"
        }
    }
}

private final class DataBox: @unchecked Sendable { var data = Data() }
