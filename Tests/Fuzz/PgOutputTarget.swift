import PostgresReplication

/// The pgoutput decoder over a whole stream: the input is a capture (`CaptureFile`: [UInt32 BE length][message]...),
/// its first record choosing the protocol version. Every message goes through one decoder (streamed blocks keep
/// state), and each tuple's values are parsed by the column types of the relation the stream declared for them, as
/// the apply side does.
enum PgOutputTarget {
    static func run(_ input: [UInt8]) {
        guard let version = input.first else { return }
        var decoder = PgOutputDecoder(protocolVersion: Int(version % 4) + 1)
        var reader = CaptureFile.Reader(bytes: Array(input.dropFirst()))
        var relations: [UInt32: RelationMessage] = [:]
        while let record = try? reader.next() {
            guard let message = try? decoder.decode(record) else { continue }
            switch message {
            case let .relation(r): relations[r.oid] = r
            case let .insert(i): parse(i.newTuple, relations[i.relationOID])
            case let .update(u):
                parse(u.newTuple, relations[u.relationOID])
                if let old = u.oldTuple?.tuple { parse(old, relations[u.relationOID]) }
            case let .delete(d):
                parse(d.oldTuple.tuple, relations[d.relationOID])
            default: break
            }
        }
    }

    private static func parse(_ tuple: TupleData, _ relation: RelationMessage?) {
        guard let relation else { return }
        for i in 0..<min(tuple.count, relation.columns.count) {
            let c = relation.columns[i]
            _ = try? tuple.value(at: i, typeOID: c.typeOID, typeModifier: c.typeModifier)
        }
    }
}
