import ColumnStore
import PostgresReplication

/// What happens to a value its column's store type cannot hold: NaN in a numeric(p,s) column (a Parquet DECIMAL has
/// no NaN) or a timestamp after 294247-01-10 04:00:54.775806 (its Unix-epoch microseconds do not fit the INT64 of a
/// Parquet TIMESTAMP below the +infinity encoding). The column switches to its `ColumnMapping.textFallback`, a string
/// column of PostgreSQL's output text, from that value on: the values of the batch so far are converted to the same
/// text, and the table gets a schema version with the string column. Readers see the union of a table's schema
/// versions, so the column reads as text from then on (docs/replication.md "Type mapping"). Nothing wraps around or
/// becomes NULL.
enum TextFallback {
    /// Called when `mappings[i]`'s converter could not append `raw` (it returned false): switches `mappings[i]` to its
    /// text fallback, converts `batch` (a row being appended keeps the values it has) and appends the value as text.
    static func switchColumn(_ i: Int, appending raw: UnsafeRawBufferPointer, binary: Bool, mappings: inout [ColumnMapping],
                             batch: inout RowBatch) throws(ValueParseError) {
        guard let text = mappings[i].textFallback else {
            throw .invalidBinary(type: "\(mappings[i].storeType)", reason: "value not representable and no text fallback")
        }
        mappings[i] = text
        batch = batch.conformed(to: mappings.map(\.definition))
        _ = try text.converter.append(raw, binary: binary, to: &batch, column: i)
    }

    /// The `note` of the warning logged when a column switches.
    static let note = "a value its store type cannot hold arrived (NaN in numeric(p,s), or a timestamp after 294247-01-10 04:00:54.775806): the column is stored as PostgreSQL's output text from now on and reads as text"
}
