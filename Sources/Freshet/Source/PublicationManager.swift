import Foundation
import PostgresReplication

/// Keeps Freshet's publication listing exactly the tables it can replicate.
///
/// The publication is always `FOR TABLE` with a list Freshet maintains, and `publish_via_partition_root = true`:
/// - a schema-wide publication (`FOR TABLES IN SCHEMA`) would publish a table created later without a key, and
///   PostgreSQL then fails that table's UPDATEs and DELETEs *on the source* ("does not have a replica identity and
///   publishes updates"). Freshet must never make the source's writes fail;
/// - via the root, a partitioned table's changes arrive as the root's, whichever leaf holds the row (a row moved to
///   another partition arrives as a delete and an insert of the root).
///
/// Tables created later are added by `CatalogWatcher`. A publication made by an earlier Freshet for whole schemas is
/// converted to the list in one transaction, so no change is missed in between.
struct PublicationManager {
    let connection: Connection
    let publication: String

    private var quotedPublication: String { SQLQuoting.identifier(publication) }

    /// Creates the publication for `tables`, or brings an existing one to exactly `tables` (by OID), via the root.
    /// Returns the tables it added.
    @discardableResult
    func ensure(_ tables: [SourceTable]) throws -> [SourceTable] {
        let catalog = SourceCatalog(connection: connection)
        guard try catalog.publicationTables(publication) != nil else {
            if tables.isEmpty {
                try connection.execute("CREATE PUBLICATION \(quotedPublication) WITH (publish_via_partition_root = true)")
            } else {
                try connection.execute("CREATE PUBLICATION \(quotedPublication) FOR TABLE "
                                       + tables.map(\.quotedName).joined(separator: ", ")
                                       + " WITH (publish_via_partition_root = true)")
            }
            return tables
        }
        var statements: [String] = []
        let schemas = try catalog.publicationSchemas(publication)
        if !schemas.isEmpty {
            statements.append("ALTER PUBLICATION \(quotedPublication) DROP TABLES IN SCHEMA "
                              + schemas.map(SQLQuoting.identifier).joined(separator: ", "))
        }
        if try !catalog.publicationViaRoot(publication) {
            statements.append("ALTER PUBLICATION \(quotedPublication) SET (publish_via_partition_root = true)")
        }
        let listed = try catalog.publicationRelations(publication)
        let wanted = Set(tables.map(\.oid))
        let missing = tables.filter { listed[$0.oid] == nil }
        if !missing.isEmpty {
            statements.append("ALTER PUBLICATION \(quotedPublication) ADD TABLE " + missing.map(\.quotedName).joined(separator: ", "))
        }
        let extra = listed.filter { !wanted.contains($0.key) }
        if !extra.isEmpty {
            let names = try extra.keys.sorted().compactMap { oid in try quotedName(oid: oid) }
            if !names.isEmpty { statements.append("ALTER PUBLICATION \(quotedPublication) DROP TABLE " + names.joined(separator: ", ")) }
        }
        guard !statements.isEmpty else { return [] }
        // One PQexec of several statements runs as one transaction: all of them or none.
        try connection.execute(statements.joined(separator: "; "))
        return missing
    }

    /// Adds tables to the publication.
    func add(_ tables: [SourceTable]) throws {
        guard !tables.isEmpty else { return }
        try connection.execute("ALTER PUBLICATION \(quotedPublication) ADD TABLE " + tables.map(\.quotedName).joined(separator: ", "))
    }

    /// Removes tables (by OID) from the publication.
    func drop(oids: [UInt32]) throws {
        let names = try oids.compactMap { try quotedName(oid: $0) }
        guard !names.isEmpty else { return }
        try connection.execute("ALTER PUBLICATION \(quotedPublication) DROP TABLE " + names.joined(separator: ", "))
    }

    private func quotedName(oid: UInt32) throws -> String? {
        guard let row = try connection.query("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid
            """, [String(oid)]).rows.first, let schema = row[0], let name = row[1] else { return nil }
        return SQLQuoting.qualified(schema: schema, name: name)
    }
}
