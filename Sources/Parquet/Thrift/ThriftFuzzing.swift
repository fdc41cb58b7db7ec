/// Entry points for the libFuzzer targets (Tests/Fuzz): the Thrift compact structures a reader decodes from
/// outside bytes, reachable without making the decoder itself public. Not part of the library's API.
@_spi(Fuzzing) public enum ThriftFuzzing {
    /// Decodes `bytes` as a Parquet footer (`FileMetaData`); returns the number of schema elements, or nil when
    /// the bytes are rejected with a decode error.
    public static func decodeFileMetaData(_ bytes: [UInt8]) -> Int? {
        var d = CompactDecoder(bytes)
        return (try? FileMetaData(from: &d))?.schema.count
    }

    /// Decodes `bytes` as one page header; returns its compressed page size, or nil when the bytes are rejected.
    public static func decodePageHeader(_ bytes: [UInt8]) -> Int32? {
        var d = CompactDecoder(bytes)
        return (try? PageHeader(from: &d))?.compressedPageSize
    }
}
