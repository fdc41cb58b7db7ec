import Foundation
import Freshet

/// `freshet resync TABLE... | --all`: a full copy of tables while streaming goes on.
enum ResyncCommand: FreshetCommand {
    static let name = "resync"
    static let summary = "copy tables afresh while streaming goes on (online; readers switch atomically)"
    static let usage = "freshet resync SCHEMA.TABLE... | --all  [--source URL] [--store DIR --wait]"
    static let options: Set<String> = ["source", "store"]
    static let flags: Set<String> = ["all", "wait"]

    static func run(_ args: Arguments) throws {
        let all = args.flag("all")
        let tables = try args.positional.map(Arguments.tableName)
        guard all != !tables.isEmpty else { throw Arguments.UsageError(description: "name tables or give --all (not both)") }
        guard let source = args.value("source") ?? ProcessInfo.processInfo.environment["FRESHET_SOURCE"] else {
            throw Arguments.UsageError(description: "--source URL (or FRESHET_SOURCE) is required")
        }
        let request = try ResyncTrigger.request(source: source, tables: tables, all: all)
        print("resync requested: id \(request.id) for \(all ? "all tables" : tables.joined(separator: ", "))")
        print("the running freshet picks it up through the WAL (or the next `freshet run` does)")
        guard args.flag("wait") else { return }
        let store = try args.storeURL().path
        var last = ""
        let start = Date()
        while true {
            let entry = ResyncTrigger.ledger(store: store).entry(request.id)
            let line: String
            switch entry?.state {
            case nil: line = "waiting for the replicator to receive the request …"
            case .pending?: line = "queued"
            case .copying?:
                let e = entry!
                let rate = Double(e.rowsCopied) / max(0.001, Date().timeIntervalSince(start))
                let pct = e.estimatedRows > 0 ? " (\(min(100, e.rowsCopied * 100 / e.estimatedRows))%)" : ""
                line = "copying at \(e.snapshotLSN ?? "?"): \(e.rowsCopied) rows\(pct), \(Int(rate)) rows/s"
            case .done?:
                print("done: \(entry?.message ?? "")")
                return
            case .failed?:
                throw ResyncFailed(message: entry?.message ?? "unknown error")
            }
            if line != last { print(line); last = line }
            usleep(500_000)
        }
    }
}

struct ResyncFailed: Error, CustomStringConvertible {
    let message: String
    var description: String { "resync failed: \(message)" }
}
