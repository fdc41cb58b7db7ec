import Foundation
import Freshet

/// `freshet resync TABLE... | --all`: a full copy of tables while streaming goes on.
enum ResyncCommand: FreshetCommand {
    static let name = "resync"
    static let summary = "copy tables afresh while streaming goes on (online; readers switch atomically)"
    static let usage = """
    freshet resync SCHEMA.TABLE... | --all  [--source URL] [--slot NAME] [--wait [--status-url http://HOST:PORT | --store DIR]]
          --slot: only the replicator of that slot acts (several replicators on one database all receive the request)
          --wait follows the request on the replicator's /status (default http://127.0.0.1:9187), or in the store's
          resync.json with --store (or FRESHET_STORE)
    """
    static let options: Set<String> = ["source", "store", "status-url", "slot"]
    static let flags: Set<String> = ["all", "wait"]

    static func run(_ args: Arguments) throws {
        let all = args.flag("all")
        let tables = try args.positional.map(Arguments.tableName)
        guard all != !tables.isEmpty else { throw Arguments.UsageError(description: "name tables or give --all (not both)") }
        guard let source = args.value("source") ?? ProcessInfo.processInfo.environment["FRESHET_SOURCE"] else {
            throw Arguments.UsageError(description: "--source URL (or FRESHET_SOURCE) is required")
        }
        if args.value("status-url") != nil && args.value("store") != nil {
            throw Arguments.UsageError(description: "--wait follows either --status-url or --store, not both")
        }
        let request = try ResyncTrigger.request(source: source, tables: tables, all: all, slot: args.value("slot"))
        print("resync requested: id \(request.id) for \(all ? "all tables" : tables.joined(separator: ", "))")
        print("the running freshet picks it up through the WAL (or the next `freshet run` does)")
        guard args.flag("wait") else { return }
        let follow: () throws -> StatusReport.Resync?
        if args.value("status-url") == nil, let store = try? args.storeURL().path {
            follow = { ResyncTrigger.ledger(store: store).entry(request.id).map(StatusReport.Resync.init) }
        } else {
            follow = try statusFollower(args.value("status-url") ?? "http://127.0.0.1:9187", id: request.id)
        }
        try wait(follow)
    }

    /// Reads the request's progress from `/status`.
    static func statusFollower(_ base: String, id: String) throws -> () throws -> StatusReport.Resync? {
        var url = base
        while url.hasSuffix("/") { url.removeLast() }
        if !url.hasSuffix("/status") { url += "/status" }
        let target = url
        return {
            guard let resyncs = try StatusCommand.fetch(target).report.resyncs else {
                throw ResyncFailed(message: "\(target) does not report resync progress (an older freshet): use --store")
            }
            return resyncs.first { $0.id == id }
        }
    }

    /// Prints each change of the request's progress until it is done (returns) or failed (throws). An endpoint that
    /// does not answer (the replicator restarting) is retried for up to two minutes.
    static func wait(_ follow: () throws -> StatusReport.Resync?) throws {
        var last = ""
        let start = Date()
        var unreachableSince: Date?
        while true {
            let line: String
            do {
                let entry = try follow()
                unreachableSince = nil
                switch entry?.state {
                case nil: line = "waiting for the replicator to receive the request …"
                case "copying"?:
                    let rate = Double(entry?.rowsCopied ?? 0) / max(0.001, Date().timeIntervalSince(start))
                    line = "\(entry?.progress ?? ""), \(Int(rate)) rows/s"
                case "done"?:
                    print("done: \(entry?.message ?? "")")
                    return
                case "failed"?:
                    throw ResyncFailed(message: entry?.message ?? "unknown error")
                default: line = entry?.progress ?? ""
                }
            } catch let error as ResyncFailed {
                throw error
            } catch {
                let since = unreachableSince ?? Date()
                unreachableSince = since
                guard Date().timeIntervalSince(since) < 120 else { throw error }
                line = "not answering, retrying: \(error)"
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
