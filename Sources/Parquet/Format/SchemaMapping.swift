/// Converts between the public flat `Schema` and Parquet `SchemaElement` lists.
enum SchemaMapping {
    /// Widest FIXED_LEN_BYTE_ARRAY the reader accepts.
    static let maxFixedWidth: Int32 = 4096

    /// Root + one leaf per column, with logical and converted types.
    static func elements(for schema: Schema) -> [SchemaElement] {
        var out = [SchemaElement(name: "schema", numChildren: Int32(schema.columns.count))]
        for c in schema.columns {
            let rep: Repetition = c.nullable ? .optional : .required
            let layout = PhysicalLayout(c.type)
            var e = SchemaElement(type: layout.type, typeLength: layout.typeLength.map { Int32($0) }, repetition: rep, name: c.name)
            switch c.type {
            case .boolean, .int32, .int64, .float, .double, .bytes, .fixed: break
            case .int16:
                e.convertedType = ConvertedType.int16.rawValue
                e.logicalType = .integer(bitWidth: 16, signed: true)
            case .string:
                e.convertedType = ConvertedType.utf8.rawValue
                e.logicalType = .string
            case .json:
                e.convertedType = ConvertedType.json.rawValue
                e.logicalType = .json
            case .uuid:
                e.logicalType = .uuid
            case .date:
                e.convertedType = ConvertedType.date.rawValue
                e.logicalType = .date
            case let .timestamp(utc):
                e.convertedType = ConvertedType.timestampMicros.rawValue
                e.logicalType = .timestamp(utc: utc, unit: .micros)
            case let .decimal(p, s):
                e.convertedType = ConvertedType.decimal.rawValue
                e.scale = Int32(s)
                e.precision = Int32(p)
                e.logicalType = .decimal(scale: Int32(s), precision: Int32(p))
            }
            out.append(e)
        }
        return out
    }

    /// The column type of a leaf element, or a description of why it is not supported.
    static func columnType(of e: SchemaElement) -> Result<ColumnType, UnsupportedFeature> {
        guard let type = e.type else { return .failure(UnsupportedFeature("nested column")) }
        if type == .fixedLenByteArray {
            // Null slots of fixed columns take `width` bytes each; bound the width so a corrupt footer cannot
            // turn a short run of nulls into an enormous allocation.
            guard let n = e.typeLength, n > 0, n <= maxFixedWidth else {
                return .failure(UnsupportedFeature("FIXED_LEN_BYTE_ARRAY width \(e.typeLength ?? 0)"))
            }
        }
        let conv = e.convertedType
        switch (type, e.logicalType) {
        case (_, .decimal(let scale, let precision)?):
            return decimal(type, e, precision: Int(precision), scale: Int(scale))
        case (_, nil) where conv == ConvertedType.decimal.rawValue:
            return decimal(type, e, precision: Int(e.precision ?? 0), scale: Int(e.scale ?? 0))
        case (.boolean, _): return .success(.boolean)
        case (.int32, .integer(16, true)?): return .success(.int16)
        case (.int32, nil) where conv == ConvertedType.int16.rawValue: return .success(.int16)
        case (.int32, .date?): return .success(.date)
        case (.int32, nil) where conv == ConvertedType.date.rawValue: return .success(.date)
        case (.int32, .integer(32, true)?): return .success(.int32)
        case (.int32, nil) where conv == nil || conv == ConvertedType.int32.rawValue: return .success(.int32)
        case (.int64, .timestamp(let utc, _)?): return .success(.timestamp(utc: utc))  // millis/nanos converted to µs
        case (.int64, nil) where conv == ConvertedType.timestampMicros.rawValue || conv == ConvertedType.timestampMillis.rawValue:
            return .success(.timestamp(utc: true))
        case (.int96, _): return .success(.timestamp(utc: false))  // legacy Impala/Spark timestamps, converted to µs
        case (.int64, .integer(64, true)?): return .success(.int64)
        case (.int64, nil) where conv == nil || conv == ConvertedType.int64.rawValue: return .success(.int64)
        case (.float, nil): return .success(.float)
        case (.double, nil): return .success(.double)
        case (.byteArray, .string?), (.byteArray, .enumType?): return .success(.string)
        case (.byteArray, nil) where conv == ConvertedType.utf8.rawValue || conv == 4: return .success(.string)
        case (.byteArray, .json?): return .success(.json)
        case (.byteArray, nil) where conv == ConvertedType.json.rawValue: return .success(.json)
        case (.byteArray, nil) where conv == nil: return .success(.bytes)
        case (.fixedLenByteArray, .uuid?) where e.typeLength == 16: return .success(.uuid)
        case (.fixedLenByteArray, nil) where conv == nil:
            guard let n = e.typeLength, n > 0 else { return .failure(UnsupportedFeature("FIXED_LEN_BYTE_ARRAY without type_length")) }
            return .success(.fixed(Int(n)))
        default:
            return .failure(UnsupportedFeature("type \(type) with logical type \(String(describing: e.logicalType)), converted type \(String(describing: conv))"))
        }
    }

    private static func decimal(_ type: PhysicalType, _ e: SchemaElement, precision: Int, scale: Int) -> Result<ColumnType, UnsupportedFeature> {
        guard precision >= 1, precision <= 38, scale >= 0, scale <= precision else {
            return .failure(UnsupportedFeature("decimal(\(precision),\(scale))"))
        }
        let t = ColumnType.decimal(precision: precision, scale: scale)
        // Any width that holds the precision is accepted; the reader converts to the canonical storage.
        switch type {
        case .int32 where precision <= 9: return .success(t)
        case .int64 where precision <= 18: return .success(t)
        case .fixedLenByteArray where Int(e.typeLength ?? 0) >= ColumnType.decimalByteWidth(precision: precision):
            return .success(t)
        case .byteArray: return .failure(UnsupportedFeature("decimal stored as BYTE_ARRAY"))
        default:
            return .failure(UnsupportedFeature("decimal(\(precision),\(scale)) stored as \(type) width \(e.typeLength ?? 0)"))
        }
    }
}

struct UnsupportedFeature: Error {
    var feature: String
    init(_ f: String) { feature = f }
}
