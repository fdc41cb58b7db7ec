import Foundation

/// The commit-to-visible lag of the last 15 minutes, summarised per 10-second interval (p50, p99, max, count):
/// a ring of interval summaries plus the samples of the interval in progress. Fed by `ReplicatorStats.recordCommit`,
/// drawn by the status page and `freshet status`. Memory is bounded: at most `maxSamplesPerInterval` samples are kept
/// for the open interval, and `capacity` summaries.
public struct LagHistory: Sendable {
    /// One interval's summary. `start` is the interval's start, seconds since the Unix epoch.
    public struct Point: Codable, Sendable, Equatable {
        public var start: Double
        public var p50: Double
        public var p99: Double
        public var max: Double
        public var count: Int

        public init(start: Double, p50: Double, p99: Double, max: Double, count: Int) {
            self.start = start; self.p50 = p50; self.p99 = p99; self.max = max; self.count = count
        }
    }

    public let intervalSeconds: Double
    public let capacity: Int
    static let maxSamplesPerInterval = 8192

    private var closed: [Point] = []
    private var openStart: Double?
    private var openSamples: [Double] = []
    private var openSeen = 0
    private var openMax = 0.0

    /// `capacity` intervals of `intervalSeconds` each (default: 90 × 10 s = 15 minutes).
    public init(intervalSeconds: Double = 10, capacity: Int = 90) {
        self.intervalSeconds = intervalSeconds
        self.capacity = capacity
    }

    /// Adds lag samples (seconds) measured at `time`.
    public mutating func observe(_ lags: [Double], at time: Date) {
        guard !lags.isEmpty else { return }
        let start = (time.timeIntervalSince1970 / intervalSeconds).rounded(.down) * intervalSeconds
        if let open = openStart, open != start {
            if start < open { return }   // the clock went back: drop rather than reorder
            close()
        }
        openStart = start
        for lag in lags {
            openSeen += 1
            openMax = Swift.max(openMax, lag)
            if openSamples.count < Self.maxSamplesPerInterval {
                openSamples.append(lag)
            } else {
                // Keep a uniform sample of the interval: replace a slot chosen by the running count.
                openSamples[(openSeen &* 2_654_435_761) % Self.maxSamplesPerInterval] = lag
            }
        }
    }

    /// Summaries of the intervals within `capacity` intervals of `now`, oldest first; the interval in progress
    /// is included. Intervals without commits have no point.
    public func points(now: Date) -> [Point] {
        var all = closed
        if let open = summary() { all.append(open) }
        let oldest = (now.timeIntervalSince1970 / intervalSeconds).rounded(.down) * intervalSeconds
            - Double(capacity - 1) * intervalSeconds
        return all.filter { $0.start >= oldest }
    }

    private mutating func close() {
        if let p = summary() {
            closed.append(p)
            if closed.count > capacity { closed.removeFirst(closed.count - capacity) }
        }
        openStart = nil
        openSamples.removeAll(keepingCapacity: true)
        openSeen = 0
        openMax = 0
    }

    private func summary() -> Point? {
        guard let start = openStart, !openSamples.isEmpty else { return nil }
        let sorted = openSamples.sorted()
        func q(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))] }
        return Point(start: start, p50: q(0.5), p99: q(0.99), max: openMax, count: openSeen)
    }
}
