import ColumnStore
import PostgresReplication

extension RelationMessage {
    /// The relation's table name, the one place the stream turns (namespace, name) into a table's name.
    /// pgoutput sends an empty namespace for `pg_catalog`.
    var tableName: TableName { TableName(schema: namespace.isEmpty ? "pg_catalog" : namespace, table: name) }
}
