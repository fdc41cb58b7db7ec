import Foundation
import Freshet

/// `freshet status`: what a running replicator reports on its `/status` endpoint, as a compact table or JSON.
enum StatusCommand: FreshetCommand {
    static let name = "status"
    static let summary = "show a running replicator's tables, lag and slot (from its /status endpoint)"
    static let usage = "freshet status [--url http://127.0.0.1:9187] [--json] [--watch SECONDS]"
    static let options: Set<String> = ["url", "watch"]
    static let flags: Set<String> = ["json"]

    struct Failed: Error, CustomStringConvertible { let description: String }

    static func run(_ args: Arguments) throws {
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "unexpected argument \(args.positional[0])") }
        var base = args.value("url") ?? "http://127.0.0.1:9187"
        while base.hasSuffix("/") { base.removeLast() }
        let url = base.hasSuffix("/status") ? base : base + "/status"
        let json = args.flag("json")
        guard let watch = try args.integer("watch") else {
            print(try render(fetch(url), json: json), terminator: "")
            return
        }
        while true {
            let text: String
            do { text = try render(fetch(url), json: json) } catch { text = "freshet status: \(error)\n" }
            // Clear the screen and redraw.
            FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + text).utf8))
            sleep(UInt32(max(1, watch)))
        }
    }

    static func fetch(_ url: String) throws -> (data: Data, report: StatusReport) {
        let (status, body) = try HTTPClient.get(url)
        guard status == 200 else {
            throw Failed(description: "\(url) answered \(status): \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        do {
            return (body, try JSONDecoder().decode(StatusReport.self, from: body))
        } catch {
            throw Failed(description: "\(url) did not return freshet status JSON: \(error)")
        }
    }

    static func render(_ fetched: (data: Data, report: StatusReport), json: Bool) -> String {
        json ? String(decoding: fetched.data, as: UTF8.self) + "\n" : StatusTable.render(fetched.report)
    }
}
