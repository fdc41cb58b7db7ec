/// Changes of the source that change what the copy holds or need the user's attention. Each is logged as a warning
/// with what Freshet did or the fix, and counted in `freshet_source_changes_total{kind}`.
public enum SourceChangeKind: String, Sendable, CaseIterable {
    /// A table joined the replicated set (created later, or newly in scope): its existing rows are copied.
    case tableAdded = "table_added"
    /// A table was dropped and created again under the same name: the store takes the new table's rows.
    case tableRecreated = "table_recreated"
    /// `ALTER TABLE ... RENAME TO`: the rows are copied under the new name, the old name is emptied.
    case tableRenamed = "table_renamed"
    /// A replicated table was dropped from the source: its store table is emptied.
    case tableDropped = "table_dropped"
    /// Partitions were attached to or detached from a partitioned table: it is copied afresh.
    case partitionsChanged = "partitions_changed"
    /// `ALTER TABLE ... RENAME COLUMN`: the table is copied afresh so old rows show the value under the new name.
    case columnRenamed = "column_renamed"
    /// `ADD COLUMN ... DEFAULT` gave existing rows a value the WAL does not carry: the table is copied afresh.
    case addedColumnDefault = "added_column_default"
    /// `ALTER COLUMN ... TYPE` rewrote the existing rows (a `USING` expression, a narrower scale) without a WAL record
    /// per row: the table is copied afresh.
    case columnRetyped = "column_retyped"
    /// A column was dropped and one of the same name added (a new `attnum`): the old values must not show under it, so
    /// the table is copied afresh.
    case columnRecreated = "column_recreated"
    /// `ALTER TYPE ... RENAME VALUE` of an enum a table uses: its stored labels are copied afresh.
    case enumValueRenamed = "enum_value_renamed"
    /// A table in scope cannot be replicated (no key, a reserved column name): it is left out of the publication.
    case unreplicableTable = "unreplicable_table"
}
