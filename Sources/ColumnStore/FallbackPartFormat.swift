import Foundation

/// A plain binary part format used until the Parquet module can write files. Layout: `FPB1`, row groups (raw
/// column buffers), a JSON footer, its length (u32 LE), `FPB1`.
struct ParquetPartWriter: PartFileWriter {
    private let url: URL
    private let columns: [ColumnDefinition]
    private let fd: Int32
    private var offset = 0
    private var groups: [FallbackFooter.Group] = []

    init(url: URL, columns: [ColumnDefinition]) throws {
        self.url = url
        self.columns = columns
        fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, DurableFile.fileMode)
        if fd < 0 { throw StoreError.io(path: url.path, operation: "create", errno: errno) }
        try put(Array("FPB1".utf8))
    }

    private mutating func put(_ bytes: [UInt8]) throws {
        try DurableFile.writeAll(fd, bytes, path: url.path)
        offset += bytes.count
    }

    mutating func writeRowGroup(_ batch: RowBatch) throws {
        var out = [UInt8]()
        func raw<T>(_ a: [T]) { a.withUnsafeBytes { out.append(contentsOf: $0) } }
        raw(batch.versions)
        raw(batch.deleted.words)
        for b in batch.buffers {
            raw(b.nulls.words); raw(b.unchanged.words)
            switch b.storage {
            case .int64: raw(b.ints)
            case .double: raw(b.doubles)
            case .int128: raw(b.wides)
            case .bytes: raw(b.ends.map { Int64($0) }); raw(b.arena)
            }
        }
        groups.append(.init(offset: offset, length: out.count, rows: batch.count,
                            arenas: batch.buffers.map { $0.arena.count }))
        try put(out)
    }

    mutating func finish(metadata: [String: String]) throws {
        let footer = try JSONEncoder().encode(FallbackFooter(columns: columns, metadata: metadata, groups: groups))
        var tail = Array(footer)
        withUnsafeBytes(of: UInt32(footer.count).littleEndian) { tail.append(contentsOf: $0) }
        tail.append(contentsOf: Array("FPB1".utf8))
        try put(tail)
        let rc = fsync(fd)
        close(fd)
        if rc != 0 { throw StoreError.io(path: url.path, operation: "fsync", errno: errno) }
    }
}

struct FallbackFooter: Codable {
    struct Group: Codable { var offset: Int; var length: Int; var rows: Int; var arenas: [Int] }
    var columns: [ColumnDefinition]
    var metadata: [String: String]
    var groups: [Group]
}

struct ParquetPartReader: PartFileReader {
    let bytes: [UInt8]
    let path: String
    let footer: FallbackFooter
    var columns: [ColumnDefinition] { footer.columns }
    var metadata: [String: String] { footer.metadata }
    var rowGroupCount: Int { footer.groups.count }

    init(bytes: [UInt8], path: String) throws {
        self.bytes = bytes
        self.path = path
        func bad(_ why: String) -> StoreError { .corruptPart(table: "", path: path, reason: why) }
        guard bytes.count >= 12, Array(bytes[0..<4]) == Array("FPB1".utf8),
              Array(bytes[(bytes.count - 4)...]) == Array("FPB1".utf8) else { throw bad("bad magic") }
        let n = bytes.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt32.self))) }
        guard n <= bytes.count - 12 else { throw bad("bad footer length") }
        do {
            footer = try JSONDecoder().decode(FallbackFooter.self, from: Data(bytes[(bytes.count - 8 - n)..<(bytes.count - 8)]))
        } catch { throw bad("bad footer: \(error)") }
    }

    func readRowGroup(_ index: Int, columns wanted: Set<String>?) throws -> RowBatch {
        let g = footer.groups[index]
        var pos = g.offset
        let end = g.offset + g.length
        let rows = g.rows
        func take<T>(_ n: Int, _: T.Type) throws -> [T] {
            let len = n * MemoryLayout<T>.stride
            guard pos + len <= end, end <= bytes.count else {
                throw StoreError.corruptPart(table: "", path: path, reason: "row group \(index) truncated")
            }
            let out = bytes.withUnsafeBytes { raw in
                [T](unsafeUninitializedCapacity: n) { buf, count in
                    memcpy(buf.baseAddress!, raw.baseAddress! + pos, len)
                    count = n
                }
            }
            pos += len
            return out
        }
        let words = (rows + 63) / 64
        let versions = try take(rows, UInt64.self)
        let deleted = Bitmap(words: try take(words, UInt64.self), count: rows)
        var cols = [ColumnDefinition](), bufs = [ColumnBuffer]()
        for (i, c) in footer.columns.enumerated() {
            var b = ColumnBuffer(storage: c.type.storage)
            b.nulls = Bitmap(words: try take(words, UInt64.self), count: rows)
            b.unchanged = Bitmap(words: try take(words, UInt64.self), count: rows)
            switch b.storage {
            case .int64: b.ints = try take(rows, Int64.self)
            case .double: b.doubles = try take(rows, Double.self)
            case .int128: b.wides = try take(rows, Int128.self)
            case .bytes:
                b.ends = try take(rows, Int64.self).map { Int($0) }
                b.arena = try take(g.arenas[i], UInt8.self)
                if let last = b.ends.last, last != b.arena.count {
                    throw StoreError.corruptPart(table: "", path: path, reason: "bad string offsets")
                }
            }
            if wanted == nil || wanted!.contains(c.name) { cols.append(c); bufs.append(b) }
        }
        return RowBatch(columns: cols, buffers: bufs, versions: versions, deleted: deleted)
    }
}
