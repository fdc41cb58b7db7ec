import Foundation

/// Draws the lag history: as Unicode blocks for `freshet status`, as SVG polyline coordinates for the status page.
/// Both place each 10 s interval at its slot in the window, so an idle stretch shows as a gap.
public enum Sparkline {
    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// The points in `count` slots of `interval` seconds ending with the one holding `now`, oldest first;
    /// nil where no commit happened.
    public static func slots(_ points: [LagHistory.Point], now: Double, interval: Double = 10, count: Int = 90) -> [LagHistory.Point?] {
        let last = (now / interval).rounded(.down)
        var result = [LagHistory.Point?](repeating: nil, count: count)
        for p in points {
            let i = count - 1 - Int(last - (p.start / interval).rounded(.down))
            if i >= 0 && i < count { result[i] = p }
        }
        return result
    }

    /// One block character per value, scaled from 0 to `maximum` (default: the largest value); a space for nil.
    public static func blocks(_ values: [Double?], maximum: Double? = nil) -> String {
        let top = maximum ?? values.compactMap { $0 }.max() ?? 0
        return String(values.map { v -> Character in
            guard let v else { return " " }
            guard top > 0 else { return blocks[0] }
            let i = Int((min(1, max(0, v / top)) * Double(blocks.count - 1)).rounded())
            return blocks[i]
        })
    }

    /// SVG polyline segments for `values` in a `width` × `height` box (y grows downwards, 0 at the bottom,
    /// `maximum` at the top); a nil value breaks the line, so each segment is one `points` attribute.
    /// A lone value becomes a short horizontal segment so it stays visible.
    public static func svgSegments(_ values: [Double?], maximum: Double, width: Double, height: Double) -> [String] {
        guard !values.isEmpty else { return [] }
        let step = values.count > 1 ? width / Double(values.count - 1) : width
        var segments: [String] = []
        var current: [String] = []
        func flush() {
            if current.count == 1, let only = current.first {   // a single point: widen it to a dash
                let xy = only.split(separator: ",").compactMap { Double($0) }
                if xy.count == 2 { current = [coordinate(max(0, xy[0] - step / 3), xy[1]), coordinate(min(width, xy[0] + step / 3), xy[1])] }
            }
            if !current.isEmpty { segments.append(current.joined(separator: " ")) }
            current = []
        }
        for (i, v) in values.enumerated() {
            guard let v else { flush(); continue }
            let y = maximum > 0 ? height - min(1, max(0, v / maximum)) * height : height
            current.append(coordinate(Double(i) * step, y))
        }
        flush()
        return segments
    }

    private static func coordinate(_ x: Double, _ y: Double) -> String { String(format: "%.1f,%.1f", x, y) }
}
