import ColumnStore
import Foundation

/// The sink's durable progress: per store table, the generation and version up to which ClickHouse acknowledged
/// everything, and the ClickHouse table it went to. Kept in the store's sidecar `clickhouse.json`, replaced only
/// after ClickHouse acknowledged.
struct ClickHouseCursor: Codable, Sendable, Equatable {
    struct Table: Codable, Sendable, Equatable {
        /// The store generation shipped (a TRUNCATE or resync starts a new one, shipped as a new copy).
        var generation: UInt64
        /// Every version at or below this is in ClickHouse.
        var version: UInt64
        /// The ClickHouse table name.
        var clickhouseTable: String
    }

    static let sidecarName = "clickhouse.json"

    /// Where the tables went (`host:port/database`): another destination starts over.
    var destination: String
    var tables: [String: Table] = [:]

    /// The cursor saved in `store`, or an empty one when missing, unreadable or for another destination.
    static func load(_ store: Store, destination: String) -> ClickHouseCursor {
        if let data = store.readSidecar(sidecarName), let c = try? JSONDecoder().decode(ClickHouseCursor.self, from: data),
           c.destination == destination {
            return c
        }
        return ClickHouseCursor(destination: destination)
    }

    func save(_ store: Store) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try store.writeSidecar(Self.sidecarName, try e.encode(self))
    }
}
