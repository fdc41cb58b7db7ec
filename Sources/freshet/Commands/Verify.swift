import ColumnStore
import Foundation

/// `freshet verify`: re-checks every manifest and every part's size and checksum.
enum Verify: FreshetCommand {
    static let name = "verify"
    static let summary = "check every manifest and part checksum"
    static let usage = "freshet verify --store DIR"
    static let options: Set<String> = ["store"]

    struct Failed: Error, CustomStringConvertible { let description: String }

    static func run(_ args: Arguments) throws {
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "verify takes no TABLE") }
        let store = try Store.open(at: try args.storeURL(), options: readOnlyOptions())
        let problems = store.verify()
        for p in problems { FileHandle.standardError.write(Data("\(p)\n".utf8)) }
        guard problems.isEmpty else { throw Failed(description: "\(problems.count) problem(s)") }
        let parts = try store.tableNames.reduce(0) { $0 + (try store.manifest($1).parts.count) }
        print("ok: \(store.tableNames.count) tables, \(parts) parts, checkpoint \(store.checkpointLSN)")
    }
}
