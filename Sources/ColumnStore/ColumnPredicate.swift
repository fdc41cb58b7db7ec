import Foundation

/// A simple filter on one column: `col = v`, `col != v`, `col < v`, `col <= v`, `col > v`, `col >= v`.
/// NULL never matches. Predicates on key-derived partition columns also prune partitions.
public struct ColumnPredicate: Sendable, Hashable {
    public enum Operator: String, Sendable, CaseIterable { case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=" }
    public var column: String
    public var op: Operator
    public var literal: String

    public init(column: String, op: Operator, literal: String) {
        self.column = column
        self.op = op
        self.literal = literal
    }

    /// Parses `col=v`, `col>=v`, … (the literal is everything after the operator).
    public init(parsing text: String) throws {
        for op in [Operator.ne, .le, .ge, .eq, .lt, .gt] {
            if let r = text.range(of: op.rawValue) {
                let col = text[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
                guard !col.isEmpty, !col.contains("<"), !col.contains(">"), !col.contains("!"), !col.contains("=") else { continue }
                self.init(column: col, op: op, literal: String(text[r.upperBound...]))
                return
            }
        }
        throw StoreError.invalidPredicate("expected col=v, col!=v, col<v, col<=v, col>v or col>=v: \(text)")
    }

    func matches(_ c: Int) -> Bool {
        switch op {
        case .eq: return c == 0
        case .ne: return c != 0
        case .lt: return c < 0
        case .le: return c <= 0
        case .gt: return c > 0
        case .ge: return c >= 0
        }
    }
}

/// A predicate bound to a column of the reader's columns, with its literal parsed to that column's type.
struct BoundPredicate: Sendable {
    let predicate: ColumnPredicate
    let column: Int
    let literal: RowBatch

    init(_ p: ColumnPredicate, columns: [ColumnDefinition], table: String) throws {
        guard let i = columns.firstIndex(where: { $0.name == p.column }) else {
            throw StoreError.unknownColumn(table: table, column: p.column)
        }
        guard let lit = ValueText.parse(p.literal, as: columns[i]) else {
            throw StoreError.invalidPredicate("'\(p.literal)' is not a \(columns[i].type) value for \(p.column)")
        }
        predicate = p
        column = i
        literal = lit
    }

    func matches(_ batch: RowBatch, _ row: Int) -> Bool {
        if batch.isNull(row, column) || batch.isUnchanged(row, column) { return false }
        let c = RowBatch.compareColumn(batch, row, column, literal, 0, 0)
        return predicate.matches(c)
    }

    /// Whether partition `name` may hold matching rows (only called for key-derived partitionings).
    func mayMatch(partition name: String, spec: PartitionSpec, keyIndexes: [Int], columns: [ColumnDefinition]) -> Bool {
        switch spec {
        case .none: return true
        case let .keyHash(n):
            guard keyIndexes == [column], predicate.op == .eq else { return true }
            return name == "h=" + ValueText.pad(Int64(PartitionSpec.hashKey(literal, 0, [0]) % UInt64(n)), 3)
        case let .value(c):
            guard c == predicate.column, predicate.op == .eq else { return true }
            return name == spec.partition(of: literal, row: 0, columnIndex: 0, keyIndexes: [])
        case let .time(c, _):
            guard c == predicate.column else { return true }
            if name == "null" { return false }
            let bucket = spec.partition(of: literal, row: 0, columnIndex: 0, keyIndexes: [])
            if predicate.op == .eq { return name == bucket }
            // Names order like their times only as plain AD dates of 4-digit years; keep anything else.
            guard PartitionSpec.isPlainTimeBucket(name), PartitionSpec.isPlainTimeBucket(bucket) else { return true }
            switch predicate.op {
            case .eq, .ne: return true
            case .lt, .le: return name <= bucket
            case .gt, .ge: return name >= bucket
            }
        }
    }
}

extension RowBatch {
    /// Compares column `ac` of row `ar` with column `bc` of row `br` (same storage class; NULLs first).
    @inline(__always)
    static func compareColumn(_ a: RowBatch, _ ar: Int, _ ac: Int, _ b: RowBatch, _ br: Int, _ bc: Int) -> Int {
        // No local copies of the ColumnBuffers (each copy retains eight arrays): this runs per row in sorts and merges.
        let an = a.buffers[ac].nulls[ar], bn = b.buffers[bc].nulls[br]
        if an || bn { return an == bn ? 0 : (an ? -1 : 1) }
        switch a.buffers[ac].storage {
        case .int64: let x = a.buffers[ac].ints[ar], y = b.buffers[bc].ints[br]; return x == y ? 0 : (x < y ? -1 : 1)
        case .double: let x = a.buffers[ac].doubles[ar], y = b.buffers[bc].doubles[br]; return x == y ? 0 : (x < y ? -1 : 1)
        case .int128: let x = a.buffers[ac].wides[ar], y = b.buffers[bc].wides[br]; return x == y ? 0 : (x < y ? -1 : 1)
        case .bytes:
            return compareBytes(a.buffers[ac].arena, a.buffers[ac].range(ar), b.buffers[bc].arena, b.buffers[bc].range(br))
        }
    }
}
