import Foundation

/// `/healthz`: healthy while streaming with the lag, and the silence since the last heartbeat or commit, within the
/// configured limit; otherwise one line saying why.
public enum HealthCheck {
    public struct Verdict: Sendable, Equatable {
        public var healthy: Bool
        /// `ok`, or the reason, e.g. `not streaming: connection lost: ...`.
        public var reason: String
    }

    public static func evaluate(_ s: OperationsSnapshot) -> Verdict {
        guard s.state == .streaming else {
            let why = s.stateReason.isEmpty ? s.state.rawValue : "\(s.state.rawValue): \(s.stateReason)"
            return Verdict(healthy: false, reason: "not streaming: " + why)
        }
        if let lag = s.currentLag, lag > s.healthMaxLag {
            return Verdict(healthy: false, reason: String(format: "lag %.1fs exceeds %.0fs", lag, s.healthMaxLag))
        }
        // With heartbeats, something must arrive every interval; silence means the stream is stuck.
        if s.heartbeatInterval > 0, s.silence > s.healthMaxLag + s.heartbeatInterval {
            return Verdict(healthy: false, reason: String(format: "no heartbeat or commit for %.1fs (limit %.0fs)",
                                                          s.silence, s.healthMaxLag + s.heartbeatInterval))
        }
        if let ch = s.clickhouse, ch.lagSeconds > ch.healthMaxLag {
            return Verdict(healthy: false, reason: String(format: "clickhouse lag %.1fs exceeds %.0fs", ch.lagSeconds, ch.healthMaxLag))
        }
        return Verdict(healthy: true, reason: "ok")
    }
}
