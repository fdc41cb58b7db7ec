import Foundation

/// The manifest as JSON, written by hand for its part lists: every commit and every merge install writes a table's
/// whole manifest, and with a few hundred parts (plus the removed parts still in the view history) Foundation's
/// `JSONEncoder` took 10–20 ms of CPU per manifest, which made it most of a streaming commit's first round and 40% of
/// Freshet's CPU at 2,000 tx/s (docs/tuning.md, section 9). The output is compact JSON with sorted keys, the same
/// keys and values `JSONEncoder` writes (`Manifest.decode` reads both); the small nested values (partitioning,
/// schema versions) still go through `JSONEncoder`.
extension Manifest {
    func encoded() throws -> [UInt8] {
        var w = JSONBytes()
        w.out.reserveCapacity(256 + parts.count * 330 + (removed?.count ?? 0) * 120)
        w.byte(UInt8(ascii: "{"))
        if let commitMicros { w.key("commitMicros", first: true); w.int(commitMicros) }
        w.key("committedLSN", first: commitMicros == nil); w.uint(committedLSN)
        w.key("formatVersion"); w.int(Int64(formatVersion))
        w.key("generation"); w.uint(generation)
        if let historySinceMicros { w.key("historySinceMicros"); w.int(historySinceMicros) }
        w.key("keyColumns"); w.array(keyColumns) { w, c in w.string(c) }
        w.key("partitioning"); try w.encodable(partitioning)
        w.key("parts"); PartJSONCache.shared.encode(parts, into: &w)
        if let removed {
            w.key("removed")
            w.array(removed) { w, r in
                w.byte(UInt8(ascii: "{"))
                if let a = r.addedMicros { w.key("addedMicros", first: true); w.int(a) }
                w.key("path", first: r.addedMicros == nil); w.string(r.path)
                w.key("removedMicros"); w.int(r.removedMicros)
                w.byte(UInt8(ascii: "}"))
            }
        }
        w.key("schemaVersions"); try w.encodable(schemaVersions)
        w.key("sequence"); w.uint(sequence)
        w.key("table"); w.string(table)
        w.byte(UInt8(ascii: "}"))
        return w.out
    }
}

/// The JSON of part entries already written, by path: a part is listed unchanged in every manifest written while it
/// lives (each commit and merge install of its table), so its text is made once and copied after that. An entry is
/// reused only when the part entry equals the one it was made from (a commit sets `generation`, `settled`, `clean`).
final class PartJSONCache: @unchecked Sendable {
    static let shared = PartJSONCache()
    /// Past this many entries the cache starts over (parts that were merged away are not removed one by one).
    static let capacity = 20_000

    private let lock = NSLock()
    private var entries: [String: (entry: PartEntry, json: [UInt8])] = [:]

    /// Writes `parts` as a JSON array.
    func encode(_ parts: [PartEntry], into w: inout JSONBytes) {
        lock.lock(); defer { lock.unlock() }
        if entries.count + parts.count > Self.capacity { entries.removeAll(keepingCapacity: true) }
        w.byte(UInt8(ascii: "["))
        for (i, p) in parts.enumerated() {
            if i > 0 { w.byte(UInt8(ascii: ",")) }
            if let cached = entries[p.path], cached.entry == p {
                w.out.append(contentsOf: cached.json)
            } else {
                var one = JSONBytes()
                one.part(p)
                entries[p.path] = (p, one.out)
                w.out.append(contentsOf: one.out)
            }
        }
        w.byte(UInt8(ascii: "]"))
    }
}

/// A JSON text being written into bytes.
struct JSONBytes {
    var out: [UInt8] = []

    mutating func byte(_ b: UInt8) { out.append(b) }

    /// `"name":`, preceded by a comma unless it is the object's first key.
    mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func int(_ v: Int64) {
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            uint(v.magnitude)
        } else {
            uint(UInt64(v))
        }
    }

    mutating func uint(_ v: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = v, count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                buf[19 - count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            } while n > 0
            out.append(contentsOf: buf[(20 - count)...])
        }
    }

    mutating func bool(_ v: Bool) { out.append(contentsOf: (v ? "true" : "false").utf8) }

    /// A JSON string: `"` and `\` escaped, control characters as `\u00XX`, everything else as its UTF-8 bytes.
    mutating func string(_ s: String) {
        out.append(UInt8(ascii: "\""))
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\")); out.append(b)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            default:
                out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    mutating func array<T>(_ items: [T], _ element: (inout JSONBytes, T) throws -> Void) rethrows {
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            try element(&self, item)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A small nested value through `JSONEncoder` (compact, sorted keys).
    mutating func encodable<T: Encodable>(_ value: T) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        out.append(contentsOf: try e.encode(value))
    }

    /// A part entry, keys sorted as `JSONEncoder` sorts them.
    mutating func part(_ p: PartEntry) {
        out.append(UInt8(ascii: "{"))
        if let a = p.addedMicros { key("addedMicros", first: true); int(a) }
        key("bytes", first: p.addedMicros == nil); int(Int64(p.bytes))
        key("checksum"); string(p.checksum)
        if let c = p.clean { key("clean"); bool(c) }
        key("generation"); uint(p.generation)
        key("level"); int(Int64(p.level))
        key("maxVersion"); uint(p.maxVersion)
        key("minVersion"); uint(p.minVersion)
        key("partition"); string(p.partition)
        key("path"); string(p.path)
        key("rows"); int(Int64(p.rows))
        key("schemaVersion"); int(Int64(p.schemaVersion))
        if let s = p.settled { key("settled"); bool(s) }
        key("tombstones"); int(Int64(p.tombstones))
        if let u = p.unchangedRows { key("unchangedRows"); int(Int64(u)) }
        if let u = p.uniqueKeys { key("uniqueKeys"); bool(u) }
        out.append(UInt8(ascii: "}"))
    }
}
