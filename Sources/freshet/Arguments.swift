import ColumnStore
import Foundation

/// One command of the `freshet` executable.
protocol FreshetCommand {
    static var name: String { get }
    static var summary: String { get }
    static var usage: String { get }
    /// Option names (without `--`) that take a value; repeated options collect every value.
    static var options: Set<String> { get }
    /// Option names (without `--`) that take no value (`--yes`, `--json`).
    static var flags: Set<String> { get }
    static func run(_ args: Arguments) throws
}

extension FreshetCommand {
    static var flags: Set<String> { [] }
}

/// Parsed command line: positional arguments and `--name value` / `--name=value` options.
struct Arguments {
    private(set) var positional: [String] = []
    private var values: [String: [String]] = [:]

    struct UsageError: Error, CustomStringConvertible { let description: String }

    init(_ argv: [String], options: Set<String>, flags: Set<String> = []) throws {
        var i = 0
        while i < argv.count {
            let a = argv[i]
            i += 1
            guard a.hasPrefix("--"), a.count > 2 else { positional.append(a); continue }
            var name = String(a.dropFirst(2)), value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if flags.contains(name) {
                guard value == nil else { throw UsageError(description: "--\(name) takes no value") }
                values[name, default: []].append("true")
                continue
            }
            guard options.contains(name) else { throw UsageError(description: "unknown option --\(name)") }
            if value == nil {
                guard i < argv.count else { throw UsageError(description: "--\(name) needs a value") }
                value = argv[i]
                i += 1
            }
            values[name, default: []].append(value!)
        }
    }

    /// The last value of `--name`.
    func value(_ name: String) -> String? { values[name]?.last }
    /// Whether the flag `--name` was given.
    func flag(_ name: String) -> Bool { values[name] != nil }
    /// Every value of `--name`.
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// The one positional argument called `what`.
    func single(_ what: String) throws -> String {
        guard positional.count == 1 else { throw UsageError(description: "expected exactly one \(what)") }
        return positional[0]
    }

    /// `--store DIR`, or `FRESHET_STORE` from the environment.
    func storeURL() throws -> URL {
        if let s = value("store") ?? ProcessInfo.processInfo.environment["FRESHET_STORE"], !s.isEmpty {
            return URL(fileURLWithPath: s)
        }
        throw UsageError(description: "--store DIR (or FRESHET_STORE) is required")
    }

    /// `text` as the canonical name of a table (`TableName.qualifiedName`): `schema.table`, a part in double quotes
    /// when it holds a dot or a quote (`"public.dotted".name`, `public."dotted.name"`).
    static func tableName(_ text: String) throws -> String {
        do { return try TableName.canonical(text) } catch { throw UsageError(description: "\(error)") }
    }

    /// The one positional argument, a table name (`tableName`).
    func singleTable() throws -> String { try Self.tableName(try single("TABLE")) }

    func integer(_ name: String) throws -> Int? {
        guard let v = value(name) else { return nil }
        guard let n = Int(v), n >= 0 else { throw UsageError(description: "--\(name) needs a non-negative integer") }
        return n
    }

    /// `--name N` with N ≥ 1 (0 is an error, as it is in the config file).
    func positiveInteger(_ name: String) throws -> Int? {
        guard let v = value(name) else { return nil }
        guard let n = Int(v), n >= 1 else { throw UsageError(description: "--\(name) needs a positive integer, got \(v)") }
        return n
    }
}
