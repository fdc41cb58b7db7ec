/// SchemaElement of parquet.thrift.
struct SchemaElement: ThriftEncodable, ThriftDecodable {
    var type: PhysicalType?
    var typeLength: Int32?
    var repetition: Repetition?
    var name: String = ""
    var numChildren: Int32?
    var convertedType: Int32?
    var scale: Int32?
    var precision: Int32?
    var fieldID: Int32?
    var logicalType: LogicalType?

    init(type: PhysicalType? = nil, typeLength: Int32? = nil, repetition: Repetition? = nil, name: String,
         numChildren: Int32? = nil, convertedType: ConvertedType? = nil, scale: Int32? = nil,
         precision: Int32? = nil, logicalType: LogicalType? = nil) {
        self.type = type; self.typeLength = typeLength; self.repetition = repetition; self.name = name
        self.numChildren = numChildren; self.convertedType = convertedType?.rawValue; self.scale = scale
        self.precision = precision; self.logicalType = logicalType
    }

    func encodeFields(_ e: inout CompactEncoder) {
        if let type { e.field(1, i32: type.rawValue) }
        if let typeLength { e.field(2, i32: typeLength) }
        if let repetition { e.field(3, i32: repetition.rawValue) }
        e.field(4, string: name)
        if let numChildren { e.field(5, i32: numChildren) }
        if let convertedType { e.field(6, i32: convertedType) }
        if let scale { e.field(7, i32: scale) }
        if let precision { e.field(8, i32: precision) }
        if let fieldID { e.field(9, i32: fieldID) }
        if let logicalType { e.field(10, logicalType) }
    }

    init(from d: inout CompactDecoder) throws {
        var sawName = false
        try d.readStruct { d, id, t in
            switch id {
            case 1: type = try d.physicalType(t)
            case 2: typeLength = try d.i32(t)
            case 3: repetition = Repetition(rawValue: try d.i32(t))
            case 4: name = try d.string(t); sawName = true
            case 5: numChildren = try d.i32(t)
            case 6: convertedType = try d.i32(t)
            case 7: scale = try d.i32(t)
            case 8: precision = try d.i32(t)
            case 9: fieldID = try d.i32(t)
            case 10: logicalType = try d.structValue(t, LogicalType.self)
            default: return false
            }
            return true
        }
        guard sawName else { throw DecodeError("SchemaElement without name", at: d.position) }
    }
}
