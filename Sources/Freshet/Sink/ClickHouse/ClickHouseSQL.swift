import Foundation

/// Quoting for ClickHouse statements.
enum ClickHouseSQL {
    /// A backquoted identifier: `` `a``b` `` style escapes (backslash before backquote and backslash).
    static func identifier(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "`", with: "\\`") + "`"
    }

    /// `db`.`table`.
    static func table(_ database: String, _ name: String) -> String { identifier(database) + "." + identifier(name) }

    /// A single-quoted string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// The first line of a statement, for logs and errors (at most 200 characters).
    static func firstLine(_ sql: String) -> String {
        String(sql.prefix { $0 != "\n" }.prefix(200))
    }
}
