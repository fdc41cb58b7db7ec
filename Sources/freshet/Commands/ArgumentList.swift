/// A small hand-written argument parser: `--flag value`, `--flag=value`, repeated flags, positionals.
struct ArgumentList {
    private var items: [String]

    init(_ arguments: [String]) { items = arguments }

    /// Removes and returns the value of `--name value` / `--name=value` (the last one wins).
    mutating func value(_ name: String) throws -> String? {
        try values(name).last
    }

    /// Removes and returns every value of a repeatable flag.
    mutating func values(_ name: String) throws -> [String] {
        var found: [String] = []
        var i = 0
        while i < items.count {
            if items[i] == name {
                guard i + 1 < items.count else { throw UsageError("\(name) needs a value") }
                found.append(items[i + 1])
                items.removeSubrange(i...(i + 1))
            } else if items[i].hasPrefix(name + "=") {
                found.append(String(items[i].dropFirst(name.count + 1)))
                items.remove(at: i)
            } else {
                i += 1
            }
        }
        return found
    }

    mutating func int(_ name: String) throws -> Int? {
        guard let v = try value(name) else { return nil }
        guard let n = Int(v), n >= 0 else { throw UsageError("\(name) needs a whole number, got \(v)") }
        return n
    }

    /// Removes and returns a boolean flag.
    mutating func flag(_ name: String) -> Bool {
        guard let i = items.firstIndex(of: name) else { return false }
        items.remove(at: i)
        return true
    }

    /// Removes and returns the next positional argument.
    mutating func positional() -> String? {
        guard let i = items.firstIndex(where: { !$0.hasPrefix("--") }) else { return nil }
        return items.remove(at: i)
    }

    /// Fails on anything not consumed.
    func finish(usage: String) throws {
        if let first = items.first { throw UsageError("unknown argument \(first)\n\(usage)") }
    }
}

/// A command-line mistake: printed with the usage, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
