/// The apply thread's table writers, found by relation OID (changes name their relation) and by store table name
/// (Relation messages are matched by name, to notice a table dropped and created again). One home for both maps, so
/// they never disagree.
struct TableWriters {
    private(set) var byOID: [UInt32: TableWriter] = [:]
    private(set) var byName: [String: TableWriter] = [:]

    /// Every writer.
    var all: Dictionary<String, TableWriter>.Values { byName.values }

    /// Adds a writer for a table seen for the first time.
    mutating func add(_ writer: TableWriter) {
        byOID[writer.relationOID] = writer
        byName[writer.name] = writer
    }

    /// The writer's table has a new relation OID (dropped and created again under the same name).
    mutating func rebind(_ writer: TableWriter, to oid: UInt32) {
        byOID[writer.relationOID] = nil
        writer.setRelationOID(oid)
        byOID[oid] = writer
    }
}
