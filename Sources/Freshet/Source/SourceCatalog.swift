import ColumnStore
import Foundation
import PostgresReplication

/// Reads what Freshet needs from the source's catalog, and checks the server is set up for logical replication.
public struct SourceCatalog {
    let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// Fails with the fix in the message when the server or the user cannot do logical replication.
    public func checkReplicationPrerequisites() throws {
        let walLevel = try connection.execute("SHOW wal_level").scalar ?? "?"
        guard walLevel == "logical" else {
            throw SetupError.walLevel(current: walLevel)
        }
        let role = try connection.execute("SELECT rolname, rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user")
        guard role.rows.first?[1] == "t" else {
            throw SetupError.noReplicationPrivilege(user: role.rows.first?[0] ?? "?")
        }
    }

    /// The source's system identifier (which database cluster this is).
    public func systemIdentifier() throws -> String {
        try connection.execute("SELECT system_identifier::text FROM pg_control_system()").scalar ?? ""
    }

    /// The database this connection is in: its name and OID (a store copies exactly one database).
    public func currentDatabase() throws -> (name: String, oid: UInt32) {
        let row = try connection.execute("SELECT current_database(), oid::int8::text FROM pg_database WHERE datname = current_database()").rows.first
        return (row?[0] ?? "", UInt32(row?[1] ?? "") ?? 0)
    }

    /// Ordinary and partitioned tables (not partitions) of `schemas`, or exactly `tables` when non-empty, minus `exclude`.
    /// `tables` and `exclude` hold `TableName.qualifiedName`s (as the config loader normalises them).
    /// With `plannerEstimates`, each table's row estimate comes from EXPLAIN (see `plannerRows`), for progress; that
    /// takes a brief lock on each table, so only the snapshot asks for it, never the catalog watcher or `freshet resync`.
    public func tables(schemas: [String], tables: [String], exclude: [String], plannerEstimates: Bool = false) throws -> [SourceTable] {
        let wanted = tables.compactMap { try? TableName(parsing: $0) }
        let rows = try connection.query("""
            SELECT c.oid::int8::text, n.nspname, c.relname, c.relreplident::text, c.reltuples::int8::text, c.relpages::int8::text,
                   c.relkind::text, c.relpersistence::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND (n.nspname = ANY($1::text[]) OR (n.nspname::text, c.relname::text) IN (SELECT * FROM unnest($2::text[], $3::text[])))
            ORDER BY n.nspname, c.relname
            """, [Self.arrayLiteral(tables.isEmpty ? schemas : []), Self.arrayLiteral(wanted.map(\.schema)),
                  Self.arrayLiteral(wanted.map(\.table))]).rows
        var result: [SourceTable] = []
        for row in rows {
            guard let oidText = row[0], let oid = UInt32(oidText), let schema = row[1], let name = row[2] else { continue }
            if exclude.contains(TableName(schema: schema, table: name).qualifiedName) { continue }
            var t = try describe(oid: oid, schema: schema, name: name, replicaIdentity: Character(row[3] ?? "d"),
                                 estimatedRows: Int64(row[4] ?? "") ?? -1, pages: Int64(row[5] ?? "") ?? 0)
            t.unlogged = row[7] == "u"
            if row[6] == "p" {
                t.isPartitioned = true
                t.partitions = try leafPartitions(of: oid)
                t.pages = t.partitions.reduce(0) { $0 + $1.pages }
                let known = t.partitions.map(\.estimatedRows).filter { $0 >= 0 }
                t.estimatedRows = known.isEmpty && !t.partitions.isEmpty ? -1 : known.reduce(0, +)
            }
            if plannerEstimates { t.estimatedRows = plannerRows(SQLQuoting.qualified(schema: schema, name: name)) ?? t.estimatedRows }
            result.append(t)
        }
        return result
    }

