/// Counts of observations per histogram bucket (not cumulative), with their sum and count.
public struct HistogramCounts: Sendable, Equatable {
    /// Upper bounds, ascending; the implicit last bucket is +Inf.
    public let bounds: [Double]
    /// One count per bound plus one for +Inf.
    public private(set) var counts: [Int]
    public private(set) var sum: Double = 0
    public private(set) var count: Int = 0

    public init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    public mutating func observe(_ value: Double) {
        let i = bounds.firstIndex(where: { value <= $0 }) ?? bounds.count
        counts[i] += 1
        sum += value
        count += 1
    }

    /// Cumulative counts per bound, then +Inf (= count), as Prometheus exposes them.
    public var cumulative: [Int] {
        var running = 0
        return counts.map { running += $0; return running }
    }
}
