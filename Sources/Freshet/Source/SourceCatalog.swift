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

    /// Ordinary and partitioned tables (not partitions) of `schemas`, or exactly `tables` when non-empty, minus `exclude`.
    public func tables(schemas: [String], tables: [String], exclude: [String]) throws -> [SourceTable] {
        let rows = try connection.query("""
            SELECT c.oid::int8::text, n.nspname, c.relname, c.relreplident::text, c.reltuples::int8::text, c.relpages::int8::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND (n.nspname = ANY($1::text[]) OR (n.nspname || '.' || c.relname) = ANY($2::text[]))
            ORDER BY n.nspname, c.relname
            """, [Self.arrayLiteral(tables.isEmpty ? schemas : []), Self.arrayLiteral(tables)]).rows
        var result: [SourceTable] = []
        for row in rows {
            guard let oidText = row[0], let oid = UInt32(oidText), let schema = row[1], let name = row[2] else { continue }
            if exclude.contains("\(schema).\(name)") { continue }
            result.append(try describe(oid: oid, schema: schema, name: name, replicaIdentity: Character(row[3] ?? "d"),
                                       estimatedRows: Int64(row[4] ?? "") ?? -1, pages: Int64(row[5] ?? "") ?? 0))
        }
        return result
    }

    /// Columns and primary key of one table.
    public func describe(oid: UInt32, schema: String, name: String, replicaIdentity: Character,
                         estimatedRows: Int64, pages: Int64) throws -> SourceTable {
        let columns = try connection.query("""
            SELECT a.attname, a.atttypid::int8::text, a.atttypmod::text, a.attnotnull::text, fn.nspname, f.proname
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_proc f ON f.oid = t.typoutput
            LEFT JOIN pg_namespace fn ON fn.oid = f.pronamespace
            WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum
            """, [String(oid)]).rows.map { row in
            SourceColumn(name: row[0] ?? "", typeOID: UInt32(row[1] ?? "") ?? 0,
                         typeModifier: Int32(row[2] ?? "") ?? -1, notNull: row[3] == "true" || row[3] == "t",
                         outputFunction: row[4] == "pg_catalog" ? row[5].map { SQLQuoting.qualified(schema: "pg_catalog", name: $0) } : nil)
        }
        let key = try connection.query("""
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = $1::oid AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """, [String(oid)]).rows.compactMap { $0[0] }
        return SourceTable(oid: oid, schema: schema, name: name, columns: columns, primaryKey: key,
                           replicaIdentity: replicaIdentity, estimatedRows: estimatedRows, pages: pages)
    }

    /// Whether a publication exists, and the tables (`schema.table`) it publishes.
    public func publicationTables(_ publication: String) throws -> [String]? {
        guard try !connection.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication]).rows.isEmpty else { return nil }
        return try connection.query("SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
                                    [publication]).rows.compactMap { $0[0] }
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