    /// The planner's row estimate of a whole table, as EXPLAIN gives it: `reltuples` scaled to the table's current
    /// size, an estimate also for a table never analysed (where `reltuples` is -1) and for a partitioned table (the
    /// sum of its partitions). Nil when EXPLAIN fails (no SELECT right).
    /// EXPLAIN needs a share lock on the table: it waits at most 200 ms for it (a table locked by a long ALTER TABLE
    /// then keeps its `reltuples` estimate), so it never queues behind, or ahead of, the source's own locks for long.
    func plannerRows(_ quotedName: String) -> Int64? {
        _ = try? connection.execute("SET lock_timeout = '200ms'")
        defer { _ = try? connection.execute("RESET lock_timeout") }
        guard let text = try? connection.execute("EXPLAIN (FORMAT JSON) SELECT * FROM \(quotedName)").scalar,
              let plans = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]],
              let rows = (plans.first?["Plan"] as? [String: Any])?["Plan Rows"] as? NSNumber else { return nil }
        return rows.int64Value
    }

    /// The leaf partitions of a partitioned table, at any depth, in name order.
    public func leafPartitions(of oid: UInt32) throws -> [SourcePartition] {
        try connection.query("""
            SELECT c.oid::int8::text, n.nspname, c.relname, c.relpages::int8::text, c.reltuples::int8::text,
                   c.relfilenode::int8::text
            FROM pg_partition_tree($1::oid) t JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE t.isleaf ORDER BY n.nspname, c.relname
            """, [String(oid)]).rows.compactMap { row in
            guard let o = row[0].flatMap(UInt32.init), let schema = row[1], let name = row[2] else { return nil }
            return SourcePartition(oid: o, schema: schema, name: name, pages: Int64(row[3] ?? "") ?? 0,
                                   estimatedRows: Int64(row[4] ?? "") ?? -1, fileNode: row[5].flatMap(UInt32.init))
        }
    }

    /// For a partition: the name of its topmost partitioned ancestor (the table Freshet replicates).
    public func partitionRoot(of name: TableName) throws -> TableName? {
        guard let row = try connection.query("""
            SELECT rn.nspname, r.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_class r ON r.oid = pg_partition_root(c.oid) JOIN pg_namespace rn ON rn.oid = r.relnamespace
            WHERE c.relispartition AND n.nspname = $1 AND c.relname = $2
            """, [name.schema, name.table]).rows.first, let schema = row[0], let table = row[1] else { return nil }
        return TableName(schema: schema, table: table)
    }

    /// Columns and primary key of one table.
    public func describe(oid: UInt32, schema: String, name: String, replicaIdentity: Character,
                         estimatedRows: Int64, pages: Int64) throws -> SourceTable {
        let columns = try connection.query("""
            SELECT a.attname, a.atttypid::int8::text, a.atttypmod::text, a.attnotnull::text, a.attnum::text,
                   a.atthasmissing::text, fn.nspname, f.proname, (a.atthasdef OR a.attidentity <> '')::text
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_proc f ON f.oid = t.typoutput
            LEFT JOIN pg_namespace fn ON fn.oid = f.pronamespace
            WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum
            """, [String(oid)]).rows.map { row in
            SourceColumn(name: row[0] ?? "", typeOID: UInt32(row[1] ?? "") ?? 0,
                         typeModifier: Int32(row[2] ?? "") ?? -1, notNull: row[3] == "true" || row[3] == "t",
                         attnum: Int16(row[4] ?? "") ?? 0, hasMissingValue: row[5] == "true" || row[5] == "t",
                         hasDefault: row[8] == "true" || row[8] == "t",
                         outputFunction: row[6] == "pg_catalog" ? row[7].map { SQLQuoting.qualified(schema: "pg_catalog", name: $0) } : nil)
        }
        let key = try connection.query("""
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = $1::oid AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """, [String(oid)]).rows.compactMap { $0[0] }
        var table = SourceTable(oid: oid, schema: schema, name: name, columns: columns, primaryKey: key,
                                replicaIdentity: replicaIdentity, estimatedRows: estimatedRows, pages: pages)
        if replicaIdentity == "i" {
            table.replicaIdentityColumns = try connection.query("""
                SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = $1::oid AND i.indisreplident
                ORDER BY array_position(i.indkey::int2[], a.attnum)
                """, [String(oid)]).rows.compactMap { $0[0] }
        }
        return table
    }

    /// The enum labels (`typeOID:label`) of the enum types each table's columns use, directly, as an array element or
    /// under a domain, by table OID: `ALTER TYPE ... RENAME VALUE` changes the text of every stored value without a
    /// WAL record per row.
    func enumLabels(of tables: [UInt32]) throws -> [UInt32: [String]] {
        guard !tables.isEmpty else { return [:] }
        var result: [UInt32: [String]] = [:]
        for row in try connection.query("""
            SELECT DISTINCT a.attrelid::int8::text, e.enumtypid::int8::text || ':' || e.enumlabel
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            JOIN pg_enum e ON e.enumtypid IN (t.oid, t.typelem, t.typbasetype)
            WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
            """, ["{" + tables.map(String.init).joined(separator: ",") + "}"]).rows {
            if let oid = row[0].flatMap(UInt32.init), let label = row[1] { result[oid, default: []].append(label) }
        }
        return result.mapValues { $0.sorted() }
    }

    /// A relation's schema, name and replica identity (`relreplident`); nil when no relation has this OID.
    public func relationIdentity(oid: UInt32) throws -> (schema: String, name: String, replicaIdentity: Character)? {
        guard let row = try connection.query("""
            SELECT n.nspname, c.relname, c.relreplident::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = $1::oid
            """, [String(oid)]).rows.first, let schema = row[0], let name = row[1] else { return nil }
        return (schema, name, Character(row[2] ?? "d"))
    }

    /// Whether a relation with this OID exists.
    public func relationExists(oid: UInt32) throws -> Bool {
        try !connection.query("SELECT 1 FROM pg_class WHERE oid = $1::oid", [String(oid)]).rows.isEmpty
    }

    /// The tables a publication lists explicitly (`pg_publication_rel`), by OID, with their current names.
    public func publicationRelations(_ publication: String) throws -> [UInt32: String] {
        var result: [UInt32: String] = [:]
        for row in try connection.query("""
            SELECT c.oid::int8::text, n.nspname, c.relname
            FROM pg_publication p JOIN pg_publication_rel pr ON pr.prpubid = p.oid
            JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE p.pubname = $1
            """, [publication]).rows {
            if let oid = row[0].flatMap(UInt32.init), let schema = row[1], let name = row[2] {
                result[oid] = TableName(schema: schema, table: name).qualifiedName
            }
        }
        return result
    }

    /// The schemas a publication publishes whole (`FOR TABLES IN SCHEMA`).
    public func publicationSchemas(_ publication: String) throws -> [String] {
        try connection.query("""
            SELECT n.nspname FROM pg_publication p JOIN pg_publication_namespace pn ON pn.pnpubid = p.oid
            JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE p.pubname = $1 ORDER BY 1
            """, [publication]).rows.compactMap { $0[0] }
    }

    /// Whether the publication publishes partitions' changes as their root's (`publish_via_partition_root`).
    public func publicationViaRoot(_ publication: String) throws -> Bool {
        try connection.query("SELECT pubviaroot::text FROM pg_publication WHERE pubname = $1", [publication]).rows.first?[0] == "true"
    }

    /// Whether a publication exists, and the tables (`TableName.qualifiedName`) it publishes.
    public func publicationTables(_ publication: String) throws -> [String]? {
        guard try !connection.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication]).rows.isEmpty else { return nil }
        return try connection.query("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2",
                                    [publication]).rows.compactMap { row in
            guard let schema = row[0], let table = row[1] else { return nil }
            return TableName(schema: schema, table: table).qualifiedName
        }
    }

    /// The logical slot's state, or nil when it does not exist.
    public func slot(_ name: String) throws -> SlotInfo? {
        let r = try connection.query("""
            SELECT plugin, database, active::text, confirmed_flush_lsn::text, wal_status,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8::text
            FROM pg_replication_slots WHERE slot_name = $1
            """, [name])
        guard let row = r.rows.first else { return nil }
        return SlotInfo(name: name, plugin: row[0] ?? "", database: row[1] ?? "", active: row[2] == "true",
                        confirmedFlush: row[3].flatMap(LSN.init) ?? .zero, walStatus: row[4],
                        retainedBytes: Int64(row[5] ?? "") ?? 0)
    }

    /// `{"a","b"}` for a text[] parameter.
    static func arrayLiteral(_ items: [String]) -> String {
        "{" + items.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "}"
    }
}

/// A replication slot as `pg_replication_slots` shows it.
public struct SlotInfo: Sendable, Equatable {
    public var name: String
    public var plugin: String
    public var database: String
    public var active: Bool
    public var confirmedFlush: LSN
    public var walStatus: String?
    /// WAL the slot keeps on the server (current WAL position minus restart_lsn).
    public var retainedBytes: Int64
}
