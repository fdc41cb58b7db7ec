import ColumnStore
import Foundation

extension Config {
    /// Loads a config from JSON text. Unknown fields are errors (a typo must not be silently ignored).
    public static func parse(json: Data, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Config {
        let object: Any
        do { try JSONScanner.check(json) } catch let error as JSONSyntaxError {
            throw ConfigError(field: "(file)", problem: "not valid JSON: \(error)")
        }
        do { object = try JSONSerialization.jsonObject(with: json) } catch {
            throw ConfigError(field: "(file)", problem: "not valid JSON: \(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else { throw ConfigError(field: "(file)", problem: "must be a JSON object") }
        let reader = FieldReader(root, path: "")
        try reader.allowOnly(["source", "store", "slot", "publication", "schemas", "tables", "exclude", "tableSettings",
                              "batch", "metrics", "heartbeatSeconds", "logFormat", "slotWarnBytes", "clickhouse",
                              "streamInProgress"])
        guard let source = try reader.string("source") ?? environment["FRESHET_SOURCE"] else {
            throw ConfigError(field: "source", problem: "missing (set it in the file, with --source, or FRESHET_SOURCE)")
        }
        var config = Config(source: source, store: try reader.string("store") ?? environment["FRESHET_STORE"] ?? "./freshet-store")
        if let v = try reader.string("slot") { config.slot = try validName(v, field: "slot") }
        if let v = try reader.string("publication") { config.publication = try validName(v, field: "publication") }
        if let v = try reader.strings("schemas") { config.schemas = v }
        if let v = try reader.strings("tables") { config.tables = try v.map { try qualifiedName($0, field: "tables") } }
        if let v = try reader.strings("exclude") { config.exclude = try v.map { try qualifiedName($0, field: "exclude") } }
        if let settings = try reader.object("tableSettings") {
            for (table, value) in settings.dict {
                let field = "tableSettings.\(table)"
                let table = try qualifiedName(table, field: field)
                guard let dict = value as? [String: Any] else { throw ConfigError(field: field, problem: "must be an object") }
                let t = FieldReader(dict, path: field)
                try t.allowOnly(["partition", "key", "clickhouseTable"])
                var ts = TableSettings()
                ts.key = try t.strings("key")
                if let key = ts.key, key.isEmpty { throw ConfigError(field: field + ".key", problem: "must name at least one column") }
                if let p = try t.string("partition") { ts.partition = try parsePartition(p, field: field + ".partition") }
                if let n = try t.string("clickhouseTable") {
                    guard !n.isEmpty, n.count <= 200 else { throw ConfigError(field: field + ".clickhouseTable", problem: "must be 1–200 characters") }
                    ts.clickhouseTable = n
                }
                config.tableSettings[table] = ts
            }
        }
        if let b = try reader.object("batch") {
            try b.allowOnly(["maxRows", "maxBytes", "maxAgeMs"])
            if let v = try b.integer("maxRows", in: 1...1_000_000_000) { config.batch.maxRows = v }
            if let v = try b.integer("maxBytes", in: 1...(1 << 40)) { config.batch.maxBytes = v }
            if let v = try b.integer("maxAgeMs", in: 1...86_400_000) { config.batch.maxAge = Double(v) / 1000 }
        }
        if let m = try reader.object("metrics") {
            try m.allowOnly(["listen", "healthMaxLagSeconds"])
            if let listen = try m.string("listen") { config.metricsAddress = listen.isEmpty || listen == "off" ? nil : listen }
            if let v = try m.number("healthMaxLagSeconds") {
                guard v > 0, v <= 1e9 else { throw ConfigError(field: "metrics.healthMaxLagSeconds", problem: "must be > 0 and ≤ 1e9, got \(v)") }
                config.healthMaxLagSeconds = v
            }
        }
        if let h = try reader.number("heartbeatSeconds") {
            guard h >= 0, h <= 1e9 else { throw ConfigError(field: "heartbeatSeconds", problem: "must be ≥ 0 and ≤ 1e9, got \(h)") }
            config.heartbeatInterval = h
        }
        if let v = try reader.integer("slotWarnBytes", in: 1...Int(Int64.max / 2)) { config.slotWarnBytes = Int64(v) }
        if let v = try reader.bool("streamInProgress") { config.streamInProgress = v }
        if let c = try reader.object("clickhouse") {
            try c.allowOnly(["url", "database", "cluster", "batchRows", "batchAgeMs", "insertStreams", "healthMaxLagSeconds", "ddlTimeoutSeconds"])
            guard let url = try c.string("url") else { throw ConfigError(field: "clickhouse.url", problem: "missing") }
            var ch = ClickHouseSettings(url: url, database: try c.string("database"), cluster: try c.string("cluster"))
            if let v = try c.integer("batchRows", in: 1...1_000_000) { ch.batchRows = v }
            if let v = try c.integer("batchAgeMs", in: 1...86_400_000) { ch.batchAge = Double(v) / 1000 }
            if let v = try c.integer("ddlTimeoutSeconds", in: 1...86_400) { ch.ddlTimeoutSeconds = v }
            if let v = try c.integer("insertStreams", in: 1...8) { ch.insertStreams = v }
            if let v = try c.number("healthMaxLagSeconds") {
                guard v > 0, v <= 1e9 else { throw ConfigError(field: "clickhouse.healthMaxLagSeconds", problem: "must be > 0 and ≤ 1e9, got \(v)") }
                ch.healthMaxLagSeconds = v
            }
            config.clickhouse = ch
        }
        if let f = try reader.string("logFormat") {
            guard let format = LogFormat(rawValue: f) else { throw ConfigError(field: "logFormat", problem: "must be \"text\" or \"json\"") }
            config.logFormat = format
        }
        return config
    }

    /// `hash:8`, `none`, `column:shop_id`, `day:created_at` / `month:...` / `year:...`.
    static func parsePartition(_ text: String, field: String) throws -> PartitionSetting {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first ?? "", parts.count) {
        case ("none", 1): return .none
        case ("hash", 1): return .hash(buckets: 8)
        case ("hash", 2):
            guard let n = Int(parts[1]), n >= 1, n <= 1024 else {
                throw ConfigError(field: field, problem: "hash buckets must be 1…1024, got \(parts[1])")
            }
            return .hash(buckets: n)
        case ("column", 2) where !parts[1].isEmpty: return .column(parts[1])
        case (let b, 2) where TimeBucket(rawValue: b) != nil && !parts[1].isEmpty:
            return .time(column: parts[1], bucket: TimeBucket(rawValue: b)!)
        default:
            throw ConfigError(field: field, problem: "expected none, hash[:N], column:NAME, day:COL, month:COL or year:COL; got \(text)")
        }
    }

    /// The canonical `TableName.qualifiedName` of a table named in the config (`"public"."orders"` → `public.orders`).
    public static func qualifiedName(_ name: String, field: String) throws -> String {
        do { return try TableName.canonical(name) } catch {
            throw ConfigError(field: field, problem: "\(error)")
        }
    }

    static func validName(_ name: String, field: String) throws -> String {
        let ok = !name.isEmpty && name.count <= 63 && name.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_"
        }
        guard ok else { throw ConfigError(field: field, problem: "use 1–63 lowercase letters, digits or _, got \(name)") }
        return name
    }

}

/// Reads typed fields of a JSON object, with errors that name the field.
struct FieldReader {
    let dict: [String: Any]
    let path: String
    init(_ dict: [String: Any], path: String) { self.dict = dict; self.path = path }

