import Foundation

/// One immutable part file as listed in a manifest.
public struct PartEntry: Sendable, Hashable, Codable {
    /// Path relative to the table directory: `parts/<partition>/<name>.parquet`.
    public var path: String
    public var partition: String
    public var rows: Int
    public var bytes: Int
    public var minVersion: UInt64
    public var maxVersion: UInt64
    /// 0 for parts written by commits; a merge writes max(inputs) + 1.
    public var level: Int
    /// `crc32:` and 8 hex digits of the whole file.
    public var checksum: String
    public var schemaVersion: Int
    public var generation: UInt64
    public var tombstones: Int
}

/// A schema version: the columns as they were from some commit on.
public struct SchemaVersion: Sendable, Hashable, Codable {
    public var version: Int
    public var columns: [ColumnDefinition]
}

/// The committed state of one table, replaced atomically by every commit, merge and truncate.
public struct Manifest: Sendable, Hashable, Codable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    public var table: String
    /// Increases by one with every manifest commit.
    public var sequence: UInt64
    /// Increases with every TRUNCATE or resync switch; parts of older generations are gone.
    public var generation: UInt64
    /// Changes at or below this LSN are in the table (replays skip them).
    public var committedLSN: UInt64
    public var keyColumns: [String]
    public var partitioning: PartitionSpec
    public var schemaVersions: [SchemaVersion]
    public var parts: [PartEntry]

    /// The newest schema version.
    public var currentSchema: TableSchema {
        TableSchema(columns: schemaVersions.last?.columns ?? [], keyColumns: keyColumns)
    }

    /// What readers see: the newest version's columns, then columns only older versions had; a column whose type
    /// changed gets the widened type (`ColumnType.widened`), and is nullable when any version lacks it.
    public var readerColumns: [ColumnDefinition] {
        guard let latest = schemaVersions.last else { return [] }
        var order = latest.columns.map(\.name)
        var merged = [String: ColumnDefinition]()
        var presence = [String: Int]()
        for v in schemaVersions {
            for c in v.columns {
                presence[c.name, default: 0] += 1
                if var m = merged[c.name] {
                    m.type = ColumnType.widened(m.type, c.type)
                    m.nullable = m.nullable || c.nullable
                    merged[c.name] = m
                } else {
                    merged[c.name] = c
                    if !order.contains(c.name) { order.append(c.name) }
                }
            }
        }
        return order.compactMap { name in
            guard var c = merged[name] else { return nil }
            if presence[name] != schemaVersions.count { c.nullable = true }
            return c
        }
    }

    /// Each part's position in `parts` (later = newer), by path. `decode` refuses a path listed twice; should one be
    /// listed twice anyway, its last position counts (never a trap on outside data).
    var partOrder: [String: Int] {
        Dictionary(parts.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { _, last in last })
    }

    func schemaVersion(_ v: Int) -> SchemaVersion? { schemaVersions.first { $0.version == v } }

    func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try e.encode(self))
    }

    /// Parses a manifest and checks what a reader relies on: the format version, and part paths inside the table
    /// directory and listed once. (Whether it belongs to its directory, `Store.loadTable` checks.)
    static func decode(_ bytes: [UInt8], path: String) throws -> Manifest {
        var table = "?"
        do {
            let m = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
            table = m.table
            guard m.formatVersion == currentFormatVersion else {
                throw StoreError.corruptManifest(table: table, path: path, reason: "unsupported format version \(m.formatVersion)")
            }
            for p in m.parts where p.path.contains("..") || p.path.hasPrefix("/") || !p.path.hasPrefix("parts/") {
                throw StoreError.corruptManifest(table: table, path: path, reason: "part path \(p.path) leaves the table")
            }
            var seen = Set<String>()
            for p in m.parts where !seen.insert(p.path).inserted {
                throw StoreError.corruptManifest(table: table, path: path, reason: "part \(p.path) is listed twice")
            }
            return m
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.corruptManifest(table: table, path: path, reason: "\(error)")
        }
    }
}
