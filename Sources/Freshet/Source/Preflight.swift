import ColumnStore
import Foundation
import PostgresReplication

/// `freshet check`: every prerequisite of `freshet run` on a source and a store, each one verdict with the fix.
/// It only reads: the session is read-only, nothing is created on the source or on disk.
public enum Preflight {
    /// `skip`: not applicable here (it does not change the result).
    public enum Verdict: String, Codable, Sendable { case pass, skip, warn, fail }

    /// One prerequisite: what was found and, unless it passed, how to fix it.
    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var verdict: Verdict
        public var detail: String
        public var fix: String?
    }

    public struct Report: Codable, Sendable, Equatable {
        public var source: String
        public var store: String
        public var verdict: Verdict
        public var checks: [Check]

        /// 0 pass, 1 warn, 2 fail.
        public var exitCode: Int32 { verdict == .fail ? 2 : verdict == .warn ? 1 : 0 }

        /// One line per check: `PASS  wal_level  logical`, `FAIL  …  fix: …`.
        public var text: String {
            let width = checks.map(\.name.count).max() ?? 0
            return checks.map { c in
                c.verdict.rawValue.uppercased().padding(toLength: 6, withPad: " ", startingAt: 0)
                    + c.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + c.detail
                    + (c.fix.map { "  fix: " + $0 } ?? "")
            }.joined(separator: "\n") + "\n" + "result: \(verdict.rawValue)\n"
        }

        public func json() throws -> Data {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return try e.encode(self)
        }
    }

    /// Runs every check of `config` (source, store, slot, publication, table scope and settings).
    public static func run(_ config: Config) -> Report {
        var checks: [Check] = []
        let settings: ConnectionSettings
        do { settings = try ConnectionSettings(config.source) } catch {
            return report(config, [Check(name: "connection", verdict: .fail, detail: "\(error)", fix: "give a postgresql:// URL or key=value string")])
        }
        let sql: Connection
        do { sql = try Connection(settings: settings, applicationName: "freshet-check") } catch {
            return report(config, [Check(name: "connection", verdict: .fail, detail: settings.redact("\(error)"),
                                         fix: "check host, port, user and password, and pg_hba.conf")])
        }
        defer { sql.close() }
        do {
            try sql.execute("SET default_transaction_read_only = on")
            let probe = SourceProbe(sql: sql, config: config, settings: settings)
            checks.append(Check(name: "connection", verdict: .pass, detail: "\(settings.redacted) as \(try probe.user)", fix: nil))
            checks += try probe.all()
        } catch {
            checks.append(Check(name: "catalog", verdict: .fail, detail: settings.redact("\(error)"), fix: "see the error"))
        }
        return report(config, checks)
    }

    private static func report(_ config: Config, _ checks: [Check]) -> Report {
        let verdicts = Set(checks.map(\.verdict))
        let verdict: Verdict = verdicts.contains(.fail) ? .fail : verdicts.contains(.warn) ? .warn : .pass
        return Report(source: config.redactedSource, store: config.store, verdict: verdict, checks: checks)
    }
}

/// The read-only queries behind `Preflight`, one method per prerequisite.
struct SourceProbe {
    let sql: Connection
    let config: Config
    let settings: ConnectionSettings
    typealias Check = Preflight.Check

    var user: String { get throws { try sql.execute("SELECT current_user").scalar ?? "?" } }

    private func setting(_ name: String) throws -> String? {
        try sql.query("SELECT setting FROM pg_settings WHERE name = $1", [name]).rows.first?[0] ?? nil
    }

    func all() throws -> [Check] {
        let catalog = SourceCatalog(connection: sql)
        let tables = try catalog.tables(schemas: config.schemas, tables: config.tables, exclude: config.exclude)
        return try [version(), walLevel(), slots(), walSenders(), replicationRole(), existingSlot(catalog),
                    walKeepSize(), tls()]
            + tableChecks(tables) + [publication(catalog, tables), disk(tables)]
    }

    func version() throws -> Check {
        let num = sql.serverVersion
        let text = try setting("server_version") ?? "\(num)"
        if num >= 150000 { return Check(name: "postgresql_version", verdict: .pass, detail: text, fix: nil) }
        if num >= 140000 {
            return Check(name: "postgresql_version", verdict: .warn, detail: "\(text): Freshet is tested on PostgreSQL 15",
                         fix: "upgrade to 15 or later, or check freshet verify after the snapshot")
        }
        return Check(name: "postgresql_version", verdict: .fail, detail: "\(text): pgoutput's logical messages (heartbeats, resync requests) need 14",
                     fix: "upgrade PostgreSQL to 15 or later")
    }

    func walLevel() throws -> Check {
        let level = try setting("wal_level") ?? "?"
        guard level == "logical" else {
            return Check(name: "wal_level", verdict: .fail, detail: level,
                         fix: "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL")
        }
        return Check(name: "wal_level", verdict: .pass, detail: level, fix: nil)
    }

