import Foundation

extension RowBatch {
    /// This batch's rows with `target`'s columns, matched by name: missing columns become NULL, retyped columns are
    /// converted to the target type (see `StoreType.widened`; to `string` as `freshet scan` prints them). Returns
    /// `self` when nothing changes. A row not yet finished keeps the values appended so far in unconverted columns.
    public func conformed(to target: [ColumnDefinition]) -> RowBatch {
        if target == columns { return self }
        var out = RowBatch(columns: target)
        out.versions = versions
        out.deleted = deleted
        var byName = [String: Int]()
        for (i, c) in columns.enumerated() { byName[c.name] = i }
        for (t, col) in target.enumerated() {
            guard let s = byName[col.name] else {
                var b = BatchColumn(storage: col.type.storage)
                for _ in 0..<count { b.appendPlaceholder(); b.nulls.append(true); b.unchanged.append(false) }
                out.buffers[t] = b
                continue
            }
            if columns[s].type == col.type || columns[s].type.storage == col.type.storage && Self.sameRepresentation(columns[s].type, col.type) {
                out.buffers[t] = buffers[s]
                continue
            }
            for r in 0..<count {
                if isNull(r, s) { out.appendNull(column: t); continue }
                if isUnchanged(r, s) { out.appendUnchanged(column: t); continue }
                out.appendConverted(from: self, row: r, column: s, to: t)
            }
        }
        return out
    }

    /// Types whose stored values mean the same thing (int widening, timestamp flavours).
    static func sameRepresentation(_ a: StoreType, _ b: StoreType) -> Bool {
        switch (a, b) {
        case (.int16, .int32), (.int16, .int64), (.int32, .int64), (.float32, .float64),
             (.timestamp, .timestamptz), (.timestamptz, .timestamp): return true
        default: return a == b
        }
    }

    private mutating func appendConverted(from src: RowBatch, row r: Int, column s: Int, to t: Int) {
        let from = src.columns[s].type, to = columns[t].type
        switch (from, to) {
        case (_, .string):
            append(ValueText.render(src, r, s) ?? "", column: t)
        case (.date, .timestamp), (.date, .timestamptz):
            append(src.int64(r, s) * 86_400_000_000, column: t)
        case (.int16, .float32), (.int16, .float64), (.int32, .float32), (.int32, .float64):
            append(Double(src.int64(r, s)), column: t)
        case let (_, .decimal(p, sc)):
            var v: Int128
            var fromScale = 0
            switch from {
            case let .decimal(fp, fs):
                v = fp <= 18 ? Int128(src.int64(r, s)) : src.int128(r, s)
                fromScale = fs
            default: v = Int128(src.int64(r, s))
            }
            v *= ValueText.pow10(sc - fromScale)
            if p <= 18 { append(Int64(truncatingIfNeeded: v), column: t) } else { append(decimal128: v, column: t) }
        default:
            // Not produced by `StoreType.widened`; keep the row readable rather than invent a value.
            appendNull(column: t)
        }
    }
}
