/// Parquet physical types (Type enum of parquet.thrift).
enum PhysicalType: Int32, Sendable {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

/// Parquet encodings (Encoding enum).
enum Encoding: Int32, Sendable {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
    case deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9
}

/// Page types (PageType enum).
enum PageType: Int32 {
    case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3
}

/// ConvertedType values used by Freshet.
enum ConvertedType: Int32 {
    case utf8 = 0, decimal = 5, date = 6, timestampMillis = 9, timestampMicros = 10, int8 = 15, int16 = 16
    case int32 = 17, int64 = 18, json = 19
}

/// Repetition of a schema element.
enum Repetition: Int32 {
    case required = 0, optional = 1, repeated = 2
}

/// Compression codec ids (CompressionCodec enum).
enum CodecID: Int32 {
    case uncompressed = 0, snappy = 1, gzip = 2, lzo = 3, brotli = 4, lz4 = 5, zstd = 6, lz4Raw = 7
}