    /// Freshet needs its slot plus a temporary one while a resync copies.
    func slots() throws -> Check {
        let limit = Int(try setting("max_replication_slots") ?? "") ?? 0
        let used = Int(try sql.execute("SELECT count(*) FROM pg_replication_slots").scalar ?? "") ?? 0
        let exists = try !sql.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [config.slot]).rows.isEmpty
        let needed = exists ? 1 : 2
        let free = limit - used
        let detail = "\(free) of max_replication_slots = \(limit) free (needed: \(needed): \(exists ? "" : "the slot and ")a temporary one per resync)"
        let fix = "ALTER SYSTEM SET max_replication_slots = \(used + 2 + 2); then restart PostgreSQL (or drop unused slots)"
        if free >= needed { return Check(name: "replication_slots", verdict: .pass, detail: detail, fix: nil) }
        // One free slot runs the stream (or, when the slot exists, a resync), not both.
        let missing = needed - max(0, free)
        return Check(name: "replication_slots", verdict: missing == 1 && (exists || free == 1) ? .warn : .fail, detail: detail, fix: fix)
    }

    /// Freshet's stream plus a resync's side connection are WAL senders.
    func walSenders() throws -> Check {
        let limit = Int(try setting("max_wal_senders") ?? "") ?? 0
        let used = Int(try sql.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'").scalar ?? "") ?? 0
        let free = limit - used
        let detail = "\(free) of max_wal_senders = \(limit) free (needed: 2, the stream and a resync)"
        let fix = "ALTER SYSTEM SET max_wal_senders = \(used + 4); then restart PostgreSQL"
        if free >= 2 { return Check(name: "wal_senders", verdict: .pass, detail: detail, fix: nil) }
        return Check(name: "wal_senders", verdict: free == 1 ? .warn : .fail, detail: detail, fix: fix)
    }

    func replicationRole() throws -> Check {
        let row = try sql.execute("SELECT rolname, rolreplication::text, rolsuper::text FROM pg_roles WHERE rolname = current_user").rows.first
        let name = (row?[0] ?? nil) ?? "?"
        if row?[1] == "true" || row?[2] == "true" {
            return Check(name: "replication_role", verdict: .pass, detail: "\(name) has \(row?[2] == "true" ? "SUPERUSER" : "REPLICATION")", fix: nil)
        }
        return Check(name: "replication_role", verdict: .fail, detail: "\(name) has no REPLICATION attribute",
                     fix: "ALTER ROLE \(SQLQuoting.identifier(name)) REPLICATION;")
    }

    func existingSlot(_ catalog: SourceCatalog) throws -> Check {
        guard let slot = try catalog.slot(config.slot) else {
            return Check(name: "slot", verdict: .pass, detail: "\(config.slot) does not exist yet (freshet run creates it)", fix: nil)
        }
        if slot.plugin != "pgoutput" {
            return Check(name: "slot", verdict: .fail, detail: SetupError.slotWrongPlugin(slot: slot.name, plugin: slot.plugin).description,
                         fix: "use --slot with another name")
        }
        if slot.walStatus == "lost" {
            return Check(name: "slot", verdict: .fail, detail: "\(slot.name) has lost WAL it needs (wal_status = lost)",
                         fix: "freshet drop, then freshet run takes a new snapshot")
        }
        let detail = "\(slot.name) exists, \(slot.active ? "active" : "inactive"), retains \(StatusPage.bytes(slot.retainedBytes)) of WAL"
        if slot.active { return Check(name: "slot", verdict: .warn, detail: detail, fix: "another freshet runs on this slot: stop it, or use --slot") }
        return Check(name: "slot", verdict: .pass, detail: detail, fix: nil)
    }

    func walKeepSize() throws -> Check {
        guard let value = try setting("max_slot_wal_keep_size") else {
            return Check(name: "max_slot_wal_keep_size", verdict: .skip, detail: "not available on this version", fix: nil)
        }
        let fix = "ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf(); (size it to the WAL disk)"
        if value == "-1" {
            return Check(name: "max_slot_wal_keep_size", verdict: .warn,
                         detail: "unlimited: a stopped or stuck Freshet makes the source keep WAL until its disk is full", fix: fix)
        }
        return Check(name: "max_slot_wal_keep_size", verdict: .pass, detail: "\(value) MB", fix: nil)
    }

    func tls() throws -> Check {
        let row = try sql.execute("SELECT ssl::text, coalesce(version, ''), coalesce(cipher, '') FROM pg_stat_ssl WHERE pid = pg_backend_pid()").rows.first
        if row?[0] == "true" {
            return Check(name: "tls", verdict: .pass, detail: "in use (\((row?[1] ?? nil) ?? "") \((row?[2] ?? nil) ?? ""))", fix: nil)
        }
        let host = settings["host"] ?? settings["hostaddr"] ?? ""
        let local = host.isEmpty || host.hasPrefix("/") || host == "localhost" || host == "127.0.0.1" || host == "::1"
        if local { return Check(name: "tls", verdict: .pass, detail: "not in use (local connection to \(host.isEmpty ? "a socket" : host))", fix: nil) }
        return Check(name: "tls", verdict: .warn, detail: "not in use: rows and the password cross the network in clear text",
                     fix: "enable ssl on the server and add sslmode=verify-full (or require) to the source URL")
    }

    /// Keys and replica identity, partitioned tables, SELECT rights, and names the store cannot hold as they are.
    func tableChecks(_ tables: [SourceTable]) throws -> [Check] {
        guard !tables.isEmpty else {
            let scope = config.tables.isEmpty ? "schemas \(config.schemas.joined(separator: ", "))" : "tables \(config.tables.joined(separator: ", "))"
            return [Check(name: "tables", verdict: .fail, detail: "no tables in \(scope)", fix: "check --schema / --table (or the config)")]
        }
        var checks = [Check(name: "tables", verdict: .pass, detail: "\(tables.count) in scope: " + list(tables.map(\.qualifiedName)), fix: nil)]
        let oids = SourceCatalog.arrayLiteral(tables.map { String($0.oid) })

        let unreadableOIDs = Set(try sql.query("SELECT oid::int8::text FROM pg_class WHERE oid = ANY($1::oid[]) AND NOT has_table_privilege(oid, 'SELECT')",
                                               [oids]).rows.compactMap { $0[0].flatMap { UInt32($0) } })
        let unreadableTables = tables.filter { unreadableOIDs.contains($0.oid) }
        let unreadable = unreadableTables.map(\.qualifiedName)
        checks.append(unreadable.isEmpty
            ? Check(name: "select_rights", verdict: .pass, detail: "SELECT on every table", fix: nil)
            : Check(name: "select_rights", verdict: .fail, detail: "no SELECT on " + list(unreadable),
                    fix: "GRANT SELECT ON " + unreadableTables.prefix(3).map(\.quotedName).joined(separator: ", ") + (unreadable.count > 3 ? ", … " : " ")
                        + "TO \(SQLQuoting.identifier(try user)); (or GRANT SELECT ON ALL TABLES IN SCHEMA …)"))

        // The planner's verdict, as `freshet run` applies it: an unreplicable table named with --table stops the run;
        // one found in a schema is reported and left out of the publication.
        let planner = TablePlanner(config: config)
        var problems: [UnreplicableTable] = []
        for t in tables {
            do { try planner.check(t) } catch let u as UnreplicableTable { problems.append(u) }
        }
        if problems.isEmpty {
            checks.append(Check(name: "keys", verdict: .pass,
                                detail: "every table has a key (a primary key, or a configured key and REPLICA IDENTITY FULL), a replica identity and storable column names", fix: nil))
        } else {
            let named = problems.contains { config.tables.contains($0.table) } || problems.count == tables.count
            checks.append(Check(name: "keys", verdict: named ? .fail : .warn,
                                detail: (named ? "cannot be replicated: " : "left out of the publication and reported: ")
                                    + problems.prefix(5).map { "\($0.table) (\($0.reason))" }.joined(separator: "; ")
                                    + (problems.count > 5 ? " and \(problems.count - 5) more" : ""),
                                fix: problems.count == 1 ? problems[0].fix
                                    : "add primary keys, or REPLICA IDENTITY FULL and tableSettings.\"TABLE\".key in the config, or --exclude them"))
        }

        let partitioned = try sql.query("""
            SELECT n.nspname || '.' || c.relname, (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1::oid[]) AND c.relkind = 'p' ORDER BY 1
            """, [oids]).rows.map { "\($0[0] ?? "?") (\($0[1] ?? "0") partitions)" }
        checks.append(Check(name: "partitioned_tables", verdict: .pass,
                            detail: partitioned.isEmpty ? "none"
                                : "each replicated as one table (publish_via_partition_root): " + list(partitioned), fix: nil))
        checks.append(names(tables))
        return checks
    }

    /// Table names the store escapes: a `.` or `"` makes the qualified name quoted (`public."dotted.name"`, the way to
    /// write it in --table, --exclude and the config); other characters (`/`, spaces, non-ASCII) are percent-encoded
    /// in the table's directory under `STORE/tables/`. (Column names the store cannot hold are on the `keys` line.)
    func names(_ tables: [SourceTable]) -> Check {
        let escaped = tables.map(\.tableName).filter {
            $0.qualifiedName != "\($0.schema).\($0.table)" || $0.directoryName != "\($0.schema).\($0.table)"
        }.map { "\($0.qualifiedName) (directory \($0.directoryName))" }
        if escaped.isEmpty {
            return Check(name: "names", verdict: .pass, detail: "every table name is stored as it is", fix: nil)
        }
        return Check(name: "names", verdict: .warn, detail: "the store escapes these names: " + list(escaped),
                     fix: "write them as shown (quoted) in --table, --exclude and the config; readers find them through freshet scan / freshet sql")
    }

    /// Whether `freshet run` can create the publication (always `FOR TABLE`, a list it maintains) or bring an existing
    /// one to the tables in scope: that takes a superuser, or the tables' owner (and CREATE on the database, or the
    /// publication's ownership).
    func publication(_ catalog: SourceCatalog, _ tables: [SourceTable]) throws -> Check {
        let name = config.publication
        let superuser = try sql.execute("SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user").scalar == "true"
        let published = try catalog.publicationTables(name)
        let missing = tables.filter { !(published ?? []).contains($0.qualifiedName) }
        let detail = published == nil ? "\(name) does not exist yet; freshet run creates it"
            : missing.isEmpty ? "\(name) exists and publishes every table" : "\(name) exists; freshet run adds " + list(missing.map(\.qualifiedName))
        if superuser || missing.isEmpty { return Check(name: "publication", verdict: .pass, detail: detail, fix: nil) }
        let fix = "as a superuser or the tables' owner: "
            + (published == nil ? "CREATE PUBLICATION \(SQLQuoting.identifier(name)) FOR TABLE … WITH (publish_via_partition_root = true);"
                                : "ALTER PUBLICATION \(SQLQuoting.identifier(name)) ADD TABLE …;")
        let allowed = published == nil
            ? try sql.execute("SELECT has_database_privilege(current_database(), 'CREATE')::text").scalar == "true"
            : try sql.query("SELECT pg_has_role(pubowner, 'USAGE')::text FROM pg_publication WHERE pubname = $1", [name]).scalar == "true"
        if !allowed {
            return Check(name: "publication", verdict: .fail,
                         detail: detail + (published == nil ? ", but this role may not CREATE in the database" : ", but this role does not own it"), fix: fix)
        }
        let oids = SourceCatalog.arrayLiteral(missing.map { String($0.oid) })
        let notOwned = try sql.query("SELECT oid::int8::text FROM pg_class WHERE oid = ANY($1::oid[]) AND NOT pg_has_role(relowner, 'USAGE')",
                                     [oids]).rows.compactMap { $0[0].flatMap { UInt32($0) } }
        if notOwned.isEmpty { return Check(name: "publication", verdict: .pass, detail: detail, fix: nil) }
        return Check(name: "publication", verdict: .fail,
                     detail: detail + ", but publishing needs ownership of " + list(missing.filter { notOwned.contains($0.oid) }.map(\.qualifiedName)),
                     fix: fix)
    }

    /// Free space where the store goes against about 0.4 × the tables' total size (Parquet with LZ4 is smaller
    /// than the heap, its indexes and TOAST; merges need room for a second copy of a partition while they run).
    func disk(_ tables: [SourceTable]) throws -> Check {
        let oids = SourceCatalog.arrayLiteral(tables.map { String($0.oid) })
        let total = Int64(try sql.query("SELECT coalesce(sum(pg_total_relation_size(r.relid)), 0)::int8::text "
                                        + "FROM unnest($1::oid[]) AS o(oid), pg_partition_tree(o.oid) r", [oids]).scalar ?? "") ?? 0
        let estimate = total * 4 / 10
        var dir = URL(fileURLWithPath: config.store).standardizedFileURL
        while !FileManager.default.fileExists(atPath: dir.path) && dir.path != "/" { dir = dir.deletingLastPathComponent() }
        guard let free = (try? FileManager.default.attributesOfFileSystem(forPath: dir.path))?[.systemFreeSize] as? NSNumber else {
            return Check(name: "disk", verdict: .warn, detail: "cannot read the free space at \(dir.path)", fix: "check --store")
        }
        let detail = "\(StatusPage.bytes(free.int64Value)) free at \(dir.path); the store needs about \(StatusPage.bytes(estimate)) "
            + "(0.4 × \(StatusPage.bytes(total)) in PostgreSQL)"
        let fix = "free space or choose another --store"
        if free.int64Value < estimate { return Check(name: "disk", verdict: .fail, detail: detail, fix: fix) }
        if free.int64Value < estimate * 2 { return Check(name: "disk", verdict: .warn, detail: detail + ", less than twice that", fix: fix) }
        return Check(name: "disk", verdict: .pass, detail: detail, fix: nil)
    }

    private func list(_ names: [String]) -> String {
        names.prefix(10).joined(separator: ", ") + (names.count > 10 ? " and \(names.count - 10) more" : "")
    }
}
