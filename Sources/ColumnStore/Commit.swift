import Foundation

/// Part files written for one table and not yet visible: pass them to a `StoreCommit`, or `Store.discard` them.
/// They may be written long before the commit (a large transaction staged piece by piece).
///
/// Staged part files are named `<part>.parquet.staged`, so query-time views, which glob `parts/*/*.parquet`, never see
/// them; the commit that lists them renames them to `<part>.parquet` first (`Store.publish`).
public struct StagedParts: Sendable {
    public let table: String
    public internal(set) var parts: [PartEntry]

    /// The suffix of a staged part file's name.
    static let suffix = ".staged"

    /// The staged rows.
    public var rows: Int { parts.reduce(0) { $0 + $1.rows } }

    /// Adds the parts of another staging of the same table.
    public mutating func append(_ other: StagedParts) {
        precondition(other.table == table, "staged parts of \(other.table) added to \(table)")
        parts += other.parts
    }
}

/// What one commit does to one table.
public struct TableChange: Sendable {
    /// TRUNCATE (or a resync's generation switch): every committed part of the table is dropped and a new generation
    /// starts, then `staged` is added. Staged parts of this change must hold only rows that follow the truncate.
    public var truncate: Bool
    public var staged: [StagedParts]

    public init(staged: [StagedParts] = [], truncate: Bool = false) {
        self.staged = staged
        self.truncate = truncate
    }
}

/// One atomic step of the replicator: every table's manifest, then the store checkpoint `upTo`.
public struct StoreCommit: Sendable {
    /// All changes at or below this LSN are in the store once `commit` returns: confirm it to Postgres.
    public var upTo: UInt64
    public var tables: [String: TableChange]

    public init(upTo: UInt64, tables: [String: TableChange] = [:]) {
        self.upTo = upTo
        self.tables = tables
    }

    /// Adds staged parts for their table.
    public mutating func add(_ staged: StagedParts) {
        tables[staged.table, default: TableChange()].staged.append(staged)
    }

    /// Truncates `table` (before any parts added for it in this commit).
    public mutating func truncate(_ table: String) {
        tables[table, default: TableChange()].truncate = true
    }
}
