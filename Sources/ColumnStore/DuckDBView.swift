import Foundation

/// The DuckDB query-time view (docs/store-format.md, "Query-time views"): the part list comes from the manifest at the
/// query's transaction start, and only keys that can have several versions are deduplicated.
///
/// Every manifest commit marks, per merge domain, the *settled* part (unique keys, older than every other part of its
/// domain) and whether it is *clean* (also alone in its domain, without tombstones or unchanged markers:
/// `Manifest.classifyForViews`). Every other live part is *recent*. The view returns
/// - the rows of clean parts as they are, without any join, filter or grouping — the state the merger brings a table
///   to a few seconds after a write burst;
/// - the other settled parts' rows whose key no recent part holds (an anti-join against the recent keys), without
///   grouping (tombstones dropped, columns marked unchanged NULL: no older value exists);
/// - the group-by dedup over the recent rows plus the settled rows of keys whose recent versions mark a column
///   unchanged (the value to carry forward).
/// The sets have disjoint keys. The flags describe the manifest's `parts`; a query whose transaction started before
/// the manifest's commit (it resolves an older part list from `removed`) treats every part as recent: the plain
/// dedup, exact for any part list.
enum DuckDBView {
    /// `dedup`: the aggregate select list; `plain`: the same columns taken as they are, NULL where marked unchanged;
    /// `stored`: the columns as stored (quoted names); `keys`: quoted key columns; `having`: the group filter.
    static func select(dir: String, dedup: [String], plain: [String], stored: [String], keys: [String], having: String) -> String {
        let q = SQLView.quote, lit = SQLView.literal
        let glob = lit(dir + "/parts/*/*." + PartFormat.fileExtension)
        let manifest = lit(dir + "/manifest.json")
        let entry = "STRUCT(path VARCHAR, \"addedMicros\" BIGINT, \"removedMicros\" BIGINT, settled BOOLEAN, clean BOOLEAN)[]"
        let columns = "{parts: \(lit(entry)), removed: \(lit(entry)), \"historySinceMicros\": 'BIGINT', \"commitMicros\": 'BIGINT'}"
        let asOf = "CASE WHEN epoch_us(now()) < coalesce(\"historySinceMicros\", 0) THEN error(\(lit("freshet: this transaction started before the oldest part list the manifest at \(dir) still describes (grace period); start a new transaction"))) ELSE epoch_us(now()) END"
        let scan = "read_parquet(\(glob), filename = true, union_by_name = true, hive_partitioning = false)"
        let using = "USING (\(keys.joined(separator: ", ")))"
        let ctes = [
            // The parts live at the transaction start T; their flags count only when the manifest is T's part list.
            "\(q("__files")) AS MATERIALIZED (SELECT \(lit(dir + "/")) || e.path AS f, coalesce(e.settled AND fresh, false) AS s, "
                + "coalesce(e.clean AND fresh, false) AS c "
                + "FROM (SELECT unnest(list_concat(parts, coalesce(removed, []))) AS e, \(asOf) AS t, "
                + "epoch_us(now()) >= coalesce(\"commitMicros\", 9223372036854775807) AS fresh FROM read_json(\(manifest), format = 'auto', columns = \(columns))) "
                + "WHERE coalesce(e.\"addedMicros\", 0) <= t AND coalesce(e.\"removedMicros\", 9223372036854775807) > t)",
            // Each glob binding opens every matching file's footer, so the view has few: the clean parts, streamed
            // as stored (a table the merger has settled is only that); the recent rows (few), materialized once; and
            // the other settled parts, read where they are used (never materialized; each use reads only the columns
            // it needs). The `filename IN (subquery)` filter is pushed into each scan, so files not listed (replaced,
            // staged, or of another kind) are never read past their footer.
            "\(q("__recent")) AS MATERIALIZED (SELECT * FROM \(scan) WHERE filename IN (SELECT f FROM \(q("__files")) WHERE NOT s))",
            "\(q("__touched")) AS MATERIALIZED (SELECT DISTINCT \(keys.joined(separator: ", ")) FROM \(q("__recent")))",
            "\(q("__marked")) AS MATERIALIZED (SELECT DISTINCT \(keys.joined(separator: ", ")) FROM \(q("__recent")) WHERE \"_unchanged\" IS NOT NULL)",
        ]
        // The clean and the other settled parts are subqueries written out where they are used, not CTEs: DuckDB then
        // has no CTE to inline (planning the view took about 7–10 ms less, of 40–50).
        let clean = "(SELECT * FROM \(scan) WHERE filename IN (SELECT f FROM \(q("__files")) WHERE c)) AS \(q("__clean"))"
        let settled = "(SELECT * FROM \(scan) WHERE filename IN (SELECT f FROM \(q("__files")) WHERE s AND NOT c)) AS \(q("__settled"))"
        // Rows that are their key's only version in the view: clean rows, and settled rows no recent part touches.
        let fast = "SELECT \(stored.joined(separator: ", ")) FROM \(clean) "
            + "UNION ALL SELECT \(plain.joined(separator: ", ")) FROM \(settled) ANTI JOIN \(q("__touched")) \(using) WHERE NOT \"_deleted\""
        // The dedup: recent rows, and the settled rows of keys whose recent versions carry a column forward.
        let slowRows = "SELECT * FROM \(q("__recent")) "
            + "UNION ALL BY NAME SELECT * FROM \(settled) SEMI JOIN \(q("__marked")) \(using)"
        let slow = "SELECT \(dedup.joined(separator: ", ")) FROM (\(slowRows)) GROUP BY \(keys.joined(separator: ", ")) HAVING \(having)"
        return "WITH \(ctes.joined(separator: ", ")) \(fast) UNION ALL \(slow)"
    }
}
