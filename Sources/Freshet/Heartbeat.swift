import Foundation

/// Freshet's transactional logical messages (`pg_logical_emit_message(true, 'freshet', ...)`).
/// A heartbeat's content is `heartbeat <µs since the Unix epoch>`; its arrival measures end-to-end lag when the
/// database is idle and keeps the slot advancing. (A non-transactional message is not flushed on PG 15.)
enum Heartbeat {
    static let prefix = "freshet"

    static func content(nowMicros: Int64) -> String { "heartbeat \(nowMicros)" }

    /// The send time of a heartbeat message, or nil for other freshet messages.
    static func parse(_ content: [UInt8]) -> Int64? {
        let text = String(decoding: content, as: UTF8.self)
        guard text.hasPrefix("heartbeat ") else { return nil }
        return Int64(text.dropFirst("heartbeat ".count))
    }
}
