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
    /// Wall-clock microseconds since the epoch at which the manifest commit that first listed the part was made
    /// (`Manifest.commitMicros`); nil in manifests written before this field existed (treated as "always").
    /// The file exists before this instant, which lets a query resolve the part list as of its own start
    /// (docs/store-format.md, "Query-time views").
    public var addedMicros: Int64?
    /// True when no key occurs twice in the part (merge outputs; staged parts without two versions of a key):
    /// query-time views read such a part, when it is also older than every other part of its partition, without
    /// deduplicating the keys no newer part touches. nil = not known (treated as false).
    public var uniqueKeys: Bool?
    /// Rows with at least one column marked unchanged (`_unchanged` not NULL); nil in parts written before it was
    /// counted (treated as "some").
    public var unchangedRows: Int?
    /// Set by every manifest commit (`Manifest.classifyForViews`): the part has unique keys and its versions lie below
    /// every other part's of its merge domain, so the DuckDB view reads it without grouping. nil = false.
    public var settled: Bool?
    /// Set by every manifest commit: the part is `settled`, alone in its merge domain, and has neither tombstones nor
    /// unchanged markers, so the DuckDB view reads its rows as stored, without any join or filter. nil = false.
    public var clean: Bool?
}

/// A part that left the manifest less than the grace period ago; its file is still on disk.
public struct RemovedPart: Sendable, Hashable, Codable {
    public var path: String
    /// `PartEntry.addedMicros` of the part (nil: always).
    public var addedMicros: Int64?
    /// When the manifest commit that removed it was made.
    public var removedMicros: Int64
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
    /// Wall-clock microseconds of this manifest commit (never below the previous one's); nil in older manifests.
    public var commitMicros: Int64?
    /// Parts removed by recent commits whose files are still on disk, so that a query can resolve the part list as of
    /// any instant since `historySinceMicros`. An entry is dropped (and `historySinceMicros` raised to its removal
    /// time) before its file is deleted.
    public var removed: [RemovedPart]?
    /// The earliest instant whose part list `parts` + `removed` still describe; nil = the table's creation.
    public var historySinceMicros: Int64?

    /// The newest schema version.
    public var currentSchema: TableSchema {
        TableSchema(columns: schemaVersions.last?.columns ?? [], keyColumns: keyColumns)
    }

    /// What readers see: the newest version's columns, then columns only older versions had; a column whose type
    /// changed gets the widened type (`StoreType.widened`), and is nullable when any version lacks it; the annotation
    /// is the newest version's.
    public var readerColumns: [ColumnDefinition] {
        guard let latest = schemaVersions.last else { return [] }
        var order = latest.columns.map(\.name)
        var merged = [String: ColumnDefinition]()
        var presence = [String: Int]()
        for v in schemaVersions {
            for c in v.columns {
                presence[c.name, default: 0] += 1
                if var m = merged[c.name] {
                    m.type = StoreType.widened(m.type, c.type)
                    m.nullable = m.nullable || c.nullable
                    m.annotation = c.annotation   // the newest version's
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

    /// Stamps a manifest about to be committed at wall-clock `now` (microseconds): its commit time (monotonic per
    /// table), `addedMicros` on parts that have none yet (just added), and moves the parts of `previous` that are no
    /// longer listed into `removed`; entries removed more than `history` microseconds ago are forgotten, so the list
    /// holds only what a query that started within `history` can need.
    mutating func stamp(replacing previous: Manifest, now: Int64, history: Int64) {
        let t = max(now, (previous.commitMicros ?? 0) + 1)
        commitMicros = t
        for i in parts.indices where parts[i].addedMicros == nil { parts[i].addedMicros = t }
        let live = Set(parts.map(\.path))
        var gone = (removed ?? []).filter { !live.contains($0.path) }
        let known = Set(gone.map(\.path))
        for p in previous.parts where !live.contains(p.path) && !known.contains(p.path) {
            gone.append(RemovedPart(path: p.path, addedMicros: p.addedMicros, removedMicros: t))
        }
        removed = gone
        classifyForViews()
        forget(Set(gone.filter { $0.removedMicros < t - history }.map(\.path)))
    }

    /// Drops `paths` from `removed` (their files are about to be deleted); queries as of an instant before their
    /// removal can then no longer be answered, so `historySinceMicros` moves past it.
    mutating func forget(_ paths: Set<String>) {
        guard let r = removed else { return }
        for e in r where paths.contains(e.path) {
            historySinceMicros = max(historySinceMicros ?? 0, e.removedMicros)
        }
        removed = r.filter { !paths.contains($0.path) }
    }

    /// Microseconds since the epoch now.
    static func nowMicros() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }


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
