import Foundation
import TestSupport
import XCTest
@testable import Parquet

/// Temporary directory removed at deinit.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "parquet-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Builds random column data for a column type, with an optional null probability.
enum TestData {
    static func column(_ type: ColumnType, rows: Int, nullRate: Double, rng: inout SeededRandom,
                       distinct: Int? = nil) -> ColumnBuffer {
        var validity: [Bool]? = nullRate > 0 ? (0..<rows).map { _ in Double.random(in: 0..<1, using: &rng) >= nullRate } : nil
        if validity?.allSatisfy({ $0 }) == true { validity = nil }
        func pick<T>(_ make: (inout SeededRandom) -> T) -> [T] {
            if let distinct {
                let pool = (0..<distinct).map { _ in make(&rng) }
                return (0..<rows).map { _ in pool[Int.random(in: 0..<distinct, using: &rng)] }
            }
            return (0..<rows).map { _ in make(&rng) }
        }
        let present = { (i: Int) in validity?[i] ?? true }
        switch type.storage {
        case .boolean:
            let v = pick { Bool.random(using: &$0) }
            return ColumnBuffer(.boolean(v.enumerated().map { present($0.offset) ? $0.element : false }), validity: validity)
        case .int32:
            let v: [Int32] = pick { g in
                switch type {
                case .int16: return Int32(Int16.random(in: .min ... .max, using: &g))
                case .date: return Int32.random(in: -100_000...100_000, using: &g)
                case let .decimal(p, _):
                    let m = Int32(pow(10, Double(p))) - 1
                    return Int32.random(in: -m...m, using: &g)
                default: return Int32.random(in: .min ... .max, using: &g)
                }
            }
            return ColumnBuffer(.int32(v.enumerated().map { present($0.offset) ? $0.element : 0 }), validity: validity)
        case .int64:
            let v: [Int64] = pick { g in
                switch type {
                case let .decimal(p, _):
                    let m = Int64(pow(10, Double(p))) - 1
                    return Int64.random(in: -m...m, using: &g)
                case .timestamp: return Int64.random(in: -2_000_000_000_000_000...4_000_000_000_000_000, using: &g)
                default: return Int64.random(in: .min ... .max, using: &g)
                }
            }
            return ColumnBuffer(.int64(v.enumerated().map { present($0.offset) ? $0.element : 0 }), validity: validity)
        case .float:
            let v = pick { Float.random(in: -1e6...1e6, using: &$0) }
            return ColumnBuffer(.float(v.enumerated().map { present($0.offset) ? $0.element : 0 }), validity: validity)
        case .double:
            let v = pick { Double.random(in: -1e12...1e12, using: &$0) }
            return ColumnBuffer(.double(v.enumerated().map { present($0.offset) ? $0.element : 0 }), validity: validity)
        case .byteArray:
            let v: [[UInt8]] = pick { g in
                let n = Int.random(in: 0...24, using: &g)
                if type == .bytes { return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) } }
                if type == .json { return Array("{\"k\":\(Int.random(in: 0...999, using: &g))}".utf8) }
                return Array(String((0..<n).map { _ in "abcdéxyz€ 0123456789".randomElement(using: &g)! }).utf8)
            }
            var b = ByteArrayBuffer()
            for (i, x) in v.enumerated() { if present(i) { b.append(contentsOf: x) } else { b.appendEmpty() } }
            return ColumnBuffer(.byteArray(b), validity: validity)
        case let .fixed(w):
            let v: [[UInt8]] = pick { g in
                if case let .decimal(p, _) = type {
                    // Random decimal with up to p digits, as big-endian two's complement.
                    let digits = Int.random(in: 1...p, using: &g)
                    var mag = (0..<min(digits, 18)).reduce(Int64(0)) { acc, _ in acc * 10 + Int64.random(in: 0...9, using: &g) }
                    if Bool.random(using: &g) { mag = -mag }
                    var f = FixedBuffer(width: w)
                    let high: Int64 = digits > 18 ? Int64.random(in: -(1 << 40)...(1 << 40), using: &g) : (mag < 0 ? -1 : 0)
                    f.appendDecimal(high: high, low: UInt64(bitPattern: mag))
                    return f.bytes
                }
                return (0..<w).map { _ in UInt8.random(in: 0...255, using: &g) }
            }
            var f = FixedBuffer(width: w)
            for (i, x) in v.enumerated() { if present(i) { f.append(x) } else { f.appendZero() } }
            return ColumnBuffer(.fixed(f), validity: validity)
        }
    }

    static let allTypes: [ColumnType] = [
        .boolean, .int16, .int32, .int64, .float, .double, .string, .json, .bytes, .uuid, .fixed(3), .date,
        .timestamp(utc: true), .timestamp(utc: false), .decimal(precision: 9, scale: 2),
        .decimal(precision: 18, scale: 4), .decimal(precision: 38, scale: 10), .decimal(precision: 20, scale: 0),
    ]
}

extension ColumnBuffer {
    /// Value slots with nulls normalised to placeholders (for comparing files where the slot content of nulls is free).
    func normalized() -> ColumnBuffer {
        guard let v = validity else { return self }
        if v.allSatisfy({ $0 }) { return ColumnBuffer(values, validity: nil) }
        return self
    }
}

/// Writes `columns` with `schema` and returns the reader's columns (all row groups).
func roundTrip(_ schema: Schema, _ columns: [ColumnBuffer], options: WriterOptions = WriterOptions(), batches: Int = 1,
               dir: TempDir, name: String = "t.parquet") throws -> (WrittenFile, ParquetFileReader, [ColumnBuffer]) {
    var opts = options
    opts.durable = false
    let w = try ParquetFileWriter(path: dir.file(name), schema: schema, options: opts)
    let rows = columns.first?.count ?? 0
    let per = max(1, (rows + batches - 1) / max(batches, 1))
    var start = 0
    if rows == 0 { try w.write(columns) }
    while start < rows {
        let end = min(rows, start + per)
        try w.write(columns.map { $0.slice(start..<end) })
        start = end
    }
    let written = try w.close()
    let r = try ParquetFileReader(path: dir.file(name))
    return (written, r, try r.readAll())
}

extension ColumnBuffer {
    /// Rows `range` as a new buffer (test helper).
    func slice(_ range: Range<Int>) -> ColumnBuffer {
        let v: ColumnValues
        switch values {
        case let .boolean(a): v = .boolean(Array(a[range]))
        case let .int32(a): v = .int32(Array(a[range]))
        case let .int64(a): v = .int64(Array(a[range]))
        case let .float(a): v = .float(Array(a[range]))
        case let .double(a): v = .double(Array(a[range]))
        case let .byteArray(b):
            var o = ByteArrayBuffer()
            for i in range { o.append(contentsOf: b[i]) }
            v = .byteArray(o)
        case let .fixed(f):
            v = .fixed(FixedBuffer(width: f.width, bytes: Array(f.bytes[(range.lowerBound * f.width)..<(range.upperBound * f.width)])))
        }
        return ColumnBuffer(v, validity: validity.map { Array($0[range]) })
    }
}

/// Compares values including NaN bit patterns (ColumnValues' == treats NaN != NaN).
func assertSameColumn(_ a: ColumnBuffer, _ b: ColumnBuffer, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.normalized().validity, b.normalized().validity, "validity: " + message, file: file, line: line)
    switch (a.values, b.values) {
    case let (.float(x), .float(y)):
        XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), message, file: file, line: line)
    case let (.double(x), .double(y)):
        XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), message, file: file, line: line)
    default:
        XCTAssertEqual(a.values, b.values, message, file: file, line: line)
    }
}