    func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func allowOnly(_ keys: Set<String>) throws {
        for key in dict.keys.sorted() where !keys.contains(key) {
            throw ConfigError(field: name(key), problem: "unknown field (allowed: \(keys.sorted().joined(separator: ", ")))")
        }
    }
    func string(_ key: String) throws -> String? {
        guard let v = dict[key] else { return nil }
        guard let s = v as? String else { throw ConfigError(field: name(key), problem: "must be a string") }
        return s
    }
    func number(_ key: String) throws -> Double? {
        guard let v = dict[key] else { return nil }
        // JSON booleans also arrive as NSNumber; their Objective-C type code is "c".
        guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else {
            throw ConfigError(field: name(key), problem: "must be a number")
        }
        return n.doubleValue
    }
    /// A whole number within `range`; fractions, exponents beyond it and other types are errors naming the field.
    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = try number(key) else { return nil }
        guard v.rounded() == v, v >= Double(range.lowerBound), v <= Double(range.upperBound) else {
            throw ConfigError(field: name(key), problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(v)")
        }
        return Int(v)
    }
    func bool(_ key: String) throws -> Bool? {
        guard let v = dict[key] else { return nil }
        guard let n = v as? NSNumber, String(cString: n.objCType) == "c" else {
            throw ConfigError(field: name(key), problem: "must be true or false")
        }
        return n.boolValue
    }
    func strings(_ key: String) throws -> [String]? {
        guard let v = dict[key] else { return nil }
        guard let a = v as? [Any], let s = a as? [String] else { throw ConfigError(field: name(key), problem: "must be a list of strings") }
        return s
    }
    func object(_ key: String) throws -> FieldReader? {
        guard let v = dict[key] else { return nil }
        guard let d = v as? [String: Any] else { throw ConfigError(field: name(key), problem: "must be an object") }
        return FieldReader(d, path: name(key))
    }
}
