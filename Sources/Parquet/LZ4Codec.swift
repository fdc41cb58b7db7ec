import CLZ4

/// LZ4_RAW (Parquet codec 7): plain LZ4 blocks through liblz4's block API, one block per page.
enum LZ4Codec {
    /// The most bytes one block of `count` input bytes can take (at least 1: an empty input is one zero token).
    static func bound(_ count: Int) -> Int { max(Int(LZ4_compressBound(Int32(clamping: count))), 1) }

    /// Compresses `src` as one LZ4 block into `dst`, which has room for `capacity` ≥ `bound(src.count)` bytes;
    /// returns the block's size.
    static func compress(_ src: UnsafeRawBufferPointer, to dst: UnsafeMutableRawPointer, capacity: Int) -> Int {
        // An empty input still needs a valid block (a single zero token).
        guard src.count > 0, let s = src.baseAddress else { dst.storeBytes(of: 0, as: UInt8.self); return 1 }
        let written = LZ4_compress_default(s.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
                                           Int32(src.count), Int32(clamping: capacity))
        // LZ4_compress_default only fails when the destination is too small, which the bound rules out.
        precondition(written > 0, "LZ4_compress_default failed")
        return Int(written)
    }

    /// Decompresses one block that must expand to exactly `uncompressedSize` bytes; nil when the input is corrupt.
    static func decompress(_ src: UnsafeRawBufferPointer, uncompressedSize: Int) -> [UInt8]? {
        guard uncompressedSize >= 0, src.count <= Int(Int32.max), uncompressedSize <= Int(Int32.max) else { return nil }
        if uncompressedSize == 0 { return [] }
        guard src.count > 0 else { return nil }
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: uncompressedSize) { dst, initialized in
            let n = LZ4_decompress_safe(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                        UnsafeMutableRawPointer(dst.baseAddress!).assumingMemoryBound(to: CChar.self),
                                        Int32(src.count), Int32(uncompressedSize))
            ok = n == Int32(uncompressedSize)
            // On failure the bytes are not trusted; zero them so the array is fully initialised either way.
            if !ok { dst.initialize(repeating: 0) }
            initialized = uncompressedSize
        }
        return ok ? out : nil
    }
}
