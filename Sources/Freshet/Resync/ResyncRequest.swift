import Foundation

/// A request to copy tables afresh while streaming goes on. It travels through the WAL as a transactional logical
/// message (`pg_logical_emit_message(true, 'freshet', 'resync {json}')`), so it reaches the replicator in order,
/// from any host that can run SQL on the source, and waits in the slot when no replicator runs.
public struct ResyncRequest: Codable, Sendable, Equatable {
    /// Unique id, so a request replayed after a crash is recognised.
    public var id: String
    /// `schema.table` names; empty with `all` = every table in the store.
    public var tables: [String]
    public var all: Bool
    /// Why Freshet asked for it itself (a table added, recreated, renamed...); nil for `freshet resync`.
    public var reason: String?
    /// The replication slot of the replicator it is meant for; nil = every replicator of the database (the message
    /// reaches all of them through the WAL).
    public var slot: String?

    public init(id: String = UUID().uuidString.lowercased(), tables: [String], all: Bool, reason: String? = nil,
                slot: String? = nil) {
        self.id = id; self.tables = tables; self.all = all; self.reason = reason; self.slot = slot
    }

    static let messagePrefix = "resync "

    /// The logical message content.
    public var messageContent: String {
        let json = (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ResyncRequest.messagePrefix + json
    }

    /// Parses a freshet logical message; nil when it is not a resync request.
    static func parse(_ content: [UInt8]) -> ResyncRequest? {
        let text = String(decoding: content, as: UTF8.self)
        guard text.hasPrefix(messagePrefix) else { return nil }
        return try? JSONDecoder().decode(ResyncRequest.self, from: Data(text.dropFirst(messagePrefix.count).utf8))
    }
}

/// The replicator's durable record of resync requests and their progress (`STORE/resync.json`). A request is
/// written here before the checkpoint can move past its message, so a crash never loses it; a request that was
/// copying when the process died starts over.
public struct ResyncLedger: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case pending, copying, done, failed }

    public struct Entry: Codable, Sendable, Equatable {
        public var request: ResyncRequest
        public var state: State
        /// The snapshot LSN (text form) once copying started.
        public var snapshotLSN: String?
        public var rowsCopied: Int
        public var estimatedRows: Int
        public var message: String?
        public var updated: Date
    }

    public var entries: [Entry] = []

    public static let fileName = "resync.json"

    public init() {}

    public func entry(_ id: String) -> Entry? { entries.first { $0.request.id == id } }

    /// Adds a request unless it is already known. Returns true when added.
    mutating func add(_ request: ResyncRequest) -> Bool {
        guard entry(request.id) == nil else { return false }
        entries.append(Entry(request: request, state: .pending, snapshotLSN: nil, rowsCopied: 0, estimatedRows: 0,
                             message: nil, updated: Date()))
        if entries.count > 100 { entries.removeFirst(entries.count - 100) }   // keep the recent history only
        return true
    }

    mutating func update(_ id: String, _ change: (inout Entry) -> Void) {
        guard let i = entries.firstIndex(where: { $0.request.id == id }) else { return }
        change(&entries[i])
        entries[i].updated = Date()
    }

    static func decode(_ data: Data?) -> ResyncLedger {
        guard let data else { return ResyncLedger() }
        let d = JSONDecoder(); d.dateDecodingStrategy = .iso8601
        return (try? d.decode(ResyncLedger.self, from: data)) ?? ResyncLedger()
    }

    func encoded() throws -> Data {
        let e = JSONEncoder(); e.dateEncodingStrategy = .iso8601; e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }
}
