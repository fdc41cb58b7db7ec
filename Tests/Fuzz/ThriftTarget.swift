@_spi(Fuzzing) import Parquet

/// The Thrift compact decoder on the two structures a Parquet reader decodes from file bytes: the footer
/// (FileMetaData) and page headers. The first byte chooses which.
enum ThriftTarget {
    static func run(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let bytes = Array(input.dropFirst())
        if selector & 1 == 0 {
            _ = ThriftFuzzing.decodeFileMetaData(bytes)
        } else {
            _ = ThriftFuzzing.decodePageHeader(bytes)
        }
    }
}
