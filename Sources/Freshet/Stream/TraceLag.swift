import Foundation
// TEMPORARY trace (not committed): per commit timestamps.
enum TraceLag {
    static let on = ProcessInfo.processInfo.environment["FRESHET_TRACE_LAG"] != nil
    nonisolated(unsafe) static var marks: [UInt64: [(String, Double)]] = [:]
    static let lock = NSLock()
    static func mark(_ upTo: UInt64, _ name: String) {
        guard on else { return }
        let t = Date().timeIntervalSince1970
        lock.withLock { marks[upTo, default: []].append((name, t)) }
    }
    static func emit(_ upTo: UInt64, oldestMicros: Int64?, n: Int, rows: Int) {
        guard on else { return }
        let now = Date().timeIntervalSince1970
        let m = lock.withLock { marks.removeValue(forKey: upTo) ?? [] }
        guard let o = oldestMicros else { return }
        let src = Double(o) / 1e6 + 946_684_800
        var s = "TRACE n=\(n) rows=\(rows)"
        for (k, t) in m { s += " \(k)=\(Int((t - src) * 1000))" }
        s += " done=\(Int((now - src) * 1000))\n"
        FileHandle.standardError.write(s.data(using: .utf8)!)
    }
}
