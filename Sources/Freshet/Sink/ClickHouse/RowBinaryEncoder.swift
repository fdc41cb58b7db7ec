import ColumnStore
import Foundation

/// Writes store rows in ClickHouse's RowBinary format: per row, each column's value (a `Nullable` column first
/// writes one byte, 1 for NULL), then `_version` (UInt64) and `_deleted` (UInt8). The bytes come straight from the
/// batch's column buffers (`RowBatch.appendRowBinary`), column by column.
///
/// A tombstone carries only its key: its other columns are written as NULL, or as the type's zero when the column
/// is not Nullable. An unchanged (TOAST) marker never gets here (`ChangeReader` resolves them from older versions);
/// one that could not be resolved is written like NULL.
///
/// With a routing (several concurrent inserts), each append's rows are split by key over the streams: `pieces`
/// says which bytes and rows of `bytes` go to which stream.
struct RowBinaryEncoder {
    private(set) var bytes: [UInt8] = []
    private(set) var rows = 0
    /// Values of UUID columns that were not UUID text (sent as the zero UUID; should stay 0).
    private(set) var invalidUUIDs = 0
    /// Per append, per stream: the bytes of `bytes` and the rows of that stream (one stream without routing).
    private(set) var pieces: [[(bytes: Range<Int>, rows: Int)]] = []

    init(reserve: Int = 1 << 20) { bytes.reserveCapacity(reserve) }

    /// Empties the encoder, keeping its buffer (the UUID count stays).
    mutating func reset() { bytes.removeAll(keepingCapacity: true); rows = 0; pieces.removeAll() }

    /// Hands out the encoded bytes (for another thread to send) and empties the encoder. The buffers handed out are
    /// kept in a ring of `recycled` and written into again once their turn comes: in place when the senders let go of
    /// them by then (no allocation, no fresh pages), else as a new buffer of the same capacity.
    mutating func take() -> [UInt8] {
        let out = bytes
        recycled.append(out)
        bytes = recycled.count > Self.ring ? recycled.removeFirst() : []
        bytes.removeAll(keepingCapacity: true)
        rows = 0
        pieces.removeAll()
        return out
    }

    private var recycled: [[UInt8]] = []
    private static let ring = 4

    /// Appends every row of `batch`; `sources[i]` is the batch column of `columns[i]` (nil: not in the batch, NULL).
    /// Tombstones are skipped when `skipDeleted` (a new copy needs no deletes). `routing` splits the rows by key over
    /// insert streams (`pieces`).
    mutating func append(_ batch: RowBatch, columns: [ClickHouseColumn], sources: [Int?], skipDeleted: Bool,
                         routing: RowBinaryRouting? = nil) {
        let plan = zip(columns, sources).map { RowBinaryColumn(source: $1, field: $0.encoding, nullable: $0.nullable) }
        let done = batch.appendRowBinary(to: &bytes, columns: plan, skipDeleted: skipDeleted, routing: routing)
        rows += done.rows
        invalidUUIDs += done.invalid
        pieces.append(zip(done.streamBytes, done.streamRows).map { (bytes: $0, rows: $1) })
    }
}
