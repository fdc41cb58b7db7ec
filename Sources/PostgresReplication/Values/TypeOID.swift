/// Well-known `pg_type` OIDs of built-in types (stable across Postgres versions).
///
/// Types without a constant here (enums, domains, ranges, geometric, user types) are handled in their
/// text form; a Relation message's column `typeOID` and a Type message tell them apart.
public enum TypeOID {
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let char: UInt32 = 18
    public static let name: UInt32 = 19
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let oid: UInt32 = 26
    public static let json: UInt32 = 114
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let bpchar: UInt32 = 1042
    public static let varchar: UInt32 = 1043
    public static let date: UInt32 = 1082
    public static let time: UInt32 = 1083
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let interval: UInt32 = 1186
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802

    // Array types (decoded as their text form, e.g. `{1,2,NULL}`).
    public static let boolArray: UInt32 = 1000
    public static let byteaArray: UInt32 = 1001
    public static let int2Array: UInt32 = 1005
    public static let int4Array: UInt32 = 1007
    public static let textArray: UInt32 = 1009
    public static let bpcharArray: UInt32 = 1014
    public static let varcharArray: UInt32 = 1015
    public static let int8Array: UInt32 = 1016
    public static let float4Array: UInt32 = 1021
    public static let float8Array: UInt32 = 1022
    public static let timestampArray: UInt32 = 1115
    public static let dateArray: UInt32 = 1182
    public static let timestamptzArray: UInt32 = 1185
    public static let numericArray: UInt32 = 1231
    public static let uuidArray: UInt32 = 2951
    public static let jsonArray: UInt32 = 199
    public static let jsonbArray: UInt32 = 3807

    /// Precision and scale of a `numeric(p, s)` column from its `atttypmod` (`((p << 16) | s) + 4`);
    /// nil for unconstrained numeric (-1). The scale may be negative (PG15+).
    public static func numericPrecisionAndScale(typeModifier: Int32) -> (precision: Int, scale: Int)? {
        guard typeModifier >= 4 else { return nil }
        let value = Int(typeModifier) - 4
        return (precision: (value >> 16) & 0xFFFF, scale: ((value & 0x7FF) ^ 1024) - 1024)
    }
}
