import Foundation

extension Store {
    /// Replaces a table's contents by a snapshot taken at LSN `cutoff` (a resync): in one manifest commit, a new
    /// generation holds the snapshot's staged parts plus every committed row with a version above `cutoff` (changes the
    /// stream committed after the snapshot point). Parts entirely at or below `cutoff` are dropped; parts that straddle
    /// it are rewritten keeping only rows above it. Readers see the old generation until the switch, then the new one.
    ///
    /// Why this is exact: the snapshot is the table's state at `cutoff`, every change above `cutoff` is kept with its
    /// higher version, and changes at or below `cutoff` that the stream commits after the switch lose to the snapshot
    /// rows (version `cutoff`) or, as tombstones of keys the snapshot lacks, change nothing.
    ///
    /// Returns false — and discards the snapshot parts — when the table's generation is no longer `expectedGeneration`
    /// (a TRUNCATE after the snapshot point made the resync moot: the stream already rebuilt the table from scratch).
    public func replaceGeneration(_ table: String, snapshot: StagedParts?, keepingVersionsAbove cutoff: UInt64,
                                  expectedGeneration: UInt64) throws -> Bool {
        try writable()
        var snapshot = snapshot
        for _ in 0..<10 {
            let m = try manifest(table)
            guard m.generation == expectedGeneration else {
                if let snapshot { discard(snapshot) }
                return false
            }
            // Rewrite straddling parts outside the lock: commits go on meanwhile.
            var rewritten = [String: [PartEntry]]()
            do {
                for p in m.parts where p.minVersion <= cutoff && p.maxVersion > cutoff {
                    rewritten[p.path] = try rewrite(p, of: m, keepingVersionsAbove: cutoff)
                }
            } catch {
                for outputs in rewritten.values { for o in outputs { StoreFile.remove(tableDirectory(table).appendingPathComponent(o.path)) } }
                if let snapshot { discard(snapshot) }
                throw error
            }
            enum Outcome { case switched, moot, retry }
            let outcome: Outcome = try manifestWriters.withLock { try lock.withLock {
                var current = try readyManifest(table)
                guard current.generation == expectedGeneration else { return .moot }
                // A part that straddles now but was not rewritten (a merge or a lagging commit landed meanwhile).
                guard current.parts.allSatisfy({ !($0.minVersion <= cutoff && $0.maxVersion > cutoff) || rewritten[$0.path] != nil }) else {
                    return .retry
                }
                let generation = current.generation + 1
                snapshot = try snapshot.map(publish)
                var parts = (snapshot?.parts ?? []).map { var p = $0; p.generation = generation; return p }
                var retired = [PartEntry]()
                for p in current.parts {
                    if p.minVersion > cutoff {
                        var kept = p; kept.generation = generation; parts.append(kept)
                    } else {
                        retired.append(p)
                        for o in rewritten[p.path] ?? [] { var r = o; r.generation = generation; parts.append(r) }
                    }
                }
                current.parts = parts
                current.generation = generation
                current.sequence += 1
                try writeManifest(current)
                retireLocked(retired, table: table)
                return .switched
            } }
            switch outcome {
            case .switched:
                collectGarbage()
                return true
            case .moot:
                for outputs in rewritten.values { for o in outputs { StoreFile.remove(tableDirectory(table).appendingPathComponent(o.path)) } }
                if let snapshot { discard(snapshot) }
                return false
            case .retry:
                for outputs in rewritten.values { for o in outputs { StoreFile.remove(tableDirectory(table).appendingPathComponent(o.path)) } }
            }
        }
        if let snapshot { discard(snapshot) }
        throw StoreError.invalidCommit(reason: "resync of \(table): parts kept changing around the snapshot point; try again")
    }

    /// Writes the rows of `part` with a version above `cutoff` into a new part of the same partition and level.
    private func rewrite(_ part: PartEntry, of m: Manifest, keepingVersionsAbove cutoff: UInt64) throws -> [PartEntry] {
        let columns = m.readerColumns
        var cursor = try PartCursor(table: m.table, tableDirectory: tableDirectory(m.table), entry: part, order: 0,
                                    target: columns, verifyChecksum: options.verifyChecksums)
        var writer = try PartWriter(table: m.table, tableDirectory: tableDirectory(m.table), partition: part.partition,
                                    columns: columns, schemaVersion: m.schemaVersions.last?.version ?? 1, level: part.level,
                                    rowGroupRows: options.rowGroupRows, rowGroupBytes: options.rowGroupBytes, versionBounds: (cutoff + 1, part.maxVersion))
        do {
            if try cursor.loadNext() {
                repeat {
                    if cursor.batch.versions[cursor.row] > cutoff { try writer.append(from: cursor.batch, row: cursor.row) }
                } while try cursor.advance()
            }
            return try writer.finish().map { var e = $0; e.uniqueKeys = part.uniqueKeys; return [e] } ?? []
        } catch {
            writer.abandon()
            throw error
        }
    }
}
