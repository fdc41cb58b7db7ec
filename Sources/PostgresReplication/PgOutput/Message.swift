/// One decoded pgoutput message: the payload of one XLogData after its 25-byte header.
///
/// Timestamps are `Int64` microseconds since 2000-01-01 00:00:00 UTC (the Postgres epoch).
/// `xid` fields typed `UInt32?` are the Int32 xid prefix that DML, Relation, Type, Message and Truncate
/// carry only inside a streamed block (between Stream Start and Stream Stop, protocol ≥ 2); nil elsewhere.
public enum PgOutputMessage: Sendable, Equatable {
    case begin(Begin)
    case commit(Commit)
    case origin(Origin)
    case relation(RelationMessage)
    case type(TypeMessage)
    case insert(Insert)
    case update(Update)
    case delete(Delete)
    case truncate(Truncate)
    case logicalMessage(LogicalMessage)
    case streamStart(StreamStart)
    case streamStop
    case streamCommit(StreamCommit)
    case streamAbort(StreamAbort)
    case beginPrepare(BeginPrepare)
    case prepare(Prepare)
    case commitPrepared(CommitPrepared)
    case rollbackPrepared(RollbackPrepared)
    case streamPrepare(Prepare)

    /// Inside a streamed block: the xid of the (sub)transaction that made the change (Insert, Update, Delete, Truncate,
    /// Message). Nil for other messages, and for every message outside a streamed block.
    public var changeXid: UInt32? {
        switch self {
        case let .insert(m): return m.xid
        case let .update(m): return m.xid
        case let .delete(m): return m.xid
        case let .truncate(m): return m.xid
        case let .logicalMessage(m): return m.xid
        default: return nil
        }
    }

    /// `B`: a transaction starts. Changes follow; `Commit` ends it.
    public struct Begin: Sendable, Equatable {
        /// LSN of the transaction's commit record.
        public var finalLSN: LSN
        public var commitTimestamp: Int64
        public var xid: UInt32
        public init(finalLSN: LSN, commitTimestamp: Int64, xid: UInt32) {
            self.finalLSN = finalLSN; self.commitTimestamp = commitTimestamp; self.xid = xid
        }
    }

    /// `C`: the transaction ends. `endLSN` is the position to confirm once it is durably applied.
    public struct Commit: Sendable, Equatable {
        public var flags: UInt8
        /// LSN of the commit record.
        public var commitLSN: LSN
        /// End of the commit record: the transaction's version and the LSN to confirm.
        public var endLSN: LSN
        public var commitTimestamp: Int64
        public init(flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTimestamp: Int64) {
            self.flags = flags; self.commitLSN = commitLSN; self.endLSN = endLSN; self.commitTimestamp = commitTimestamp
        }
    }

    /// `O`: the transaction was replicated here from another origin.
    public struct Origin: Sendable, Equatable {
        /// The commit LSN on the origin server.
        public var commitLSN: LSN
        public var name: String
        public init(commitLSN: LSN, name: String) { self.commitLSN = commitLSN; self.name = name }
    }

    /// `Y`: a non-built-in type used by a following Relation (for a domain, its base type's name).
    public struct TypeMessage: Sendable, Equatable {
        public var xid: UInt32?
        public var oid: UInt32
        /// `""` means `pg_catalog`.
        public var namespace: String
        public var name: String
        public init(xid: UInt32? = nil, oid: UInt32, namespace: String, name: String) {
            self.xid = xid; self.oid = oid; self.namespace = namespace; self.name = name
        }
    }

    /// `I`: a new row.
    public struct Insert: Sendable, Equatable {
        public var xid: UInt32?
        public var relationOID: UInt32
        public var newTuple: TupleData
        public init(xid: UInt32? = nil, relationOID: UInt32, newTuple: TupleData) {
            self.xid = xid; self.relationOID = relationOID; self.newTuple = newTuple
        }
    }

    /// The old-row data of an Update or Delete.
    public enum OldTuple: Sendable, Equatable {
        /// `K`: the replica identity key columns; other columns are `n`.
        case key(TupleData)
        /// `O`: the whole old row (REPLICA IDENTITY FULL).
        case full(TupleData)

        /// The tuple, whichever kind it is.
        public var tuple: TupleData {
            switch self {
            case .key(let tuple), .full(let tuple): return tuple
            }
        }
    }

    /// `U`: a changed row. `oldTuple` is nil when the key did not change and the identity is not FULL.
    public struct Update: Sendable, Equatable {
        public var xid: UInt32?
        public var relationOID: UInt32
        public var oldTuple: OldTuple?
        public var newTuple: TupleData
        public init(xid: UInt32? = nil, relationOID: UInt32, oldTuple: OldTuple?, newTuple: TupleData) {
            self.xid = xid; self.relationOID = relationOID; self.oldTuple = oldTuple; self.newTuple = newTuple
        }
    }

    /// `D`: a removed row, identified by its key (`K`) or whole old row (`O`).
    public struct Delete: Sendable, Equatable {
        public var xid: UInt32?
        public var relationOID: UInt32
        public var oldTuple: OldTuple
        public init(xid: UInt32? = nil, relationOID: UInt32, oldTuple: OldTuple) {
            self.xid = xid; self.relationOID = relationOID; self.oldTuple = oldTuple
        }
    }

