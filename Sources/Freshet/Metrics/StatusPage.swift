import Foundation

/// The operations endpoint's `/`: one self-contained HTML page rendered from the `/status` report. No external
/// assets; a small inline script reloads the page's content every `refreshSeconds` (a `<noscript>` meta refresh
/// does it without JavaScript). Shows state and health, the lag sparkline (inline SVG, p50 and p99 per 10 s over
/// 15 minutes), WAL behind, the slot's retained WAL against the warning level, the ClickHouse sink's lag when one
/// runs, one row per table, the tables left out (unreplicable, with the fix) and the recent resync requests.
public enum StatusPage {
    public static let contentType = "text/html; charset=utf-8"
    public static let refreshSeconds = 5

    /// Sparkline box: the plot area inside the SVG, in SVG units.
    static let plotWidth = 840.0, plotHeight = 120.0, plotLeft = 52.0, plotTop = 10.0

    public static func render(_ r: StatusReport) -> String {
        let stateClass = !r.healthy ? "bad" : (r.state == "streaming" ? "ok" : "warn")
        var html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>freshet: \(escape(r.state))\(r.healthy ? "" : " (unhealthy)")</title>
        <noscript><meta http-equiv="refresh" content="\(refreshSeconds)"></noscript>
        <style>\(style)</style></head>
        <body><main id="page">
        <header><h1>freshet</h1><span id="state" class="badge \(stateClass)">\(escape(r.state))</span>
        <span id="health" class="\(r.healthy ? "ok-text" : "bad-text")">\(r.healthy ? "healthy" : "unhealthy: " + escape(r.health))</span>
        \(r.stateReason.isEmpty ? "" : "<span class=\"muted\">\(escape(r.stateReason))</span>")
        <span id="stamp" class="muted right">\(escape(r.time)) · refreshes every \(refreshSeconds) s</span></header>

        """
        html += cards(r)
        html += sparkline(r)
        html += tables(r)
        html += unreplicable(r)
        html += resyncs(r)
        html += """
        <footer class="muted">slot <b>\(escape(r.slot.name))</b> · publication <b>\(escape(r.publication))</b> ·
        committed LSN \(escape(r.committedLSN)) · \(r.transactions) transactions, \(r.commits) commits, \(r.reconnects) reconnects ·
        <a href="/status">/status</a> <a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></footer>
        </main>
        <script>\(script)</script>
        </body></html>

        """
        return html
    }

    private static func cards(_ r: StatusReport) -> String {
        let limit = r.healthMaxLagSeconds.map { "limit \(seconds($0))" } ?? ""
        let lagClass = (r.lagSeconds ?? 0) > (r.healthMaxLagSeconds ?? .infinity) ? "bad-text" : ""
        var slotValue = "–", slotSub = "not read yet", ratio = 0.0
        if r.slot.exists, let retained = r.slot.retainedBytes {
            slotValue = bytes(retained)
            ratio = r.slot.warnBytes > 0 ? Double(retained) / Double(r.slot.warnBytes) : 0
            slotSub = "of \(bytes(r.slot.warnBytes)) warning level · \(r.slot.active == true ? "active" : "inactive")"
                + (r.slot.walStatus.map { " · \(escape($0))" } ?? "")
        } else if r.slot.checkedAt != nil {
            slotValue = "missing"; slotSub = "the slot does not exist"
        }
        let barWidth = String(format: "%.1f", min(100, ratio * 100))
        return """
        <section class="cards">
        <div class="card"><div class="label">Lag now</div><div id="lag" class="value \(lagClass)">\(r.lagSeconds.map(seconds) ?? "–")</div>
        <div class="sub">commit \(seconds(r.commitLagSeconds)) · heartbeat \(seconds(r.heartbeatLagSeconds)) · \(limit)</div></div>
        <div class="card"><div class="label">WAL behind</div><div id="wal-behind" class="value">\(bytes(Int64(clamping: r.walBehindBytes)))</div>
        <div class="sub">server WAL end − confirmed LSN</div></div>
        <div class="card"><div class="label">Last source commit</div><div class="value small">\(escape(timeOfDay(r.lastCommit)))</div>
        <div class="sub">\(escape(r.lastCommit.map { String($0.prefix(10)) } ?? "none since start")) · store commit \(escape(timeOfDay(r.lastStoreCommit)))</div></div>
        <div class="card"><div class="label">Slot retained WAL</div><div id="slot-retained" class="value \(r.slot.warning ? "bad-text" : "")">\(slotValue)</div>
        <div class="bar"><div class="fill \(r.slot.warning ? "bad" : "ok")" style="width:\(barWidth)%"></div></div>
        <div class="sub">\(slotSub)\(r.slot.warning ? " · <b class=\"bad-text\">above the warning level</b>" : "")</div></div>
        \(clickhouseCard(r))</section>

        """
    }

    /// The ClickHouse sink's card (empty when no sink runs): its commit-to-acknowledged lag against the health
    /// limit, the backlog, the rows shipped and the errors, with the last error.
    private static func clickhouseCard(_ r: StatusReport) -> String {
        guard let ch = r.clickhouse else { return "" }
        let over = ch.healthMaxLagSeconds.map { ch.lagSeconds > $0 } ?? false
        let limit = ch.healthMaxLagSeconds.map { " · limit \(seconds($0))" } ?? ""
        let error = ch.lastError.map { "<div class=\"sub bad-text\" id=\"clickhouse-error\">last error: \(escape($0))</div>" } ?? ""
        return """
        <div class="card"><div class="label">ClickHouse lag</div><div id="clickhouse-lag" class="value \(over ? "bad-text" : "")">\(seconds(ch.lagSeconds))</div>
        <div class="sub"><span id="clickhouse-backlog">\(ch.backlogRows)</span> rows behind · \(ch.rowsShipped) shipped · \(ch.errors) errors\(limit)</div>
        <div class="sub">\(escape(ch.destination)) · ClickHouse \(escape(ch.serverVersion))</div>\(error)</div>

        """
    }

    private static func sparkline(_ r: StatusReport) -> String {
        let points = r.lagHistory ?? []
        let slots = Sparkline.slots(points, now: r.unixTime ?? points.last?.start ?? 0)
        let top = niceCeiling(max(0.1, points.map(\.p99).max() ?? 0))
        let p99 = Sparkline.svgSegments(slots.map { $0?.p99 }, maximum: top, width: plotWidth, height: plotHeight)
        let p50 = Sparkline.svgSegments(slots.map { $0?.p50 }, maximum: top, width: plotWidth, height: plotHeight)
        let w = plotLeft + plotWidth + 8, h = plotTop + plotHeight + 24
        var svg = "<svg id=\"lag-sparkline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" "
            + "role=\"img\" aria-label=\"commit-to-visible lag, last 15 minutes\">"
        svg += "<g transform=\"translate(\(Int(plotLeft)),\(Int(plotTop)))\">"
        for f in [0.0, 0.5, 1.0] {
            let y = String(format: "%.1f", plotHeight - f * plotHeight)
            svg += "<line class=\"grid\" x1=\"0\" x2=\"\(Int(plotWidth))\" y1=\"\(y)\" y2=\"\(y)\"/>"
            svg += "<text class=\"axis\" x=\"-6\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(seconds(top * f))</text>"
        }
        if let limit = r.healthMaxLagSeconds, limit <= top {
            let y = String(format: "%.1f", plotHeight - limit / top * plotHeight)
            svg += "<line class=\"limit\" x1=\"0\" x2=\"\(Int(plotWidth))\" y1=\"\(y)\" y2=\"\(y)\"/>"
        }
        for s in p99 { svg += "<polyline class=\"p99\" points=\"\(s)\"/>" }
        for s in p50 { svg += "<polyline class=\"p50\" points=\"\(s)\"/>" }
        svg += "<text class=\"axis\" x=\"0\" y=\"\(Int(plotHeight + 16))\">−15 min</text>"
        svg += "<text class=\"axis\" x=\"\(Int(plotWidth))\" y=\"\(Int(plotHeight + 16))\" text-anchor=\"end\">now</text>"
        svg += "</g></svg>"
        let latest = points.last.map { "latest 10 s: p50 \(seconds($0.p50)), p99 \(seconds($0.p99)), \($0.count) transactions" }
            ?? "no commits in the last 15 minutes"
        return """
        <section><h2>Commit-to-visible lag, last 15 minutes <span class="legend"><i class="p99"></i>p99 <i class="p50"></i>p50 per 10 s</span></h2>
        \(svg)
        <div class="sub">\(latest)</div></section>

        """
    }

    private static func tables(_ r: StatusReport) -> String {
        var rows = ""
        for t in r.tables {
            var progress = t.resync ?? ""
            if progress.isEmpty, r.state == "snapshot", let expected = t.snapshotExpectedRows {
                let copied = t.snapshotRows ?? 0
                progress = "snapshot \(copied) of ~\(expected) rows" + (expected > 0 ? " (\(min(100, Int64(copied) * 100 / expected))%)" : "")
            }
            rows += "<tr data-table=\"\(escape(t.name))\"><td>\(escape(t.name))</td><td class=\"num\">\(t.storedRows)</td>"
                + "<td class=\"num\">\(t.parts)</td><td class=\"num\">\(bytes(Int64(t.bytes)))</td>"
                + "<td>\(escape(t.lastCommit ?? "–"))</td><td class=\"num\">\(t.pendingMerges)</td>"
                + "<td>\(escape(progress.isEmpty ? "–" : progress))</td></tr>\n"
        }
        if r.tables.isEmpty { rows = "<tr><td colspan=\"7\" class=\"muted\">no tables yet</td></tr>\n" }
        return """
        <section><h2>Tables</h2>
        <table id="tables"><thead><tr><th>table</th><th class="num">rows</th><th class="num">parts</th><th class="num">bytes</th>
        <th>last commit</th><th class="num">pending merges</th><th>resync</th></tr></thead>
        <tbody>
        \(rows)</tbody></table></section>

        """
    }

    /// Tables in scope that Freshet leaves out, each with the reason and the fix.
    private static func unreplicable(_ r: StatusReport) -> String {
        guard !r.unreplicableTables.isEmpty else { return "" }
        let rows = r.unreplicableTables.map {
            "<tr data-table=\"\(escape($0.table))\"><td>\(escape($0.table))</td><td>\(escape($0.reason))</td><td>\(escape($0.fix))</td></tr>\n"
        }.joined()
        return """
        <section><h2 class="bad-text">Not replicated</h2>
        <table id="unreplicable"><thead><tr><th>table</th><th>why</th><th>fix</th></tr></thead>
        <tbody>
        \(rows)</tbody></table></section>

        """
    }

    private static func resyncs(_ r: StatusReport) -> String {
        let recent = (r.resyncs ?? []).suffix(5)
        guard !recent.isEmpty else { return "" }
        var rows = ""
        for e in recent.reversed() {
            let tables = e.tables == ["*"] ? "all tables" : e.tables.joined(separator: ", ")
            rows += "<tr><td>\(escape(e.updated))</td><td>\(escape(tables))</td><td>\(escape(e.progress))</td>"
                + "<td class=\"muted\" title=\"\(escape(e.id))\">\(escape(String(e.id.prefix(8))))</td></tr>\n"
        }
        return """
        <section><h2>Resync requests</h2>
        <table id="resyncs"><thead><tr><th>updated</th><th>tables</th><th>progress</th><th>request</th></tr></thead>
        <tbody>
        \(rows)</tbody></table></section>

        """
    }

    /// `12:01:48.736Z` of an ISO 8601 timestamp (`–` for nil).
    static func timeOfDay(_ iso: String?) -> String {
        guard let iso else { return "–" }
        return iso.firstIndex(of: "T").map { String(iso[iso.index(after: $0)...]) } ?? iso
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^k at or above `v`.
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let magnitude = pow(10, (log10(v)).rounded(.down))
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= v * 0.999_999 { return m * magnitude }
        return 10 * magnitude
    }

    static func seconds(_ s: Double) -> String {
        s >= 10 ? String(format: "%.0f s", s) : s >= 1 ? String(format: "%.1f s", s) : String(format: "%.0f ms", s * 1000)
    }

    /// `512 B`, `1.5 KiB`, `3.2 GiB`.
    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    /// Escapes text for HTML element content and double-quoted attributes.
    static func escape(_ s: String) -> String {
        s.reduce(into: "") { out, c in
            if let entity = entities[c] { out += entity } else { out.append(c) }
        }
    }

    private static let entities: [Character: String] = ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"]

    static let style = """
    body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
    main{max-width:960px;margin:0 auto;padding:16px 20px}
    header{display:flex;flex-wrap:wrap;align-items:baseline;gap:10px}h1{font-size:20px;margin:0 6px 0 0}
    h2{font-size:15px;margin:22px 0 8px}.right{margin-left:auto}.muted,.sub{color:#667085}.sub{font-size:12px;overflow-wrap:anywhere}
    .badge{padding:2px 10px;border-radius:10px;font-weight:600;color:#fff}.badge.ok{background:#12805c}
    .badge.warn{background:#b7791f}.badge.bad{background:#c53030}.ok-text{color:#12805c}.bad-text{color:#c53030}
    .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;margin-top:14px}
    .card{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:10px 12px}
    .label{font-size:12px;color:#667085;text-transform:uppercase;letter-spacing:.04em}.value{font-size:24px;font-weight:600}
    .value.small{font-size:20px;padding:2px 0}.bar{height:6px;background:#e3e6eb;border-radius:3px;margin:4px 0;overflow:hidden}
    .fill{height:100%}.fill.ok{background:#12805c}.fill.bad{background:#c53030}
    svg{width:100%;height:auto;background:#fff;border:1px solid #e3e6eb;border-radius:8px}
    .grid{stroke:#e3e6eb}.limit{stroke:#c53030;stroke-dasharray:4 4}.axis{font-size:11px;fill:#667085}
    polyline{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}polyline.p99{stroke:#d97706}polyline.p50{stroke:#2563eb}
    .legend{font-weight:400;font-size:12px;color:#667085;margin-left:8px}.legend i{display:inline-block;width:14px;height:3px;margin:0 4px 3px 8px}
    .legend i.p99{background:#d97706}.legend i.p50{background:#2563eb}
    table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e3e6eb}th,td{padding:6px 8px;border-bottom:1px solid #eef0f3;text-align:left}
    th{font-size:12px;color:#667085;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
    footer{margin-top:20px;font-size:12px}a{color:#2563eb}
    """

    static let script = """
    setInterval(function(){fetch(location.pathname,{cache:"no-store"}).then(function(r){return r.text()}).then(function(t){\
    var d=new DOMParser().parseFromString(t,"text/html"),n=d.getElementById("page");\
    if(n){document.getElementById("page").replaceWith(n);document.title=d.title}}).catch(function(){\
    var s=document.getElementById("stamp");if(s)s.textContent="endpoint unreachable, retrying"})},\(refreshSeconds * 1000));
    """
}
