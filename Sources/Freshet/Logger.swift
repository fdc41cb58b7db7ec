import ColumnStore
import Foundation

/// One line per event on stderr, as text (`2026-11-21T12:00:00.000Z info snapshot.progress table=shop.orders rows=1000`)
/// or as one JSON object per line (`--log-format json`). Callers pass already-redacted values; the logger never sees
/// connection strings.
public final class Logger: @unchecked Sendable {
    public enum Level: String, Sendable { case debug, info, warn, error }

    public let format: Config.LogFormat
    private let lock = NSLock()
    private let minimum: Level
    private let sink: @Sendable (String) -> Void
    /// Whether stderr is a terminal that shows one updating status line (`transient`).
    public let terminal: Bool
    private var transientShown = false

    /// `terminal`: stderr is a terminal (text format only); progress then updates one line instead of logging lines.
    public init(format: Config.LogFormat = .text, minimum: Level = .info, terminal: Bool = false,
                sink: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.format = format
        self.minimum = minimum
        self.terminal = terminal && format == .text
        self.sink = sink
    }

    /// Shows `text` as the updating status line at the bottom of the terminal (carriage return, clear to the end of
    /// the line, no newline); the next logged line replaces it. Does nothing unless `terminal`.
    public func transient(_ text: String) {
        guard terminal else { return }
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
        transientShown = true
    }

    /// Logs `event` (a dotted name such as `stream.commit`) with key/value fields in the given order.
    public func log(_ level: Level, _ event: String, _ fields: KeyValuePairs<String, Any> = [:]) {
        if level == .debug && minimum != .debug { return }
        let time = Logger.timestamp(Date())
        let line: String
        switch format {
        case .text:
            var s = "\(time) \(level.rawValue) \(event)"
            for (k, v) in fields { s += " \(k)=\(Logger.textValue(v))" }
            line = s
        case .json:
            var s = "{\"time\":\"\(time)\",\"level\":\"\(level.rawValue)\",\"event\":\(Logger.jsonString(event))"
            for (k, v) in fields { s += ",\(Logger.jsonString(k)):\(Logger.jsonValue(v))" }
            line = s + "}"
        }
        lock.lock(); defer { lock.unlock() }
        if transientShown {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            transientShown = false
        }
        sink(line)
    }

    public func info(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { log(.info, event, fields) }
    public func warn(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { log(.warn, event, fields) }
    public func error(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { log(.error, event, fields) }

    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ms % 1000))
    }

    static func textValue(_ v: Any) -> String {
        let s = "\(v)"
        if s.isEmpty || s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) { return jsonString(s) }
        return s
    }

    static func jsonValue(_ v: Any) -> String {
        switch v {
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let i as Int64: return String(i)
        case let u as UInt64: return String(u)
        case let d as Double: return d.isFinite ? String(format: "%.6g", d) : "null"
        default: return jsonString("\(v)")
        }
    }

    static func jsonString(_ s: String) -> String { RowFormat.jsonString(s) }
}
