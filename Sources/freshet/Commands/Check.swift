import Foundation
import Freshet

/// `freshet check`: the pre-flight of `freshet run`. One line per prerequisite with pass / warn / fail and the fix;
/// exit 0 / 1 / 2 for pass / warn / fail. Reads only: nothing is created on the source or on disk.
enum CheckCommand: FreshetCommand {
    static let name = "check"
    static let summary = "pre-flight: check the source and the store are ready for freshet run (changes nothing)"
    static let usage = """
    freshet check [--source URL] [--store DIR] [--config FILE] [--slot NAME] [--publication NAME] \
                  [--schema NAME]... [--table SCHEMA.TABLE]... [--exclude SCHEMA.TABLE]... [--json]
          exit status 0 pass, 1 warnings, 2 failures
    """
    static let options: Set<String> = ["config", "source", "store", "slot", "publication", "schema", "table", "exclude"]
    static let flags: Set<String> = ["json"]

    static func run(_ args: Arguments) throws {
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "unexpected argument \(args.positional[0])") }
        let report = Preflight.run(try RunCommand.configuration(args))
        if args.flag("json") {
            FileHandle.standardOutput.write(try report.json() + Data("\n".utf8))
        } else {
            print(report.text, terminator: "")
        }
        exit(report.exitCode)
    }
}
