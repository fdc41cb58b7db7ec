import Foundation
@testable import Parquet

/// Canonical text of values, shared with the Python side (`PythonScripts.canon`), so files can be compared across
/// readers: ints as decimal; floats as the little-endian hex of the value widened to double; strings as-is;
/// bytes/uuid/fixed as "hex:…"; decimals as "<unscaled>e<-scale>"; dates as days and timestamps as µs since epoch.
enum Canonical {
    static func hex<C: Collection>(_ b: C) -> String where C.Element == UInt8 {
        b.map { String(format: "%02x", $0) }.joined()
    }

    static func doubleHex(_ d: Double) -> String {
        hex(withUnsafeBytes(of: d.bitPattern.littleEndian) { Array($0) })
    }

    static func int128(bigEndian b: ArraySlice<UInt8>) -> Int128 {
        var v: Int128 = (b.first ?? 0) & 0x80 != 0 ? -1 : 0
        for byte in b { v = (v << 8) | Int128(byte) }
        return v
    }

    static func decimal(_ unscaled: Int128, scale: Int) -> String { "\(unscaled)e\(scale == 0 ? "0" : "-\(scale)")" }

    /// Canonical value of row `i`, nil for null.
    static func value(_ type: ColumnType, _ c: ColumnBuffer, _ i: Int) -> String? {
        if c.isNull(i) { return nil }
        switch c.values {
        case let .boolean(a): return a[i] ? "true" : "false"
        case let .int32(a):
            if case let .decimal(_, s) = type { return decimal(Int128(a[i]), scale: s) }
            return String(a[i])
        case let .int64(a):
            if case let .decimal(_, s) = type { return decimal(Int128(a[i]), scale: s) }
            return String(a[i])
        case let .float(a): return doubleHex(Double(a[i]))
        case let .double(a): return doubleHex(a[i])
        case let .byteArray(b):
            return type == .bytes ? "hex:" + hex(b[i]) : b.string(at: i)
        case let .fixed(f):
            if case let .decimal(_, s) = type { return decimal(int128(bigEndian: f[i]), scale: s) }
            return "hex:" + hex(f[i])
        }
    }

    static func column(_ type: ColumnType, _ c: ColumnBuffer) -> [String?] {
        (0..<c.count).map { value(type, c, $0) }
    }

    /// Parses the JSON `{"name": [string|null, …], …}` printed by the Python scripts.
    static func parseColumns(_ any: Any?) -> [String: [String?]] {
        guard let dict = any as? [String: Any] else { return [:] }
        var out: [String: [String?]] = [:]
        for (k, v) in dict {
            out[k] = (v as? [Any] ?? []).map { $0 as? String }
        }
        return out
    }
}

enum PythonScripts {
    /// Python helpers: canonical value text (see `Canonical`).
    static let canon = """
    import sys, json, struct, decimal, datetime, uuid
    decimal.getcontext().prec = 100
    EPOCH_TZ = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    EPOCH = datetime.datetime(1970, 1, 1)
    def canon(v):
        if v is None: return None
        if isinstance(v, bool): return 'true' if v else 'false'
        if isinstance(v, int): return str(v)
        if isinstance(v, float): return struct.pack('<d', v).hex()
        if isinstance(v, decimal.Decimal):
            e = v.as_tuple().exponent
            return '%de%d' % (int(v.scaleb(-e)), e)
        if isinstance(v, datetime.datetime):
            base = EPOCH_TZ if v.tzinfo is not None else EPOCH
            return str((v - base) // datetime.timedelta(microseconds=1))
        if isinstance(v, datetime.date): return str((v - datetime.date(1970, 1, 1)).days)
        if isinstance(v, uuid.UUID): return 'hex:' + v.hex
        if isinstance(v, (bytes, bytearray)): return 'hex:' + bytes(v).hex()
        if isinstance(v, str): return v
        raise TypeError(type(v))

    """
}
