import CLZ4

/// LZ4_RAW (Parquet codec 7): plain LZ4 blocks through liblz4's block API, one block per page.
enum LZ4Codec {
    /// Compresses `src` and appends the block to `dst`. Returns the compressed size.
    static func compress(_ src: UnsafeRawBufferPointer, appendingTo dst: inout [UInt8]) -> Int {
        guard src.count > 0 else {
            // An empty input still needs a valid block (a single zero token).
            dst.append(0)
            return 1
        }
        let bound = Int(LZ4_compressBound(Int32(clamping: src.count)))
        let start = dst.count
        dst.append(contentsOf: repeatElement(0, count: bound))
        let written = dst.withUnsafeMutableBytes { out -> Int32 in
            let base = out.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self)
            return LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self), base,
                                        Int32(src.count), Int32(bound))
        }
        // LZ4_compress_default only fails when the destination is too small, which compressBound rules out.
        precondition(written > 0, "LZ4_compress_default failed")
        dst.removeLast(bound - Int(written))
        return Int(written)
    }

    /// Decompresses one block that must expand to exactly `uncompressedSize` bytes; nil when the input is corrupt.
    static func decompress(_ src: UnsafeRawBufferPointer, uncompressedSize: Int) -> [UInt8]? {
        guard uncompressedSize >= 0, src.count <= Int(Int32.max), uncompressedSize <= Int(Int32.max) else { return nil }
        if uncompressedSize == 0 { return [] }
        guard src.count > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: uncompressedSize)
        let n = out.withUnsafeMutableBytes { dst -> Int32 in
            LZ4_decompress_safe(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                Int32(src.count), Int32(uncompressedSize))
        }
        return n == Int32(uncompressedSize) ? out : nil
    }
}
