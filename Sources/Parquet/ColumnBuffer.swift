/// Variable-length values (strings, JSON, bytes) in one contiguous byte arena plus offsets:
/// value `i` is `bytes[offsets[i]..<offsets[i+1]]`. Appending never allocates per value.
public struct ByteArrayBuffer: Sendable, Equatable {
    /// All values back to back.
    public var bytes: [UInt8]
    /// `count + 1` offsets into `bytes`; `offsets[0] == 0`.
    public var offsets: [Int]

    public init(reservingCapacity count: Int = 0, bytes byteCapacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(byteCapacity)
        offsets = [0]
        offsets.reserveCapacity(count + 1)
    }

    /// Builds a buffer from strings (convenience for tests and small data).
    public init(_ strings: [String]) {
        self.init(reservingCapacity: strings.count)
        for s in strings { append(s) }
    }

    /// Number of values.
    public var count: Int { offsets.count - 1 }

    /// Appends raw bytes as one value.
    @inlinable public mutating func append(_ value: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    /// Appends a sequence of bytes as one value.
    @inlinable public mutating func append<S: Sequence>(contentsOf value: S) where S.Element == UInt8 {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    /// Appends a string's UTF-8 bytes as one value.
    public mutating func append(_ value: String) {
        var v = value
        v.withUTF8 { bytes.append(contentsOf: $0) }
        offsets.append(bytes.count)
    }

    /// Appends an empty value (also used as the slot of a null).
    @inlinable public mutating func appendEmpty() { offsets.append(bytes.count) }

    /// The byte range of value `i` within `bytes`.
    @inlinable public func range(_ i: Int) -> Range<Int> { offsets[i]..<offsets[i + 1] }

    /// The bytes of value `i`.
    public subscript(i: Int) -> ArraySlice<UInt8> { bytes[range(i)] }

    /// Value `i` decoded as UTF-8.
    public func string(at i: Int) -> String { String(decoding: bytes[range(i)], as: UTF8.self) }

    /// Removes all values, keeping capacity.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
    }
}

/// Fixed-width byte strings (UUID, FIXED_LEN_BYTE_ARRAY, wide decimals) back to back: value `i` is
/// `bytes[i*width..<(i+1)*width]`.
public struct FixedBuffer: Sendable, Equatable {
    public let width: Int
    public var bytes: [UInt8]

    public init(width: Int, reservingCapacity count: Int = 0) {
        self.width = width
        bytes = []
        bytes.reserveCapacity(count * width)
    }

    public init(width: Int, bytes: [UInt8]) {
        self.width = width
        self.bytes = bytes
    }

    /// Number of values.
    public var count: Int { width == 0 ? 0 : bytes.count / width }

    /// Appends one value; it must be exactly `width` bytes.
    public mutating func append<C: Collection>(_ value: C) where C.Element == UInt8 {
        precondition(value.count == width, "FixedBuffer.append: value has \(value.count) bytes, width is \(width)")
        bytes.append(contentsOf: value)
    }

    /// Appends `width` zero bytes (the slot of a null).
    public mutating func appendZero() { bytes.append(contentsOf: repeatElement(0, count: width)) }

    /// Appends a decimal's unscaled value as big-endian two's complement of `width` bytes
    /// (the 128-bit value is `high << 64 | low`).
    public mutating func appendDecimal(high: Int64, low: UInt64) {
        for i in stride(from: width - 1, through: 0, by: -1) {
            let byte: UInt8
            if i >= 16 { byte = high < 0 ? 0xFF : 0 }
            else if i >= 8 { byte = UInt8(truncatingIfNeeded: UInt64(bitPattern: high) >> (8 * UInt64(i - 8))) }
            else { byte = UInt8(truncatingIfNeeded: low >> (8 * UInt64(i))) }
            bytes.append(byte)
        }
    }

    /// The bytes of value `i`.
    public subscript(i: Int) -> ArraySlice<UInt8> { bytes[(i * width)..<((i + 1) * width)] }
}

/// The values of one column, one slot per row (nulls have a placeholder slot: 0, false, empty or zero bytes).
public enum ColumnValues: Sendable, Equatable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case byteArray(ByteArrayBuffer)
    case fixed(FixedBuffer)

    /// Number of slots.
    public var count: Int {
        switch self {
        case let .boolean(v): return v.count
        case let .int32(v): return v.count
        case let .int64(v): return v.count
        case let .float(v): return v.count
        case let .double(v): return v.count
        case let .byteArray(v): return v.count
        case let .fixed(v): return v.count
        }
    }

    /// Which storage this is.
    public var storage: ColumnStorage {
        switch self {
        case .boolean: return .boolean
        case .int32: return .int32
        case .int64: return .int64
        case .float: return .float
        case .double: return .double
        case .byteArray: return .byteArray
        case let .fixed(f): return .fixed(f.width)
        }
    }

