import Foundation
import XCTest
@testable import ColumnStore

/// The hand-written manifest JSON (`Manifest.encoded`) says exactly what `JSONEncoder` says: same keys, same values
/// (the same bytes but for "/", which it does not escape), optionals left out when nil, strings escaped; `Manifest.decode` reads it back to an equal manifest.
final class ManifestEncodingTests: XCTestCase {
    private func part(_ i: Int, added: Int64?, unique: Bool?) -> PartEntry {
        PartEntry(path: "parts/p=\(i % 3)/\(i)-\"q\\\u{1}é.parquet", partition: "p=\(i % 3)", rows: i * 7, bytes: i * 1000 + 3,
                  minVersion: UInt64(i), maxVersion: UInt64.max - UInt64(i), level: i % 5, checksum: "crc\(i)",
                  schemaVersion: 1 + i % 2, generation: UInt64(i % 4), tombstones: i % 9, addedMicros: added, uniqueKeys: unique)
    }

    private func manifest(optionals: Bool) -> Manifest {
        var m = Manifest(formatVersion: Manifest.currentFormatVersion, table: "we\"ird.t\\able ü", sequence: 42, generation: 3,
                         committedLSN: UInt64.max, keyColumns: ["id", "k\"2"], partitioning: .keyHash(buckets: 4),
                         schemaVersions: [SchemaVersion(version: 1, columns: ModelSchema.base)], parts: [])
        m.parts = (0..<50).map { part($0, added: optionals || $0 % 2 == 0 ? Int64(-$0) : nil, unique: $0 % 3 == 0 ? nil : $0 % 3 == 1) }
        for i in m.parts.indices where optionals || i % 2 == 1 {
            m.parts[i].uniqueKeys = m.parts[i].uniqueKeys ?? true
            m.parts[i].unchangedRows = i * 3
            m.parts[i].settled = i % 4 != 0
            m.parts[i].clean = i % 4 == 1
        }
        if optionals {
            m.commitMicros = 1_700_000_000_000_000
            m.historySinceMicros = -5
            m.removed = [RemovedPart(path: "parts/x.parquet", addedMicros: nil, removedMicros: 7),
                         RemovedPart(path: "parts/y.parquet", addedMicros: 3, removedMicros: Int64.min)]
        }
        return m
    }

    func testEncodedManifestEqualsJSONEncodersAndDecodesBack() throws {
        for optionals in [false, true] {
            let m = manifest(optionals: optionals)
            if optionals {
                // Every field of a part is set here, so a field the hand-written encoder leaves out fails the
                // round trip below (a new optional field must be added to `JSONBytes.part`).
                for child in Mirror(reflecting: m.parts[0]).children {
                    XCTAssertNotEqual(String(describing: child.value), "nil", "PartEntry.\(child.label ?? "?") is nil in the fixture: set it")
                }
            }
            let ours = try m.encoded()
            XCTAssertEqual(try Manifest.decode(ours, path: "test"), m)
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            let theirs = try e.encode(m)
            let a = try JSONSerialization.jsonObject(with: Data(ours)) as? NSDictionary
            let b = try JSONSerialization.jsonObject(with: theirs) as? NSDictionary
            XCTAssertNotNil(a)
            XCTAssertEqual(a, b, "optionals \(optionals)")
            // Byte for byte the same compact sorted-key JSON, except that `JSONEncoder` also escapes "/".
            XCTAssertEqual(String(decoding: ours, as: UTF8.self),
                           String(decoding: theirs, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/"), "optionals \(optionals)")
        }
    }

    /// Part entries are encoded once and their JSON reused (`PartJSONCache`): an entry changed under the same path
    /// (a commit sets `generation`, `settled`, `clean`) is encoded afresh, never taken from the cache.
    func testCachedPartJSONFollowsChangedEntries() throws {
        var m = manifest(optionals: true)
        XCTAssertEqual(try Manifest.decode(try m.encoded(), path: "test"), m)
        XCTAssertEqual(try Manifest.decode(try m.encoded(), path: "test"), m)   // from the cache
        m.parts[3].generation += 1
        m.parts[4].settled = nil
        m.parts[5].clean = !(m.parts[5].clean ?? false)
        m.parts[6].addedMicros = 99
        m.parts.removeFirst()
        let again = try m.encoded()
        XCTAssertEqual(try Manifest.decode(again, path: "test"), m)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        XCTAssertEqual(String(decoding: again, as: UTF8.self),
                       String(decoding: try e.encode(m), as: UTF8.self).replacingOccurrences(of: "\\/", with: "/"))
    }
}
