import Foundation

/// The DuckDB query-time view (docs/store-format.md, "Query-time views"): the part list comes from the manifest at the
/// query's transaction start, and only keys that can have several versions are deduplicated.
///
/// Per partition (the whole table when the partitioning is not derived from the key), a *settled* part is one with
/// unique keys that is older than every other live part of its partition (its `maxVersion` below their
/// `minVersion`): usually the output of the merger's last settle (`SettlePolicy`), or the snapshot's part. Every
/// other live part is *recent*. The view returns
/// - the rows of a settled part alone in its partition (*clean*) as they are, without any join or grouping — the
///   state the merger brings a table to a few seconds after a write burst;
/// - settled rows whose key no recent part holds (an anti-join against the recent keys), without grouping;
/// (in both, tombstones are dropped and columns marked unchanged are NULL: no older value exists)
/// - the group-by dedup over the recent rows plus the settled rows of keys whose recent versions mark a column
///   unchanged (the value to carry forward).
/// The sets have disjoint keys. Without settled parts this is the plain dedup.
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
        // Partitions that keep a key's versions together; otherwise the whole table is one.
        let partition = keyDerived ? "e.\"partition\"" : "''"
        // Removed entries (live only for a query that started before a recent commit) lack partition and versions:
        // while any is live, no part counts as settled or alone (that query dedups everything).
        let ctes = [
            "\(q("__live")) AS MATERIALIZED (SELECT \(lit(dir + "/")) || e.path AS f, \(partition) AS p, "
                + "coalesce(e.\"minVersion\", -1) AS lo, e.\"maxVersion\" AS hi, coalesce(e.\"uniqueKeys\", false) AS u "
                + "FROM (SELECT unnest(list_concat(parts, coalesce(removed, []))) AS e, \(asOf) AS t FROM read_json(\(manifest), format = 'auto', columns = \(columns))) "
                + "WHERE coalesce(e.\"addedMicros\", 0) <= t AND coalesce(e.\"removedMicros\", 9223372036854775807) > t)",
            // s: the file is its partition's settled part (unique keys, and its versions below every other part's: it
            // has the lowest minVersion and its maxVersion is below the next one); c: its partition has other parts.
            "\(q("__files")) AS MATERIALIZED (SELECT f, "
                + "u AND row_number() OVER w = 1 AND coalesce(hi < lead(lo) OVER w, true) AND count(*) FILTER (WHERE p IS NULL) OVER () = 0 AS s, "
                + "count(*) OVER (PARTITION BY p) > 1 OR count(*) FILTER (WHERE p IS NULL) OVER () > 0 AS c "
                + "FROM \(q("__live")) WINDOW w AS (PARTITION BY p ORDER BY lo, f))",
            // Each glob binding opens every matching file's footer, so the view has few: the clean parts, streamed
            // without any join or grouping (a table the merger has settled is only that); the recent rows (few),
            // materialized once; and the settled rows of partitions that have recent parts, read where they are used
            // (they are most of the table, so never materialized; each use reads only the columns it needs). The
            // plain `filename IN (subquery)` filter is pushed into each scan, so files not listed (replaced, staged,
            // or of another kind) are never read past their footer.
            "\(q("__clean")) AS NOT MATERIALIZED (SELECT * FROM \(scan) WHERE filename IN (SELECT f FROM \(q("__files")) WHERE s AND NOT c))",
            "\(q("__recent")) AS MATERIALIZED (SELECT * FROM \(scan) WHERE filename IN (SELECT f FROM \(q("__files")) WHERE NOT s))",
            "\(q("__settled")) AS NOT MATERIALIZED (SELECT * FROM \(scan) WHERE filename IN (SELECT f FROM \(q("__files")) WHERE s AND c))",
            "\(q("__touched")) AS MATERIALIZED (SELECT DISTINCT \(keys.joined(separator: ", ")) FROM \(q("__recent")))",
            "\(q("__marked")) AS MATERIALIZED (SELECT DISTINCT \(keys.joined(separator: ", ")) FROM \(q("__recent")) WHERE \"_unchanged\" IS NOT NULL)",
        ]
        // Rows that are their key's only version in the view: clean rows, and settled rows no recent part touches.
        let fast = "SELECT \(plain.joined(separator: ", ")) FROM \(q("__clean")) WHERE NOT \"_deleted\" "
            + "UNION ALL SELECT \(plain.joined(separator: ", ")) FROM \(q("__settled")) ANTI JOIN \(q("__touched")) \(using) WHERE NOT \"_deleted\""
        // The dedup: recent rows, and the settled rows of keys whose recent versions carry a column forward.
        let slowRows = "SELECT * FROM \(q("__recent")) "
            + "UNION ALL BY NAME SELECT * FROM \(q("__settled")) SEMI JOIN \(q("__marked")) \(using)"
        let slow = "SELECT \(dedup.joined(separator: ", ")) FROM (\(slowRows)) GROUP BY \(keys.joined(separator: ", ")) HAVING \(having)"
        return "WITH \(ctes.joined(separator: ", ")) \(fast) UNION ALL \(slow)"
    }
}
