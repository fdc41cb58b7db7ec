import Foundation
import Freshet

/// `freshet COMMAND [arguments]`. To add a command, write a `FreshetCommand` in Commands/ and list it here.
let commands: [any FreshetCommand.Type] = [RunCommand.self, CheckCommand.self, ResyncCommand.self, Scan.self, SQL.self, Verify.self, Compact.self,
                                            StatusCommand.self, DropCommand.self]

func usage(_ commands: [any FreshetCommand.Type]) -> String {
    "usage: freshet COMMAND [options]\ncommands:\n"
        + commands.map { "  \($0.name.padding(toLength: 9, withPad: " ", startingAt: 0)) \($0.summary)\n    \($0.usage)" }
            .joined(separator: "\n")
}

var argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first, let command = commands.first(where: { $0.name == name }) else {
    if let first = argv.first, first == "--help" || first == "-h" || first == "help" {
        print(usage(commands))
        exit(0)
    }
    FileHandle.standardError.write(Data(((argv.first.map { "freshet: unknown command \($0)\n" } ?? "") + usage(commands) + "\n").utf8))
    exit(2)
}
// `--help` or `-h` anywhere after the command prints that command's usage and exits 0.
if argv.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
    print("usage: \(command.usage)\n\n\(command.summary)")
    exit(0)
}
do {
    let args = try Arguments(Array(argv.dropFirst()), options: command.options, flags: command.flags)
    try command.run(args)
} catch let error as Arguments.UsageError {
    FileHandle.standardError.write(Data("freshet \(name): \(error)\nusage: \(command.usage)\n".utf8))
    exit(2)
} catch let error as ConfigError {
    FileHandle.standardError.write(Data("freshet \(name): \(error)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("freshet \(name): \(error)\n".utf8))
    exit(1)
}
