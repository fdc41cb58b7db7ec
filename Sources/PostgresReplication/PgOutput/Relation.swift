/// A table's `REPLICA IDENTITY` setting, which decides what old-row data Update and Delete carry.
public enum ReplicaIdentity: UInt8, Sendable {
    /// `d`: the primary key.
    case `default` = 0x64
    /// `n`: nothing (UPDATE/DELETE fail on the publisher if published).
    case nothing = 0x6E
    /// `f`: the whole row.
    case full = 0x66
    /// `i`: a chosen unique index.
    case index = 0x69
}

/// One column of a Relation message.
public struct RelationColumn: Sendable, Equatable {
    /// Column flags; bit 0 = part of the replica identity key.
    public var flags: UInt8
    /// The column name.
    public var name: String
    /// `pg_type` OID of the column's type (see `TypeOID`).
    public var typeOID: UInt32
    /// `atttypmod` (e.g. precision/scale of numeric, length of varchar); -1 when none.
    public var typeModifier: Int32

    /// True when the column is part of the replica identity key (every column under REPLICA IDENTITY FULL).
    public var isKey: Bool { flags & 1 != 0 }

    public init(flags: UInt8, name: String, typeOID: UInt32, typeModifier: Int32) {
        self.flags = flags
        self.name = name
        self.typeOID = typeOID
        self.typeModifier = typeModifier
    }
}

/// A Relation message (`R`): the layout of a published table, sent before its first change in a session
/// and again after any schema change; TupleData columns follow `columns` in order.
public struct RelationMessage: Sendable, Equatable {
    /// The xid prefix, present only inside a streamed block.
    public var xid: UInt32?
    /// The table's OID, used by the DML messages.
    public var oid: UInt32
    /// The schema name; `""` means `pg_catalog`.
    public var namespace: String
    /// The table name.
    public var name: String
    public var replicaIdentity: ReplicaIdentity
    public var columns: [RelationColumn]

    public init(xid: UInt32? = nil, oid: UInt32, namespace: String, name: String,
                replicaIdentity: ReplicaIdentity, columns: [RelationColumn]) {
        self.xid = xid
        self.oid = oid
        self.namespace = namespace
        self.name = name
        self.replicaIdentity = replicaIdentity
        self.columns = columns
    }
}

/// The latest Relation message per table OID, as a replication consumer must keep it.
public struct RelationCache: Sendable {
    private var relations: [UInt32: RelationMessage] = [:]

    public init() {}

    /// Records (or replaces) the layout of `relation.oid`.
    public mutating func update(_ relation: RelationMessage) {
        relations[relation.oid] = relation
    }

    /// The latest layout for `oid`, or nil when no Relation message was seen for it.
    public subscript(oid: UInt32) -> RelationMessage? { relations[oid] }

    /// Forgets every layout (e.g. on reconnect, when the server re-sends them).
    public mutating func removeAll() { relations.removeAll() }
}
