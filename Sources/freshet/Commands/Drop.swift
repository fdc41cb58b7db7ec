import Foundation
import Freshet
import PostgresReplication

/// `freshet drop`: removes a retired replicator's slot and publication from the source, so the slot never keeps WAL
/// until the disk fills. Without `--yes` it only says what it would drop.
enum DropCommand: FreshetCommand {
    static let name = "drop"
    static let summary = "remove a retired replicator's slot and publication from the source (needs --yes)"
    static let usage = "freshet drop --source URL --slot NAME --publication NAME [--yes]   (FRESHET_SOURCE stands for --source)"
    static let options: Set<String> = ["source", "slot", "publication"]
    static let flags: Set<String> = ["yes"]

    struct Failed: Error, CustomStringConvertible { let description: String }

    static func run(_ args: Arguments) throws {
        guard args.positional.isEmpty else { throw Arguments.UsageError(description: "unexpected argument \(args.positional[0])") }
        guard let source = args.value("source") ?? ProcessInfo.processInfo.environment["FRESHET_SOURCE"], !source.isEmpty else {
            throw Arguments.UsageError(description: "--source URL (or FRESHET_SOURCE) is required")
        }
        guard let slotName = args.value("slot"), let publication = args.value("publication") else {
            throw Arguments.UsageError(description: "--slot NAME and --publication NAME are required (name both: nothing is dropped by default)")
        }
        let sql = try Connection(settings: try ConnectionSettings(source), applicationName: "freshet-drop")
        defer { sql.close() }
        let catalog = SourceCatalog(connection: sql)
        let slot = try catalog.slot(slotName)
        let publicationExists = try catalog.publicationTables(publication) != nil
        let database = try sql.execute("SELECT current_database()").scalar ?? ""

        var plan: [String] = []
        if let slot {
            plan.append("slot \(slotName) (database \(slot.database), \(slot.active ? "ACTIVE" : "inactive"), "
                        + "wal_status \(slot.walStatus ?? "-"), retains \(slot.retainedBytes) bytes of WAL)")
        }
        if publicationExists { plan.append("publication \(publication) (database \(database))") }
        guard !plan.isEmpty else {
            print("nothing to drop: no slot \(slotName) and no publication \(publication) in database \(database)")
            return
        }
        guard args.flag("yes") else {
            throw Failed(description: "would drop " + plan.joined(separator: " and ")
                         + "; nothing was changed. Add --yes to drop (the store then needs a new snapshot or resync to follow this source again)")
        }
        if let slot {
            guard !slot.active else {
                throw Failed(description: "slot \(slotName) is active (a replicator is streaming from it): stop it first; nothing was dropped")
            }
            guard slot.database == database else {
                throw Failed(description: "slot \(slotName) belongs to database \(slot.database): connect --source to that database; nothing was dropped")
            }
            _ = try sql.query("SELECT pg_drop_replication_slot($1)", [slotName])
            print("dropped slot \(slotName)")
        }
        if publicationExists {
            try sql.execute("DROP PUBLICATION IF EXISTS \(SQLQuoting.identifier(publication))")
            print("dropped publication \(publication)")
        }
    }
}
