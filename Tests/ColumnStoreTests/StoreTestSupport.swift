import Foundation
import TestSupport
import XCTest
@testable import ColumnStore


/// A fresh temp directory removed at the end of the test.
func makeTempDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("colstore-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

let testIdentity = StoreIdentity(systemIdentifier: "7300000000000000001", slot: "freshet", publication: "freshet_pub")

/// The orders-like row the model tests write; nil = NULL.
struct ModelRow: Equatable, CustomStringConvertible {
    var name: String?
    var amount: Int64?          // decimal(12,2) unscaled
    var big: String?            // the TOASTable column
    var region: String?
    var ts: Int64?              // timestamptz micros
    var flag: Bool?
    var note: String?           // added by a later schema version
    var description: String { "(\(name ?? "∅"), \(amount.map(String.init) ?? "∅"), big \(big?.count ?? -1), \(region ?? "∅"), \(ts.map(String.init) ?? "∅"), \(flag.map(String.init) ?? "∅"), \(note ?? "∅"))" }
}

enum ModelSchema {
    static let base: [ColumnDefinition] = [
        .init("id", .int64, nullable: false),
        .init("name", .string),
        .init("amount", .decimal(precision: 12, scale: 2)),
        .init("big", .string),
        .init("region", .string),
        .init("ts", .timestamptz),
        .init("flag", .bool),
    ]
    static func schema(_ columns: [ColumnDefinition]) -> TableSchema { TableSchema(columns: columns, keyColumns: ["id"]) }

    /// Appends `row` for `id`; `unchangedBig` marks `big` unchanged instead of giving it.
    static func append(_ batch: inout RowBatch, id: Int64, _ row: ModelRow, version: UInt64, unchangedBig: Bool = false) {
        for (i, c) in batch.columns.enumerated() {
            switch c.name {
            case "id": batch.append(id, column: i)
            case "name": if let v = row.name { batch.append(v, column: i) } else { batch.appendNull(column: i) }
            case "amount": if let v = row.amount { batch.append(v, column: i) } else { batch.appendNull(column: i) }
            case "big":
                if unchangedBig { batch.appendUnchanged(column: i) } else if let v = row.big { batch.append(v, column: i) } else { batch.appendNull(column: i) }
            case "region": if let v = row.region { batch.append(v, column: i) } else { batch.appendNull(column: i) }
            case "ts": if let v = row.ts { batch.append(v, column: i) } else { batch.appendNull(column: i) }
            case "flag": if let v = row.flag { batch.append(v, column: i) } else { batch.appendNull(column: i) }
            case "note": if let v = row.note { batch.append(v, column: i) } else { batch.appendNull(column: i) }
            default: batch.appendNull(column: i)
            }
        }
        batch.finishRow(version: version)
    }

    static func appendDelete(_ batch: inout RowBatch, id: Int64, version: UInt64) {
        batch.append(id, column: 0)
        batch.finishTombstone(version: version)
    }

    /// Every current row of `table` through the FINAL reader, by id; fails on duplicate keys or unresolved markers,
    /// and, in key order, on a key that does not ascend.
    static func readAll(_ store: Store, _ table: String, where predicates: [ColumnPredicate] = [], order: ReadOrder = .key,
                        threads: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws -> [Int64: ModelRow] {
        var reader = try store.read(table, where: predicates, batchRows: 97, order: order, threads: threads)
        var out = [Int64: ModelRow]()
        var last: Int64?
        let cols = reader.columns
        func idx(_ n: String) -> Int? { cols.firstIndex { $0.name == n } }
        while let b = try reader.next() {
            for r in 0..<b.count {
                XCTAssertFalse(b.isDeleted(r), file: file, line: line)
                var m = ModelRow()
                let id = b.int64(r, idx("id")!)
                if let i = idx("name") { m.name = b.string(r, i) }
                if let i = idx("amount"), !b.isNull(r, i) { m.amount = b.int64(r, i) }
                if let i = idx("big") { m.big = b.string(r, i); XCTAssertFalse(b.isUnchanged(r, i), file: file, line: line) }
                if let i = idx("region") { m.region = b.string(r, i) }
                if let i = idx("ts"), !b.isNull(r, i) { m.ts = b.int64(r, i) }
                if let i = idx("flag"), !b.isNull(r, i) { m.flag = b.int64(r, i) != 0 }
                if let i = idx("note") { m.note = b.string(r, i) }
                XCTAssertNil(out[id], "key \(id) returned twice", file: file, line: line)
                if order == .key, let last { XCTAssertLessThan(last, id, "key order", file: file, line: line) }
                last = id
                out[id] = m
            }
        }
        XCTAssertEqual(reader.unresolvedUnchanged, 0, file: file, line: line)
        return out
    }

    /// Files under the table's parts directory (relative paths), the reader-schema files (`parts/_schema/`) left out.
    static func partFiles(_ store: Store, _ table: String) -> Set<String> {
        let dir = store.tableDirectory(table).appendingPathComponent("parts")
        var out = Set<String>()
        for p in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where p != ReaderSchema.directory {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(p).path)) ?? [] {
                out.insert("parts/\(p)/\(f)")
            }
        }
        return out
    }
}

extension Store {
    /// Stages the rows `fill` appends to a batch of `columns` and commits them up to `version`.
    func commitBatch(_ table: String, columns: [ColumnDefinition], version: UInt64, _ fill: (inout RowBatch) -> Void) throws {
        var b = RowBatch(columns: columns)
        fill(&b)
        var c = StoreCommit(upTo: version)
        c.add(try stage(b, table: table))
        try commit(c)
    }
}
