import Foundation

/// The DuckDB query-time view (docs/store-format.md, "Query-time views"): the part list comes from the manifest at the
/// query's transaction start, and only keys that can have several versions are deduplicated.
///
/// Per partition (the whole table when the partitioning is not derived from the key), a *settled* part is one with
/// unique keys that is older than every other live part of its partition (its `maxVersion` below their
/// `minVersion`): usually the snapshot's or the last big merge's output. Its rows are final unless a newer part
/// touches the key, so the view returns
/// - settled rows whose key no other part holds (an anti-join against the keys of the *recent* parts), without
///   grouping, when they carry no unchanged marker and are not tombstones;
/// - the usual group-by dedup over the recent rows, plus the settled rows of keys whose recent versions mark a column
///   unchanged (the value to carry forward), plus settled rows with unresolved markers.
/// The two sets have disjoint keys. Every other live part is recent, so without settled parts this is the plain dedup.
enum DuckDBView {
    /// `dedup`: the aggregate select list; `plain`: the same columns taken as they are; `keys`: quoted key columns;
    /// `having`: the group filter; `keyDerived`: whether a key's versions all lie in one partition.
    static func select(dir: String, dedup: [String], plain: [String], keys: [String], having: String, keyDerived: Bool) -> String {
        let q = SQLView.quote, lit = SQLView.literal
        let glob = lit(dir + "/parts/*/*." + PartFormat.fileExtension)
        let manifest = lit(dir + "/manifest.json")
        let entry = "STRUCT(path VARCHAR, \"partition\" VARCHAR, \"minVersion\" BIGINT, \"maxVersion\" BIGINT, "
            + "\"uniqueKeys\" BOOLEAN, \"addedMicros\" BIGINT, \"removedMicros\" BIGINT)[]"
        let columns = "{parts: \(lit(entry)), removed: \(lit(entry)), historySinceMicros: 'BIGINT'}"
        let asOf = "CASE WHEN epoch_us(now()) < coalesce(historySinceMicros, 0) THEN error(\(lit("freshet: this transaction started before the oldest part list the manifest at \(dir) still describes (grace period); start a new transaction"))) ELSE epoch_us(now()) END"
        let scan = "read_parquet(\(glob), filename = true, union_by_name = true, hive_partitioning = false)"
        let using = "USING (\(keys.joined(separator: ", ")))"
        let samePartition = keyDerived ? "coalesce(b.p, a.p) = a.p AND " : ""
        // Removed entries (live only for a query that started before a recent commit) lack partition and versions:
        // they count as overlapping, so their partition has no settled part for that query.
        let ctes = [
            "\(q("__live")) AS MATERIALIZED (SELECT \(lit(dir + "/")) || e.path AS f, e.\"partition\" AS p, "
                + "e.\"minVersion\" AS lo, e.\"maxVersion\" AS hi, coalesce(e.\"uniqueKeys\", false) AS u "
                + "FROM (SELECT unnest(list_concat(parts, coalesce(removed, []))) AS e, \(asOf) AS t FROM read_json(\(manifest), format = 'auto', columns = \(columns))) "
                + "WHERE coalesce(e.\"addedMicros\", 0) <= t AND coalesce(e.\"removedMicros\", 9223372036854775807) > t)",
            "\(q("__files")) AS MATERIALIZED (SELECT a.f, a.u AND NOT EXISTS "
                + "(SELECT 1 FROM \(q("__live")) b WHERE b.f <> a.f AND \(samePartition)coalesce(b.lo, -1) <= a.hi) AS s FROM \(q("__live")) a)",
            // The settled rows are read where they are used (each use its own glob binding, reading only the columns
            // it needs), never materialized: with updates spread over the key range they are most of the table. The
            // recent rows (few) are read once. The plain `filename IN (subquery)` filter is pushed into each scan, so
            // files not listed (replaced, staged) are never read past their footer.
            "\(q("__recent")) AS MATERIALIZED (SELECT * FROM \(scan) WHERE filename IN (SELECT f FROM \(q("__files")) WHERE NOT s))",
            "\(q("__settled")) AS NOT MATERIALIZED (SELECT * FROM \(scan) WHERE filename IN (SELECT f FROM \(q("__files")) WHERE s))",
            "\(q("__touched")) AS MATERIALIZED (SELECT DISTINCT \(keys.joined(separator: ", ")) FROM \(q("__recent")))",
            "\(q("__marked")) AS MATERIALIZED (SELECT DISTINCT \(keys.joined(separator: ", ")) FROM \(q("__recent")) WHERE \"_unchanged\" IS NOT NULL)",
        ]
        let fast = "SELECT \(plain.joined(separator: ", ")) FROM \(q("__settled")) ANTI JOIN \(q("__touched")) \(using) "
            + "WHERE \"_unchanged\" IS NULL AND NOT \"_deleted\""
        let slowRows = "SELECT * FROM \(q("__recent")) "
            + "UNION ALL BY NAME SELECT * FROM \(q("__settled")) SEMI JOIN \(q("__marked")) \(using) "
            + "UNION ALL BY NAME SELECT * FROM (SELECT * FROM \(q("__settled")) WHERE \"_unchanged\" IS NOT NULL) "
            + "ANTI JOIN \(q("__touched")) \(using)"
        let slow = "SELECT \(dedup.joined(separator: ", ")) FROM (\(slowRows)) GROUP BY \(keys.joined(separator: ", ")) HAVING \(having)"
        return "WITH \(ctes.joined(separator: ", ")) \(fast) UNION ALL \(slow)"
    }
}
