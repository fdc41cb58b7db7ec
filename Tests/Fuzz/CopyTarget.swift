import PostgresReplication

/// The binary COPY reader as the snapshot uses it. Input: one byte choosing the chunk size the stream is fed in,
/// one byte k (at most 32), k big-endian UInt32 type OIDs (the columns' types), then the COPY stream itself. Each
/// field of each row is converted by its column's type through the replicator's converters (`ValueSink`).
enum CopyTarget {
    static func run(_ input: [UInt8]) {
        guard input.count >= 2 else { return }
        let chunkSize = Int(input[0]) * 61 + 1
        let typeCount = min(Int(input[1]), 32)
        guard input.count >= 2 + 4 * typeCount else { return }
        var types: [UInt32] = []
        for i in 0..<typeCount {
            let o = 2 + 4 * i
            types.append(UInt32(input[o]) << 24 | UInt32(input[o + 1]) << 16 | UInt32(input[o + 2]) << 8 | UInt32(input[o + 3]))
        }
        let stream = input[(2 + 4 * typeCount)...]
        var reader = BinaryCopyReader(maxFieldBytes: 1 << 20)
        var sink = ValueSink(types: types.map { ($0, -1) })
        var offset = stream.startIndex
        while offset < stream.endIndex {
            let end = min(offset + chunkSize, stream.endIndex)
            reader.feed(Array(stream[offset..<end]))
            offset = end
            do {
                while try reader.nextRow() {
                    // The snapshot refuses a row whose field count is not its column count.
                    guard reader.fieldCount == types.count, !types.isEmpty else { return }
                    reader.forEachField { index, value in sink.append(value, binary: true, column: index) }
                    sink.finishRow()
                }
            } catch {
                return
            }
        }
        _ = try? reader.finish()
    }
}
