/// How long the replicator waits before reconnecting after the stream broke: capped exponential backoff that starts
/// over once a stream ran healthily for a while, so a few short outages hours apart each cost `initial` seconds
/// rather than the cap.
struct ReconnectBackoff: Equatable {
    /// The first wait, in seconds.
    var initial: Double = 0.5
    /// The longest wait, in seconds.
    var maximum: Double = 30
    /// A stream that ran at least this many seconds before it broke resets the backoff.
    var healthyAfter: Double = 60
    /// The wait the next failure costs (unless the stream was healthy).
    private(set) var next: Double

    init(initial: Double = 0.5, maximum: Double = 30, healthyAfter: Double = 60) {
        self.initial = initial
        self.maximum = maximum
        self.healthyAfter = healthyAfter
        next = initial
    }

    /// The wait before reconnecting after a stream that ran `seconds` before it broke; doubles the next one.
    mutating func delay(afterRunning seconds: Double) -> Double {
        if seconds >= healthyAfter { next = initial }
        let wait = next
        next = min(next * 2, maximum)
        return wait
    }
}