    /// The option bits of a Truncate message.
    public struct TruncateOptions: OptionSet, Sendable, Equatable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let cascade = TruncateOptions(rawValue: 1)
        public static let restartIdentity = TruncateOptions(rawValue: 2)
    }

    /// `T`: one TRUNCATE statement over one or more tables.
    public struct Truncate: Sendable, Equatable {
        public var xid: UInt32?
        public var options: TruncateOptions
        public var relationOIDs: [UInt32]
        public init(xid: UInt32? = nil, options: TruncateOptions, relationOIDs: [UInt32]) {
            self.xid = xid; self.options = options; self.relationOIDs = relationOIDs
        }
    }

    /// `M`: a `pg_logical_emit_message` (only with `messages 'true'`).
    public struct LogicalMessage: Sendable, Equatable {
        public var xid: UInt32?
        /// Bit 0 = transactional.
        public var flags: UInt8
        public var lsn: LSN
        public var prefix: String
        public var content: [UInt8]
        /// Transactional messages arrive inside Begin/Commit in order; others may arrive anywhere.
        public var isTransactional: Bool { flags & 1 != 0 }
        public init(xid: UInt32? = nil, flags: UInt8, lsn: LSN, prefix: String, content: [UInt8]) {
            self.xid = xid; self.flags = flags; self.lsn = lsn; self.prefix = prefix; self.content = content
        }
    }

    /// `S`: a block of a large in-progress transaction follows (protocol ≥ 2).
    public struct StreamStart: Sendable, Equatable {
        /// The top-level transaction's xid.
        public var xid: UInt32
        public var isFirstSegment: Bool
        public init(xid: UInt32, isFirstSegment: Bool) { self.xid = xid; self.isFirstSegment = isFirstSegment }
    }

    /// `c`: a streamed transaction committed.
    public struct StreamCommit: Sendable, Equatable {
        public var xid: UInt32
        public var flags: UInt8
        public var commitLSN: LSN
        public var endLSN: LSN
        public var commitTimestamp: Int64
        public init(xid: UInt32, flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTimestamp: Int64) {
            self.xid = xid; self.flags = flags; self.commitLSN = commitLSN; self.endLSN = endLSN
            self.commitTimestamp = commitTimestamp
        }
    }

    /// `A`: a streamed (sub)transaction aborted; discard its changes.
    public struct StreamAbort: Sendable, Equatable {
        public var xid: UInt32
        /// The aborted subtransaction; equal to `xid` when the whole transaction aborted.
        public var subtransactionXid: UInt32
        /// Present only with `streaming 'parallel'` (protocol 4, PG16+).
        public var abortLSN: LSN?
        /// Present only with `streaming 'parallel'` (protocol 4, PG16+).
        public var abortTimestamp: Int64?
        public init(xid: UInt32, subtransactionXid: UInt32, abortLSN: LSN? = nil, abortTimestamp: Int64? = nil) {
            self.xid = xid; self.subtransactionXid = subtransactionXid
            self.abortLSN = abortLSN; self.abortTimestamp = abortTimestamp
        }
    }

    /// `b` (protocol 3): a prepared transaction's changes follow.
    public struct BeginPrepare: Sendable, Equatable {
        public var prepareLSN: LSN
        public var endLSN: LSN
        public var prepareTimestamp: Int64
        public var xid: UInt32
        /// The global transaction identifier given to PREPARE TRANSACTION.
        public var gid: String
        public init(prepareLSN: LSN, endLSN: LSN, prepareTimestamp: Int64, xid: UInt32, gid: String) {
            self.prepareLSN = prepareLSN; self.endLSN = endLSN; self.prepareTimestamp = prepareTimestamp
            self.xid = xid; self.gid = gid
        }
    }

    /// `P` (Prepare) and `p` (Stream Prepare), protocol 3: the transaction was prepared.
    public struct Prepare: Sendable, Equatable {
        public var flags: UInt8
        public var prepareLSN: LSN
        public var endLSN: LSN
        public var prepareTimestamp: Int64
        public var xid: UInt32
        public var gid: String
        public init(flags: UInt8, prepareLSN: LSN, endLSN: LSN, prepareTimestamp: Int64, xid: UInt32, gid: String) {
            self.flags = flags; self.prepareLSN = prepareLSN; self.endLSN = endLSN
            self.prepareTimestamp = prepareTimestamp; self.xid = xid; self.gid = gid
        }
    }

    /// `K` (protocol 3): COMMIT PREPARED ran.
    public struct CommitPrepared: Sendable, Equatable {
        public var flags: UInt8
        public var commitLSN: LSN
        public var endLSN: LSN
        public var commitTimestamp: Int64
        public var xid: UInt32
        public var gid: String
        public init(flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTimestamp: Int64, xid: UInt32, gid: String) {
            self.flags = flags; self.commitLSN = commitLSN; self.endLSN = endLSN
            self.commitTimestamp = commitTimestamp; self.xid = xid; self.gid = gid
        }
    }

    /// `r` (protocol 3): ROLLBACK PREPARED ran.
    public struct RollbackPrepared: Sendable, Equatable {
        public var flags: UInt8
        public var prepareEndLSN: LSN
        public var rollbackEndLSN: LSN
        public var prepareTimestamp: Int64
        public var rollbackTimestamp: Int64
        public var xid: UInt32
        public var gid: String
        public init(flags: UInt8, prepareEndLSN: LSN, rollbackEndLSN: LSN, prepareTimestamp: Int64,
                    rollbackTimestamp: Int64, xid: UInt32, gid: String) {
            self.flags = flags; self.prepareEndLSN = prepareEndLSN; self.rollbackEndLSN = rollbackEndLSN
            self.prepareTimestamp = prepareTimestamp; self.rollbackTimestamp = rollbackTimestamp
            self.xid = xid; self.gid = gid
        }
    }
}
