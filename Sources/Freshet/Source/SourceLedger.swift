import ColumnStore
import Foundation

/// What the store knows of its source beyond `store.json` (`STORE/source.json`): the database it copies, the
/// replication slot it created, and the identity of every table it replicates. Written durably (temp file, fsync,
/// rename) before the facts it records are relied on:
/// - the database, so a store is never used against another database of the same cluster;
/// - the slot, recorded *before* it is created and again with its consistent point after, so a store drops or
///   reuses only a slot it can prove it created;
/// - each table's relation OID and leaf partitions, so a table dropped and created again, renamed, or
///   re-partitioned is recognised even when it happened while Freshet was stopped.
public struct SourceLedger: Codable, Sendable, Equatable {
    public static let fileName = "source.json"

    /// The replication slot this store created.
    public struct SlotRecord: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable { case creating, created }
        public var name: String
        public var state: State
        /// The slot's consistent point (its `confirmed_flush_lsn` until the first confirmation), once created.
        public var consistentPoint: UInt64?
        /// While `creating`: the server's WAL flush position just before `CREATE_REPLICATION_SLOT` was sent. The
        /// slot that command creates has its consistent point at or after it, so an inactive slot of that name found
        /// after a crash is this store's when its `confirmed_flush_lsn` is at or above it (nil in older ledgers).
        public var walBefore: UInt64? = nil
    }

    /// A replicated table's identity in the source catalog.
    public struct TableRecord: Codable, Sendable, Equatable {
        public var oid: UInt32
        /// Leaf partitions' OIDs, sorted (empty for an ordinary table).
        public var partitions: [UInt32]
        /// Column name → `attnum`, as of the last Relation message applied (a rename keeps the attnum).
        public var columns: [String: Int16]?
        /// The leaf partitions' `relfilenode`s, in the order of `partitions` (nil in ledgers written before it was):
        /// a TRUNCATE of one partition is not in the WAL of a table published via its root, only a new file node.
        public var partitionFiles: [UInt32]? = nil
        /// The enum labels its columns use (`SourceCatalog.enumLabels`; nil in ledgers written before it was).
        public var enumLabels: [String]? = nil
        /// Column name → type (`SourceColumn.typeTag`), recorded with `columns` (nil in ledgers written before it was).
        public var types: [String: String]? = nil
    }

    public var database: String?
    public var databaseOID: UInt32?
    public var slot: SlotRecord?
    public var tables: [String: TableRecord] = [:]

    public init() {}

    /// Column name → attnum, for `TableRecord.columns`.
    static func attnums(_ columns: [SourceColumn]) -> [String: Int16] {
        Dictionary(columns.map { ($0.name, $0.attnum) }, uniquingKeysWith: { a, _ in a })
    }

    /// Column name → type tag, for `TableRecord.types`.
    static func typeTags(_ columns: [SourceColumn]) -> [String: String] {
        Dictionary(columns.map { ($0.name, $0.typeTag) }, uniquingKeysWith: { a, _ in a })
    }

    /// Reads the ledger of `store` (empty when the store has none yet).
    static func load(_ store: Store) throws -> SourceLedger {
        guard let data = store.readSidecar(fileName) else { return SourceLedger() }
        do { return try JSONDecoder().decode(SourceLedger.self, from: data) } catch {
            throw SetupError.storeUnusable(path: store.url.path, reason: "\(fileName) is unreadable (\(error))")
        }
    }

    /// Durably replaces the ledger of `store`.
    func save(_ store: Store) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try store.writeSidecar(SourceLedger.fileName, try e.encode(self))
    }
}

/// The ledger shared by the apply thread, the catalog watcher and setup: each change is saved before it is relied on.
final class SourceLedgerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var ledger: SourceLedger
    private let store: Store

    init(store: Store) throws {
        self.store = store
        self.ledger = try SourceLedger.load(store)
    }

    var value: SourceLedger { lock.lock(); defer { lock.unlock() }; return ledger }

    /// Changes the ledger and saves it durably when the change made a difference.
    func update(_ body: (inout SourceLedger) throws -> Void) throws {
        lock.lock(); defer { lock.unlock() }
        var next = ledger
        try body(&next)
        guard next != ledger else { return }
        try next.save(store)
        ledger = next
    }
}

extension SourceLedger.TableRecord {
    /// The record of `table` as its description says (OID, leaf partitions and their file nodes sorted by OID,
    /// columns, types) with the enum labels its columns use.
    init(_ table: SourceTable, enumLabels: [String]) {
        let leaves = table.partitions.sorted { $0.oid < $1.oid }
        self.init(oid: table.oid, partitions: leaves.map(\.oid), columns: SourceLedger.attnums(table.columns),
                  partitionFiles: table.isPartitioned ? leaves.map { $0.fileNode ?? 0 } : nil,
                  enumLabels: enumLabels, types: SourceLedger.typeTags(table.columns))
    }
}
