/// A logical walsender connection (`replication=database`): replication commands plus simple-protocol SQL.
///
/// Use it to identify the server, create or drop slots, and start streaming with `startReplication`,
/// which turns this connection into a `ReplicationStream` (CopyBoth mode).
public final class ReplicationConnection: @unchecked Sendable {
    /// The underlying libpq connection (replication mode).
    public let connection: Connection

    /// Opens a replication connection to the database named in `connectionString`.
    public init(_ connectionString: String, applicationName: String = "freshet") throws {
        connection = try Connection(connectionString, replication: true, applicationName: applicationName)
    }

    /// Opens a replication connection with parsed settings (e.g. extra `options` such as `logical_decoding_work_mem`).
    public init(settings: ConnectionSettings, applicationName: String = "freshet") throws {
        connection = try Connection(settings: settings, replication: true, applicationName: applicationName)
    }

    /// `IDENTIFY_SYSTEM`: the cluster's identity and current WAL flush position.
    public func identifySystem() throws -> SystemIdentity {
        let result = try connection.execute("IDENTIFY_SYSTEM")
        guard let systemID = result.value(0, "systemid"),
              let timelineText = result.value(0, "timeline"), let timeline = Int(timelineText),
              let posText = result.value(0, "xlogpos"), let position = LSN(posText) else {
            throw PostgresError.protocolViolation("IDENTIFY_SYSTEM returned an unexpected row")
        }
        return SystemIdentity(systemID: systemID, timeline: timeline, walFlushPosition: position,
                              database: result.value(0, "dbname"))
    }

    /// `CREATE_REPLICATION_SLOT name [TEMPORARY] LOGICAL pgoutput (SNAPSHOT '...')`.
    ///
    /// With `.export` the snapshot stays importable (`SET TRANSACTION SNAPSHOT`) only until the next command on
    /// this connection. With `.use` this must be the first command of a REPEATABLE READ transaction opened on this
    /// connection. See the pg-replication reference §2.
    public func createSlot(_ name: String, temporary: Bool = false,
                           snapshot: SlotSnapshotAction = .export) throws -> CreatedSlot {
        let sql = "CREATE_REPLICATION_SLOT \(SQLQuoting.identifier(name))\(temporary ? " TEMPORARY" : "") "
            + "LOGICAL pgoutput (SNAPSHOT '\(snapshot.rawValue)')"
        let result = try connection.execute(sql)
        guard let slotName = result.value(0, "slot_name"),
              let pointText = result.value(0, "consistent_point"), let point = LSN(pointText) else {
            throw PostgresError.protocolViolation("CREATE_REPLICATION_SLOT returned an unexpected row")
        }
        return CreatedSlot(name: slotName, consistentPoint: point, snapshotName: result.value(0, "snapshot_name"))
    }

    /// `DROP_REPLICATION_SLOT name [WAIT]`. Without `wait` it fails when the slot is active.
    public func dropSlot(_ name: String, wait: Bool = false) throws {
        try connection.execute("DROP_REPLICATION_SLOT \(SQLQuoting.identifier(name))\(wait ? " WAIT" : "")")
    }

    /// `START_REPLICATION SLOT name LOGICAL lsn (...)`; the connection then belongs to the returned stream.
    /// `startLSN` 0/0 means "resume from the slot's confirmed position".
    public func startReplication(slot: String, from startLSN: LSN = .zero,
                                 options: ReplicationOptions) throws -> ReplicationStream {
        var parts = ["proto_version '\(options.protocolVersion)'",
                     "publication_names \(SQLQuoting.literal(options.publications.map(SQLQuoting.identifier).joined(separator: ",")))"]
        if options.messages { parts.append("messages 'true'") }
        if options.streaming { parts.append("streaming 'on'") }
        if options.binary { parts.append("binary 'true'") }
        let sql = "START_REPLICATION SLOT \(SQLQuoting.identifier(slot)) LOGICAL \(startLSN) (\(parts.joined(separator: ", ")))"
        try connection.execute(sql)   // PGRES_COPY_BOTH on success; errors throw
        return ReplicationStream(connection: connection, startLSN: startLSN,
                                 statusInterval: options.statusInterval)
    }
}

/// The answer of `IDENTIFY_SYSTEM`.
public struct SystemIdentity: Sendable, Equatable {
    /// The cluster's unique system identifier (decimal text of a 64-bit number).
    public var systemID: String
    public var timeline: Int
    /// The current WAL flush position.
    public var walFlushPosition: LSN
    public var database: String?
}

/// What `CREATE_REPLICATION_SLOT` does with the slot's snapshot.
public enum SlotSnapshotAction: String, Sendable {
    /// Export it for `SET TRANSACTION SNAPSHOT` on other connections (EXPORT_SNAPSHOT).
    case export
    /// Use it in the current transaction of the replication connection (USE_SNAPSHOT).
    case use
    /// No snapshot (NOEXPORT_SNAPSHOT).
    case nothing
}

/// A created slot: streaming from `consistentPoint` sees exactly the transactions not in the snapshot.
public struct CreatedSlot: Sendable, Equatable {
    public var name: String
    public var consistentPoint: LSN
    /// The exported snapshot's name (only with `.export`).
    public var snapshotName: String?
}

/// pgoutput options for `START_REPLICATION`.
public struct ReplicationOptions: Sendable {
    /// 1, or 2 for streaming of large in-progress transactions.
    public var protocolVersion: Int
    public var publications: [String]
    /// Deliver `pg_logical_emit_message` messages.
    public var messages: Bool
    /// Stream large in-progress transactions (needs protocol version ≥ 2).
    public var streaming: Bool
    /// Binary tuple values (`b` columns) where the type has a send function.
    public var binary: Bool
    /// How often a standby status update is sent when nothing else prompts one.
    public var statusInterval: Double

    public init(protocolVersion: Int = 1, publications: [String], messages: Bool = false,
                streaming: Bool = false, binary: Bool = false, statusInterval: Double = 10) {
        self.protocolVersion = protocolVersion; self.publications = publications; self.messages = messages
        self.streaming = streaming; self.binary = binary; self.statusInterval = statusInterval
    }
}
