/// Builds one `ColumnBuffer` value by value (e.g. while decoding rows from the wire): typed contiguous storage,
/// one byte arena for variable-length values, and presence flags allocated only once a null appears.
/// Appending the wrong kind of value for the column's storage is a programming error (precondition).
public struct ColumnBuilder: Sendable {
    /// The column type being built.
    public let type: ColumnType
    private let storage: ColumnStorage
    private var bools: [Bool] = []
    private var ints32: [Int32] = []
    private var ints64: [Int64] = []
    private var floats: [Float] = []
    private var doubles: [Double] = []
    private var bytes = ByteArrayBuffer()
    private var fixed: FixedBuffer
    private var validity: [Bool]? = nil
    /// Rows appended so far (including nulls).
    public private(set) var count = 0

    public init(_ type: ColumnType, capacity: Int = 0) {
        self.type = type
        storage = type.storage
        var width = 0
        if case let .fixed(w) = storage { width = w }
        fixed = FixedBuffer(width: width)
        reserve(capacity)
    }

    private mutating func reserve(_ n: Int) {
        switch storage {
        case .boolean: bools.reserveCapacity(n)
        case .int32: ints32.reserveCapacity(n)
        case .int64: ints64.reserveCapacity(n)
        case .float: floats.reserveCapacity(n)
        case .double: doubles.reserveCapacity(n)
        case .byteArray: bytes.offsets.reserveCapacity(n + 1)
        case let .fixed(w): fixed.bytes.reserveCapacity(n * w)
        }
    }

    @inline(__always) private mutating func present() {
        validity?.append(true)
        count += 1
    }

    /// Appends a null (a placeholder slot plus a false presence flag).
    public mutating func appendNull() {
        if validity == nil { validity = [Bool](repeating: true, count: count) }
        switch storage {
        case .boolean: bools.append(false)
        case .int32: ints32.append(0)
        case .int64: ints64.append(0)
        case .float: floats.append(0)
        case .double: doubles.append(0)
        case .byteArray: bytes.appendEmpty()
        case .fixed: fixed.appendZero()
        }
        validity!.append(false)
        count += 1
    }

    public mutating func append(_ v: Bool) { precondition(storage == .boolean); bools.append(v); present() }
    /// For int16, int32, date and decimal(p ≤ 9) columns.
    public mutating func append(_ v: Int32) { precondition(storage == .int32); ints32.append(v); present() }
    /// For int64, timestamp and decimal(p ≤ 18) columns.
    public mutating func append(_ v: Int64) { precondition(storage == .int64); ints64.append(v); present() }
    public mutating func append(_ v: Float) { precondition(storage == .float); floats.append(v); present() }
    public mutating func append(_ v: Double) { precondition(storage == .double); doubles.append(v); present() }

    /// For string, json and bytes columns (any length), and uuid/fixed/wide-decimal columns (exactly the width).
    public mutating func append(bytes v: UnsafeRawBufferPointer) {
        switch storage {
        case .byteArray: bytes.append(v)
        case let .fixed(w):
            precondition(v.count == w, "value has \(v.count) bytes, column width is \(w)")
            fixed.bytes.append(contentsOf: v)
        default: preconditionFailure("append(bytes:) on a \(type) column")
        }
        present()
    }

    /// For string and json columns.
    public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// For wide decimal columns (FIXED_LEN_BYTE_ARRAY): the unscaled 128-bit value `high << 64 | low`.
    public mutating func appendDecimal(high: Int64, low: UInt64) {
        guard case .fixed = storage else { preconditionFailure("appendDecimal on a \(type) column") }
        fixed.appendDecimal(high: high, low: low)
        present()
    }

    /// Returns the built column and resets the builder (keeping nothing, so the buffer is not shared).
    public mutating func finish() -> ColumnBuffer {
        let values: ColumnValues
        switch storage {
        case .boolean: values = .boolean(bools); bools = []
        case .int32: values = .int32(ints32); ints32 = []
        case .int64: values = .int64(ints64); ints64 = []
        case .float: values = .float(floats); floats = []
        case .double: values = .double(doubles); doubles = []
        case .byteArray: values = .byteArray(bytes); bytes = ByteArrayBuffer()
        case .fixed: values = .fixed(fixed); fixed = FixedBuffer(width: fixed.width)
        }
        let result = ColumnBuffer(values, validity: validity)
        validity = nil
        count = 0
        return result
    }
}
