import PostgresReplication

/// The pgoutput decoder over a whole stream: the input is a capture (`CaptureFile`: [UInt32 BE length][message]...),
/// its first record choosing the protocol version. Every message goes through one decoder (streamed blocks keep
/// state), and each tuple's values are converted by the column types of the relation the stream declared for them,
/// through the replicator's own converters (`ValueSink`).
enum PgOutputTarget {
    static func run(_ input: [UInt8]) {
        guard let version = input.first else { return }
        var decoder = PgOutputDecoder(protocolVersion: Int(version % 4) + 1)
        var reader = CaptureFile.Reader(bytes: Array(input.dropFirst()))
        var sinks: [UInt32: ValueSink] = [:]   // by relation OID, as the stream declared it last
        while let record = try? reader.next() {
            guard let message = try? decoder.decode(record) else { continue }
            switch message {
            case let .relation(r) where !r.columns.isEmpty:
                sinks[r.oid] = ValueSink(types: r.columns.map { ($0.typeOID, $0.typeModifier) })
            case let .insert(i): parse(i.newTuple, &sinks[i.relationOID])
            case let .update(u):
                parse(u.newTuple, &sinks[u.relationOID])
                if let old = u.oldTuple?.tuple { parse(old, &sinks[u.relationOID]) }
            case let .delete(d):
                parse(d.oldTuple.tuple, &sinks[d.relationOID])
            default: break
            }
        }
    }

    /// Converts the tuple's values as the apply side does (text or binary form, unchanged TOAST kept as such).
    private static func parse(_ tuple: TupleData, _ declared: inout ValueSink?) {
        guard var sink = declared else { return }
        declared = nil   // the batch stays uniquely referenced (no copy on append)
        defer { declared = sink }
        for i in 0..<sink.mappings.count {
            guard i < tuple.count else { sink.append(nil, binary: false, column: i); continue }
            switch tuple.kind(at: i) {
            case .null: sink.append(nil, binary: false, column: i)
            case .unchangedToast: sink.batch.appendUnchanged(column: i)
            case .text, .binary:
                let binary = tuple.kind(at: i) == .binary
                tuple.withBytes(at: i) { raw in sink.append(raw, binary: binary, column: i) }
            }
        }
        sink.finishRow()
    }
}
