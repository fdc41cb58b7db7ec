import ColumnStore
import Freshet
import PostgresReplication

/// Converts wire values into a `RowBatch` the way the replicator does (`ColumnMapping` of each column's type, then
/// `ColumnConverter.append`), so the fuzz targets reach the same value parsing as the apply path and the snapshot.
struct ValueSink {
    let mappings: [ColumnMapping]
    var batch: RowBatch

    init(types: [(typeOID: UInt32, typeModifier: Int32)]) {
        mappings = types.enumerated().map { ColumnMapping(name: "c\($0.offset)", typeOID: $0.element.typeOID, typeModifier: $0.element.typeModifier) }
        batch = RowBatch(columns: mappings.map(\.definition))
    }

    /// Appends one value of column `index` (nil: NULL); a value the converter refuses becomes NULL.
    mutating func append(_ raw: UnsafeRawBufferPointer?, binary: Bool, column index: Int) {
        guard let raw else { batch.appendNull(column: index); return }
        do {
            _ = try mappings[index].converter.append(raw, binary: binary, to: &batch, column: index)
        } catch {
            batch.appendNull(column: index)
        }
    }

    /// Ends the row; keeps the batch small.
    mutating func finishRow() {
        batch.finishRow(version: 1)
        if batch.count > 1000 { batch.removeAll() }
    }
}