    /// Moves the values out, leaving an empty placeholder, so the caller holds the only reference to the
    /// array while it mutates it (a `switch` over `self` would keep a second reference alive and force copies).
    @inlinable public mutating func take() -> ColumnValues {
        var taken = ColumnValues.boolean([])
        swap(&taken, &self)
        return taken
    }

    /// Runs `body` on the array held by case `T` (e.g. `Int64` for `.int64`) while it is uniquely referenced,
    /// so appends never copy; returns false (and does nothing) when `self` holds another case.
    @inlinable @discardableResult
    public mutating func modify<T: ColumnElement>(_: T.Type, _ body: (inout [T]) throws -> Void) rethrows -> Bool {
        guard var array = T.extract(&self) else { return false }
        defer { self = T.wrap(array) }
        try body(&array)
        return true
    }

    /// An empty buffer of the given storage.
    public static func empty(_ storage: ColumnStorage, capacity: Int = 0) -> ColumnValues {
        switch storage {
        case .boolean: var a = [Bool](); a.reserveCapacity(capacity); return .boolean(a)
        case .int32: var a = [Int32](); a.reserveCapacity(capacity); return .int32(a)
        case .int64: var a = [Int64](); a.reserveCapacity(capacity); return .int64(a)
        case .float: var a = [Float](); a.reserveCapacity(capacity); return .float(a)
        case .double: var a = [Double](); a.reserveCapacity(capacity); return .double(a)
        case .byteArray: return .byteArray(ByteArrayBuffer(reservingCapacity: capacity))
        case let .fixed(w): return .fixed(FixedBuffer(width: w, reservingCapacity: capacity))
        }
    }
}

/// A batch of one column's values: `values` has one slot per row; `validity[i] == false` marks row `i` null
/// (`validity == nil` means no nulls). This is the unit the writer appends and the reader returns.
public struct ColumnBuffer: Sendable, Equatable {
    public var values: ColumnValues
    /// Per-row presence flags, or nil when every row is present.
    public var validity: [Bool]?

    public init(_ values: ColumnValues, validity: [Bool]? = nil) {
        self.values = values
        self.validity = validity
    }

    /// Number of rows.
    public var count: Int { values.count }

    /// True when row `i` is null.
    @inlinable public func isNull(_ i: Int) -> Bool { validity.map { !$0[i] } ?? false }

    /// Number of null rows.
    public var nullCount: Int { validity.map { v in v.reduce(0) { $0 + ($1 ? 0 : 1) } } ?? 0 }
}

/// Element types of the array-backed `ColumnValues` cases (`Bool`, `Int32`, `Int64`, `Float`, `Double`).
public protocol ColumnElement {
    /// The placeholder stored in null slots.
    static var zeroValue: Self { get }
    /// Moves the array out of `values` (leaving a placeholder) when it holds this element type.
    static func extract(_ values: inout ColumnValues) -> [Self]?
    /// Wraps an array in its `ColumnValues` case.
    static func wrap(_ array: [Self]) -> ColumnValues
}

// `if case var … = values` followed by overwriting `values` leaves the array uniquely referenced;
// a `switch` over the enum would keep a second reference alive and make every append copy.
extension Bool: ColumnElement {
    public static var zeroValue: Bool { false }
    @inlinable public static func extract(_ v: inout ColumnValues) -> [Bool]? {
        guard case let .boolean(a) = v else { return nil }; v = .int32([]); return a
    }
    @inlinable public static func wrap(_ a: [Bool]) -> ColumnValues { .boolean(a) }
}
extension Int32: ColumnElement {
    public static var zeroValue: Int32 { 0 }
    @inlinable public static func extract(_ v: inout ColumnValues) -> [Int32]? {
        guard case let .int32(a) = v else { return nil }; v = .boolean([]); return a
    }
    @inlinable public static func wrap(_ a: [Int32]) -> ColumnValues { .int32(a) }
}
extension Int64: ColumnElement {
    public static var zeroValue: Int64 { 0 }
    @inlinable public static func extract(_ v: inout ColumnValues) -> [Int64]? {
        guard case let .int64(a) = v else { return nil }; v = .boolean([]); return a
    }
    @inlinable public static func wrap(_ a: [Int64]) -> ColumnValues { .int64(a) }
}
extension Float: ColumnElement {
    public static var zeroValue: Float { 0 }
    @inlinable public static func extract(_ v: inout ColumnValues) -> [Float]? {
        guard case let .float(a) = v else { return nil }; v = .boolean([]); return a
    }
    @inlinable public static func wrap(_ a: [Float]) -> ColumnValues { .float(a) }
}
extension Double: ColumnElement {
    public static var zeroValue: Double { 0 }
    @inlinable public static func extract(_ v: inout ColumnValues) -> [Double]? {
        guard case let .double(a) = v else { return nil }; v = .boolean([]); return a
    }
    @inlinable public static func wrap(_ a: [Double]) -> ColumnValues { .double(a) }
}
