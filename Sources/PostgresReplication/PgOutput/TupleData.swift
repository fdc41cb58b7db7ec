/// How one column of a pgoutput TupleData is given.
public enum TupleColumnKind: UInt8, Sendable {
    /// `n`: the value is NULL.
    case null = 0x6E
    /// `u`: an unchanged TOASTed value that the WAL does not carry; the sink must keep the previous value.
    case unchangedToast = 0x75
    /// `t`: the type's text output form (UTF-8, not NUL-terminated).
    case text = 0x74
    /// `b`: the type's binary send form (only with `binary 'true'`).
    case binary = 0x62
}

/// The columns of one row in an Insert, Update or Delete message, without a copy per value.
///
/// The tuple keeps a reference to the bytes of the message it was decoded from, plus one small
/// (kind, offset, length) entry per column; values are read as views into those bytes.
/// Column `i` corresponds to column `i` of the latest Relation message for the relation.
public struct TupleData: Sendable, Equatable, CustomDebugStringConvertible {
    struct Column: Sendable {
        var kind: TupleColumnKind
        /// Length of the value in bytes (0 for null / unchanged).
        var length: Int32
        /// Index of the value's first byte in `storage`.
        var start: Int
    }

    /// The message bytes the values live in.
    public let storage: ArraySlice<UInt8>
    let columns: [Column]

    init(storage: ArraySlice<UInt8>, columns: [Column]) {
        self.storage = storage
        self.columns = columns
    }

    /// The number of columns in the tuple.
    public var count: Int { columns.count }

    /// How column `index` is given. `index` must be in `0..<count`.
    public func kind(at index: Int) -> TupleColumnKind { columns[index].kind }

    /// True when column `index` is NULL (`n`). Unchanged TOAST (`u`) is not NULL.
    public func isNull(at index: Int) -> Bool { columns[index].kind == .null }

    /// The bytes of a text or binary column as a view into the message; nil for `n` and `u`.
    public func bytes(at index: Int) -> ArraySlice<UInt8>? {
        let column = columns[index]
        switch column.kind {
        case .null, .unchangedToast: return nil
        case .text, .binary: return storage[column.start..<column.start + Int(column.length)]
        }
    }

    /// Calls `body` with the raw bytes of a text or binary column; returns nil (without calling it) for `n` and `u`.
    @inlinable
    public func withBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard let slice = bytes(at: index) else { return nil }
        return try slice.withUnsafeBytes(body)
    }

    /// Calls `body` once with raw views of every column, for hot paths that read a whole row
    /// (one pointer access per tuple instead of one per value). The views are valid only inside `body`.
    public func withUnsafeColumns<R>(_ body: (UnsafeTupleColumns) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { raw in
            try body(UnsafeTupleColumns(raw: raw, startIndex: storage.startIndex, columns: columns))
        }
    }

    /// The value as a String (allocates; for tests, logs and slow paths). Nil for `n` and `u`;
    /// invalid UTF-8 is repaired with U+FFFD.
    public func string(at index: Int) -> String? {
        bytes(at: index).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func == (lhs: TupleData, rhs: TupleData) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count {
            guard lhs.kind(at: index) == rhs.kind(at: index) else { return false }
            if let left = lhs.bytes(at: index), let right = rhs.bytes(at: index), !left.elementsEqual(right) { return false }
        }
        return true
    }

    /// e.g. `(t"42", n, u, b[4 bytes])`.
    public var debugDescription: String {
        let parts = (0..<count).map { index -> String in
            switch kind(at: index) {
            case .null: return "n"
            case .unchangedToast: return "u"
            case .text: return "t\"\(string(at: index) ?? "")\""
            case .binary: return "b[\(columns[index].length) bytes]"
            }
        }
        return "(" + parts.joined(separator: ", ") + ")"
    }
}

/// Raw views of a tuple's columns, valid inside `TupleData.withUnsafeColumns`.
public struct UnsafeTupleColumns {
    let raw: UnsafeRawBufferPointer
    let startIndex: Int
    let columns: [TupleData.Column]

    /// The number of columns.
    public var count: Int { columns.count }

    /// How column `index` is given.
    public func kind(at index: Int) -> TupleColumnKind { columns[index].kind }

    /// The bytes of a text or binary column; nil for `n` (NULL) and `u` (unchanged TOAST).
    public subscript(index: Int) -> UnsafeRawBufferPointer? {
        let column = columns[index]
        guard column.kind == .text || column.kind == .binary else { return nil }
        let start = column.start - startIndex
        return UnsafeRawBufferPointer(rebasing: raw[start..<start + Int(column.length)])
    }
}

extension TupleData {
    /// The typed value of column `index` (slow path: allocates for strings and digits).
    /// `.null` for `n`; nil for `u` (unchanged TOAST: no value was sent); `t`/`b` parsed by
    /// `TextValueParser` / `BinaryValueParser`.
    public func value(at index: Int, typeOID: UInt32, typeModifier: Int32 = -1) throws(ValueParseError) -> PostgresValue? {
        let kind = kind(at: index)
        guard let bytes = bytes(at: index) else { return kind == .null ? .null : nil }
        let result = bytes.withUnsafeBytes { raw -> Result<PostgresValue, ValueParseError> in
            Result { () throws(ValueParseError) in
                kind == .text
                    ? try TextValueParser.value(typeOID: typeOID, typeModifier: typeModifier, bytes: raw)
                    : try BinaryValueParser.value(typeOID: typeOID, typeModifier: typeModifier, bytes: raw)
            }
        }
        return try result.get()
    }
}
