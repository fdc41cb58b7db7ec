import Foundation
import Freshet

/// `freshet COMMAND ...`: thin commands over the Freshet library.
let usage = """
usage: freshet COMMAND [options]
  run       replicate PostgreSQL into the store (see freshet run --help)
"""

var arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.isEmpty ? "help" : arguments.removeFirst()
do {
    let code: Int32
    switch command {
    case "run":
        if arguments.contains("--help") { print(RunCommand.usage); code = 0 } else { code = try RunCommand.run(arguments) }
    case "help", "--help", "-h":
        print(usage); code = 0
    default:
        throw UsageError("unknown command \(command)\n\(usage)")
    }
    exit(code)
} catch let error as UsageError {
    FileHandle.standardError.write(Data("freshet: \(error)\n".utf8))
    exit(2)
} catch let error as ConfigError {
    FileHandle.standardError.write(Data("freshet: \(error)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("freshet: \(error)\n".utf8))
    exit(1)
}
