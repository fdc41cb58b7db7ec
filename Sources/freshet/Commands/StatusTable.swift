import Foundation
import Freshet

/// The human rendering of a `StatusReport`: a header with state, lag, slot and LSN, then one line per table.
enum StatusTable {
    static func render(_ r: StatusReport) -> String {
        var out = "state \(r.state)\(r.stateReason.isEmpty ? "" : " (\(r.stateReason))")  health \(r.healthy ? "ok" : r.health)\n"
        out += "lag \(seconds(r.lagSeconds))  last commit \(r.lastCommit ?? "-")  committed LSN \(r.committedLSN)  "
            + "WAL behind \(bytes(Int64(clamping: r.walBehindBytes)))\n"
        if r.slot.exists {
            out += "slot \(r.slot.name): \(r.slot.active == true ? "active" : "inactive"), wal_status \(r.slot.walStatus ?? "-"), "
                + "retained WAL \(r.slot.retainedBytes.map(bytes) ?? "-")\(r.slot.warning ? "  WARNING: above \(bytes(r.slot.warnBytes))" : "")\n"
        } else {
            out += "slot \(r.slot.name): \(r.slot.checkedAt == nil ? "not read yet" : "missing")\n"
        }
        out += lagSparkline(r)
        if r.state == "snapshot" {
            let copied = r.tables.reduce(0) { $0 + ($1.snapshotRows ?? 0) }
            let expected = r.tables.reduce(Int64(0)) { $0 + ($1.snapshotExpectedRows ?? 0) }
            out += "snapshot: \(copied) of ~\(expected) rows" + (expected > 0 ? String(format: " (%.0f%%)", min(100, Double(copied) * 100 / Double(expected))) : "") + "\n"
        }
        if let ch = r.clickhouse {
            out += "clickhouse \(ch.destination) (\(ch.serverVersion)): lag \(seconds(ch.lagSeconds))  shipped \(ch.rowsShipped) rows  "
                + "backlog \(ch.backlogRows) rows  errors \(ch.errors)\(ch.lastError.map { "  last error: \($0)" } ?? "")\n"
        }
        let header = ["TABLE", "ROWS", "PARTS", "INS/UPD/DEL", "LAST COMMIT", "LAG"]
        var rows = [header]
        for t in r.tables {
            let applied = "\(t.applied["insert"] ?? 0)/\(t.applied["update"] ?? 0)/\(t.applied["delete"] ?? 0)"
            rows.append([t.name, String(t.storedRows), String(t.parts), applied, t.lastCommit ?? "-",
                         t.lastCommit == nil ? "-" : seconds(r.lagSeconds)])
        }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for row in rows {
            out += row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ") + "\n"
        }
        return out
    }

    /// Two lines of Unicode blocks, p99 and p50 of the commit-to-visible lag per 10 s over the last 15 minutes,
    /// on one scale (blank where nothing was committed); empty when the server sends no history.
    static func lagSparkline(_ r: StatusReport) -> String {
        guard let points = r.lagHistory, let now = r.unixTime else { return "" }
        guard let top = points.map(\.p99).max() else { return "lag 15 min: no commits\n" }
        let slots = Sparkline.slots(points, now: now)
        return "lag p99 |\(Sparkline.blocks(slots.map { $0?.p99 }, maximum: top))| max \(seconds(top))\n"
            + "lag p50 |\(Sparkline.blocks(slots.map { $0?.p50 }, maximum: top))| 15 min, 10 s a block\n"
    }

    static func seconds(_ s: Double?) -> String { s.map { String(format: "%.2fs", $0) } ?? "-" }

    static func bytes(_ n: Int64) -> String { StatusPage.bytes(n) }
}
