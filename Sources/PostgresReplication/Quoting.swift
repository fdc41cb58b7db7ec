/// SQL quoting for identifiers and literals. Every identifier Freshet sends is quoted this way.
public enum SQLQuoting {
    /// `name` → `"name"`, doubling embedded double quotes. NUL characters are removed (Postgres rejects them).
    public static func identifier(_ name: String) -> String {
        var out = "\""
        for ch in name.unicodeScalars where ch != "\0" {
            if ch == "\"" { out += "\"\"" } else { out.unicodeScalars.append(ch) }
        }
        return out + "\""
    }

    /// A qualified name `"schema"."table"`.
    public static func qualified(schema: String, name: String) -> String {
        identifier(schema) + "." + identifier(name)
    }

    /// `value` → `'value'`, doubling single quotes. With backslashes the `E'...'` form doubles them too,
    /// so the result is correct whatever `standard_conforming_strings` is.
    public static func literal(_ value: String) -> String {
        var hasBackslash = false
        var out = ""
        for ch in value.unicodeScalars where ch != "\0" {
            switch ch {
            case "'": out += "''"
            case "\\": out += "\\\\"; hasBackslash = true
            default: out.unicodeScalars.append(ch)
            }
        }
        return (hasBackslash ? "E'" : "'") + out + "'"
    }
}
