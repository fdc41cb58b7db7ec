import ColumnStore
import Foundation
import PostgresReplication

/// The snapshot's table plans made again as of the exported snapshot.
///
/// `prepare` plans the tables from the catalog before the slot exists; DDL committed between that read and the slot's
/// exported snapshot (an ADD COLUMN and an UPDATE of it, a DROP or RENAME, a dropped table) would otherwise make the
/// snapshot copy the columns of the earlier catalog: values written before the consistent point into a column added
/// in that window are in no WAL the slot sends, so they would be lost for good. Read inside a transaction that imported
/// the snapshot, the catalog is the one the copy's rows belong to.
struct SnapshotReplan {
    /// What changed for one table between planning and the snapshot.
    struct Change: Sendable, Equatable {
        var table: String
        var detail: String
    }

    /// The plans for the tables of `planned` as the snapshot sees them, and what changed. A table dropped before the
    /// snapshot is left out; a table that cannot be replicated any more is left out with the reason.
    /// `catalog` must be in a transaction that imported the snapshot.
    static func plans(_ planned: [TablePlan], catalog: SourceCatalog, planner: TablePlanner, store: Store)
        throws -> (plans: [TablePlan], changes: [Change]) {
        var plans: [TablePlan] = [], changes: [Change] = []
        for p in planned {
            let old = p.source
            guard let identity = try catalog.relationIdentity(oid: old.oid) else {
                changes.append(Change(table: p.name, detail: "dropped before the snapshot: left out"))
                continue
            }
            var now = try catalog.describe(oid: old.oid, schema: identity.schema, name: identity.name,
                                           replicaIdentity: identity.replicaIdentity,
                                           estimatedRows: old.estimatedRows, pages: old.pages)
            if old.isPartitioned {
                now.isPartitioned = true
                now.partitions = try catalog.leafPartitions(of: old.oid)
            }
            let differences = Self.differences(old, now)
            if differences.isEmpty { plans.append(p); continue }
            if plans.contains(where: { $0.name == now.qualifiedName }) || planned.contains(where: { $0.name == now.qualifiedName && $0.source.oid != old.oid }) {
                changes.append(Change(table: p.name, detail: "\(differences.joined(separator: "; ")); its new name is another planned table's: left out (the catalog watcher takes it up)"))
                continue
            }
            do {
                plans.append(try planner.plan(now, store: store))
                changes.append(Change(table: p.name, detail: differences.joined(separator: "; ")))
            } catch let u as UnreplicableTable {
                changes.append(Change(table: p.name, detail: "\(differences.joined(separator: "; ")); now unreplicable: \(u.reason): left out"))
            }
        }
        return (plans, changes)
    }

    /// The ledger records of `plans` as the snapshot sees them: leaf partitions with their file nodes, columns, types
    /// and enum labels. Written to the ledger before the copy starts, they are what the catalog watcher's first check
    /// compares with, so an enum label renamed, a column retyped or a partition truncated after the snapshot and before
    /// that check is seen as a change. `catalog` must be in a transaction that imported the snapshot.
    static func records(_ plans: [TablePlan], catalog: SourceCatalog) throws -> [String: SourceLedger.TableRecord] {
        let labels = try catalog.enumLabels(of: plans.map(\.source.oid))
        var records: [String: SourceLedger.TableRecord] = [:]
        for p in plans where records[p.name] == nil {
            var table = p.source
            if table.isPartitioned { table.partitions = try catalog.leafPartitions(of: table.oid) }
            records[p.name] = SourceLedger.TableRecord(table, enumLabels: labels[table.oid] ?? [])
        }
        return records
    }

    /// What differs between the planned description and the snapshot's (estimates aside).
    static func differences(_ old: SourceTable, _ now: SourceTable) -> [String] {
        var out: [String] = []
        if old.qualifiedName != now.qualifiedName { out.append("renamed to \(now.qualifiedName)") }
        if old.columns != now.columns {
            let before = old.columns.map(\.name), after = now.columns.map(\.name)
            let added = after.filter { !before.contains($0) }, removed = before.filter { !after.contains($0) }
            var what: [String] = []
            if !added.isEmpty { what.append("added \(added.joined(separator: ","))") }
            if !removed.isEmpty { what.append("removed \(removed.joined(separator: ","))") }
            if what.isEmpty { what.append("column types or constraints changed") }
            out.append("columns: \(what.joined(separator: ", "))")
        }
        if old.primaryKey != now.primaryKey { out.append("primary key (\(old.primaryKey.joined(separator: ","))) → (\(now.primaryKey.joined(separator: ",")))") }
        if old.replicaIdentity != now.replicaIdentity { out.append("replica identity changed") }
        if old.partitions.map(\.oid) != now.partitions.map(\.oid) { out.append("leaf partitions changed") }
        return out
    }
}
